"""Built-in Azure role definitions the twin serves and enforces.

The table itself is `vaultspec.catalog.roles` (one source for the spec, the components and the
twin): the Key Vault roles with their dataActions, plus the generic Owner/Contributor/Reader/User
Access Administrator roles, which carry no dataActions exactly as in Azure and therefore never
grant data-plane access to an RBAC vault. This module adds the ARM shape of a role definition.
"""

from __future__ import annotations

from typing import Any

from vaultspec.catalog.roles import BUILT_IN_ROLES as KEY_VAULT_ROLES
from vaultspec.catalog.roles import GENERIC_ROLES, BuiltInRole

BUILT_IN_ROLES: tuple[BuiltInRole, ...] = KEY_VAULT_ROLES + GENERIC_ROLES
ROLES_BY_GUID: dict[str, BuiltInRole] = {role.guid: role for role in BUILT_IN_ROLES}
ROLES_BY_NAME: dict[str, BuiltInRole] = {role.name: role for role in BUILT_IN_ROLES}


def definition_id(role: BuiltInRole, scope: str = "") -> str:
    """A built-in role definition's id as ARM returns it when read at `scope`.

    Built-in roles live at the tenant root; ARM names them by the subscription of the scope they are
    read at (`/subscriptions/{s}/providers/.../roleDefinitions/{guid}`), whether that scope is the
    subscription, a resource group or a vault, and by the bare `/providers/...` id at tenant scope.
    That is also the id role assignments carry, which tools (`az role assignment list --role NAME`)
    compare the definition's id with.
    """
    parts = scope.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions" and parts[1]:
        return f"/subscriptions/{parts[1]}{role.id}"
    return role.id


def arm_body(role: BuiltInRole, scope: str = "") -> dict[str, Any]:
    """The role definition as ARM's roleDefinitions GET returns it at `scope`."""
    return {
        "id": definition_id(role, scope),
        "name": role.guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.name,
            "description": role.description,
            "type": "BuiltInRole",
            "assignableScopes": ["/"],
            "permissions": [
                {
                    "actions": list(role.actions),
                    "notActions": [],
                    "dataActions": list(role.data_actions),
                    "notDataActions": [],
                }
            ],
        },
    }


def role_guid_from_id(role_definition_id: str) -> str:
    """`/providers/.../roleDefinitions/{guid}` or `/subscriptions/{s}/providers/...` -> guid."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
