"""Secrets: `azure-native:keyvault:Secret`, inside a `KeyVault` or standalone as `VaultSecret`.

The value is always a Pulumi secret (azure-native does not mark `properties.value` secret by
itself), from one source:

- `from_config`: a Pulumi config secret (`key` in the project namespace, or `namespace:key`);
- `from_env`: the deploying process's environment, read when the program runs;
- `generate`: `pulumi_random.RandomPassword`, generated once and kept (encrypted) in state;
- `value`: an `Input[str]` from the program itself (plain Python and other languages).

A missing config or environment value is an error naming the vault, the secret and the source,
never a value. On a dry run (preview, `vaultspec plan`) it is a warning instead and the value
is unknown, so a plan works without the real secrets at hand.
"""

import os
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_random
from pulumi.output import UNKNOWN
from pulumi_azure_native import keyvault

from vaultspec.components.args import SecretArgs, SecretValueArgs, VaultSecretArgs
from vaultspec.components.hooks import HookTarget, ObjectHookFactory, bind_hooks
from vaultspec.components.validation import (
    ComponentArgsError,
    epoch_seconds,
    merged_tags,
    require,
    waiver_tags,
)

VAULT_SECRET_TYPE = "vaultspec:index:VaultSecret"
DEFAULT_GENERATED_LENGTH = 32
SOURCES = ("from_config", "from_env", "generate", "value")
UNKNOWN_IN_PREVIEW = "; its value is unknown in this preview"  # `vaultspec up` stops on these before applying


class SecretSourceError(pulumi.RunError):
    """A secret's source has no value on a real run; names the vault, secret and source only."""


def unknown_secret() -> pulumi.Output[str]:
    """A secret whose value is not known in this run (what a preview shows as computed)."""
    return pulumi.Output.secret(pulumi.Output.from_input(UNKNOWN))


def secret_value(
    source: SecretValueArgs,
    *,
    vault_name: str,
    secret_name: str,
    resource_name: str,
    parent: pulumi.Resource,
    where: str,
) -> pulumi.Output[str]:
    """The secret's value as a Pulumi secret, from exactly one source."""
    chosen = [name for name in SOURCES if source.get(name) is not None]
    if len(chosen) != 1:
        raise ComponentArgsError(f"{where}: choose exactly one of from_config, from_env, generate or value")
    label = f"vault '{vault_name}': secret '{secret_name}'"
    if source.get("from_config") is not None:
        return config_secret(str(source["from_config"]), label)
    if source.get("from_env") is not None:
        return env_secret(str(source["from_env"]), label)
    generate = source.get("generate")
    if generate is not None:
        password = pulumi_random.RandomPassword(
            resource_name,
            length=int(generate.get("length") or DEFAULT_GENERATED_LENGTH),
            special=bool(generate.get("special", True)),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return pulumi.Output.secret(password.result)
    return pulumi.Output.secret(source["value"])


def config_secret(key: str, label: str) -> pulumi.Output[str]:
    """A Pulumi config secret (`key` or `namespace:key`); missing: a warning and unknown at preview, else an error."""
    namespace, _, name = key.rpartition(":")
    config = pulumi.Config(namespace or None)
    value = config.get_secret(name)
    if value is not None:
        return value
    full_key = config.full_key(name)
    message = f"{label} reads config '{full_key}', which is not set (pulumi config set --secret {key} ...)"
    if pulumi.runtime.is_dry_run():
        pulumi.log.warn(f"{message}{UNKNOWN_IN_PREVIEW}")
        return unknown_secret()
    raise SecretSourceError(message)


def env_secret(variable: str, label: str) -> pulumi.Output[str]:
    """An environment variable as a Pulumi secret; missing: a warning and unknown at preview, else an error."""
    value = os.environ.get(variable)
    if value is not None:
        return pulumi.Output.secret(value)
    message = f"{label} reads environment variable {variable}, which is not set"
    if pulumi.runtime.is_dry_run():
        pulumi.log.warn(f"{message}{UNKNOWN_IN_PREVIEW}")
        return unknown_secret()
    raise SecretSourceError(message)


def secret_properties(secret: SecretArgs, value: pulumi.Input[str], where: str) -> dict[str, Any]:
    """`SecretPropertiesArgs` (snake_case) for one secret."""
    attributes: dict[str, Any] = {"enabled": bool(secret.get("enabled", True))}
    expires = epoch_seconds(secret.get("expires"), f"{where}.expires")
    not_before = epoch_seconds(secret.get("not_before"), f"{where}.not_before")
    if expires is not None:
        attributes["expires"] = expires
    if not_before is not None:
        attributes["not_before"] = not_before
    properties: dict[str, Any] = {"value": value, "attributes": attributes}
    if secret.get("content_type") is not None:
        properties["content_type"] = secret["content_type"]
    return properties


def create_secret(
    secret: SecretArgs,
    *,
    resource_name: str,
    vault_name: str,
    resource_group_name: str,
    tags: dict[str, str] | None,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
    hooks: pulumi.ResourceHookBinding | None,
    where: str,
) -> keyvault.Secret:
    """One Secret resource (and its RandomPassword when generated)."""
    name = require(secret, "name", where)
    value = secret_value(
        require(secret, "value", where),
        vault_name=vault_name,
        secret_name=name,
        resource_name=resource_name,
        parent=parent,
        where=f"{where}.value",
    )
    return keyvault.Secret(
        resource_name,
        secret_name=name,
        vault_name=vault_name,
        resource_group_name=resource_group_name,
        properties=secret_properties(secret, value, where),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on), hooks=hooks),
    )


