"""Plain-Python arguments: the same resources as the spec path, and errors that name the input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vaultspec.components import KeyVault, KeyVaultArgs, VaultSecret, from_spec
from vaultspec.engine.render import RenderError, render
from vaultspec.spec import load_spec

from .conftest import APP, WORKSPACE

BASE: dict[str, Any] = {"resource_group_name": "rg", "location": "westeurope", "access": {"model": "rbac"}}


def comparable(rendering) -> list[tuple[Any, ...]]:
    return [
        (r.type, r.name, r.printable_inputs(), r.options.model_dump())
        for r in rendering.resources
        if r.type != "random:index/randomPassword:RandomPassword"
    ]


EQUIVALENT_SPEC = f"""\
- name: payments-kv
  tags: {{owner: platform}}
  network: {{publicAccess: enabled, ipRules: [127.0.0.1/32]}}
  access:
    model: rbac
    deployer: lifecycle
    grants:
      - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Crypto User, scope: keys/signing,
          description: signs}}
      - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Secrets User, scope: secrets/db}}
  keys:
    - name: signing
      type: RSA-HSM
      ops: [sign, verify]
      expires: 2028-06-01T00:00:00Z
      notBefore: 2026-06-01T00:00:00Z
      rotation: {{rotateAfterCreate: P90D, notifyBeforeExpiry: P30D, expiryTime: P1Y}}
    - {{name: tokens, type: EC-HSM, ops: [sign, verify], rotation: {{rotateBeforeExpiry: P30D, expiryTime: P180D}}}}
  secrets:
    - {{name: db, value: {{fromConfig: dbPassword}}, contentType: text/plain, expires: 2027-12-01T00:00:00Z}}
    - {{name: session, value: {{generate: {{length: 48}}}}}}
  diagnostics: {{workspaceId: {WORKSPACE}}}
  lock: CanNotDelete
  exceptions:
    - {{policy: kv-public-network-disabled, reason: loopback only}}
