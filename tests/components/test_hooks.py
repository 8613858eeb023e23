"""The hook seam: a factory per key and secret, called lazily, its bindings landing on Key/Secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi

from vaultspec.components import HookTarget, VaultKey
from vaultspec.components.hooks import bind_hooks
from vaultspec.engine.recording import Rendering
from vaultspec.engine.render import render, render_spec

from .conftest import KEY, SECRET

SPEC = """\
- name: alpha-kv
  access: {model: rbac}
  keys:
    - {name: k1, type: EC-HSM, ops: [sign, verify]}
  secrets:
    - {name: s1, value: {generate: {length: 16}}, contentType: text/plain}
"""


def test_no_factory_binds_nothing(render_vaults: Callable[..., Rendering]):
    rendering = render_vaults(SPEC)
    assert all(r.options.hooks == {} for r in rendering.resources)


def test_the_factory_is_asked_once_per_key_and_secret(write_spec: Callable[..., Path]):
    asked: list[HookTarget] = []

    def factory(target: HookTarget) -> None:
        asked.append(target)
        return None

    render_spec(write_spec(SPEC), hooks=factory)
    assert [(t.component, t.vault_name, t.kind, t.name, t.hook_name) for t in asked] == [
        ("alpha-kv", "alpha-kv", "key", "k1", "alpha-kv/keys/k1"),
        ("alpha-kv", "alpha-kv", "secret", "s1", "alpha-kv/secrets/s1"),
    ]
    assert asked[0].declaration["ops"] == ["sign", "verify"]
    assert asked[1].declaration["value"] == {"generate": {"length": 16, "special": True}}


def test_bindings_land_on_the_key_and_secret_and_never_fire_under_mocks(write_spec: Callable[..., Path]):
    fired: list[str] = []

    async def smoke(args: pulumi.ResourceHookArgs) -> None:
        fired.append(args.name)

    def factory(target: HookTarget) -> pulumi.ResourceHookBinding:
        hook = pulumi.ResourceHook(f"{target.hook_name}/smoke", smoke, pulumi.ResourceHookOptions(on_dry_run=False))
        return pulumi.ResourceHookBinding(after_create=[hook], after_update=[hook])

    rendering = render_spec(write_spec(SPEC), hooks=factory, preview=False)
    assert rendering.find(KEY, "alpha-kv/keys/k1").options.hooks == {
        "after_create": ["alpha-kv/keys/k1/smoke"],
        "after_update": ["alpha-kv/keys/k1/smoke"],
    }
    assert rendering.find(SECRET, "alpha-kv/secrets/s1").options.hooks["after_create"] == ["alpha-kv/secrets/s1/smoke"]
    assert fired == []


def test_standalone_key_takes_a_factory_too():
    asked: list[HookTarget] = []
    render(
        lambda: VaultKey(
            "cmk",
            {"vault_name": "shared-kv", "resource_group_name": "rg", "name": "cmk", "type": "RSA", "ops": ["wrapKey"]},
            hooks=lambda target: asked.append(target),
        )
    )
    assert [(t.component, t.vault_name, t.kind, t.name) for t in asked] == [("cmk", "shared-kv", "key", "cmk")]


def test_bind_hooks_without_a_factory_is_none():
    target = HookTarget(component="c", vault_name="v", kind="key", name="k")
    assert bind_hooks(None, target) is None
    assert bind_hooks(lambda t: "binding", target) == "binding"
