"""The dynamic provider behind `ImportedKey`: import, update, refresh and delete a key through the data plane.

ARM (and so pulumi-azure-native) cannot import a key; only Key Vault's data plane can, so this
provider calls it with the deploying identity (`DefaultAzureCredential`: the ambient Azure
environment; against the twin, `eval "$(vaultspec twin env)"`; `*.localhost` vault hosts resolve
in-process). Under the Pulumi CLI it runs in `pulumi-resource-pulumi-python`, which unpickles the
provider object from state: the object holds nothing (no material, no credential, no client), and
everything it needs arrives with each call.

Semantics, as pulumi-azure-native's keys and Key Vault's Import Key:

- `create` imports the key (BYOK blob as `key_hsm`, or private JWK members with `Hsm` for -HSM
  types). A key already in the vault under that name is adopted only when it is provably the declared
  key (same public key thumbprint); otherwise the create fails and names the key. A soft-deleted key of
  that name is recovered first (as `vaultspec up` recovers generated keys), then adopted or given a
  new version.
- `diff` compares the source's fingerprint (a hash of the BYOK blob, or the material's public key
  thumbprint: neither reveals the private key), the key's properties and tags. A changed source
  imports a new version; changed properties or tags are a PATCH; another vault is a replacement.
  Without a rotation policy, a current version whose public key is no longer the imported one (the
  key was replaced behind the tool's back) is imported again.
- `read` refreshes the current version, its public key thumbprint, properties and tags; a key that is
  gone reads as deleted.
- `delete` soft-deletes (DELETE /keys/{name}), as pulumi-azure-native deletes keys; never purges.

Errors name the vault, the key and Key Vault's status and code, never any key material.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pulumi.dynamic
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import JsonWebKey, KeyClient, KeyRotationLifetimeAction, KeyRotationPolicy, KeyVaultKey
from pulumi.runtime import rpc

from vaultspec import localhost
from vaultspec.byok.material import (
    KeyMaterialError,
    KeyShape,
    jwk_thumbprint,
    load_private_key,
    private_jwk_members,
    shape_of,
    thumbprint,
)
from vaultspec.byok.transfer import TransferBlobError, b64url, b64url_decode, parse_kek_id, parse_transfer_blob

BYOK = "byok"
MATERIAL = "material"
NOT_ECHOED = ("material", "byok", "__provider")  # the material, the blob: inputs only, never outputs
REPLACE_ON = ("vaultUri", "vaultName", "resourceGroupName", "keyName")


class ImportFailed(Exception):
    """An import, update or delete the vault refused; names the vault, key, status and code only."""


def plain(value: Any) -> Any:
    """A property as the provider gets it, with Pulumi's secret wrapper removed (at any depth)."""
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def blob_fingerprint(blob: str) -> str:
    """A BYOK blob's fingerprint: its SHA-256 (the blob is ciphertext; its hash reveals nothing)."""
    return "sha256:" + b64url(hashlib.sha256(blob.encode()).digest())


def declared_shape(properties: dict[str, Any]) -> KeyShape:
    kty = str(properties.get("kty") or "")
    if kty.startswith("RSA"):
        return KeyShape("RSA", size=int(properties.get("keySize") or 0) or None)
    return KeyShape("EC", curve=properties.get("curveName"))


def material_fingerprint(material: str, declared: KeyShape) -> str:
    """The material's fingerprint (its public key's RFC 7638 thumbprint), after checking it is the declared
    kind of key; raises `KeyMaterialError` naming the mismatch, never the material."""
    key = load_private_key(material)
    shape = shape_of(key)
    fixed = declared.size is not None or declared.curve is not None
    if shape.family != declared.family or (fixed and shape != declared):
        raise KeyMaterialError(f"the key material is an {shape} key, but the key is declared {declared}")
    return "jwk-thumbprint:" + thumbprint(key)


