"""The reference model of Key Vault data-plane authorization, written from Microsoft's documentation.

It is the oracle of `test_access_model.py` and deliberately shares nothing with the twin's own
tables (`vaultspec.catalog.roles`, `vaultspec.twin.domain.access`):

- built-in role dataActions: "Azure built-in roles for Security" (learn.microsoft.com, 2026-02-23;
  `shared/reference/keyvault-data-plane.md` §5), matched the way Azure matches them: `*` stands for
  any characters, case-insensitively;
- the dataAction of each operation: "Azure resource provider operations", Microsoft.KeyVault
  (`vaults/keys/read` covers reading keys and their versions and deleted keys, `.../purge/action`,
  `.../recover/action` and so on). Reading a deleted secret's metadata is `secrets/readMetadata/action`
  (Microsoft names no separate dataAction for it);
- the access-policy permission of each operation: the REST reference's "This operation requires the
  keys/<permission> permission" sentences (Get Deleted Key: keys/get; Get Deleted Secret: secrets/get;
  Update Secret: secrets/set), and the portal's rotation-policy permissions (getrotationpolicy,
  setrotationpolicy); `all` grants every permission of its kind;
- scopes: an assignment at scope S applies to resource R when R is S or lies under S; list and restore
  operations act on the vault, every other operation on `.../vaults/{v}/keys/{k}` or `.../secrets/{s}`;
- RBAC vaults ignore access policies, access-policy vaults ignore role assignments;
- compound identities ("Key Vault access policy", learn.microsoft.com: an entry for an application and
  a user applies when the application acts on behalf of the user): an entry with an `applicationId`
  applies only to a caller whose token says `appid` = applicationId and `oid` = objectId; RBAC decides
  on the caller's `oid` alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KV = "Microsoft.KeyVault/vaults"

ROLE_DATA_ACTIONS: dict[str, tuple[str, ...]] = {
    # Key Vault Administrator
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": (f"{KV}/*",),
    # Key Vault Crypto Officer
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": (f"{KV}/keys/*", f"{KV}/keyrotationpolicies/*"),
    # Key Vault Crypto User
    "12338af0-0e69-4776-bea7-57ae8d297424": tuple(
        f"{KV}/keys/{a}"
        for a in (
            "read",
            "update/action",
            "backup/action",
            "encrypt/action",
            "decrypt/action",
            "wrap/action",
            "unwrap/action",
            "sign/action",
            "verify/action",
        )
    ),
    # Key Vault Crypto Service Encryption User
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": (f"{KV}/keys/read", f"{KV}/keys/wrap/action", f"{KV}/keys/unwrap/action"),
    # Key Vault Crypto Service Release User
    "08bbd89e-9f13-488c-ac41-acfcb10c90ab": (f"{KV}/keys/release/action",),
    # Key Vault Secrets Officer
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": (f"{KV}/secrets/*",),
    # Key Vault Secrets User
    "4633458b-17de-408a-b874-0445c86b69e6": (f"{KV}/secrets/getSecret/action", f"{KV}/secrets/readMetadata/action"),
    # Key Vault Reader
    "21090545-7ca7-4776-b22c-e363652d74d2": (f"{KV}/*/read", f"{KV}/secrets/readMetadata/action"),
    # Key Vault Certificates Officer
    "a4417e6f-fecd-4de8-b567-7b0420556985": (
        f"{KV}/certificatecas/*",
        f"{KV}/certificates/*",
        f"{KV}/certificatecontacts/write",
    ),
    # Key Vault Certificate User
    "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba": (
        f"{KV}/certificates/read",
        f"{KV}/secrets/getSecret/action",
        f"{KV}/secrets/readMetadata/action",
        f"{KV}/keys/read",
    ),
    # Key Vault Data Access Administrator, Key Vault Contributor: control plane only
    "8b54135c-b56d-4d72-a534-26097cfdc8d8": (),
    "f25e0fa2-a7c8-4377-a976-54943a77a395": (),
    # Owner, Contributor, Reader: control plane only, no dataActions
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": (),
    "b24988ac-6180-42a0-ab88-20f7382dd24c": (),
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": (),
}


@dataclass(frozen=True)
class Op:
    """One data-plane operation: its object kind, RBAC dataAction, access-policy permission, target."""

    kind: str  # "keys" | "secrets"
    data_action: str
    permission: str
    on_vault: bool = False  # list/restore act on the vault, everything else on the object


def _k(action: str, permission: str, on_vault: bool = False) -> Op:
    return Op("keys", f"{KV}/{action}", permission, on_vault)


def _s(action: str, permission: str, on_vault: bool = False) -> Op:
    return Op("secrets", f"{KV}/secrets/{action}", permission, on_vault)


OPS: dict[str, Op] = {
    "create_key": _k("keys/create/action", "create"),
    "import_key": _k("keys/import/action", "import"),
    "get_key": _k("keys/read", "get"),
    "list_properties_of_keys": _k("keys/read", "list", on_vault=True),
    "list_properties_of_key_versions": _k("keys/read", "list"),
    "update_key_properties": _k("keys/update/action", "update"),
    "delete_key": _k("keys/delete", "delete"),
    "get_deleted_key": _k("keys/read", "get"),
    "list_deleted_keys": _k("keys/read", "list", on_vault=True),
    "recover_deleted_key": _k("keys/recover/action", "recover"),
    "purge_deleted_key": _k("keys/purge/action", "purge"),
    "backup_key": _k("keys/backup/action", "backup"),
    "restore_key_backup": _k("keys/restore/action", "restore", on_vault=True),
    "rotate_key": _k("keys/rotate/action", "rotate"),
    "get_key_rotation_policy": _k("keyrotationpolicies/read", "getrotationpolicy"),
    "update_key_rotation_policy": _k("keyrotationpolicies/write", "setrotationpolicy"),
    "encrypt": _k("keys/encrypt/action", "encrypt"),
    "decrypt": _k("keys/decrypt/action", "decrypt"),
    "wrap_key": _k("keys/wrap/action", "wrapKey"),
    "unwrap_key": _k("keys/unwrap/action", "unwrapKey"),
    "sign": _k("keys/sign/action", "sign"),
    "verify": _k("keys/verify/action", "verify"),
    "release_key": _k("keys/release/action", "release"),
    "set_secret": _s("setSecret/action", "set"),
    "get_secret": _s("getSecret/action", "get"),
    "list_properties_of_secrets": _s("readMetadata/action", "list", on_vault=True),
    "list_properties_of_secret_versions": _s("readMetadata/action", "list"),
    "update_secret_properties": _s("update/action", "set"),
    "delete_secret": _s("delete", "delete"),
    "get_deleted_secret": _s("readMetadata/action", "get"),
    "list_deleted_secrets": _s("readMetadata/action", "list", on_vault=True),
    "recover_deleted_secret": _s("recover/action", "recover"),
    "purge_deleted_secret": _s("purge/action", "purge"),
    "backup_secret": _s("backup/action", "backup"),
    "restore_secret_backup": _s("restore/action", "restore", on_vault=True),
}


def action_matches(pattern: str, action: str) -> bool:
    """Azure's wildcard rule for (data)actions: `*` is any run of characters; case does not matter."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, action, flags=re.IGNORECASE) is not None


