"""Cross-field rules: what Azure would reject (or silently misbehave on) that no single field shows.

Each rule yields `(path, message)` with the path of the node to blame, relative to the vault
(or to the document for spec-wide rules), so errors land on the right line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from vaultspec.catalog.keys import EC_TYPES, HSM_TYPES, ops_for_type
from vaultspec.catalog.roles import find_role
from vaultspec.spec.import_rules import import_rules, kek_rules, vault_import_rules
from vaultspec.spec.model import Grant, Key, Rotation, Secret, Spec, Vault
from vaultspec.spec.types import duration_days

Finding = tuple[tuple[str | int, ...], str]

MIN_ROTATION_EXPIRY_DAYS = 28
MIN_TRIGGER_DAYS = 7
MAX_OBJECT_TAGS = 15  # Key Vault's limit for key and secret tags
MAX_RESOURCE_TAGS = 50  # ARM's limit for a vault's tags
WAIVER_TAG_PREFIX = "waiver:"


def waiver_tags(vault: Vault) -> dict[str, str]:
    """The tags that carry this vault's policy waivers to the policy pack (see policies/README.md)."""
    return {f"{WAIVER_TAG_PREFIX}{item.policy}": item.reason for item in vault.exceptions}


def duplicate_names(names: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(index, name) of each name seen before it, case-insensitively (as Azure compares names)."""
    seen: set[str] = set()
    for index, name in enumerate(names):
        folded = name.lower()
        if folded in seen:
            yield index, name
        seen.add(folded)


def key_rules(key: Key, sku: str) -> Iterator[Finding]:
    if key.type in HSM_TYPES and sku != "premium":
        yield ("type",), f"{key.type} keys need a premium vault (this vault's sku is {sku})"
    is_ec = key.type in EC_TYPES
    if is_ec and key.size is not None:
        yield ("size",), f"size applies to RSA keys only; {key.type} keys take a curve"
    if not is_ec and key.curve is not None:
        yield ("curve",), f"curve applies to EC keys only; {key.type} keys take a size"
    allowed = ops_for_type(key.type)
    for index, op in enumerate(key.ops):
        if op not in allowed and op != "import":  # import makes a key exchange key: kek_rules
            yield ("ops", index), f"{key.type} keys cannot {op}; they support: {', '.join(allowed)}"
    for index, op in duplicate_names(key.ops):
        yield ("ops", index), f"operation '{op}' is listed twice"
    if key.expires and key.not_before and key.expires <= key.not_before:
        yield ("expires",), "expires must be later than notBefore"
    if key.rotation:
        yield from ((("rotation", *path), msg) for path, msg in rotation_rules(key.rotation))
    if len(key.tags) > MAX_OBJECT_TAGS:
        yield ("tags",), f"{len(key.tags)} tags exceed Key Vault's limit of {MAX_OBJECT_TAGS}"
    yield from kek_rules(key)
    yield from import_rules(key, sku)


def secret_rules(secret: Secret) -> Iterator[Finding]:
    if secret.expires and secret.not_before and secret.expires <= secret.not_before:
        yield ("expires",), "expires must be later than notBefore"
    if len(secret.tags) > MAX_OBJECT_TAGS:
        yield ("tags",), f"{len(secret.tags)} tags exceed Key Vault's limit of {MAX_OBJECT_TAGS}"


def rotation_rules(rotation: Rotation) -> Iterator[Finding]:
    expiry = duration_days(rotation.expiry_time) if rotation.expiry_time else None
    if expiry is not None and expiry < MIN_ROTATION_EXPIRY_DAYS:
        yield (
            ("expiryTime",),
            f"expiryTime must be at least P{MIN_ROTATION_EXPIRY_DAYS}D (Key Vault's minimum)",
        )
    if rotation.rotate_after_create and rotation.rotate_before_expiry:
        yield (
            ("rotateBeforeExpiry",),
            "choose rotateAfterCreate or rotateBeforeExpiry: Key Vault's rotate action has a single trigger",
        )
    if not (rotation.rotate_after_create or rotation.rotate_before_expiry or rotation.notify_before_expiry):
        yield (), "a rotation policy needs rotateAfterCreate, rotateBeforeExpiry or notifyBeforeExpiry"
    triggers = {
        "rotateAfterCreate": rotation.rotate_after_create,
        "rotateBeforeExpiry": rotation.rotate_before_expiry,
        "notifyBeforeExpiry": rotation.notify_before_expiry,
    }
    for field, value in triggers.items():
        if value is None:
            continue
        days = duration_days(value)
        if days < MIN_TRIGGER_DAYS:
            yield (field,), f"{field} must be at least P{MIN_TRIGGER_DAYS}D"
        if field != "rotateAfterCreate" and expiry is None:
            yield (field,), f"{field} needs expiryTime: without it new versions never expire"
        if expiry is not None and days > expiry - MIN_TRIGGER_DAYS:
            yield (
                (field,),
                f"{field} ({value}) must be shorter than expiryTime ({rotation.expiry_time}) by at least "
                f"{MIN_TRIGGER_DAYS} days",
            )


def grant_rules(grant: Grant, vault: Vault) -> Iterator[Finding]:
    rbac = vault.access.model == "rbac"
    permissions = {"keys": grant.keys, "secrets": grant.secrets, "certificates": grant.certificates}
    if rbac:
        for field, value in permissions.items():
            if value is not None:
                yield (
                    (field,),
                    f"{field} permissions belong to accessPolicies vaults; rbac grants name a role",
                )
        if grant.principal_type is None:
            yield (
                (),
                "rbac grants need principalType (User, Group or ServicePrincipal): Azure's default is User",
            )
        if grant.role is None:
            yield (), "rbac grants need a role"
            return
        yield from _role_and_scope(grant, vault)
        return
    for field in ("role", "scope", "description"):
        if getattr(grant, field) is not None:
            yield (
                (field,),
                f"{field} belongs to rbac grants; accessPolicies grants list keys/secrets/certificates",
            )
    if not any(permissions.values()):
        yield (), "an accessPolicies grant needs at least one of keys, secrets or certificates permissions"


def _role_and_scope(grant: Grant, vault: Vault) -> Iterator[Finding]:
    role = find_role(grant.role or "")
    looks_like_guid = len(grant.role or "") == 36 and (grant.role or "").count("-") == 4
    if role is None and not looks_like_guid:
        yield (
            ("role",),
            f"unknown role '{grant.role}'; use a built-in Key Vault role name or a role definition GUID",
        )
    scope = grant.scope_or_vault
    if scope == "vault":
        return
    kind, _, name = scope.partition("/")
    declared = {
        "keys": {k.name.lower() for k in vault.keys},
        "secrets": {s.name.lower() for s in vault.secrets},
    }
    if kind not in declared or not name:
        yield ("scope",), "scope must be 'vault', 'keys/<declared key>' or 'secrets/<declared secret>'"
        return
    if name.lower() not in declared[kind]:
        yield ("scope",), f"scope names {kind[:-1]} '{name}', which this vault does not declare"
        return
    if role is not None:
        touches = role.touches_keys if kind == "keys" else role.touches_secrets
        if not touches:
            yield (
                ("role",),
                f"'{role.name}' grants nothing on {kind}; scope it to the vault or pick a {kind} role",
            )


def access_rules(vault: Vault) -> Iterator[Finding]:
    seen: dict[tuple[str, str, str], int] = {}
    for index, grant in enumerate(vault.access.grants):
        for path, message in grant_rules(grant, vault):
            yield ("access", "grants", index, *path), message
        if vault.access.model == "rbac":
            role = find_role(grant.role or "")
            identity = (
                grant.principal,
                (role.guid if role else (grant.role or "").lower()),
                grant.scope_or_vault,
            )
        else:
            identity = (grant.principal, "", "")
        if identity in seen:
            yield (
                ("access", "grants", index),
                f"duplicates grant {seen[identity]} (same principal"
                + (", role and scope)" if vault.access.model == "rbac" else "; access policies are per principal)"),
            )
        else:
            seen[identity] = index


def vault_rules(vault: Vault, known_policies: frozenset[str] | None = None) -> Iterator[Finding]:
    """Every cross-field rule for one vault; paths are relative to the vault."""
    for index, name in duplicate_names(k.name for k in vault.keys):
        yield ("keys", index, "name"), f"key '{name}' is declared twice (names are case-insensitive)"
    for index, name in duplicate_names(s.name for s in vault.secrets):
        yield ("secrets", index, "name"), f"secret '{name}' is declared twice (names are case-insensitive)"
    waivers = waiver_tags(vault)  # on the vault only: they cover its keys and secrets (policies/waivers.py)
    for index, key in enumerate(vault.keys):
        yield from ((("keys", index, *path), msg) for path, msg in key_rules(key, vault.sku))
    for index, secret in enumerate(vault.secrets):
        yield from ((("secrets", index, *path), msg) for path, msg in secret_rules(secret))
    if len(vault.tags) + len(waivers) > MAX_RESOURCE_TAGS:
        yield ("tags",), _too_many_tags(len(vault.tags), len(waivers), MAX_RESOURCE_TAGS)
    yield from access_rules(vault)
    yield from vault_import_rules(vault)
    for index, name in duplicate_names(e.policy for e in vault.exceptions):
        yield ("exceptions", index, "policy"), f"policy '{name}' is waived twice"
    if known_policies is not None:
        for index, item in enumerate(vault.exceptions):
            if item.policy not in known_policies:
                yield (
                    ("exceptions", index, "policy"),
                    f"unknown policy '{item.policy}'; see `vaultspec plan` for names",
                )


def _too_many_tags(own: int, waivers: int, limit: int) -> str:
    return f"{own} tags plus {waivers} waiver tags exceed Azure's limit of {limit}"


def spec_rules(spec: Spec, known_policies: frozenset[str] | None = None) -> Iterator[Finding]:
    """Every cross-field rule for a whole document; paths are relative to the document."""
    for index, name in duplicate_names(v.name for v in spec.vaults):
        yield ("vaults", index, "name"), f"vault '{name}' is declared twice (names are case-insensitive)"
    for index, vault in enumerate(spec.vaults):
        yield from ((("vaults", index, *path), msg) for path, msg in vault_rules(vault, known_policies))