"""

BY_HAND = KeyVaultArgs(
    vault_name="payments-kv",
    resource_group_name="rg-test",
    location="westeurope",
    tags={"owner": "platform"},
    exceptions=[{"policy": "kv-public-network-disabled", "reason": "loopback only"}],
    network={"public_access": "enabled", "ip_rules": ["127.0.0.1/32"]},
    access={
        "model": "rbac",
        "deployer": "lifecycle",
        "grants": [
            {
                "principal": APP,
                "principal_type": "ServicePrincipal",
                "role": "Key Vault Crypto User",
                "scope": "keys/signing",
                "description": "signs",
            },
            {
                "principal": APP,
                "principal_type": "ServicePrincipal",
                "role": "Key Vault Secrets User",
                "scope": "secrets/db",
            },
        ],
    },
    keys=[
        {
            "name": "signing",
            "type": "RSA-HSM",
            "ops": ["sign", "verify"],
            "expires": "2028-06-01T00:00:00Z",
            "not_before": "2026-06-01T00:00:00Z",
            "rotation": {"rotate_after_create": "P90D", "notify_before_expiry": "P30D", "expiry_time": "P1Y"},
        },
        {
            "name": "tokens",
            "type": "EC-HSM",
            "ops": ["sign", "verify"],
            "rotation": {"rotate_before_expiry": "P30D", "expiry_time": "P180D"},
        },
    ],
    secrets=[
        {
            "name": "db",
            "value": {"from_config": "dbPassword"},
            "content_type": "text/plain",
            "expires": "2027-12-01T00:00:00Z",
        },
        {"name": "session", "value": {"generate": {"length": 48}}},
    ],
    diagnostics={"workspace_id": WORKSPACE},
    lock="CanNotDelete",
    protect=False,
)


def test_plain_python_args_and_the_spec_adapter_build_the_same_resources(write_spec: Callable[..., Path]):
    vault = load_spec(write_spec(EQUIVALENT_SPEC)).vaults[0]
    from_yaml = render(lambda: KeyVault("payments-kv", from_spec(vault, protect=False)))
    from_python = render(lambda: KeyVault("payments-kv", BY_HAND))
    assert len(from_yaml.resources) == 13
    assert comparable(from_python) == comparable(from_yaml)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"keys": [{"name": "k", "type": "RSA-4096", "ops": ["sign"]}]},
            "KeyVault 'kv'.keys[0].type: 'RSA-4096' is not one of: RSA, RSA-HSM, EC, EC-HSM",
        ),
        (
            {"keys": [{"name": "k", "type": "EC", "size": 2048, "ops": ["sign"]}]},
            "KeyVault 'kv'.keys[0].size applies to RSA keys only; EC keys take a curve",
        ),
        (
            {"keys": [{"name": "k", "type": "EC", "ops": ["encrypt"]}]},
            "KeyVault 'kv'.keys[0].ops[0]: 'encrypt' is not one of: sign, verify",
        ),
        (
            {"keys": [{"name": "k", "type": "RSA", "ops": ["sign"], "expires": "2028-01-01T00:00:00"}]},
            "KeyVault 'kv'.keys[0].expires: '2028-01-01T00:00:00' needs a time zone (e.g. a trailing Z)",
        ),
        (
            {"keys": [{"name": "k", "type": "RSA", "ops": ["sign"]}, {"name": "K", "type": "RSA", "ops": ["sign"]}]},
            "KeyVault 'kv'.keys[1].name: 'K' is declared twice (names are case-insensitive)",
        ),
        (
            {"access": {"model": "rbac", "grants": [{"principal": APP, "role": "Key Vault Reader"}]}},
            "KeyVault 'kv'.access.grants[0].principal_type is required",
        ),
        (
            {
                "access": {
                    "model": "rbac",
                    "grants": [{"principal": APP, "principal_type": "User", "role": "Vault Boss"}],
                }
            },
            "KeyVault 'kv'.access.grants[0].role: unknown role 'Vault Boss'; use a built-in Key Vault role name or a "
            "role definition GUID",
        ),
        (
            {
                "access": {
                    "model": "rbac",
                    "grants": [
                        {"principal": APP, "principal_type": "User", "role": "Key Vault Reader", "scope": "keys/nope"}
                    ],
                }
            },
            "KeyVault 'kv'.access.grants[0].scope: 'keys/nope' is not 'vault', 'keys/<declared key>' or "
            "'secrets/<declared secret>'",
        ),
        (
            {"access": {"model": "accessPolicies", "grants": [{"principal": APP, "keys": ["fly"]}]}},
            "KeyVault 'kv'.access.grants[0].keys[0]: unknown permission 'fly'",
        ),
        (
            {"access": {"model": "accessPolicies", "grants": [{"principal": APP, "role": "Key Vault Reader"}]}},
            "KeyVault 'kv'.access.grants[0].role belongs to rbac grants; access-policy grants list permissions",
        ),
        (
            {"secrets": [{"name": "s", "value": {"from_env": "A", "from_config": "b"}}]},
            "KeyVault 'kv'.secrets[0].value: choose exactly one of from_config, from_env, generate or value",
        ),
        ({"soft_delete": {"retention_days": 3}}, "KeyVault 'kv'.soft_delete.retention_days: 3 is outside 7-90"),
        ({"lock": "Forever"}, "KeyVault 'kv'.lock: 'Forever' is not one of: CanNotDelete, ReadOnly"),
        (
            {"exceptions": [{"policy": "kv-x", "reason": "r" * 257}]},
            "KeyVault 'kv'.exceptions[0].reason is longer than 256 characters (ARM's tag limit)",
        ),
    ],
)
def test_bad_arguments_fail_with_a_message_naming_the_input(change: dict[str, Any], message: str):
    with pytest.raises(RenderError) as raised:
        render(lambda: KeyVault("kv", KeyVaultArgs(**{**BASE, **change})))
    assert str(raised.value) == message


def test_a_secret_value_from_the_program_is_kept_secret():
    rendering = render(
        lambda: VaultSecret(
            "token",
            {
                "vault_name": "shared-kv",
                "resource_group_name": "rg",
                "name": "token",
                "value": {"value": "plain-text-7"},
            },
        )
    )
    secret = rendering.find("azure-native:keyvault:Secret", "token")
    assert secret.secret_paths == ["properties.value"]
    assert secret.revealed_inputs()["properties"]["value"] == "plain-text-7"
