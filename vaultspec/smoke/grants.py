"""Grant checks (`--check-grants`): act as a grant's principal and prove what it may and may not do.

For grant *i* (object `grants/<i>`) whose principal this process can act as (an async
`ManagedIdentityCredential` selecting the identity by object id; on the twin that is any principal,
in Azure pipelines the agent's user-assigned identities):

- `identity` — a data-plane token can be had for the principal, else every check of the grant is
  skipped with the reason;
- `allows:<probe>` — each probe the grant covers, on one declared object it covers;
- `refuses:<probe>` — the first probe (in `NEGATIVE_PREFERENCE`) that none of the principal's grants
  in this vault covers, on a declared object; the vault must answer 403 ForbiddenByRbac/ByPolicy.

Probes are read and crypto operations only, never anything that writes or deletes: a wrong
expectation must not damage the vault. Crypto probes target keys that declare the operation (so a
refusal can only come from access control) and are sent to the vault itself. Under RBAC a grant
covers a probe when its built-in role's data actions include the probe's action and its scope is
the vault or the target object (listing needs vault scope); custom roles (a GUID that is not built
in) are not interpreted and their checks are skipped. Access-policy grants cover their permissions.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal
from urllib.parse import urlsplit

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from vaultspec.catalog.roles import find_role
from vaultspec.smoke import keys as key_checks
from vaultspec.smoke.check import Check, CheckFailed, CheckSkipped
from vaultspec.smoke.session import VaultError, VaultSession
from vaultspec.spec.model import Grant, Key, Vault

KV_ACTIONS = "Microsoft.KeyVault/vaults/"


@dataclass(frozen=True)
class Probe:
    """One safe thing a principal can try: its access-policy permission and RBAC data action."""

    name: str
    kind: Literal["keys", "secrets"]
    permission: str
    data_action: str
    key_op: str | None = None  # crypto probes: the target key must declare this operation
    listing: bool = False  # needs a grant at vault scope under RBAC


PROBES: tuple[Probe, ...] = (
    Probe("get-secret", "secrets", "get", "secrets/getSecret/action"),
    Probe("list-secrets", "secrets", "list", "secrets/readMetadata/action", listing=True),
    Probe("get-key", "keys", "get", "keys/read"),
    Probe("list-keys", "keys", "list", "keys/read", listing=True),
    Probe("get-rotation-policy", "keys", "getrotationpolicy", "keyrotationpolicies/read"),
    Probe("sign", "keys", "sign", "keys/sign/action", key_op="sign"),
    Probe("verify", "keys", "verify", "keys/verify/action", key_op="verify"),
    Probe("encrypt", "keys", "encrypt", "keys/encrypt/action", key_op="encrypt"),
    Probe("decrypt", "keys", "decrypt", "keys/decrypt/action", key_op="decrypt"),
    Probe("wrapKey", "keys", "wrapKey", "keys/wrap/action", key_op="wrapKey"),
    Probe("unwrapKey", "keys", "unwrapKey", "keys/unwrap/action", key_op="unwrapKey"),
)
BY_NAME = {probe.name: probe for probe in PROBES}
NEGATIVE_PREFERENCE = (
    "get-secret",
    "decrypt",
    "unwrapKey",
    "sign",
    "get-key",
    "list-secrets",
    "list-keys",
    "encrypt",
    "wrapKey",
    "verify",
    "get-rotation-policy",
)
WINDOW_CONTROLLED = frozenset({"sign", "encrypt", "wrapKey"})
VAULT_TARGET = "(vault)"


def data_plane_scope(vault_url: str) -> str:
    """The token scope Key Vault's challenge names: the vault host minus its first label (port kept)."""
    parts = urlsplit(vault_url)
    host = (parts.hostname or "").split(".", 1)[-1]
    port = f":{parts.port}" if parts.port and parts.port != 443 else ""
    return f"https://{host}{port}/.default"


def targets(vault: Vault, probe: Probe) -> list[str]:
    """Declared objects a probe can be tried on (for crypto: keys declaring the op, usable now)."""
    if probe.listing:
        return [VAULT_TARGET]
    if probe.kind == "secrets":
        return [s.name for s in vault.secrets if s.enabled]
    usable = [k for k in vault.keys if k.enabled]
    if probe.key_op is not None:
        usable = [k for k in usable if probe.key_op in k.ops]
        if probe.key_op in WINDOW_CONTROLLED:
            usable = [k for k in usable if key_checks.window_open(k)]
    return [k.name for k in usable]


def covers(grant: Grant, vault: Vault, probe: Probe, target: str) -> bool:
    """Whether this one grant allows `probe` on `target` (a declared object name, or the vault)."""
    if vault.access.model == "rbac":
        role = find_role(grant.role or "")
        if role is None or not role.allows(KV_ACTIONS + probe.data_action):
            return False
        scope = grant.scope_or_vault
        if scope == "vault":
            return True
        kind, _, name = scope.partition("/")
        return not probe.listing and kind == probe.kind and name.lower() == target.lower()
    permissions = [p.lower() for p in ((grant.keys if probe.kind == "keys" else grant.secrets) or [])]
    return "all" in permissions or probe.permission.lower() in permissions


def interpretable(grant: Grant, vault: Vault) -> bool:
    return vault.access.model != "rbac" or find_role(grant.role or "") is not None


