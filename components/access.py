"""Data-plane access: RBAC role assignments, or inline access policies — never both on one vault.

RBAC vaults get one `azure-native:authorization:RoleAssignment` per grant, with an explicit
`principalType` (the SDK's default `User` is wrong for applications and breaks assignments to
new service principals) and a deterministic name, so a re-run never churns assignments.
Access-policy vaults carry their policies inline in the Vault's `properties.accessPolicies`
(see `vaultspec.components.vault` for why RBAC vaults send none at all).

The deployer (the identity running the deployment) gets, by default (`lifecycle`), the rights the
whole lifecycle needs: use and read (smoke tests), delete (pulumi-azure-native deletes keys and
secrets through the data plane, with the deploying identity), recover (a soft-deleted key or secret
with a declared name is recovered) and, in a vault with imported keys, import (the data plane is the
only way in): RBAC's Crypto Officer has them; access policies add import, update and the
rotation-policy permissions. `smoke` keeps it to use and read, for teams where another identity
deletes; `none` grants nothing. Its assignments' `principalType` is read from its token unless given
(`vaultspec.components.deployer`).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import authorization

from vaultspec.catalog.permissions import CERTIFICATE_PERMISSIONS, KEY_PERMISSIONS, SECRET_PERMISSIONS, canonical
from vaultspec.catalog.roles import find_role, role_definition_id
from vaultspec.components.args import AccessArgs, GrantArgs
from vaultspec.components.deployer import DEPLOYER_PRINCIPAL_TYPES
from vaultspec.components.validation import ComponentArgsError, choice, require

MODELS = ("rbac", "accessPolicies")
DEPLOYER_MODES = ("lifecycle", "smoke", "none")
DEFAULT_DEPLOYER_MODE = "lifecycle"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal")

DEPLOYER_ROLES: dict[str, tuple[str, ...]] = {
    # Reader too: reading a rotation policy needs keyrotationpolicies/read, which Crypto User lacks.
    "smoke": ("Key Vault Crypto User", "Key Vault Secrets User", "Key Vault Reader"),
    "lifecycle": ("Key Vault Crypto Officer", "Key Vault Secrets Officer"),
    "none": (),
}
_SMOKE_KEYS = ("get", "list", "sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "getrotationpolicy")
_SMOKE_SECRETS = ("get", "list")
DEPLOYER_KEY_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "smoke": _SMOKE_KEYS,
    "lifecycle": (*_SMOKE_KEYS, "delete", "recover"),
    "none": (),
}
# What importing keys takes on top of lifecycle, in access-policy vaults (RBAC: Crypto Officer has it all).
DEPLOYER_IMPORT_KEY_PERMISSIONS = ("import", "update", "getrotationpolicy", "setrotationpolicy")
DEPLOYER_SECRET_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "smoke": _SMOKE_SECRETS,
    "lifecycle": (*_SMOKE_SECRETS, "delete", "recover"),
    "none": (),
}

# Fixed namespace for role assignment names: changing it would rename (replace) every assignment.
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("5a0f3c2e-7d41-5b8e-9c6a-2f1e0d9b8a77")


def role_assignment_name(
    subscription_id: str, resource_group: str, vault_name: str, scope: str, role_guid: str, principal: str
) -> str:
    """UUIDv5 of what makes an assignment unique; Azure names are case-insensitive, so is this."""
    parts = (subscription_id, resource_group, vault_name, scope, role_guid, principal)
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, "|".join(part.lower() for part in parts)))


@dataclass(frozen=True)
class RoleGrant:
    """One RBAC grant, resolved: which role, at which scope, for whom."""

    role_guid: str
    role_label: str  # slug of the built-in role name, or the GUID of a custom role
    scope: str  # 'vault', 'keys/<name>' or 'secrets/<name>'
    principal: pulumi.Input[str] | None  # None: the deployer (known only once the program runs)
    principal_type: pulumi.Input[str]  # the deployer's may be read from its token (an Output)
    description: str | None = None

    def resource_name(self, prefix: str, fallback: str) -> str:
        """Logical name: readable, stable while the grant is unchanged, unique per vault."""
        who = self.principal if isinstance(self.principal, str) else fallback
        return f"{prefix}/roles/{self.role_label}@{self.scope}/{who}"


def resolve_role(role: str, where: str) -> tuple[str, str]:
    """(role GUID, label) for a built-in role name or GUID, or a custom role's GUID."""
    found = find_role(role)
    if found is not None:
        return found.guid, found.name.lower().replace(" ", "-")
    text = role.strip().lower()
    try:
        uuid.UUID(text)
    except ValueError:
        raise ComponentArgsError(
            f"{where}: unknown role '{role}'; use a built-in Key Vault role name or a role definition GUID"
        ) from None
    return text, text


