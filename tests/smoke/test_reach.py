"""A vault smoke cannot reach: one finding that says why and what to do, its checks skipped under it.

On the twin (real network rules, enforced before identity, every caller on loopback) through the
official SDK clients; the spec-only judgement as plain unit tests.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.keyvault.models import IPRule, NetworkRuleSet, Sku, VaultCreateOrUpdateParameters, VaultProperties
from typer.testing import CliRunner

from tests.smoke.conftest import (
    ALL_KEY_PERMISSIONS,
    ALL_SECRET_PERMISSIONS,
    RG,
    fresh_name,
    policy_for,
    smoke,
    vault_spec,
    write_spec,
)
from vaultspec.cli import app
from vaultspec.smoke.reach import before_apply, judge_network
from vaultspec.spec.model import Network, Spec
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import key_client, mgmt_client

OBJECTS: dict[str, Any] = {
    "keys": [
        {"name": "sign-key", "type": "RSA", "size": 2048, "ops": ["sign", "verify"]},
        {"name": "wrap-key", "type": "RSA", "size": 2048, "ops": ["wrapKey", "unwrapKey"]},
    ],
    "secrets": [{"name": "token", "value": {"generate": {}}}],
}


def network_vault(info: TwinInfo, **network: Any) -> str:
    """An access-policy vault (the twin's identity may do anything) with the given network settings."""
    policy = policy_for(info, info.default_object_id, ALL_KEY_PERMISSIONS, ALL_SECRET_PERMISSIONS)
    properties = VaultProperties(
        tenant_id=info.tenant_id,
        sku=Sku(family="A", name="premium"),
        enable_rbac_authorization=False,
        access_policies=[policy],
        soft_delete_retention_in_days=7,
        **network,
    )
    params = VaultCreateOrUpdateParameters(location="westeurope", properties=properties)
    return mgmt_client(info).vaults.begin_create_or_update(RG, fresh_name("rc"), params).result().name


def firewalled(info: TwinInfo, allowed: str) -> str:
    rules = NetworkRuleSet(default_action="Deny", bypass="None", ip_rules=[IPRule(value=allowed)])
    return network_vault(info, network_acls=rules)


def test_a_vault_without_public_access_is_one_finding_with_every_check_skipped(twin: TwinInfo) -> None:
    name = network_vault(twin, public_network_access="Disabled")
    spec = vault_spec(name, network={"publicAccess": "disabled"}, **OBJECTS)
    report = smoke(twin, name, spec)
    first, *rest = report.checks
    assert (first.object, first.check, first.status) == ("vault", "reachable", "failed")
    assert "403 ForbiddenByConnection" in first.detail and "as its spec says" in first.detail
    assert "the twin has no private endpoints" in first.detail and "ipRules: [127.0.0.1/32]" in first.detail
    assert rest and {c.status for c in rest} == {"skipped"}
    assert {c.object for c in rest} == {"keys/sign-key", "keys/wrap-key", "secrets/token"}
    assert all("unreachable from here" in c.detail for c in rest)
    assert report.passed is False and report.count("failed") == 1


def test_a_firewall_that_refuses_this_machine_names_its_address_and_the_rule_to_add(twin: TwinInfo) -> None:
    name = firewalled(twin, "203.0.113.0/24")
    spec = vault_spec(name, network={"publicAccess": "enabled", "ipRules": ["203.0.113.0/24"]}, **OBJECTS)
    report = smoke(twin, name, spec)
    assert [c.status for c in report.checks].count("failed") == 1
    finding = report.checks[0]
    assert "firewall refuses this machine (127.0.0.1; 403 ForbiddenByFirewall)" in finding.detail
    assert "add 127.0.0.1/32 to network.ipRules" in finding.detail


def test_a_vault_that_differs_from_its_spec_is_called_drift(twin: TwinInfo) -> None:
    name = network_vault(twin, public_network_access="Disabled")
    spec = vault_spec(name, network={"publicAccess": "enabled", "defaultAction": "Allow"}, **OBJECTS)
    finding = smoke(twin, name, spec).checks[0]
    assert "although its spec says network.publicAccess: enabled" in finding.detail
    assert "deploy the spec again" in finding.detail


def test_an_allowed_caller_is_smoked_as_usual(twin: TwinInfo) -> None:
    name = firewalled(twin, "127.0.0.1/32")
    key_client(twin, name).create_rsa_key("sign-key", size=2048, key_operations=["sign", "verify"])
    spec = vault_spec(name, network={"publicAccess": "enabled", "ipRules": ["127.0.0.1/32"]}, keys=OBJECTS["keys"][:1])
    report = smoke(twin, name, spec)
    assert "vault" not in {c.object for c in report.checks}
    assert report.passed, [c for c in report.checks if c.status == "failed"]


def test_vaultspec_smoke_prints_one_failure_for_an_unreachable_vault(
    twin: TwinInfo, twin_env: dict[str, str], tmp_path: Path
) -> None:
    name = network_vault(twin, public_network_access="Disabled")
    spec = write_spec(tmp_path / "spec.yaml", vault_spec(name, **OBJECTS))
    result = CliRunner().invoke(app, ["smoke", "--vault-url", twin.vault_url(name), "--spec", str(spec)])
    assert result.exit_code == 1
    failures = [line for line in result.output.splitlines() if line.startswith("FAILED")]
    assert len(failures) == 1 and f"{name} vault reachable: unreachable from here" in failures[0]
    verdict = re.search(r"smoke failed: (\d+) checks, 0 passed, 1 failed, (\d+) skipped", result.output)
    assert verdict and int(verdict[2]) == int(verdict[1]) - 1 > 1, result.output


NETWORKS = {
    "private": ({"publicAccess": "disabled"}, None),
    "private-with-ignored-rules": ({"publicAccess": "disabled", "ipRules": ["127.0.0.1/32"]}, None),
    "open": ({"publicAccess": "enabled", "defaultAction": "Allow"}, None),
    "deny-all": ({"publicAccess": "enabled"}, None),
    "loopback-allowed": ({"publicAccess": "enabled", "ipRules": ["127.0.0.1/32"]}, "127.0.0.1"),
    "other-allowed": ({"publicAccess": "enabled", "ipRules": ["203.0.113.0/24"]}, "127.0.0.1"),
    "subnet-only": (
        {
            "publicAccess": "enabled",
            "subnetIds": [
                "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg/providers"
                "/Microsoft.Network/virtualNetworks/vnet/subnets/apps"
            ],
        },
        "198.51.100.7",
    ),
}


@pytest.mark.parametrize(
    ("case", "twin", "expected"),
    [
        ("private", True, "the twin has no private endpoints"),
        ("private", False, "only its private endpoints (and trusted Azure services) reach it"),
        ("private-with-ignored-rules", True, "network.publicAccess is disabled"),
        ("open", True, None),
        ("open", False, None),
        ("deny-all", False, "lists no ipRules or subnetIds"),
        ("deny-all", True, "no network.ipRules entry allows 127.0.0.1"),
        ("loopback-allowed", True, None),
        ("other-allowed", True, "no network.ipRules entry allows 127.0.0.1"),
        ("other-allowed", False, "no network.ipRules entry allows 127.0.0.1"),
        ("subnet-only", False, None),  # this machine may sit in the subnet: only the vault can tell
        ("subnet-only", True, "no network.ipRules entry allows 127.0.0.1"),  # the twin has no subnets
    ],
)
def test_what_the_spec_alone_tells(case: str, twin: bool, expected: str | None) -> None:
    fields, caller = NETWORKS[case]
    verdict = judge_network(Network.model_validate(fields), caller, twin=twin)
    if expected is None:
        assert verdict is None
    else:
        assert verdict is not None and expected in str(verdict)


def test_before_apply_names_each_vault_the_spec_already_rules_out() -> None:
    spec = Spec.model_validate(
        {
            "apiVersion": "vaultspec/v1",
            "defaults": {"location": "westeurope", "resourceGroup": "rg"},
            "vaults": [
                {"name": "private-kv", "access": {"model": "rbac"}},
                {"name": "loopback-kv", "access": {"model": "rbac"}, "network": NETWORKS["loopback-allowed"][0]},
            ],
        }
    )
    assert set(before_apply(spec)) == {"private-kv"}
    assert set(before_apply(spec, twin=True)) == {"private-kv"}
    note = before_apply(spec)["private-kv"].note("private-kv")
    assert note.startswith("smoke will not reach private-kv from outside its network: ")