def positive_probes(grant: Grant, vault: Vault) -> list[tuple[Probe, str]]:
    found = []
    for probe in PROBES:
        target = next((t for t in targets(vault, probe) if covers(grant, vault, probe, t)), None)
        if target is not None:
            found.append((probe, target))
    return found


def negative_probe(grant: Grant, vault: Vault) -> tuple[Probe, str] | None:
    """The first probe/target none of this principal's grants in the vault covers."""
    mine = [g for g in vault.access.grants if g.principal == grant.principal]
    for name in NEGATIVE_PREFERENCE:
        probe = BY_NAME[name]
        for target in targets(vault, probe):
            if not any(covers(g, vault, probe, target) for g in mine):
                return probe, target
    return None


def _object_label(probe: Probe, target: str) -> str:
    return "the vault" if target == VAULT_TARGET else f"{probe.kind}/{target}"


async def _key_for_request(deployer: VaultSession, vault: Vault, name: str) -> tuple[Key, object]:
    spec = next(k for k in vault.keys if k.name == name)
    try:
        return spec, await deployer.key(name)
    except HttpResponseError as error:
        detail = f"the smoke identity cannot read keys/{name} to build the request: {VaultError.of(error)}"
        raise CheckSkipped(detail) from None


async def perform(principal: VaultSession, deployer: VaultSession, vault: Vault, probe: Probe, target: str) -> None:
    """Try `probe` as the principal; raises VaultError (or HttpResponseError) when refused."""
    try:
        if probe.name == "get-secret":
            secret = await principal.secrets.get_secret(target)
            del secret  # the value is never looked at
        elif probe.name == "list-secrets":
            async for _ in principal.secrets.list_properties_of_secrets():
                break
        elif probe.name == "get-key":
            await principal.keys.get_key(target)
        elif probe.name == "list-keys":
            async for _ in principal.keys.list_properties_of_keys():
                break
        elif probe.name == "get-rotation-policy":
            await principal.keys.get_key_rotation_policy(target)
        else:
            spec, key = await _key_for_request(deployer, vault, target)
            await principal.remote(key, probe.name, key_checks.operation_body(spec, key, probe.name))  # type: ignore[arg-type]
    except HttpResponseError as error:
        raise VaultError.of(error) from None


async def check_identity(principal: VaultSession, grant: Grant) -> str:
    async def token() -> None:
        await principal.credential.get_token(data_plane_scope(principal.vault_url))

    try:
        await principal.once("identity", token)
    except (ClientAuthenticationError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise CheckSkipped(f"cannot act as principal {grant.principal} here: {first_line}") from None
    return f"acting as principal {grant.principal}"


async def check_allows(
    principal: VaultSession, deployer: VaultSession, vault: Vault, grant: Grant, probe: Probe, target: str
) -> str:
    await check_identity(principal, grant)
    await perform(principal, deployer, vault, probe, target)
    return f"{probe.name} on {_object_label(probe, target)} succeeded as the grant allows"


async def check_refuses(
    principal: VaultSession, deployer: VaultSession, vault: Vault, grant: Grant, probe: Probe, target: str
) -> str:
    await check_identity(principal, grant)
    try:
        await perform(principal, deployer, vault, probe, target)
    except VaultError as refusal:
        if refusal.by_access_control:
            return f"{probe.name} on {_object_label(probe, target)} refused as expected ({refusal})"
        label = _object_label(probe, target)
        raise CheckFailed(f"{probe.name} on {label} failed, but not by access control: {refusal}") from None
    raise CheckFailed(
        f"{probe.name} on {_object_label(probe, target)} succeeded, although the principal's grants do not allow it"
    )


def grant_checks(
    index: int, grant: Grant, vault: Vault, deployer: VaultSession, principal: VaultSession
) -> list[Check]:
    """The checks of grant `index` of `vault`, performed through `principal`'s session."""
    obj = f"grants/{index}"

    def check(name: str, fn: Callable[..., Awaitable[str]], *args: object, refusal: bool = False) -> Check:
        return Check(obj, name, partial(fn, *args), expects_refusal=refusal)

    if not interpretable(grant, vault):
        return [check("identity", _skip, f"custom role {grant.role}: its data actions are not interpreted here")]
    checks = [check("identity", check_identity, principal, grant)]
    for probe, target in positive_probes(grant, vault):
        checks.append(check(f"allows:{probe.name}", check_allows, principal, deployer, vault, grant, probe, target))
    negative = negative_probe(grant, vault)
    if negative is None:
        checks.append(check("refuses", _skip, "the principal's grants cover every safe probe; nothing to refuse"))
    else:
        probe, target = negative
        args = (principal, deployer, vault, grant, probe, target)
        checks.append(check(f"refuses:{probe.name}", check_refuses, *args, refusal=True))
    return checks


async def _skip(reason: str) -> str:
    raise CheckSkipped(reason)


def default_principal_credential(connection_verify: str | bool | None) -> Callable[[str], object]:
    """An async ManagedIdentityCredential selecting the identity by object id (what the spec names)."""

    def make(principal: str) -> object:
        from azure.identity.aio import ManagedIdentityCredential

        kwargs: dict[str, object] = {}
        if isinstance(connection_verify, str):
            kwargs["connection_verify"] = connection_verify
        elif os.environ.get("REQUESTS_CA_BUNDLE"):
            kwargs["connection_verify"] = os.environ["REQUESTS_CA_BUNDLE"]
        return ManagedIdentityCredential(identity_config={"object_id": principal}, **kwargs)

    return make
