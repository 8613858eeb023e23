"""Azure built-in Key Vault roles: names, GUIDs and the data actions each grants.

Source: Azure built-in roles, Security category (learn.microsoft.com, dated 2026-02-23); see
`shared/reference/keyvault-data-plane.md` §5.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

ROLE_DEFINITION_PREFIX = "/providers/Microsoft.Authorization/roleDefinitions/"


@dataclass(frozen=True)
class BuiltInRole:
    """One built-in role: `data_actions` are wildcard patterns as Azure writes them."""

    name: str
    guid: str
    data_actions: tuple[str, ...]
    description: str
    actions: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The tenant-level role definition id (`/providers/Microsoft.Authorization/roleDefinitions/<guid>`)."""
        return f"{ROLE_DEFINITION_PREFIX}{self.guid}"

    def allows(self, data_action: str) -> bool:
        """True when one of the role's data-action patterns covers `data_action` (case-insensitive)."""
        action = data_action.lower()
        return any(fnmatchcase(action, pattern.lower()) for pattern in self.data_actions)

    def grants_under(self, *namespaces: str) -> bool:
        """True when any data action of the role falls under one of `namespaces` (prefixes such as
        `Microsoft.KeyVault/vaults/keys/`), or is a wildcard that reaches into one of them.

        Every data action counts, not a sample of verbs: `keys/release/action` alone (Key Vault
        Crypto Service Release User) is a grant on keys. Azure's patterns use only `*`, which
        matches any text (slashes included), so a pattern reaches into a namespace exactly when
        its literal text before the first `*` starts with the namespace, or is itself the start of
        the namespace (`vaults/*/read` reaches `vaults/keys/read`).
        """
        for pattern in (action.lower() for action in self.data_actions):
            literal, star, _ = pattern.partition("*")
            for namespace in (n.lower() for n in namespaces):
                if literal.startswith(namespace) or (star and namespace.startswith(literal)):
                    return True
        return False

    @property
    def touches_keys(self) -> bool:
        """Grants something on keys (a key's rotation policy included), so a key-scoped assignment means something."""
        return self.grants_under(f"{_KV}/keys/", f"{_KV}/keyrotationpolicies/")

    @property
    def touches_secrets(self) -> bool:
        """Grants something on secrets, so a secret-scoped assignment means something."""
        return self.grants_under(f"{_KV}/secrets/")


_KV = "Microsoft.KeyVault/vaults"

