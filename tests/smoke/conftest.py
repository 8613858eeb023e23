"""Fixtures of the smoke tests: vaults on the twin, set up through ARM (azure-mgmt-keyvault,
azure-mgmt-authorization) and the official data-plane SDK, then smoked with vaultspec.smoke.

Session-scoped so the whole suite builds each vault once: `healthy` (every check must pass),
`sabotaged` (each sabotage must be caught and named). RSA keys are 2048 bits throughout.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.keyvault.keys import KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    Permissions,
    Sku,
    VaultCreateOrUpdateParameters,
    VaultProperties,
)

from vaultspec.catalog.roles import find_role, role_definition_id
from vaultspec.smoke import SmokeOptions, SmokeReport, run_smoke
from vaultspec.spec.model import Vault
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import (
    async_credential,
    client_options,
    credential,
    key_client,
    mgmt_client,
    twin,  # noqa: F401  (the session twin)
)
from vaultspec.twin.testing import secret_client as twin_secret_client

RG = "rg-smoke"
ALL_KEY_PERMISSIONS = ["all"]
ALL_SECRET_PERMISSIONS = ["all"]
CANARY = "canary-7d1e0c9b-5f3a-4a3e-9c55-" + "smoke-never-print-me"
MISMATCH_CANARY = "mismatch-canary-0b9f-" + "must-not-leak"
LATER = datetime(2028, 6, 1, tzinfo=UTC)
RSA_ALL = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]


def fresh_name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def create_vault(info: TwinInfo, *, rbac: bool = False, extra_policies: list[AccessPolicyEntry] = ()) -> Any:
    """A premium vault; access-policy vaults give the twin's default identity every permission."""
    policies = [] if rbac else [policy_for(info, info.default_object_id, ALL_KEY_PERMISSIONS, ALL_SECRET_PERMISSIONS)]
    params = VaultCreateOrUpdateParameters(
        location="westeurope",
        properties=VaultProperties(
            tenant_id=info.tenant_id,
            sku=Sku(family="A", name="premium"),
            enable_rbac_authorization=rbac,
            access_policies=[*policies, *extra_policies],
            soft_delete_retention_in_days=7,
        ),
    )
    return mgmt_client(info).vaults.begin_create_or_update(RG, fresh_name("sm"), params).result()


def policy_for(info: TwinInfo, principal: str, keys: list[str], secrets: list[str]) -> AccessPolicyEntry:
    return AccessPolicyEntry(
        tenant_id=info.tenant_id,
        object_id=principal,
        permissions=Permissions(keys_property=keys, secrets=secrets),
    )


def assign_role(info: TwinInfo, scope: str, role: str, principal: str) -> None:
    built_in = find_role(role)
    assert built_in is not None, role
    auth = AuthorizationManagementClient(
        credential(info), info.subscription_id, base_url=info.arm_url, **client_options(info)
    )
    auth.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=role_definition_id(built_in.guid),
            principal_id=principal,
            principal_type="ServicePrincipal",
        ),
    )


def vault_spec(name: str, **fields: Any) -> Vault:
    return Vault.model_validate(
        {"name": name, "resourceGroup": RG, "location": "westeurope", "access": {"model": "accessPolicies"}, **fields}
    )


def smoke(info: TwinInfo, name: str, spec: Vault, **options: Any) -> SmokeReport:
    """Smoke a twin vault as the default identity (or `principal`), with test-friendly options."""

    async def go() -> SmokeReport:
        cred = async_credential(info, options.pop("principal", None))
        try:
            opts = SmokeOptions(**{"connection_verify": info.ca_bundle, "rbac_wait": 0, **options})
            return await run_smoke(info.vault_url(name), spec, cred, opts)
        finally:
            await cred.close()

    return asyncio.run(go())


def statuses(report: SmokeReport) -> dict[tuple[str, str], str]:
    return {(c.object, c.check): c.status for c in report.checks}


def failed(report: SmokeReport) -> set[tuple[str, str]]:
    return {(c.object, c.check) for c in report.checks if c.status == "failed"}


@dataclass(frozen=True)
class SmokedVault:
    name: str
    spec: Vault
    report: SmokeReport


GRANTEE = "5a7c3e9d-1b2f-4c6a-8d0e-3f4a5b6c7d8e"


