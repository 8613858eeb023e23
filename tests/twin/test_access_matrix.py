"""The generated access matrix: every data-plane operation x allowed/denied.

Vaults, role assignments and access policies are made through the real ARM clients
(azure-mgmt-keyvault, azure-mgmt-authorization); each operation runs through the official data-plane
clients as a distinct principal. The expected grants below are written out by hand from Microsoft's
built-in role table (they are the specification; the twin's own tables are not used as the oracle).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.keyvault.keys import JsonWebKey, KeyRotationPolicy
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    Permissions,
    Sku,
    VaultAccessPolicyParameters,
    VaultAccessPolicyProperties,
    VaultCreateOrUpdateParameters,
    VaultProperties,
)
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tests.twin.conftest import fresh_name
from vaultspec.twin.crypto import b64url
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import client_options, credential, key_client, mgmt_client, secret_client

RG = "rg-matrix"
KEY_OPS = [
    "create_key",
    "import_key",
    "get_key",
    "list_properties_of_keys",
    "list_properties_of_key_versions",
    "update_key_properties",
    "delete_key",
    "get_deleted_key",
    "list_deleted_keys",
    "recover_deleted_key",
    "purge_deleted_key",
    "backup_key",
    "restore_key_backup",
    "rotate_key",
    "get_key_rotation_policy",
    "update_key_rotation_policy",
    "encrypt",
    "decrypt",
    "wrap_key",
    "unwrap_key",
    "sign",
    "verify",
    "release_key",
]
SECRET_OPS = [
    "set_secret",
    "get_secret",
    "list_properties_of_secrets",
    "list_properties_of_secret_versions",
    "update_secret_properties",
    "delete_secret",
    "get_deleted_secret",
    "list_deleted_secrets",
    "recover_deleted_secret",
    "purge_deleted_secret",
    "backup_secret",
    "restore_secret_backup",
]
ALL_OPS = KEY_OPS + SECRET_OPS
KEY_READS = {
    "get_key",
    "list_properties_of_keys",
    "list_properties_of_key_versions",
    "get_deleted_key",
    "list_deleted_keys",
}
SECRET_METADATA = {
    "list_properties_of_secrets",
    "list_properties_of_secret_versions",
    "get_deleted_secret",
    "list_deleted_secrets",
}

# Built-in role -> operations it allows (Microsoft's role table, read by hand).
ROLE_GRANTS: dict[str, tuple[str, set[str]]] = {
    "Key Vault Administrator": ("00482a5a-887f-4fb3-b363-3b7fe8e74483", set(ALL_OPS)),
    "Key Vault Crypto Officer": ("14b46e9e-c2b7-41b4-b07b-48a6ebf60603", set(KEY_OPS)),
    "Key Vault Crypto User": (
        "12338af0-0e69-4776-bea7-57ae8d297424",
        KEY_READS
        | {
            "update_key_properties",
            "backup_key",
            "encrypt",
            "decrypt",
            "wrap_key",
            "unwrap_key",
            "sign",
            "verify",
        },
    ),
    "Key Vault Crypto Service Encryption User": (
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        KEY_READS | {"wrap_key", "unwrap_key"},
    ),
    "Key Vault Crypto Service Release User": ("08bbd89e-9f13-488c-ac41-acfcb10c90ab", {"release_key"}),
    "Key Vault Secrets Officer": ("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", set(SECRET_OPS)),
    "Key Vault Secrets User": ("4633458b-17de-408a-b874-0445c86b69e6", SECRET_METADATA | {"get_secret"}),
    "Key Vault Reader": (
        "21090545-7ca7-4776-b22c-e363652d74d2",
        KEY_READS | SECRET_METADATA | {"get_key_rotation_policy"},
    ),
    "Key Vault Certificates Officer": ("a4417e6f-fecd-4de8-b567-7b0420556985", set()),
    "Key Vault Certificate User": (
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        KEY_READS | SECRET_METADATA | {"get_secret"},
    ),
    "Key Vault Data Access Administrator": ("8b54135c-b56d-4d72-a534-26097cfdc8d8", set()),
    "Key Vault Contributor": ("f25e0fa2-a7c8-4377-a976-54943a77a395", set()),
    "Owner": ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", set()),
}
# Operation -> access-policy permission (Key Vault's REST reference).
POLICY_PERMISSION = {
    "create_key": ("keys", "create"),
    "import_key": ("keys", "import"),
    "get_key": ("keys", "get"),
    "list_properties_of_keys": ("keys", "list"),
    "list_properties_of_key_versions": ("keys", "list"),
    "update_key_properties": ("keys", "update"),
    "delete_key": ("keys", "delete"),
    "get_deleted_key": ("keys", "get"),
    "list_deleted_keys": ("keys", "list"),
    "recover_deleted_key": ("keys", "recover"),
    "purge_deleted_key": ("keys", "purge"),
    "backup_key": ("keys", "backup"),
    "restore_key_backup": ("keys", "restore"),
    "rotate_key": ("keys", "rotate"),
    "get_key_rotation_policy": ("keys", "getrotationpolicy"),
    "update_key_rotation_policy": ("keys", "setrotationpolicy"),
    "encrypt": ("keys", "encrypt"),
    "decrypt": ("keys", "decrypt"),
    "wrap_key": ("keys", "wrapKey"),
    "unwrap_key": ("keys", "unwrapKey"),
    "sign": ("keys", "sign"),
    "verify": ("keys", "verify"),
    "release_key": ("keys", "release"),
    "set_secret": ("secrets", "set"),
    "get_secret": ("secrets", "get"),
    "list_properties_of_secrets": ("secrets", "list"),
    "list_properties_of_secret_versions": ("secrets", "list"),
    "update_secret_properties": ("secrets", "set"),
    "delete_secret": ("secrets", "delete"),
    "get_deleted_secret": ("secrets", "get"),  # REST reference: "requires the secrets/get permission"
    "list_deleted_secrets": ("secrets", "list"),
    "recover_deleted_secret": ("secrets", "recover"),
    "purge_deleted_secret": ("secrets", "purge"),
    "backup_secret": ("secrets", "backup"),
    "restore_secret_backup": ("secrets", "restore"),
}
ALL_PERMISSIONS = {
    "keys": sorted({p for k, p in POLICY_PERMISSION.values() if k == "keys"}),
    "secrets": sorted({p for k, p in POLICY_PERMISSION.values() if k == "secrets"}),
}


@dataclass
class Fixture:
    """One vault prepared by its admin (the twin's default identity) for the matrix."""

    twin: TwinInfo
    vault: str
    admin_keys: Any
    admin_secrets: Any
    rsa_name: str
    rsa_version: str
    rsa_public: rsa.RSAPublicKey
    secret_name: str
    gone_key: str
    gone_secret: str


def _jwk() -> JsonWebKey:
    private = ec.generate_private_key(ec.SECP256R1())
    n = private.private_numbers()
    return JsonWebKey(
        kty="EC",
        crv="P-256",
        x=n.public_numbers.x.to_bytes(32, "big"),
        y=n.public_numbers.y.to_bytes(32, "big"),
        d=n.private_value.to_bytes(32, "big"),
    )


def _remote(keys: Any, fx: Fixture, op: str, body: dict[str, Any]) -> None:
    response = keys.send_request(HttpRequest("POST", f"/keys/{fx.rsa_name}/{fx.rsa_version}/{op}", json=body))
    response.raise_for_status()


def _release(keys: Any, fx: Fixture) -> None:
    try:
        keys.release_key(fx.rsa_name, "attestation-token")
    except HttpResponseError as exc:  # allowed, but a non-exportable key cannot be released
        if (exc.error.innererror or {}).get("code") != "KeyNotExportable":
            raise


def _fresh_deleted_key(fx: Fixture) -> str:
    name = fresh_name("dk")
    fx.admin_keys.create_ec_key(name, curve="P-256")
    fx.admin_keys.begin_delete_key(name).result()
    return name


def _fresh_deleted_secret(fx: Fixture) -> str:
    name = fresh_name("ds")
    fx.admin_secrets.set_secret(name, "v")
    fx.admin_secrets.begin_delete_secret(name).result()
    return name


def _key_backup(fx: Fixture) -> bytes:
    name = fresh_name("bk")
    fx.admin_keys.create_ec_key(name, curve="P-256")
    blob = fx.admin_keys.backup_key(name)
    fx.admin_keys.begin_delete_key(name).result()
    fx.admin_keys.purge_deleted_key(name)
    return blob


def _secret_backup(fx: Fixture) -> bytes:
    name = fresh_name("bs")
    fx.admin_secrets.set_secret(name, "v")
    blob = fx.admin_secrets.backup_secret(name)
    fx.admin_secrets.begin_delete_secret(name).result()
    fx.admin_secrets.purge_deleted_secret(name)
    return blob


def _fresh_key(fx: Fixture) -> str:
    name = fresh_name("fk")
    fx.admin_keys.create_ec_key(name, curve="P-256")
    return name


def _fresh_secret(fx: Fixture) -> str:
    name = fresh_name("fs")
    fx.admin_secrets.set_secret(name, "v")
    return name


OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)