def rbac_grants(access: AccessArgs, declared_keys: set[str], declared_secrets: set[str], where: str) -> list[RoleGrant]:
    """The user grants of an RBAC vault, validated (scope must name a declared key or secret)."""
    grants: list[RoleGrant] = []
    for index, grant in enumerate(access.get("grants") or ()):
        at = f"{where}.grants[{index}]"
        guid, label = resolve_role(require(grant, "role", at), f"{at}.role")
        principal_type = choice(require(grant, "principal_type", at), PRINCIPAL_TYPES, f"{at}.principal_type")
        scope = _scope(grant.get("scope") or "vault", declared_keys, declared_secrets, f"{at}.scope")
        grants.append(
            RoleGrant(guid, label, scope, require(grant, "principal", at), principal_type, grant.get("description"))
        )
    return grants


def _scope(scope: str, keys: set[str], secrets: set[str], where: str) -> str:
    if scope == "vault":
        return scope
    kind, _, name = scope.partition("/")
    declared = {"keys": keys, "secrets": secrets}.get(kind)
    if declared is None or name.lower() not in declared:
        raise ComponentArgsError(
            f"{where}: '{scope}' is not 'vault', 'keys/<declared key>' or 'secrets/<declared secret>'"
        )
    return f"{kind}/{name}"


def deployer_grants(mode: str, principal_type: pulumi.Input[str]) -> list[RoleGrant]:
    """The deployer's role grants at vault scope for `mode` (smoke, lifecycle or none)."""
    grants = []
    for role_name in DEPLOYER_ROLES[mode]:
        guid, label = resolve_role(role_name, "deployer")
        grants.append(RoleGrant(guid, label, "vault", None, principal_type, f"vaultspec deployer ({mode})"))
    return grants


