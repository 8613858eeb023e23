"""Who may do what: access-policy permissions and RBAC role assignments on vaults."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.catalog.roles import BUILT_IN_ROLES, GENERIC_ROLES
from vaultspec.policies.graph import StackView, vault_id_parts
from vaultspec.policies.ledger import LEDGER
from vaultspec.policies.rule import Rule, Sources, StackFinding, StackUnchecked, Subject, resource_rule, stack_rule
from vaultspec.policies.rules.vault import is_vault
from vaultspec.policies.wire import UnknownValueError, dig, is_type, sequence, text

PERMISSION_KINDS = ("keys", "secrets", "certificates", "storage")

# Roles that let the holder take over a vault: full data-plane control including purge, or the right
# to grant itself any data-plane role. Standing grants of these to workloads are what attackers use.
PRIVILEGED_ROLE_NAMES = (
    "Owner",
    "Contributor",
    "User Access Administrator",
    "Role Based Access Control Administrator",
    "Key Vault Administrator",
    "Key Vault Contributor",
    "Key Vault Data Access Administrator",
)
PRIVILEGED_ROLES: dict[str, str] = {
    role.guid: role.name for role in BUILT_IN_ROLES + GENERIC_ROLES if role.name in PRIVILEGED_ROLE_NAMES
}
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
_PRINCIPAL_WORDS = {
    kind.lower(): word
    for kind, word in zip(
        PRINCIPAL_TYPES, ("user", "group", "service principal", "foreign group", "device"), strict=True
    )
}


def _is_access_policy(resource_type: str) -> bool:
    return is_type(resource_type, "keyvault", "AccessPolicy")


def _forbidden_grants(where: str, permissions: Any, forbidden: set[str]) -> Iterator[str]:
    if not isinstance(permissions, Mapping):
        return
    for kind in PERMISSION_KINDS:
        granted = {text(item) for item in sequence(dig(permissions, kind))}
        hits = sorted(granted & forbidden)
        if hits:
            yield f"{where}.{kind} grants {', '.join(hits)}: forbidden by least privilege"


def _access_least_privilege(subject: Subject) -> Iterator[str]:
    forbidden = {permission.lower() for permission in subject.settings["forbiddenPermissions"]}
    if _is_access_policy(subject.resource_type):
        yield from _forbidden_grants("policy.permissions", dig(subject.props, "policy", "permissions"), forbidden)
        vault = LEDGER.vault_of(subject.props)  # recorded before this resource (it depends on the vault)
        if vault is not None and dig(vault, "properties", "enableRbacAuthorization") is True:
            yield (
                "an access policy on a vault that uses RBAC authorization: Key Vault ignores it, so it only "
                "misleads reviewers"
            )
        return
    entries = sequence(dig(subject.props, "properties", "accessPolicies"))
    if entries and dig(subject.props, "properties", "enableRbacAuthorization") is True:
        yield (
            "properties.accessPolicies is not empty on a vault that uses RBAC authorization: Key Vault ignores "
            "the entries, so they only mislead reviewers"
        )
    for index in range(len(entries)):
        where = f"properties.accessPolicies[{index}].permissions"
        yield from _forbidden_grants(where, dig(entries, index, "permissions"), forbidden)


def _role_guid(role_definition_id: Any) -> str | None:
    if not isinstance(role_definition_id, str):
        return None
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def _rbac_least_privilege(
    view: StackView, settings: Mapping[str, Any], now: float
) -> Iterator[StackFinding | StackUnchecked]:
    forbidden = {guid.lower() for guid in settings["forbiddenRoleDefinitionIds"]}
    principal_types = {kind.lower() for kind in settings["principalTypes"]}
    for node in view.of_type("authorization", "RoleAssignment"):
        try:
            scope = node.read(("scope",))
        except UnknownValueError:
            scope = None
            at_vault = False
        else:
            at_vault = vault_id_parts(scope) is not None
            if scope is not None and not at_vault:
                continue  # a literal scope that is no vault: not this rule's business
        vault = view.vault_of(node, "scope")
        if not at_vault and vault is None:
            continue
        try:
            guid = _role_guid(node.read(("roleDefinitionId",)))
            principal_type = text(node.read(("principalType",)))
        except UnknownValueError as unknown:
            yield StackUnchecked(node.urn, f"cannot check yet: {unknown.message}")
            continue
        if guid not in forbidden or (principal_type is not None and principal_type not in principal_types):
            continue
        role = PRIVILEGED_ROLES.get(guid or "", "a role listed in forbiddenRoleDefinitionIds")
        who = (
            "a principal whose principalType is not set"
            if principal_type is None
            else f"a {_PRINCIPAL_WORDS.get(principal_type, 'principal')}"
        )
        yield StackFinding(
            node.urn,
            f"assigns {role} at Key Vault scope to {who}: a standing grant that can take over the vault "
            "(purge, or grant itself any data-plane role)",
            (vault.waiver_source,) if vault is not None else (),
        )


RULES: list[Rule] = [
    resource_rule(
        name="kv-access-least-privilege",
        display_name="Key Vault access policies least privilege",
        description=(
            "Key vault access policies must not grant 'all' or 'purge', and RBAC vaults must not carry access policies."
        ),
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=Sources(mcsb=("PA-7",), other=("vaultspec (no public check covers access-policy permissions)",)),
        remediation=(
            "List only the permissions the principal uses (e.g. get/list/sign/verify); recover needs 'recover', "
            "never 'purge'. On RBAC vaults, remove properties.accessPolicies and use role assignments."
        ),
        url="https://learn.microsoft.com/azure/key-vault/general/assign-access-policy",
        applies_to=lambda resource_type: is_vault(resource_type) or _is_access_policy(resource_type),
        check=_access_least_privilege,
        parameters={
            "forbiddenPermissions": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["all", "purge"],
                "description": "Permissions no access policy may grant (any of keys/secrets/certificates/storage).",
            }
        },
    ),
    stack_rule(
        name="kv-rbac-least-privilege",
        display_name="Key Vault role assignments least privilege",
        description=(
            "Role assignments at Key Vault scope must not give workloads (service principals) roles that can "
            "take over the vault (purge everything, or grant themselves any data-plane role)."
        ),
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=Sources(mcsb=("PA-7", "PA-1"), cis_v3=("3.3.6",), cis_v2=("8.6",)),
        remediation=(
            "Grant the narrowest data-plane role on the key or secret the workload uses (Key Vault Crypto User, "
            "Crypto Service Encryption User, Secrets User); keep administrative roles for people, through PIM."
        ),
        url="https://learn.microsoft.com/azure/key-vault/general/rbac-guide#best-practices-for-individual-keys-secrets-and-certificates-role-assignments",
        check=_rbac_least_privilege,
        parameters={
            "forbiddenRoleDefinitionIds": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[0-9a-fA-F-]{36}$"},
                "default": list(PRIVILEGED_ROLES),
                "description": (
                    "Role definition GUIDs that must not be assigned at vault scope (default: Owner, Contributor, "
                    "User Access Administrator, Role Based Access Control Administrator, Key Vault Administrator, "
                    "Key Vault Contributor, Key Vault Data Access Administrator)."
                ),
            },
            "principalTypes": {
                "type": "array",
                "items": {"type": "string", "enum": list(PRINCIPAL_TYPES)},
                "default": ["ServicePrincipal"],
                "description": "Principal types the restriction applies to (an unset principalType always counts).",
            },
        },
    ),
]