@pytest.fixture(scope="session")
def healthy(twin: TwinInfo) -> Iterator[SmokedVault]:  # noqa: F811
    """A vault built exactly as its spec says; smoked once (with grants) for many assertions."""
    grantee_policy = policy_for(twin, GRANTEE, ["get", "sign", "verify"], ["get"])
    vault = create_vault(twin, extra_policies=[grantee_policy])
    keys, secrets = key_client(twin, vault.name), twin_secret_client(twin, vault.name)
    keys.create_rsa_key("rsa-all", size=2048, key_operations=RSA_ALL, expires_on=LATER)
    keys.update_key_rotation_policy(
        "rsa-all",
        KeyRotationPolicy(
            expires_in="P1Y",
            lifetime_actions=[
                KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P90D"),
                KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D"),
            ],
        ),
    )
    keys.create_rsa_key("rsa-hsm-sign", size=2048, hardware_protected=True, key_operations=["sign", "verify"])
    keys.create_ec_key("ec-hsm", curve="P-384", hardware_protected=True, key_operations=["sign", "verify"])
    keys.create_ec_key("ec-k-sign", curve="P-256K", key_operations=["sign"])
    keys.create_rsa_key("rsa-wrap", size=2048, key_operations=["wrapKey", "unwrapKey"])
    keys.create_rsa_key("rsa-encrypt", size=2048, key_operations=["encrypt"])
    keys.create_rsa_key("rsa-off", size=2048, key_operations=["sign", "verify"], enabled=False)
    secrets.set_secret("canary", CANARY, content_type="text/plain", expires_on=LATER)
    secrets.set_secret("from-config", "x" * 20, content_type="text/plain")
    secrets.set_secret("generated", "g" * 48)
    secrets.set_secret("off", "y" * 20, enabled=False)
    spec = vault_spec(
        vault.name,
        access={
            "model": "accessPolicies",
            "grants": [{"principal": GRANTEE, "keys": ["get", "sign", "verify"], "secrets": ["get"]}],
        },
        keys=[
            {
                "name": "rsa-all",
                "type": "RSA",
                "size": 2048,
                "ops": RSA_ALL,
                "expires": "2028-06-01T00:00:00Z",
                "rotation": {"rotateAfterCreate": "P90D", "notifyBeforeExpiry": "P30D", "expiryTime": "P1Y"},
            },
            {"name": "rsa-hsm-sign", "type": "RSA-HSM", "size": 2048, "ops": ["sign", "verify"]},
            {"name": "ec-hsm", "type": "EC-HSM", "curve": "P-384", "ops": ["sign", "verify"]},
            {"name": "ec-k-sign", "type": "EC", "curve": "P-256K", "ops": ["sign"]},
            {"name": "rsa-wrap", "type": "RSA", "size": 2048, "ops": ["wrapKey", "unwrapKey"]},
            {"name": "rsa-encrypt", "type": "RSA", "size": 2048, "ops": ["encrypt"]},
            {"name": "rsa-off", "type": "RSA", "size": 2048, "ops": ["sign", "verify"], "enabled": False},
        ],
        secrets=[
            {
                "name": "canary",
                "value": {"fromEnv": "SMOKE_CANARY"},
                "contentType": "text/plain",
                "expires": "2028-06-01T00:00:00Z",
            },
            {"name": "from-config", "value": {"fromConfig": "dbPassword"}, "contentType": "text/plain"},
            {"name": "generated", "value": {"generate": {"length": 48}}},
            {"name": "off", "value": {"generate": {}}, "enabled": False},
        ],
    )
    report = smoke(twin, vault.name, spec, check_grants=True, environ={"SMOKE_CANARY": CANARY})
    yield SmokedVault(vault.name, spec, report)


@pytest.fixture(scope="session")
def sabotaged(twin: TwinInfo) -> Iterator[SmokedVault]:  # noqa: F811
    """A vault where each object differs from its spec in one way (plus one untouched key)."""
    vault = create_vault(twin)
    keys, secrets = key_client(twin, vault.name), twin_secret_client(twin, vault.name)
    keys.create_rsa_key("fine", size=2048, key_operations=["sign", "verify"])
    keys.create_rsa_key("disabled-key", size=2048, key_operations=["sign", "verify"])
    keys.update_key_properties("disabled-key", enabled=False)
    keys.create_rsa_key("extra-ops", size=2048, key_operations=RSA_ALL)
    keys.create_rsa_key("wrong-type", size=2048, key_operations=["sign", "verify"])
    keys.create_rsa_key("not-hsm", size=2048, key_operations=["sign", "verify"])
    secrets.set_secret("expired", "e" * 20, expires_on=datetime.now(UTC) - timedelta(days=1))
    secrets.set_secret("wrong-ct", "w" * 20, content_type="application/json")
    secrets.set_secret("env-mismatch", "the value in the vault", content_type="text/plain")
    sign_verify = ["sign", "verify"]
    spec = vault_spec(
        vault.name,
        keys=[
            {"name": "fine", "type": "RSA", "size": 2048, "ops": sign_verify},
            {"name": "disabled-key", "type": "RSA", "size": 2048, "ops": sign_verify},
            {"name": "extra-ops", "type": "RSA", "size": 2048, "ops": sign_verify},
            {"name": "wrong-type", "type": "EC", "curve": "P-256", "ops": sign_verify},
            {"name": "not-hsm", "type": "RSA-HSM", "size": 2048, "ops": sign_verify},
        ],
        secrets=[
            {"name": "missing", "value": {"generate": {}}},
            {"name": "expired", "value": {"generate": {}}},
            {"name": "wrong-ct", "value": {"generate": {}}, "contentType": "text/plain"},
            {"name": "env-mismatch", "value": {"fromEnv": "SMOKE_MISMATCH"}, "contentType": "text/plain"},
        ],
    )
    report = smoke(twin, vault.name, spec, environ={"SMOKE_MISMATCH": MISMATCH_CANARY})
    yield SmokedVault(vault.name, spec, report)


@pytest.fixture
def twin_env(twin: TwinInfo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # noqa: F811
    """The variables of `eval "$(vaultspec twin env)"`, set in this process for in-process CLI runs."""
    env = twin.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    return env


def write_spec(path: Any, *vaults: Vault) -> Any:
    """A spec file holding these vaults (as the CLI reads it)."""
    import yaml

    document = {
        "apiVersion": "vaultspec/v1",
        "vaults": [v.model_dump(mode="json", by_alias=True, exclude_none=True) for v in vaults],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