class ImportedKeyProvider(pulumi.dynamic.ResourceProvider):
    """CRUD of one imported key through the data plane (stateless: see the module docstring)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Offline checks of the source (no network), so `pulumi preview` fails early and clearly."""
        failures = [pulumi.dynamic.CheckFailure(prop, reason) for prop, reason in source_problems(plain(news))]
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        old, new = plain(olds), plain(news)
        replaces = [name for name in REPLACE_ON if _known(new.get(name)) and old.get(name) != new.get(name)]
        changed = bool(replaces) or needs_import(old, new) or _settings(old) != _settings(new)
        return pulumi.dynamic.DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        inputs = plain(props)
        _raise_problems(inputs)
        with key_client(inputs) as client:
            key, recovered = existing_key(client, inputs)
            if key is not None and thumbprint_of(key) == expected_thumbprint(inputs):
                key = update_properties(client, inputs)  # already the declared key: adopt it
            elif key is None or recovered:
                key = import_version(client, inputs)
            else:
                raise ImportFailed(_taken_message(inputs))
            apply_rotation(client, inputs)
        return pulumi.dynamic.CreateResult(versionless_id(inputs), outputs(inputs, key, imported=True))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        old, new = plain(olds), plain(news)
        _raise_problems(new)
        with key_client(new) as client:
            reimport = needs_import(old, new)
            key = import_version(client, new) if reimport else update_properties(client, new)
            apply_rotation(client, new)
        outs = outputs(new, key, imported=reimport)
        if not reimport:
            outs["importedThumbprint"] = old.get("importedThumbprint")
        return pulumi.dynamic.UpdateResult(outs)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        state = plain(props)
        with key_client(state) as client:
            try:
                key = client.get_key(str(state["keyName"]))
            except ResourceNotFoundError:
                return pulumi.dynamic.ReadResult("", {})
            except HttpResponseError as error:
                raise ImportFailed(_describe("read", state, error)) from None
        outs = outputs(state, key, imported=False)
        outs["importedThumbprint"] = state.get("importedThumbprint")
        outs["properties"] = live_properties(state.get("properties") or {}, key)
        outs["tags"] = dict(key.properties.tags or {}) or None
        return pulumi.dynamic.ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        state = plain(props)
        with key_client(state) as client:
            try:
                client.begin_delete_key(str(state["keyName"])).wait()
            except ResourceNotFoundError:
                return
            except HttpResponseError as error:
                raise ImportFailed(_describe("delete", state, error)) from None


# -- checks ------------------------------------------------------------------------------------------


def _known(value: Any) -> bool:
    return value is not None and value != rpc.UNKNOWN