def covers(scope: str, resource: str) -> bool:
    scope, resource = scope.rstrip("/").lower(), resource.rstrip("/").lower()
    return resource == scope or resource.startswith(scope + "/")


@dataclass(frozen=True)
class RoleAssignment:
    principal: str
    role_guid: str
    scope: str


@dataclass(frozen=True)
class PolicyEntry:
    principal: str
    keys: frozenset[str]
    secrets: frozenset[str]
    application: str | None = None  # a compound identity: this application acting for `principal`


def allowed(
    *,
    rbac: bool,
    vault_id: str,
    principal: str,
    operation: str,
    object_name: str,
    assignments: list[RoleAssignment],
    policies: list[PolicyEntry],
    application: str | None = None,
) -> bool:
    """Would Key Vault let `principal` (acting through `application`, if any) run `operation` (on
    `object_name`) in this vault?"""
    op = OPS[operation]
    who = principal.lower()
    if rbac:
        resource = vault_id if op.on_vault else f"{vault_id}/{op.kind}/{object_name}"
        return any(
            a.principal.lower() == who
            and covers(a.scope, resource)
            and any(action_matches(p, op.data_action) for p in ROLE_DATA_ACTIONS[a.role_guid])
            for a in assignments
        )
    granted: set[str] = set()
    app = (application or principal).lower()
    for entry in policies:
        if entry.principal.lower() == who and (entry.application is None or entry.application.lower() == app):
            granted |= {p.lower() for p in (entry.keys if op.kind == "keys" else entry.secrets)}
    return "all" in granted or op.permission.lower() in granted