BUILT_IN_ROLES: tuple[BuiltInRole, ...] = (
    BuiltInRole(
        "Key Vault Administrator",
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        (f"{_KV}/*",),
        "All data-plane operations on a vault and its objects.",
        actions=("Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/vaults/*/read"),
    ),
    BuiltInRole(
        "Key Vault Crypto Officer",
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        (f"{_KV}/keys/*", f"{_KV}/keyrotationpolicies/*"),
        "Any action on keys, except managing permissions.",
        actions=("Microsoft.KeyVault/vaults/*/read",),
    ),
    BuiltInRole(
        "Key Vault Crypto User",
        "12338af0-0e69-4776-bea7-57ae8d297424",
        (
            f"{_KV}/keys/read",
            f"{_KV}/keys/update/action",
            f"{_KV}/keys/backup/action",
            f"{_KV}/keys/encrypt/action",
            f"{_KV}/keys/decrypt/action",
            f"{_KV}/keys/wrap/action",
            f"{_KV}/keys/unwrap/action",
            f"{_KV}/keys/sign/action",
            f"{_KV}/keys/verify/action",
        ),
        "Cryptographic operations with keys.",
    ),
    BuiltInRole(
        "Key Vault Crypto Service Encryption User",
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        (f"{_KV}/keys/read", f"{_KV}/keys/wrap/action", f"{_KV}/keys/unwrap/action"),
        "Read key metadata and wrap/unwrap (customer-managed-key services).",
    ),
    BuiltInRole(
        "Key Vault Crypto Service Release User",
        "08bbd89e-9f13-488c-ac41-acfcb10c90ab",
        (f"{_KV}/keys/release/action",),
        "Release keys (secure key release).",
    ),
    BuiltInRole(
        "Key Vault Secrets Officer",
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        (f"{_KV}/secrets/*",),
        "Any action on secrets, except managing permissions.",
        actions=("Microsoft.KeyVault/vaults/*/read",),
    ),
    BuiltInRole(
        "Key Vault Secrets User",
        "4633458b-17de-408a-b874-0445c86b69e6",
        (f"{_KV}/secrets/getSecret/action", f"{_KV}/secrets/readMetadata/action"),
        "Read secret contents.",
    ),
    BuiltInRole(
        "Key Vault Reader",
        "21090545-7ca7-4776-b22c-e363652d74d2",
        (f"{_KV}/*/read", f"{_KV}/secrets/readMetadata/action"),
        "Read metadata of vaults and their objects; never secret contents.",
        actions=("Microsoft.KeyVault/vaults/*/read",),
    ),
    BuiltInRole(
        "Key Vault Certificates Officer",
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        (f"{_KV}/certificatecas/*", f"{_KV}/certificates/*", f"{_KV}/certificatecontacts/write"),
        "Any action on certificates, except managing permissions.",
        actions=("Microsoft.KeyVault/vaults/*/read",),
    ),
    BuiltInRole(
        "Key Vault Certificate User",
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        (
            f"{_KV}/certificates/read",
            f"{_KV}/secrets/getSecret/action",
            f"{_KV}/secrets/readMetadata/action",
            f"{_KV}/keys/read",
        ),
        "Read entire certificate contents including secret and key portion.",
    ),
    BuiltInRole(
        "Key Vault Data Access Administrator",
        "8b54135c-b56d-4d72-a534-26097cfdc8d8",
        (),
        "Manage access to Key Vault by adding or removing role assignments (control plane only).",
        actions=("Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete"),
    ),
    BuiltInRole(
        "Key Vault Contributor",
        "f25e0fa2-a7c8-4377-a976-54943a77a395",
        (),
        "Manage key vaults (control plane only); grants no data access.",
        actions=("Microsoft.KeyVault/*",),
    ),
)

# Generic Azure roles: control plane only. They grant no data-plane access to an RBAC vault, which is
# exactly why the twin knows them (and why a spec may not name them for a grant).
GENERIC_ROLES: tuple[BuiltInRole, ...] = (
    BuiltInRole(
        "Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", (), "Grants full access to manage all resources.", ("*",)
    ),
    BuiltInRole(
        "Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c", (), "Grants full access to manage all resources.", ("*",)
    ),
    BuiltInRole("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", (), "View all resources.", ("*/read",)),
    BuiltInRole(
        "Role Based Access Control Administrator",
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        (),
        "Manage access to Azure resources by assigning roles using Azure RBAC.",
        ("Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete"),
    ),
    BuiltInRole(
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        (),
        "Lets you manage user access to Azure resources.",
        ("Microsoft.Authorization/*",),
    ),
)

_BY_NAME = {role.name.lower(): role for role in BUILT_IN_ROLES}
_BY_GUID = {role.guid: role for role in BUILT_IN_ROLES}


def find_role(name_or_guid: str) -> BuiltInRole | None:
    """Look a built-in Key Vault role up by display name (case-insensitive) or by GUID."""
    key = name_or_guid.strip().lower()
    return _BY_NAME.get(key) or _BY_GUID.get(key)


def role_definition_id(guid: str, subscription_id: str | None = None) -> str:
    """The ARM id of a role definition, subscription-scoped when a subscription is given."""
    prefix = f"/subscriptions/{subscription_id}" if subscription_id else ""
    return f"{prefix}{ROLE_DEFINITION_PREFIX}{guid}"