def secret_uri(secret: keyvault.Secret, *, versioned: bool = False) -> pulumi.Output[str]:
    """The secret's identifier, not secret itself.

    Inputs that are secrets make same-named outputs secret, so `properties` (which holds the
    value on the way in) comes back secret as a whole; the URI in it is not sensitive, and stack
    outputs and hooks must be able to read it.
    """

    def pick(properties: Any) -> str | None:
        if not properties:
            return None
        return properties.secret_uri_with_version if versioned else properties.secret_uri

    return pulumi.Output.unsecret(secret.properties.apply(pick))


class VaultSecret(pulumi.ComponentResource):
    """A secret in a vault made elsewhere (as Azure Verified Modules' secret submodule)."""

    secret_id: pulumi.Output[str]
    """Versionless secret identifier (https://<vault>.vault.azure.net/secrets/<name>)."""
    secret_id_with_version: pulumi.Output[str]
    """Secret identifier of the current version."""
    resource_id: pulumi.Output[str]
    """ARM id of the secret."""

    def __init__(
        self,
        name: str,
        args: VaultSecretArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        hooks: ObjectHookFactory | None = None,
    ) -> None:
        super().__init__(VAULT_SECRET_TYPE, name, None, opts)
        where = f"VaultSecret '{name}'"
        vault_name = require(args, "vault_name", where)
        target = HookTarget(
            component=name, vault_name=vault_name, kind="secret", name=require(args, "name", where), declaration=args
        )
        self.secret = create_secret(
            args,
            resource_name=name,
            vault_name=vault_name,
            resource_group_name=require(args, "resource_group_name", where),
            tags=merged_tags(args.get("tags"), waiver_tags(args.get("exceptions"), f"{where}.exceptions")),
            parent=self,
            depends_on=(),
            hooks=bind_hooks(hooks, target),
            where=where,
        )
        self.secret_id = secret_uri(self.secret)
        self.secret_id_with_version = secret_uri(self.secret, versioned=True)
        self.resource_id = self.secret.id
        self.register_outputs(
            {
                "secretId": self.secret_id,
                "secretIdWithVersion": self.secret_id_with_version,
                "resourceId": self.resource_id,
            }
        )