def source_problems(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for each problem of the source that can be told without the vault."""
    source = inputs.get("import") or {}
    if not _known(source) or not isinstance(source, dict):
        return []
    problems: list[tuple[str, str]] = []
    if source.get("source") == BYOK:
        blob = inputs.get("byok")
        if _known(blob):
            try:
                kek = parse_kek_id(parse_transfer_blob(str(blob)).header.kid)
            except TransferBlobError as error:
                return [("byok", str(error))]
            vault = inputs.get("vaultName")
            if _known(vault) and kek.vault_name.lower() != str(vault).lower():
                problems.append(("byok", f"the blob was wrapped for a key of vault '{kek.vault_name}', not '{vault}'"))
            if _known(source.get("kek")) and kek.name.lower() != str(source["kek"]).lower():
                problems.append(("byok", f"the blob was wrapped for key '{kek.name}', not for kek '{source['kek']}'"))
    elif source.get("source") == MATERIAL:
        material = inputs.get("material")
        if _known(material):
            try:
                material_fingerprint(str(material), declared_shape(inputs.get("properties") or {}))
            except KeyMaterialError as error:
                problems.append(("material", str(error)))
    else:
        problems.append(("import", "import.source must be 'byok' or 'material'"))
    return problems


def _raise_problems(inputs: dict[str, Any]) -> None:
    problems = source_problems(inputs)
    if problems:
        label = f"key '{inputs.get('keyName')}' of vault '{inputs.get('vaultName')}'"
        raise ImportFailed(f"{label}: " + "; ".join(f"{prop}: {reason}" for prop, reason in problems))


def needs_import(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A new version is imported when the source changed, the key type changed, or (without a rotation
    policy) the vault's current version is no longer the key that was imported."""
    old_source, new_source = old.get("import") or {}, new.get("import") or {}
    if old_source.get("fingerprint") != new_source.get("fingerprint"):
        return True
    if (old.get("properties") or {}).get("kty") != (new.get("properties") or {}).get("kty"):
        return True
    rotates = bool((new.get("properties") or {}).get("rotationPolicy"))
    imported, live = old.get("importedThumbprint"), old.get("publicKeyThumbprint")
    return not rotates and imported is not None and live is not None and imported != live


def _settings(state: dict[str, Any]) -> tuple[Any, ...]:
    properties = state.get("properties") or {}
    attributes = properties.get("attributes") or {}
    return (
        sorted(properties.get("keyOps") or []),
        attributes.get("enabled", True),
        attributes.get("expires"),
        attributes.get("notBefore"),
        properties.get("rotationPolicy"),
        state.get("tags") or None,
    )


# -- the data plane ------------------------------------------------------------------------------------


@contextmanager
def key_client(inputs: dict[str, Any]) -> Iterator[KeyClient]:
    """A KeyClient for the key's vault as the deploying identity (DefaultAzureCredential)."""
    from azure.identity import DefaultAzureCredential

    url = str(inputs["vaultUri"]).rstrip("/")
    if localhost.is_localhost_name(urlsplit(url).hostname):
        localhost.install()
    with DefaultAzureCredential() as credential, KeyClient(url, credential) as client:
        yield client


def versionless_id(inputs: dict[str, Any]) -> str:
    return f"{str(inputs['vaultUri']).rstrip('/')}/keys/{inputs['keyName']}"


def thumbprint_of(key: KeyVaultKey) -> str | None:
    members = {name: getattr(key.key, name, None) for name in ("kty", "n", "e", "crv", "x", "y")}
    members["kty"] = str(getattr(key.key_type, "value", key.key_type))
    members["crv"] = str(getattr(key.key.crv, "value", key.key.crv)) if key.key.crv else None
    return jwk_thumbprint(members)


def expected_thumbprint(inputs: dict[str, Any]) -> str | None:
    """The public key thumbprint the vault's key must have, when the declaration fixes it."""
    source = inputs.get("import") or {}
    if source.get("publicKeyThumbprint"):
        return str(source["publicKeyThumbprint"])
    fingerprint = str(source.get("fingerprint") or "")
    return fingerprint.removeprefix("jwk-thumbprint:") if fingerprint.startswith("jwk-thumbprint:") else None


def existing_key(client: KeyClient, inputs: dict[str, Any]) -> tuple[KeyVaultKey | None, bool]:
    """(the key already under this name, whether it was soft-deleted and just recovered), or (None, False)."""
    name = str(inputs["keyName"])
    try:
        return client.get_key(name), False
    except ResourceNotFoundError:
        pass
    except HttpResponseError as error:
        raise ImportFailed(_describe("read", inputs, error)) from None
    try:
        client.get_deleted_key(name)
    except HttpResponseError:  # not deleted either (or no right to see it: the import then says why)
        return None, False
    try:
        client.begin_recover_deleted_key(name).wait()
        return client.get_key(name), True
    except HttpResponseError as error:
        raise ImportFailed(
            _describe("recover the soft-deleted key for", inputs, error)
            + "; give the deployer recover rights (access.deployer: lifecycle) or recover or purge it by hand"
        ) from None


def _taken_message(inputs: dict[str, Any]) -> str:
    return (
        f"vault '{inputs.get('vaultName')}' already holds a key named '{inputs['keyName']}' that is not provably the "
        "declared key (its public key differs, or nothing declares one: add import.publicKey to adopt it); "
        "rename the key in the spec, or delete and purge the existing one"
    )


def _attributes(inputs: dict[str, Any]) -> dict[str, Any]:
    attributes = (inputs.get("properties") or {}).get("attributes") or {}

    def moment(value: Any) -> datetime | None:
        return datetime.fromtimestamp(int(value), UTC) if value is not None else None

    return {
        "enabled": bool(attributes.get("enabled", True)),
        "expires_on": moment(attributes.get("expires")),
        "not_before": moment(attributes.get("notBefore")),
    }


def import_jwk(inputs: dict[str, Any]) -> JsonWebKey:
    """The JsonWebKey of the Import Key call: a BYOK blob in `key_hsm` (SDK field `t`), or private members."""
    properties = inputs.get("properties") or {}
    kty, ops = str(properties["kty"]), list(properties.get("keyOps") or [])
    if (inputs.get("import") or {}).get("source") == BYOK:
        curve = properties.get("curveName")
        return JsonWebKey(kty=kty, key_ops=ops, t=str(inputs["byok"]).encode(), **({"crv": curve} if curve else {}))
    members = private_jwk_members(load_private_key(str(inputs["material"])))
    fields = {name: b64url_decode(value, name) for name, value in members.items() if name not in ("kty", "crv")}
    extra = {"crv": members["crv"]} if "crv" in members else {}
    return JsonWebKey(kty=members["kty"], key_ops=ops, **fields, **extra)


def import_version(client: KeyClient, inputs: dict[str, Any]) -> KeyVaultKey:
    kty = str((inputs.get("properties") or {}).get("kty"))
    try:
        return client.import_key(
            str(inputs["keyName"]),
            import_jwk(inputs),
            hardware_protected=kty.endswith("-HSM"),
            exportable=False,
            tags=inputs.get("tags") or None,
            **_attributes(inputs),
        )
    except HttpResponseError as error:
        raise ImportFailed(_describe("import", inputs, error)) from None


def update_properties(client: KeyClient, inputs: dict[str, Any]) -> KeyVaultKey:
    ops = list((inputs.get("properties") or {}).get("keyOps") or [])
    try:
        return client.update_key_properties(
            str(inputs["keyName"]), key_operations=ops, tags=inputs.get("tags") or {}, **_attributes(inputs)
        )
    except HttpResponseError as error:
        raise ImportFailed(_describe("update", inputs, error)) from None


def rotation_policy(wire: dict[str, Any] | None) -> KeyRotationPolicy:
    """The data plane's policy for the wire form (azure-native's lowercase action types); none = no actions."""
    actions = []
    for entry in (wire or {}).get("lifetimeActions") or []:
        trigger = entry.get("trigger") or {}
        actions.append(
            KeyRotationLifetimeAction(
                str((entry.get("action") or {}).get("type", "")).capitalize(),
                time_after_create=trigger.get("timeAfterCreate"),
                time_before_expiry=trigger.get("timeBeforeExpiry"),
            )
        )
    expires_in = ((wire or {}).get("attributes") or {}).get("expiryTime")
    return KeyRotationPolicy(lifetime_actions=actions, expires_in=expires_in)


def apply_rotation(client: KeyClient, inputs: dict[str, Any]) -> None:
    wire = (inputs.get("properties") or {}).get("rotationPolicy")
    try:
        client.update_key_rotation_policy(str(inputs["keyName"]), rotation_policy(wire))
    except HttpResponseError as error:
        raise ImportFailed(_describe("set the rotation policy of", inputs, error)) from None


def live_properties(declared: dict[str, Any], key: KeyVaultKey) -> dict[str, Any]:
    """`properties` as the vault holds them now (what a refresh records)."""
    props = key.properties

    def epoch(moment: datetime | None) -> int | None:
        return int(moment.timestamp()) if moment else None

    attributes = {"enabled": bool(props.enabled), "exportable": bool(props.exportable)}
    for name, value in (("expires", epoch(props.expires_on)), ("notBefore", epoch(props.not_before))):
        if value is not None:
            attributes[name] = value
    return {
        **declared,
        "kty": str(getattr(key.key_type, "value", key.key_type)),
        "keyOps": [str(getattr(op, "value", op)) for op in key.key_operations or []],
        "attributes": attributes,
    }


def outputs(inputs: dict[str, Any], key: KeyVaultKey, *, imported: bool) -> dict[str, Any]:
    """The resource's outputs: the inputs minus the material and blob, plus what the vault answered."""
    outs = {name: value for name, value in inputs.items() if name not in NOT_ECHOED}
    live = thumbprint_of(key)
    outs.update(
        keyUri=versionless_id(inputs),
        keyUriWithVersion=key.id,
        version=key.properties.version,
        publicKeyThumbprint=live,
        importedThumbprint=live if imported else None,
    )
    return outs


def _describe(action: str, inputs: dict[str, Any], error: HttpResponseError) -> str:
    body = error.error
    code = getattr(body, "code", None) or error.reason or ""
    inner = getattr(body, "innererror", None)
    inner_code = inner.get("code") if isinstance(inner, dict) else None
    codes = "/".join(c for c in (code, inner_code) if c)
    message = str(getattr(body, "message", "") or "")[:300]
    return (
        f"could not {action} key '{inputs.get('keyName')}' of vault '{inputs.get('vaultName')}': "
        f"{error.status_code} {codes}: {message}".rstrip(": ")
    )