# Operation -> how a principal performs it (setup by the admin happens inside, before the call).
RUNNERS: dict[str, Callable[[Any, Any, Fixture], Any]] = {
    "create_key": lambda k, s, fx: k.create_ec_key(fresh_name(), curve="P-256"),
    "import_key": lambda k, s, fx: k.import_key(fresh_name(), _jwk()),
    "get_key": lambda k, s, fx: k.get_key(fx.rsa_name),
    "list_properties_of_keys": lambda k, s, fx: list(k.list_properties_of_keys()),
    "list_properties_of_key_versions": lambda k, s, fx: list(k.list_properties_of_key_versions(fx.rsa_name)),
    "update_key_properties": lambda k, s, fx: k.update_key_properties(fx.rsa_name, tags={"t": "1"}),
    "delete_key": lambda k, s, fx: k.begin_delete_key(_fresh_key(fx)),
    "get_deleted_key": lambda k, s, fx: k.get_deleted_key(fx.gone_key),
    "list_deleted_keys": lambda k, s, fx: list(k.list_deleted_keys()),
    "recover_deleted_key": lambda k, s, fx: k.begin_recover_deleted_key(_fresh_deleted_key(fx)),
    "purge_deleted_key": lambda k, s, fx: k.purge_deleted_key(_fresh_deleted_key(fx)),
    "backup_key": lambda k, s, fx: k.backup_key(fx.rsa_name),
    "restore_key_backup": lambda k, s, fx: k.restore_key_backup(_key_backup(fx)),
    "rotate_key": lambda k, s, fx: k.rotate_key(_fresh_key(fx)),
    "get_key_rotation_policy": lambda k, s, fx: k.get_key_rotation_policy(fx.rsa_name),
    "update_key_rotation_policy": lambda k, s, fx: k.update_key_rotation_policy(
        fx.rsa_name, KeyRotationPolicy(expires_in="P90D")
    ),
    "encrypt": lambda k, s, fx: _remote(k, fx, "encrypt", {"alg": "RSA-OAEP", "value": b64url(b"x")}),
    "decrypt": lambda k, s, fx: _remote(
        k, fx, "decrypt", {"alg": "RSA-OAEP", "value": b64url(fx.rsa_public.encrypt(b"x", OAEP))}
    ),
    "wrap_key": lambda k, s, fx: _remote(k, fx, "wrapkey", {"alg": "RSA-OAEP", "value": b64url(b"k" * 32)}),
    "unwrap_key": lambda k, s, fx: _remote(
        k, fx, "unwrapkey", {"alg": "RSA-OAEP", "value": b64url(fx.rsa_public.encrypt(b"k", OAEP))}
    ),
    "sign": lambda k, s, fx: _remote(k, fx, "sign", {"alg": "RS256", "value": b64url(b"\0" * 32)}),
    "verify": lambda k, s, fx: _remote(
        k, fx, "verify", {"alg": "RS256", "digest": b64url(b"\0" * 32), "value": b64url(b"\0" * 256)}
    ),
    "release_key": lambda k, s, fx: _release(k, fx),
    "set_secret": lambda k, s, fx: s.set_secret(fresh_name(), "v"),
    "get_secret": lambda k, s, fx: s.get_secret(fx.secret_name),
    "list_properties_of_secrets": lambda k, s, fx: list(s.list_properties_of_secrets()),
    "list_properties_of_secret_versions": lambda k, s, fx: list(s.list_properties_of_secret_versions(fx.secret_name)),
    "update_secret_properties": lambda k, s, fx: s.update_secret_properties(fx.secret_name, tags={"t": "1"}),
    "delete_secret": lambda k, s, fx: s.begin_delete_secret(_fresh_secret(fx)),
    "get_deleted_secret": lambda k, s, fx: s.get_deleted_secret(fx.gone_secret),
    "list_deleted_secrets": lambda k, s, fx: list(s.list_deleted_secrets()),
    "recover_deleted_secret": lambda k, s, fx: s.begin_recover_deleted_secret(_fresh_deleted_secret(fx)),
    "purge_deleted_secret": lambda k, s, fx: s.purge_deleted_secret(_fresh_deleted_secret(fx)),
    "backup_secret": lambda k, s, fx: s.backup_secret(fx.secret_name),
    "restore_secret_backup": lambda k, s, fx: s.restore_secret_backup(_secret_backup(fx)),
}


