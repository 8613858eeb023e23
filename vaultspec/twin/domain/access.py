"""Who may do what: one function, `decide`, answers allow/deny for (principal, vault, operation, object).

Every data-plane operation (named with the Azure SDK's verb) maps to an access-policy permission and
to an RBAC dataAction:

- access-policy vaults (`enableRbacAuthorization: false`) grant what the vault's `accessPolicies`
  entries for the caller's object id list (`all` grants every permission of that kind); an entry with an
  `applicationId` (a compound identity) applies only when that application acts on behalf of the object
  id (token `appid` = applicationId and `oid` = objectId): neither the user alone nor the app alone;
- RBAC vaults grant what the caller's role assignments grant, where an assignment at scope S covers
  every object whose resource id is S or below S (subscription > resource group > vault >
  `vaults/{v}/keys/{k}` / `vaults/{v}/secrets/{s}`); list operations need a grant at vault scope or above.

Keys and secrets are authorized independently (different permissions and dataActions). A new RBAC
vault grants nobody data access, its creator included.

Our choices where Microsoft's docs name no dataAction: reading deleted keys uses `keys/read`,
reading deleted secrets `secrets/readMetadata/action`, purging `keys/purge/action` /
`secrets/purge/action`, recovering `keys/recover/action` / `secrets/recover/action` (so the Officer
roles' `keys/*` / `secrets/*` cover them). Random bytes (`/rng`) are a Managed HSM operation: a vault
answers 400 (`http.keys`), so there is nothing to authorize.

Network rules are checked before identity: `publicNetworkAccess: Disabled` refuses every caller
(403 ForbiddenByConnection; the twin has no private endpoints, so such a vault is unreachable on its
data plane, as it would be from outside its private network), and `networkAcls.defaultAction: Deny`
refuses callers whose address (loopback, for local callers) no `ipRules` entry allows
(403 ForbiddenByFirewall).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vaultspec.twin.domain.roles import ROLES_BY_GUID, role_guid_from_id

KV = "Microsoft.KeyVault/vaults"


@dataclass(frozen=True)
class Operation:
    """A data-plane operation and what it needs."""

    name: str  # the Azure SDK verb
    kind: str  # "keys" or "secrets"
    permission: str  # access-policy permission
    data_action: str  # RBAC dataAction
    audit_name: str  # Key Vault AuditEvent operationName


def _ops(kind: str, rows: Iterable[tuple[str, str, str, str]]) -> dict[str, Operation]:
    return {name: Operation(name, kind, perm, f"{KV}/{action}", audit) for name, perm, action, audit in rows}


OPERATIONS: dict[str, Operation] = {
    **_ops(
        "keys",
        [
            ("create_key", "create", "keys/create/action", "KeyCreate"),
            ("import_key", "import", "keys/import/action", "KeyImport"),
            ("get_key", "get", "keys/read", "KeyGet"),
            ("list_properties_of_keys", "list", "keys/read", "KeyList"),
            ("list_properties_of_key_versions", "list", "keys/read", "KeyListVersions"),
            ("update_key_properties", "update", "keys/update/action", "KeyUpdate"),
            ("delete_key", "delete", "keys/delete", "KeyDelete"),
            ("get_deleted_key", "get", "keys/read", "KeyGetDeleted"),
            ("list_deleted_keys", "list", "keys/read", "KeyListDeleted"),
            ("recover_deleted_key", "recover", "keys/recover/action", "KeyRecover"),
            ("purge_deleted_key", "purge", "keys/purge/action", "KeyPurge"),
            ("backup_key", "backup", "keys/backup/action", "KeyBackup"),
            ("restore_key_backup", "restore", "keys/restore/action", "KeyRestore"),
            ("rotate_key", "rotate", "keys/rotate/action", "KeyRotate"),
            (
                "get_key_rotation_policy",
                "getrotationpolicy",
                "keyrotationpolicies/read",
                "KeyRotationPolicyGet",
            ),
            (
                "update_key_rotation_policy",
                "setrotationpolicy",
                "keyrotationpolicies/write",
                "KeyRotationPolicySet",
            ),
            ("encrypt", "encrypt", "keys/encrypt/action", "KeyEncrypt"),
            ("decrypt", "decrypt", "keys/decrypt/action", "KeyDecrypt"),
            ("wrap_key", "wrapKey", "keys/wrap/action", "KeyWrap"),
            ("unwrap_key", "unwrapKey", "keys/unwrap/action", "KeyUnwrap"),
            ("sign", "sign", "keys/sign/action", "KeySign"),
            ("verify", "verify", "keys/verify/action", "KeyVerify"),
            ("release_key", "release", "keys/release/action", "KeyRelease"),
        ],
    ),
    **_ops(
        "secrets",
        [
            ("set_secret", "set", "secrets/setSecret/action", "SecretSet"),
            ("get_secret", "get", "secrets/getSecret/action", "SecretGet"),
            ("list_properties_of_secrets", "list", "secrets/readMetadata/action", "SecretList"),
            (
                "list_properties_of_secret_versions",
                "list",
                "secrets/readMetadata/action",
                "SecretListVersions",
            ),
            ("update_secret_properties", "set", "secrets/update/action", "SecretUpdate"),
            ("delete_secret", "delete", "secrets/delete", "SecretDelete"),
            ("get_deleted_secret", "get", "secrets/readMetadata/action", "SecretGetDeleted"),
            ("list_deleted_secrets", "list", "secrets/readMetadata/action", "SecretListDeleted"),
            ("recover_deleted_secret", "recover", "secrets/recover/action", "SecretRecover"),
            ("purge_deleted_secret", "purge", "secrets/purge/action", "SecretPurge"),
            ("backup_secret", "backup", "secrets/backup/action", "SecretBackup"),
            ("restore_secret_backup", "restore", "secrets/restore/action", "SecretRestore"),
        ],
    ),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    inner_code: str = ""  # ForbiddenByRbac / ForbiddenByPolicy / ForbiddenByFirewall / ForbiddenByConnection
    message: str = ""


ALLOW = Decision(True)


@dataclass(frozen=True)
class Assignment:
    """A role assignment as the decision needs it."""

    scope: str
    principal_id: str
    role_guid: str

    @classmethod
    def from_arm(cls, body: dict[str, Any]) -> Assignment:
        props = body.get("properties", {})
        return cls(
            str(props.get("scope", "")).rstrip("/").lower(),
            str(props.get("principalId", "")).lower(),
            role_guid_from_id(str(props.get("roleDefinitionId", ""))),
        )


def role_grants(role_guid: str, action: str) -> bool:
    role = ROLES_BY_GUID.get(role_guid)
    return role is not None and role.allows(action)


def scope_covers(assignment_scope: str, resource_id: str) -> bool:
    scope = assignment_scope.rstrip("/").lower()
    resource = resource_id.rstrip("/").lower()
    return scope == "" or resource == scope or resource.startswith(scope + "/")


def caller_allowed_by_network(properties: dict[str, Any], caller_ip: str) -> Decision:
    if str(properties.get("publicNetworkAccess", "Enabled")).lower() == "disabled":
        return Decision(
            False,
            "ForbiddenByConnection",
            "Public network access is disabled and request is not from a trusted service nor via an "
            "approved private link.",
        )
    acls = properties.get("networkAcls") or {}
    if str(acls.get("defaultAction", "Allow")).lower() != "deny":
        return ALLOW
    try:
        address = ipaddress.ip_address(caller_ip)
    except ValueError:
        address = None
    for rule in acls.get("ipRules") or []:
        value = str(rule.get("value", "")) if isinstance(rule, dict) else str(rule)
        try:
            if address is not None and address in ipaddress.ip_network(value, strict=False):
                return ALLOW
        except ValueError:
            continue
    return Decision(
        False,
        "ForbiddenByFirewall",
        f"Client address is not authorized and caller is not a trusted service.\r\nClient address: {caller_ip}",
    )


def decide(
    *,
    vault_name: str,
    vault_location: str,
    vault_id: str,
    properties: dict[str, Any],
    principal_id: str,
    app_id: str | None,
    issuer: str,
    operation: Operation,
    object_name: str | None,
    caller_ip: str,
    assignments: Iterable[Assignment],
) -> Decision:
    """Allow or deny one data-plane call; pure (the caller loads vault and assignments)."""
    network = caller_allowed_by_network(properties, caller_ip)
    if not network.allowed:
        return network
    caller = f"appid={app_id or principal_id};oid={principal_id};iss={issuer}"
    vault_label = f"{vault_name};location={vault_location}"
    principal = principal_id.lower()
    if properties.get("enableRbacAuthorization"):
        resource = vault_id if object_name is None else f"{vault_id}/{operation.kind}/{object_name}"
        for a in assignments:
            if (
                a.principal_id == principal
                and scope_covers(a.scope, resource)
                and role_grants(a.role_guid, operation.data_action)
            ):
                return ALLOW
        return Decision(
            False,
            "ForbiddenByRbac",
            "Caller is not authorized to perform action on resource.\r\n"
            f"Caller: {caller}\r\nAction: '{operation.data_action}'\r\nResource: '{resource.lower()}'\r\n"
            f"Assignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'\r\nVault: {vault_label}\r\n",
        )
    application = (app_id or principal_id).lower()
    for policy in properties.get("accessPolicies") or []:
        if str(policy.get("objectId", "")).lower() != principal:
            continue
        compound = policy.get("applicationId")
        if compound and str(compound).lower() != application:
            continue  # a compound entry: only application `applicationId` acting for `objectId`
        granted = {str(p).lower() for p in (policy.get("permissions") or {}).get(operation.kind) or []}
        if "all" in granted or operation.permission.lower() in granted:
            return ALLOW
    kind = operation.kind
    return Decision(
        False,
        "ForbiddenByPolicy",
        f"The user, group or application '{caller}' does not have {kind} {operation.permission} permission "
        f"on key vault '{vault_label}'. For help resolving this issue, please see "
        "https://go.microsoft.com/fwlink/?linkid=2125287",
    )
