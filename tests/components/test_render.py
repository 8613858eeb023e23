"""The offline renderer: recording, secrets, backends, URNs, options and runtime isolation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as pulumi_settings

from vaultspec.components import ComponentArgsError, KeyVault, KeyVaultArgs
from vaultspec.engine.azure_mock import AzureIdentity, AzureMockBackend
from vaultspec.engine.recording import RenderedResource, Rendering
from vaultspec.engine.render import RenderError, render
from vaultspec.engine.values import UNKNOWN, Concealed, printable, reveal

from .conftest import KEY, KEY_VAULT, ROLE, VAULT

SMALL = """\
- name: alpha-kv
  access:
    model: rbac
    grants:
      - {principal: 6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f, principalType: ServicePrincipal, role: Key Vault Reader}
  keys:
    - {name: k1, type: EC-HSM, ops: [sign, verify]}
"""


def comparable(rendering: Rendering) -> list[tuple[Any, ...]]:
    return [
        (r.urn, r.type, r.parent, r.printable_inputs(), sorted(r.dependencies), r.options.model_dump())
        for r in rendering.resources
        if r.type != "random:index/randomPassword:RandomPassword"
    ]


def test_two_renders_in_one_process_give_the_same_graph(dev_rendering: Rendering):
    again = render_dev()
    assert comparable(again) == comparable(dev_rendering)
    names = {r.name: r.inputs["roleAssignmentName"] for r in again.of_type(ROLE)}
    assert names == {r.name: r.inputs["roleAssignmentName"] for r in dev_rendering.of_type(ROLE)}


def render_dev() -> Rendering:
    from vaultspec.engine.render import render_spec

    from .conftest import STACKS

    return render_spec(STACKS / "dev.yaml")


def test_render_leaves_the_callers_runtime_state_alone(render_vaults: Callable[..., Rendering]):
    root_before = pulumi_settings.ROOT.get()
    render_vaults(SMALL)
    assert pulumi_settings.ROOT.get() is root_before
    assert not any(t.name.startswith("vaultspec-render") for t in threading.enumerate())


def test_render_works_from_inside_a_running_event_loop(render_vaults: Callable[..., Rendering]):
    async def caller() -> Rendering:
        return render_vaults(SMALL)

    rendering = asyncio.run(caller())
    assert rendering.find(VAULT, "alpha-kv")


def test_urns_are_shaped_like_the_real_engines(render_vaults: Callable[..., Rendering]):
    rendering = render_vaults(SMALL)
    component = rendering.find(KEY_VAULT, "alpha-kv")
    vault = rendering.find(VAULT, "alpha-kv")
    assert component.urn == "urn:pulumi:dev::vaultspec::vaultspec:index:KeyVault::alpha-kv"
    assert vault.urn == "urn:pulumi:dev::vaultspec::vaultspec:index:KeyVault$azure-native:keyvault:Vault::alpha-kv"
    assert component.parent == rendering.stack_urn == "urn:pulumi:dev::vaultspec::pulumi:pulumi:Stack::vaultspec-dev"
    assert vault.parent == component.urn


def test_options_and_dependencies_are_recorded(render_vaults: Callable[..., Rendering]):
    rendering = render_vaults(SMALL, stack="prod")
    key = rendering.find(KEY, "alpha-kv/keys/k1")
    vault = rendering.find(VAULT, "alpha-kv")
    assert key.options.protect is True
    assert key.options.replace_on_changes == ["properties", "tags"]
    assert key.options.delete_before_replace is True
    assert vault.urn in key.dependencies
    grant = rendering.find(ROLE, "alpha-kv/roles/key-vault-reader@vault/6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f")
    assert grant.property_dependencies == {"scope": [vault.urn]}


def test_type_aliases_change_nothing_that_is_rendered(render_vaults: Callable[..., Rendering]):
    fast = render_vaults(SMALL)
    faithful = render_vaults(SMALL, drop_type_aliases=False)
    assert comparable(fast) == comparable(faithful)


class RecordingBackend(AzureMockBackend):
    """The default answers, plus a log of what was asked (thread-safe: appends only)."""

    def __init__(self) -> None:
        super().__init__(AzureIdentity(tenant_id="aaaaaaaa-0000-0000-0000-000000000001"))
        self.created: list[str] = []
        self.calls: list[str] = []

    def create(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        self.created.append(resource.type)
        return super().create(resource)

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(token)
        return super().call(token, args)


def test_backends_are_pluggable(render_vaults: Callable[..., Rendering]):
    backend = RecordingBackend()
    rendering = render_vaults(SMALL, backend=backend, preview=False)
    assert sorted(backend.created) == sorted(r.type for r in rendering.resources if r.custom)
    # the deploying identity: its ids, and (an RBAC vault) its token, read for its principal type
    assert sorted(backend.calls) == [
        "azure-native:authorization:getClientConfig",
        "azure-native:authorization:getClientToken",
    ]
    assert rendering.find(VAULT, "alpha-kv").inputs["properties"]["tenantId"] == "aaaaaaaa-0000-0000-0000-000000000001"
    assert rendering.find(KEY, "alpha-kv/keys/k1").outputs["keyUri"] == "https://alpha-kv.vault.azure.net/keys/k1"


def test_an_unknown_function_call_fails_the_render_with_its_name():
    def program() -> None:
        pulumi.runtime.invoke("azure-native:keyvault:getVault", {"vaultName": "x"})

    with pytest.raises(RenderError, match="azure-native:keyvault:getVault"):
        render(program)


def test_component_argument_errors_surface_as_render_errors():
    def program() -> None:
        KeyVault("bad", KeyVaultArgs(resource_group_name="rg", location="westeurope", access={"model": "abac"}))

    with pytest.raises(RenderError) as raised:
        render(program)
    assert str(raised.value) == "KeyVault 'bad'.access.model: 'abac' is not one of: rbac, accessPolicies"
    assert isinstance(raised.value.__cause__, ComponentArgsError)


def test_program_log_messages_are_kept_not_printed(capsys):
    rendering = render(lambda: pulumi.log.warn("heads up"))
    assert rendering.warnings == ["heads up"]
    assert "heads up" not in capsys.readouterr().err


def test_concealed_values_print_as_markers_and_reveal_on_request():
    value = {"a": Concealed("s3cr3t-canary"), "b": [Concealed({"c": 1}), UNKNOWN], "d": 2}
    assert printable(value) == {"a": "[secret]", "b": ["[secret]", "[unknown]"], "d": 2}
    assert reveal(value) == {"a": "s3cr3t-canary", "b": [{"c": 1}, None], "d": 2}
    assert str(value["a"]) == repr(value["a"]) == "[secret]"
    assert "s3cr3t" not in repr(value) and "s3cr3t" not in f"{value}"