def test_every_data_plane_operation_is_in_the_matrix() -> None:
    from vaultspec.twin.domain.access import OPERATIONS

    assert set(RUNNERS) == set(OPERATIONS) == set(POLICY_PERMISSION)


def outcome(principal_keys: Any, principal_secrets: Any, fx: Fixture, op: str) -> str:
    try:
        RUNNERS[op](principal_keys, principal_secrets, fx)
    except HttpResponseError as exc:
        inner = (exc.error.innererror or {}).get("code") if exc.error else None
        if exc.status_code == 403 and inner and inner.startswith("ForbiddenBy"):
            return inner
        raise
    return "allowed"


def _prepare(twin: TwinInfo, vault: str, admin: str | None) -> Fixture:
    keys, secrets = key_client(twin, vault, admin), secret_client(twin, vault, admin)
    rsa_key = keys.create_rsa_key(fresh_name("rsa"))
    public = rsa.RSAPublicNumbers(
        int.from_bytes(rsa_key.key.e, "big"), int.from_bytes(rsa_key.key.n, "big")
    ).public_key()
    secret = fresh_name("sec")
    secrets.set_secret(secret, "v")
    gone_key, gone_secret = fresh_name("gk"), fresh_name("gs")
    keys.create_ec_key(gone_key, curve="P-256")
    keys.begin_delete_key(gone_key).result()
    secrets.set_secret(gone_secret, "v")
    secrets.begin_delete_secret(gone_secret).result()
    return Fixture(
        twin,
        vault,
        keys,
        secrets,
        rsa_key.name,
        rsa_key.properties.version,
        public,
        secret,
        gone_key,
        gone_secret,
    )


