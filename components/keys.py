"""Keys: `azure-native:keyvault:Key`, inside a `KeyVault` or standalone as `VaultKey`.

ARM's `PUT .../keys/{name}` is create-if-not-exist: it never updates an existing key (a changed
size, expiry or rotation policy would show as an update that does nothing, or fail with
KeyCreationParametersDidNotMatchExistingKey). So any change of `properties` or `tags` replaces
the key, deleting first because the name is fixed; keys are protected by default because a
replaced key's material is gone for good.
"""

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_azure_native import keyvault

from vaultspec.catalog.keys import EC_CURVES, EC_TYPES, KEK_OPS, KEK_TYPE, KEY_TYPES, RSA_SIZES, ops_for_type
from vaultspec.components.args import KeyArgs, RotationArgs, VaultKeyArgs
from vaultspec.components.hooks import HookTarget, ObjectHookFactory, bind_hooks
from vaultspec.components.validation import (
    ComponentArgsError,
    choice,
    epoch_seconds,
    merged_tags,
    require,
    waiver_tags,
)

VAULT_KEY_TYPE = "vaultspec:index:VaultKey"
DEFAULT_DNS_SUFFIX = "vault.azure.net"
DEFAULT_RSA_SIZE = 3072
DEFAULT_EC_CURVE = "P-256"
# Replacing is the only way to change a key through ARM (see the module docstring).
KEY_REPLACE_ON_CHANGES = ["properties", "tags"]


def key_properties(key: KeyArgs, where: str) -> dict[str, Any]:
    """`KeyPropertiesArgs` (snake_case, as the SDK takes them) for one key, validated."""
    kty = choice(require(key, "type", where), KEY_TYPES, f"{where}.type")
    properties: dict[str, Any] = {"kty": kty}
    if kty in EC_TYPES:
        if key.get("size") is not None:
            raise ComponentArgsError(f"{where}.size applies to RSA keys only; {kty} keys take a curve")
        properties["curve_name"] = choice(key.get("curve") or DEFAULT_EC_CURVE, EC_CURVES, f"{where}.curve")
    else:
        if key.get("curve") is not None:
            raise ComponentArgsError(f"{where}.curve applies to EC keys only; {kty} keys take a size")
        size = key.get("size") or DEFAULT_RSA_SIZE
        if size not in RSA_SIZES:
            raise ComponentArgsError(f"{where}.size: {size} is not one of: {', '.join(map(str, RSA_SIZES))}")
        properties["key_size"] = int(size)
    ops: Sequence[str] = require(key, "ops", where)
    if "import" in ops:
        if kty != KEK_TYPE or list(ops) != list(KEK_OPS):
            raise ComponentArgsError(
                f"{where}.ops: a key exchange key (ops [import]) must be {KEK_TYPE} with ops exactly [import]"
            )
        properties["key_ops"] = list(KEK_OPS)
    else:
        properties["key_ops"] = [choice(op, ops_for_type(kty), f"{where}.ops[{i}]") for i, op in enumerate(ops)]
    attributes: dict[str, Any] = {"enabled": bool(key.get("enabled", True)), "exportable": False}
    expires = epoch_seconds(key.get("expires"), f"{where}.expires")
    not_before = epoch_seconds(key.get("not_before"), f"{where}.not_before")
    if expires is not None:
        attributes["expires"] = expires
    if not_before is not None:
        attributes["not_before"] = not_before
    properties["attributes"] = attributes
    rotation = key.get("rotation")
    if rotation:
        properties["rotation_policy"] = rotation_policy(rotation)
    return properties


def rotation_policy(rotation: RotationArgs) -> dict[str, Any]:
    """`RotationPolicyArgs`: rotate/notify lifetime actions (azure-native's lowercase action types)."""
    actions: list[dict[str, Any]] = []
    if rotation.get("rotate_after_create"):
        actions.append(_action("rotate", time_after_create=rotation["rotate_after_create"]))
    if rotation.get("rotate_before_expiry"):
        actions.append(_action("rotate", time_before_expiry=rotation["rotate_before_expiry"]))
    if rotation.get("notify_before_expiry"):
        actions.append(_action("notify", time_before_expiry=rotation["notify_before_expiry"]))
    policy: dict[str, Any] = {"lifetime_actions": actions}
    if rotation.get("expiry_time"):
        policy["attributes"] = {"expiry_time": rotation["expiry_time"]}
    return policy


def _action(kind: str, **trigger: str) -> dict[str, Any]:
    return {"action": {"type": keyvault.KeyRotationPolicyActionType(kind)}, "trigger": trigger}


def create_key(
    key: KeyArgs,
    *,
    resource_name: str,
    vault_name: str,
    resource_group_name: str,
    tags: dict[str, str] | None,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
    protect: bool,
    hooks: pulumi.ResourceHookBinding | None,
    where: str,
) -> keyvault.Key:
    """One Key resource; `where` names the key's arguments in error messages."""
    properties = key_properties(key, where)
    return keyvault.Key(
        resource_name,
        key_name=key["name"],
        vault_name=vault_name,
        resource_group_name=resource_group_name,
        properties=properties,
        tags=tags,
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(depends_on),
            protect=protect,
            replace_on_changes=KEY_REPLACE_ON_CHANGES,
            delete_before_replace=True,
            hooks=hooks,
        ),
    )


class VaultKey(pulumi.ComponentResource):
    """A key in a vault made elsewhere (as Azure Verified Modules' key submodule); generated, or imported
    (`import_`) through the data plane as an `ImportedKey`."""

    key_id: pulumi.Output[str]
    """Versionless key identifier (https://<vault>.vault.azure.net/keys/<name>), what applications configure."""
    key_id_with_version: pulumi.Output[str]
    """Key identifier of the current version."""
    resource_id: pulumi.Output[str]
    """ARM id of the key."""

    def __init__(
        self,
        name: str,
        args: VaultKeyArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        hooks: ObjectHookFactory | None = None,
    ) -> None:
        super().__init__(VAULT_KEY_TYPE, name, None, opts)
        where = f"VaultKey '{name}'"
        vault_name = require(args, "vault_name", where)
        require(args, "name", where)
        target = HookTarget(component=name, vault_name=vault_name, kind="key", name=args["name"], declaration=args)
        options: dict[str, Any] = {
            "resource_name": name,
            "vault_name": vault_name,
            "resource_group_name": require(args, "resource_group_name", where),
            "tags": merged_tags(args.get("tags"), waiver_tags(args.get("exceptions"), f"{where}.exceptions")),
            "parent": self,
            "depends_on": (),
            "protect": bool(args.get("protect", True)),
            "hooks": bind_hooks(hooks, target),
            "where": where,
        }
        self.key: pulumi.CustomResource
        if args.get("import_") is not None:
            from vaultspec.components.imported_keys import create_imported_key  # it builds on this module

            vault_uri = args.get("vault_uri") or f"https://{vault_name.lower()}.{DEFAULT_DNS_SUFFIX}"
            self.key = create_imported_key(args, vault_uri=vault_uri, **options)
        else:
            self.key = create_key(args, **options)
        self.key_id = self.key.key_uri
        self.key_id_with_version = self.key.key_uri_with_version
        self.resource_id = self.key.id
        self.register_outputs(
            {"keyId": self.key_id, "keyIdWithVersion": self.key_id_with_version, "resourceId": self.resource_id}
        )
