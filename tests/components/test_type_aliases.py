"""KeyVault's children register without pulumi-azure-native's version aliases; other aliases survive."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_azure_native import keyvault

from vaultspec.components import KeyVault
from vaultspec.components.type_aliases import is_type_alias, without_type_aliases
from vaultspec.engine.render import render


def seen_aliases(program: Any) -> dict[str, list[Any]]:
    """Each resource's aliases as the last transformation sees them (stack transformations run last)."""
    seen: dict[str, list[Any]] = {}

    def spy(args: pulumi.ResourceTransformationArgs) -> None:
        seen[f"{args.type_}::{args.name}"] = list(args.opts.aliases or [])

    def run() -> None:
        pulumi.runtime.register_stack_transformation(spy)
        program()

    render(run, drop_type_aliases=False)
    return seen


def test_children_of_a_key_vault_carry_no_version_aliases_while_a_bare_key_does():
    def program() -> None:
        KeyVault(
            "alias-kv",
            {
                "resource_group_name": "rg",
                "location": "westeurope",
                "access": {"model": "rbac", "deployer": "lifecycle"},
                "keys": [{"name": "signing", "type": "EC-HSM", "curve": "P-256", "ops": ["sign", "verify"]}],
            },
        )
        keyvault.Key("bare", resource_group_name="rg", vault_name="kv", key_name="bare", properties={"kty": "RSA"})

    seen = seen_aliases(program)
    children = {name: aliases for name, aliases in seen.items() if name.startswith("azure-native:") and "kv/" in name}
    assert "azure-native:keyvault:Key::alias-kv/keys/signing" in children
    assert all(not aliases for aliases in children.values()), children
    assert len([a for a in seen["azure-native:keyvault:Key::bare"] if is_type_alias(a)]) >= 10


def test_aliases_that_name_a_parent_a_name_a_stack_or_a_project_are_kept():
    kept = [
        pulumi.Alias(name="old"),
        pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE),
        pulumi.Alias(stack="s"),
        pulumi.Alias(project="p"),
        "urn:pulumi:s::p::t::n",
    ]
    version_alias = pulumi.Alias(type_="azure-native:keyvault/v20230701:Key")
    opts = pulumi.ResourceOptions(aliases=[*kept, version_alias])
    result = without_type_aliases(pulumi.ResourceTransformationArgs(None, "t", "n", {}, opts))  # type: ignore[arg-type]
    assert result is not None
    assert result.opts.aliases == kept
    untouched = pulumi.ResourceTransformationArgs(None, "t", "n", {}, pulumi.ResourceOptions(aliases=kept))  # type: ignore[arg-type]
    assert without_type_aliases(untouched) is None