def _create_vault(twin: TwinInfo, rbac: bool, policies: list[AccessPolicyEntry] | None = None, **extra: Any) -> Any:
    params = VaultCreateOrUpdateParameters(
        location="westeurope",
        properties=VaultProperties(
            tenant_id=twin.tenant_id,
            sku=Sku(family="A", name="premium"),
            enable_rbac_authorization=rbac,
            access_policies=policies or [],
            soft_delete_retention_in_days=7,
            **extra,
        ),
    )
    return mgmt_client(twin).vaults.begin_create_or_update(RG, fresh_name("mx"), params).result()


def _assign(twin: TwinInfo, scope: str, role_guid: str, principal: str) -> None:
    auth = AuthorizationManagementClient(
        credential(twin), twin.subscription_id, base_url=twin.arm_url, **client_options(twin)
    )
    auth.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=f"/providers/Microsoft.Authorization/roleDefinitions/{role_guid}",
            principal_id=principal,
            principal_type="ServicePrincipal",
        ),
    )


def _permissions(by_kind: dict[str, list[str]]) -> Permissions:
    return Permissions(keys_property=by_kind.get("keys", []), secrets=by_kind.get("secrets", []))


# -- RBAC: each built-in role at vault scope, every operation ---------------------------------------
@pytest.fixture(scope="module")
def rbac(twin: TwinInfo) -> tuple[Fixture, dict[str, str], str]:
    vault = _create_vault(twin, rbac=True)
    admin = str(uuid.uuid4())
    _assign(twin, vault.id, ROLE_GRANTS["Key Vault Administrator"][0], admin)
    fx = _prepare(twin, vault.name, admin)
    principals = {}
    for role, (guid, _) in ROLE_GRANTS.items():
        principals[role] = str(uuid.uuid4())
        _assign(twin, vault.id, guid, principals[role])
    return fx, principals, vault.id


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("role", list(ROLE_GRANTS))
def test_rbac_role_at_vault_scope(rbac: tuple[Fixture, dict[str, str], str], role: str, op: str) -> None:
    fx, principals, _ = rbac
    principal = principals[role]
    expected = "allowed" if op in ROLE_GRANTS[role][1] else "ForbiddenByRbac"
    got = outcome(key_client(fx.twin, fx.vault, principal), secret_client(fx.twin, fx.vault, principal), fx, op)
    assert got == expected, f"{role} / {op}"


