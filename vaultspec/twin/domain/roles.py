"""Built-in Azure role definitions the twin knows, with their Key Vault dataActions.

Source: the built-in roles table (security.md, 2026-02-23) in shared/reference. The generic
Owner/Contributor/Reader roles carry no dataActions, exactly as in Azure: they never grant data-plane
access to an RBAC vault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KV = "Microsoft.KeyVault/vaults"


@dataclass(frozen=True)
class RoleDefinition:
    guid: str
    name: str
    description: str
    actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"/providers/Microsoft.Authorization/roleDefinitions/{self.guid}"

    def arm_body(self, scope: str = "") -> dict[str, Any]:
        return {
            "id": f"{scope}{self.id}",
            "name": self.guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {
                "roleName": self.name,
                "description": self.description,
                "type": "BuiltInRole",
                "assignableScopes": ["/"],
                "permissions": [
                    {
                        "actions": list(self.actions),
                        "notActions": [],
                        "dataActions": list(self.data_actions),
                        "notDataActions": list(self.not_data_actions),
                    }
                ],
            },
        }


BUILT_IN_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "Key Vault Administrator",
        "Perform all data plane operations on a key vault and all objects in it.",
        ("Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/vaults/*/read"),
        (f"{KV}/*",),
    ),
    RoleDefinition(
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "Key Vault Crypto Officer",
        "Perform any action on the keys of a key vault, except manage permissions.",
        ("Microsoft.KeyVault/vaults/*/read",),
        (f"{KV}/keys/*", f"{KV}/keyrotationpolicies/*"),
    ),
    RoleDefinition(
        "12338af0-0e69-4776-bea7-57ae8d297424",
        "Key Vault Crypto User",
        "Perform cryptographic operations using keys.",
        (),
        (
            f"{KV}/keys/read",
            f"{KV}/keys/update/action",
            f"{KV}/keys/backup/action",
            f"{KV}/keys/encrypt/action",
            f"{KV}/keys/decrypt/action",
            f"{KV}/keys/wrap/action",
            f"{KV}/keys/unwrap/action",
            f"{KV}/keys/sign/action",
            f"{KV}/keys/verify/action",
        ),
    ),
    RoleDefinition(
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "Key Vault Crypto Service Encryption User",
        "Read metadata of keys and perform wrap/unwrap operations.",
        (),
        (f"{KV}/keys/read", f"{KV}/keys/wrap/action", f"{KV}/keys/unwrap/action"),
    ),
    RoleDefinition(
        "08bbd89e-9f13-488c-ac41-acfcb10c90ab",
        "Key Vault Crypto Service Release User",
        "Release keys.",
        (),
        (f"{KV}/keys/release/action",),
    ),
    RoleDefinition(
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        "Key Vault Secrets Officer",
        "Perform any action on the secrets of a key vault, except manage permissions.",
        ("Microsoft.KeyVault/vaults/*/read",),
        (f"{KV}/secrets/*",),
    ),
    RoleDefinition(
        "4633458b-17de-408a-b874-0445c86b69e6",
        "Key Vault Secrets User",
        "Read secret contents.",
        (),
        (f"{KV}/secrets/getSecret/action", f"{KV}/secrets/readMetadata/action"),
    ),
    RoleDefinition(
        "21090545-7ca7-4776-b22c-e363652d74d2",
        "Key Vault Reader",
        "Read metadata of key vaults and its certificates, keys, and secrets.",
        ("Microsoft.KeyVault/vaults/*/read",),
        (f"{KV}/*/read", f"{KV}/secrets/readMetadata/action"),
    ),
    RoleDefinition(
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        "Key Vault Certificates Officer",
        "Perform any action on the certificates of a key vault, except manage permissions.",
        ("Microsoft.KeyVault/vaults/*/read",),
        (f"{KV}/certificatecas/*", f"{KV}/certificates/*", f"{KV}/certificatecontacts/write"),
    ),
    RoleDefinition(
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        "Key Vault Certificate User",
        "Read entire certificate contents including secret and key portion.",
        (),
        (
            f"{KV}/certificates/read",
            f"{KV}/secrets/getSecret/action",
            f"{KV}/secrets/readMetadata/action",
            f"{KV}/keys/read",
        ),
    ),
    RoleDefinition(
        "8b54135c-b56d-4d72-a534-26097cfdc8d8",
        "Key Vault Data Access Administrator",
        "Manage access to Azure Key Vault by adding or removing role assignments.",
        ("Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete"),
    ),
    RoleDefinition(
        "f25e0fa2-a7c8-4377-a976-54943a77a395",
        "Key Vault Contributor",
        "Manage key vaults, but does not allow you to assign roles in Azure RBAC.",
        ("Microsoft.KeyVault/*",),
    ),
    RoleDefinition(
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", "Grants full access to manage all resources.", ("*",)
    ),
    RoleDefinition(
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Contributor",
        "Grants full access to manage all resources.",
        ("*",),
    ),
    RoleDefinition("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources.", ("*/read",)),
    RoleDefinition(
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "User Access Administrator",
        "Lets you manage user access to Azure resources.",
        ("Microsoft.Authorization/*",),
    ),
)

ROLES_BY_GUID: dict[str, RoleDefinition] = {role.guid: role for role in BUILT_IN_ROLES}
ROLES_BY_NAME: dict[str, RoleDefinition] = {role.name: role for role in BUILT_IN_ROLES}


def role_guid_from_id(role_definition_id: str) -> str:
    """`/providers/.../roleDefinitions/{guid}` or `/subscriptions/{s}/providers/...` -> guid."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
