"""Imported keys: a key whose material comes from outside the vault, as a Pulumi resource of its own.

ARM cannot import keys, so an imported key is not an `azure-native:keyvault:Key` but an
`ImportedKey`: a Python dynamic resource (type `pulumi-python:dynamic/vaultspec:ImportedKey`) whose
provider (`import_provider.py`) imports through Key Vault's data plane with the deploying identity.
Why a dynamic provider: it ships with the component library and runs wherever the program runs (the
Pulumi CLI hosts it in `pulumi-resource-pulumi-python`, with the engine's environment), with no
separate plugin to build, version or install.

Its inputs mirror azure-native's Key in wire form (`vaultName`, `resourceGroupName`, `keyName`,
`properties.{kty, keySize | curveName, keyOps, attributes, rotationPolicy}`, `tags`), so the policy
pack judges imported keys with the same key rules (expiry, size, curve, rotation, HSM...), plus:

- `import`: `{source: byok | material, kek?, fingerprint, publicKeyThumbprint?}`: what the key is
  imported from, never the material; `fingerprint` is the blob's SHA-256 or the material's public key
  thumbprint, so a changed source imports a new version and nothing else does;
- `byok`: the `.byok` blob (JSON text; encrypted for the vault's KEK, not a secret);
- `material`: the private key (PEM or JWK), always a Pulumi secret: encrypted in state, `[secret]`
  in plans, never in outputs.

Sources: `byok` (+ `kek`, the key exchange key of the same vault, which the import depends on),
`from_config`, `from_env` or `value` (a secret from the program), as a secret's value sources.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi.dynamic
from pydantic.alias_generators import to_camel

from vaultspec.byok.material import KeyMaterialError, load_public_key, thumbprint
from vaultspec.catalog.keys import HSM_TYPES, IMPORTED_KEY_MODULE, IMPORTED_KEY_NAME
from vaultspec.components.args import KeyArgs, KeyImportArgs
from vaultspec.components.import_provider import (
    BYOK,
    MATERIAL,
    ImportedKeyProvider,
    blob_fingerprint,
    declared_shape,
    material_fingerprint,
)
from vaultspec.components.keys import key_properties
from vaultspec.components.secrets import config_secret, env_secret
from vaultspec.components.validation import ComponentArgsError

SOURCES = ("byok", "from_config", "from_env", "value")


class ImportedKey(pulumi.dynamic.Resource, module=IMPORTED_KEY_MODULE, name=IMPORTED_KEY_NAME):
    """One key imported through the data plane (see the module docstring)."""

    keyUri: pulumi.Output[str]  # dynamic resources expose their wire names
    keyUriWithVersion: pulumi.Output[str]
    version: pulumi.Output[str]
    publicKeyThumbprint: pulumi.Output[str]

    def __init__(self, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        outputs = {"keyUriWithVersion": None, "version": None, "publicKeyThumbprint": None, "importedThumbprint": None}
        super().__init__(ImportedKeyProvider(), name, {**props, **outputs}, opts)

    @property
    def key_uri(self) -> pulumi.Output[str]:
        """Versionless key identifier, what applications configure."""
        return self.keyUri

    @property
    def key_uri_with_version(self) -> pulumi.Output[str]:
        return self.keyUriWithVersion


def _camel(value: Any) -> Any:
    """`key_properties()` (the SDK's snake_case args) in azure-native's wire form, as the policy pack reads it."""
    if isinstance(value, dict):
        return {to_camel(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return getattr(value, "value", value)  # enums (rotation action types) as their wire strings


def import_source(key: KeyArgs, where: str) -> KeyImportArgs:
    source: KeyImportArgs = key.get("import_") or {}  # type: ignore[assignment]
    chosen = [name for name in SOURCES if source.get(name) is not None]
    if len(chosen) != 1:
        raise ComponentArgsError(f"{where}.import_: choose exactly one of byok, from_config, from_env or value")
    if chosen[0] == "byok":
        if key.get("type") not in HSM_TYPES:
            raise ComponentArgsError(
                f"{where}.import_.byok: a BYOK blob arrives as an HSM key: type must be RSA-HSM or EC-HSM"
            )
        if not source.get("kek"):
            raise ComponentArgsError(f"{where}.import_.kek is required with byok (the key exchange key's name)")
    elif source.get("kek") is not None:
        raise ComponentArgsError(f"{where}.import_.kek applies to byok imports only")
    return source


def _material(source: KeyImportArgs, label: str) -> pulumi.Output[str]:
    if source.get("from_config") is not None:
        return config_secret(str(source["from_config"]), label)
    if source.get("from_env") is not None:
        return env_secret(str(source["from_env"]), label)
    return pulumi.Output.secret(source["value"])


def _public_key_thumbprint(pem: str | None, where: str) -> str | None:
    if pem is None:
        return None
    try:
        return thumbprint(load_public_key(pem))
    except KeyMaterialError as error:
        raise ComponentArgsError(f"{where}.import_.public_key: {error}") from None


def _fingerprint(material: pulumi.Output[str], properties: dict[str, Any], label: str) -> pulumi.Output[str]:
    """The material's public key thumbprint, checked against the declared type; not secret (it reveals nothing)."""
    shape = declared_shape(properties)

    def fingerprint(text: str) -> str:
        try:
            return material_fingerprint(text, shape)
        except KeyMaterialError as error:
            raise ComponentArgsError(f"{label}: {error}") from None

    return pulumi.Output.unsecret(material.apply(fingerprint))


def create_imported_key(
    key: KeyArgs,
    *,
    resource_name: str,
    vault_name: str,
    resource_group_name: str,
    vault_uri: pulumi.Input[str],
    tags: dict[str, str] | None,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
    protect: bool,
    hooks: pulumi.ResourceHookBinding | None,
    where: str,
) -> ImportedKey:
    """One `ImportedKey`; `depends_on` must include the KEK of a BYOK import (it unwraps the blob)."""
    source = import_source(key, where)
    properties = key_properties(key, where)
    label = f"vault '{vault_name}': key '{key['name']}'"
    declared: dict[str, Any] = {"fingerprint": None}
    props: dict[str, Any] = {
        "vaultName": vault_name,
        "resourceGroupName": resource_group_name,
        "keyName": key["name"],
        "vaultUri": pulumi.Output.from_input(vault_uri).apply(lambda uri: str(uri).rstrip("/")),
        "properties": _camel(properties),
        "tags": tags,
    }
    props["keyUri"] = pulumi.Output.concat(props["vaultUri"], "/keys/", key["name"])
    if source.get("byok") is not None:
        blob = str(source["byok"])
        declared.update(source=BYOK, kek=source["kek"], fingerprint=blob_fingerprint(blob))
        props["byok"] = blob
    else:
        material = _material(source, label)
        declared.update(source=MATERIAL, fingerprint=_fingerprint(material, props["properties"], label))
        props["material"] = material
    thumb = _public_key_thumbprint(source.get("public_key"), where)
    if thumb is not None:
        declared["publicKeyThumbprint"] = thumb
    props["import"] = declared
    return ImportedKey(
        resource_name,
        props,
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(depends_on),
            protect=protect,
            hooks=hooks,
        ),
    )