def test_new_rbac_vault_grants_nobody_not_even_its_creator(twin: TwinInfo) -> None:
    vault = _create_vault(twin, rbac=True)
    with pytest.raises(HttpResponseError) as err:
        secret_client(twin, vault.name).set_secret("x", "y")
    assert err.value.status_code == 403 and err.value.error.innererror["code"] == "ForbiddenByRbac"


# -- RBAC scopes ------------------------------------------------------------------------------------
def test_key_scope_assignment_covers_only_that_key(rbac: tuple[Fixture, dict[str, str], str]) -> None:
    fx, _, vault_id = rbac
    other = _fresh_key(fx)
    principal = str(uuid.uuid4())
    _assign(fx.twin, f"{vault_id}/keys/{fx.rsa_name}", ROLE_GRANTS["Key Vault Crypto User"][0], principal)
    keys, secrets = key_client(fx.twin, fx.vault, principal), secret_client(fx.twin, fx.vault, principal)
    assert outcome(keys, secrets, fx, "sign") == "allowed"
    assert outcome(keys, secrets, fx, "get_key") == "allowed"
    assert outcome(keys, secrets, fx, "list_properties_of_keys") == "ForbiddenByRbac"
    with pytest.raises(HttpResponseError) as err:
        keys.get_key(other)
    assert err.value.error.innererror["code"] == "ForbiddenByRbac"


def test_secret_scope_assignment_covers_only_that_secret(rbac: tuple[Fixture, dict[str, str], str]) -> None:
    fx, _, vault_id = rbac
    other = _fresh_secret(fx)
    principal = str(uuid.uuid4())
    _assign(fx.twin, f"{vault_id}/secrets/{fx.secret_name}", ROLE_GRANTS["Key Vault Secrets User"][0], principal)
    secrets = secret_client(fx.twin, fx.vault, principal)
    assert secrets.get_secret(fx.secret_name).value == "v"
    with pytest.raises(HttpResponseError) as err:
        secrets.get_secret(other)
    assert err.value.error.innererror["code"] == "ForbiddenByRbac"
    with pytest.raises(HttpResponseError):
        list(secrets.list_properties_of_secrets())


@pytest.mark.parametrize("level", ["resource group", "subscription"])
def test_broader_scopes_are_inherited(rbac: tuple[Fixture, dict[str, str], str], level: str) -> None:
    fx, _, vault_id = rbac
    scope = (
        vault_id.split("/providers/")[0] if level == "resource group" else f"/subscriptions/{fx.twin.subscription_id}"
    )
    principal = str(uuid.uuid4())
    _assign(fx.twin, scope, ROLE_GRANTS["Key Vault Secrets User"][0], principal)
    assert secret_client(fx.twin, fx.vault, principal).get_secret(fx.secret_name).value == "v"