def create_role_assignment(
    grant: RoleGrant,
    *,
    resource_name: str,
    principal: pulumi.Input[str],
    vault_id: pulumi.Output[str],
    subscription_id: pulumi.Output[str],
    resource_group_name: str,
    vault_name: str,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> authorization.RoleAssignment:
    """One RoleAssignment; `depends_on` holds the key or secret a scoped grant needs to exist first."""
    scope = vault_id.apply(lambda vid: vid if grant.scope == "vault" else f"{vid}/{grant.scope}")
    name = pulumi.Output.all(subscription_id, principal).apply(
        lambda parts: role_assignment_name(
            parts[0], resource_group_name, vault_name, grant.scope, grant.role_guid, parts[1]
        )
    )
    return authorization.RoleAssignment(
        resource_name,
        role_assignment_name=name,
        principal_id=principal,
        principal_type=grant.principal_type,
        role_definition_id=subscription_id.apply(lambda sub: role_definition_id(grant.role_guid, sub)),
        scope=scope,
        description=grant.description,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def _permissions(values: Sequence[str] | None, allowed: tuple[str, ...], where: str) -> list[str]:
    result: list[str] = []
    for index, value in enumerate(values or ()):
        name = canonical(value, allowed)
        if name is None:
            raise ComponentArgsError(f"{where}[{index}]: unknown permission '{value}'")
        if name not in result:
            result.append(name)
    return result


@dataclass(frozen=True)
class PolicyGrant:
    """One access-policy grant, validated; the principal may be an Output."""

    principal: pulumi.Input[str]
    keys: tuple[str, ...]
    secrets: tuple[str, ...]
    certificates: tuple[str, ...]


def policy_grants(access: AccessArgs, where: str) -> list[PolicyGrant]:
    grants: list[PolicyGrant] = []
    for index, grant in enumerate(access.get("grants") or ()):
        at = f"{where}.grants[{index}]"
        _no_rbac_fields(grant, at)
        keys = _permissions(grant.get("keys"), KEY_PERMISSIONS, f"{at}.keys")
        secrets = _permissions(grant.get("secrets"), SECRET_PERMISSIONS, f"{at}.secrets")
        certificates = _permissions(grant.get("certificates"), CERTIFICATE_PERMISSIONS, f"{at}.certificates")
        if not (keys or secrets or certificates):
            raise ComponentArgsError(f"{at}: an access-policy grant needs keys, secrets or certificates permissions")
        grants.append(PolicyGrant(require(grant, "principal", at), tuple(keys), tuple(secrets), tuple(certificates)))
    return grants


def _no_rbac_fields(grant: GrantArgs, where: str) -> None:
    for field in ("role", "scope"):
        if grant.get(field) is not None:
            raise ComponentArgsError(f"{where}.{field} belongs to rbac grants; access-policy grants list permissions")


def access_policy_entries(
    grants: Sequence[PolicyGrant],
    tenant_id: pulumi.Input[str],
    deployer_object_id: pulumi.Input[str],
    deployer_mode: str,
    imports: bool = False,
) -> pulumi.Output[list[dict[str, Any]]]:
    """`AccessPolicyEntryArgs` list: one entry per principal (Azure keys policies by object id),
    the deployer's merged into a grant for the same principal rather than duplicated. With `imports`
    (the vault has imported keys) the deployer may also import keys and set their properties and
    rotation policies through the data plane."""
    key_permissions = DEPLOYER_KEY_PERMISSIONS[deployer_mode]
    if imports:
        key_permissions = (*key_permissions, *DEPLOYER_IMPORT_KEY_PERMISSIONS)
    deployer = PolicyGrant(
        deployer_object_id,
        key_permissions,
        DEPLOYER_SECRET_PERMISSIONS[deployer_mode],
        (),
    )
    everyone = [*grants, *([deployer] if deployer_mode != "none" else [])]

    def build(values: list[Any]) -> list[dict[str, Any]]:
        tenant, principals = values[0], values[1:]
        merged: dict[str, dict[str, list[str]]] = {}
        for grant, principal in zip(everyone, principals, strict=True):
            entry = merged.setdefault(principal.lower(), {"keys": [], "secrets": [], "certificates": []})
            for kind in ("keys", "secrets", "certificates"):
                entry[kind].extend(p for p in getattr(grant, kind) if p not in entry[kind])
        return [
            {"object_id": principal, "tenant_id": tenant, "permissions": permissions}
            for principal, permissions in merged.items()
        ]

    return pulumi.Output.all(tenant_id, *(grant.principal for grant in everyone)).apply(build)


def access_model(access: AccessArgs, where: str) -> tuple[str, str, str | None]:
    """(model, deployer mode, deployer principal type or None to read it from the deployer's token), validated."""
    model = choice(require(access, "model", where), MODELS, f"{where}.model")
    mode = choice(access.get("deployer") or DEFAULT_DEPLOYER_MODE, DEPLOYER_MODES, f"{where}.deployer")
    given = access.get("deployer_principal_type")
    principal_type = choice(given, DEPLOYER_PRINCIPAL_TYPES, f"{where}.deployer_principal_type") if given else None
    return model, mode, principal_type