def test_keys_and_secrets_are_authorized_independently(rbac: tuple[Fixture, dict[str, str], str]) -> None:
    fx, principals, _ = rbac
    officer = principals["Key Vault Crypto Officer"]
    assert (
        outcome(
            key_client(fx.twin, fx.vault, officer),
            secret_client(fx.twin, fx.vault, officer),
            fx,
            "get_secret",
        )
        == "ForbiddenByRbac"
    )


# -- access policies: every operation, with two principals (granted exactly it / granted all but it) ---
@pytest.fixture(scope="module")
def policies(twin: TwinInfo) -> tuple[Fixture, dict[str, tuple[str, str]]]:
    admin = str(uuid.uuid4())
    everything = Permissions(keys_property=ALL_PERMISSIONS["keys"], secrets=ALL_PERMISSIONS["secrets"])
    vault = _create_vault(
        twin,
        rbac=False,
        policies=[AccessPolicyEntry(tenant_id=twin.tenant_id, object_id=admin, permissions=everything)],
    )
    entries, pairs = [], {}
    for op in ALL_OPS:
        kind, permission = POLICY_PERMISSION[op]
        granted, refused = str(uuid.uuid4()), str(uuid.uuid4())
        pairs[op] = (granted, refused)
        entries.append(
            AccessPolicyEntry(
                tenant_id=twin.tenant_id, object_id=granted, permissions=_permissions({kind: [permission]})
            )
        )
        rest = {k: [p for p in v if not (k == kind and p == permission)] for k, v in ALL_PERMISSIONS.items()}
        entries.append(AccessPolicyEntry(tenant_id=twin.tenant_id, object_id=refused, permissions=_permissions(rest)))
    mgmt_client(twin).vaults.update_access_policy(
        RG,
        vault.name,
        "add",
        VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=entries)),
    )
    return _prepare(twin, vault.name, admin), pairs


@pytest.mark.parametrize("op", ALL_OPS)
def test_access_policy_grants_exactly_its_permission(
    policies: tuple[Fixture, dict[str, tuple[str, str]]], op: str
) -> None:
    fx, pairs = policies
    granted, refused = pairs[op]
    assert (
        outcome(key_client(fx.twin, fx.vault, granted), secret_client(fx.twin, fx.vault, granted), fx, op) == "allowed"
    )
    assert (
        outcome(key_client(fx.twin, fx.vault, refused), secret_client(fx.twin, fx.vault, refused), fx, op)
        == "ForbiddenByPolicy"
    )


# -- network rules ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"network_acls": {"default_action": "Deny", "bypass": "None"}}, "ForbiddenByFirewall"),
        (
            {"network_acls": {"default_action": "Deny", "ip_rules": [{"value": "10.0.0.0/8"}]}},
            "ForbiddenByFirewall",
        ),
        ({"network_acls": {"default_action": "Deny", "ip_rules": [{"value": "127.0.0.1"}]}}, "allowed"),
        ({"public_network_access": "Disabled"}, "ForbiddenByConnection"),
    ],
)
def test_network_rules_apply_before_identity(twin: TwinInfo, extra: dict[str, Any], expected: str) -> None:
    from azure.mgmt.keyvault.models import IPRule, NetworkRuleSet

    if "network_acls" in extra:
        acls = extra["network_acls"]
        extra = {
            "network_acls": NetworkRuleSet(
                default_action=acls["default_action"],
                bypass=acls.get("bypass", "AzureServices"),
                ip_rules=[IPRule(value=r["value"]) for r in acls.get("ip_rules", [])],
            )
        }
    admin = str(uuid.uuid4())
    everything = Permissions(secrets=["all"])
    vault = _create_vault(
        twin,
        rbac=False,
        policies=[AccessPolicyEntry(tenant_id=twin.tenant_id, object_id=admin, permissions=everything)],
        **extra,
    )
    try:
        secret_client(twin, vault.name, admin).set_secret("probe", "v")
        got = "allowed"
    except HttpResponseError as exc:
        assert exc.status_code == 403
        got = exc.error.innererror["code"]
    assert got == expected
