"""The Pulumi hook binding: hooks are built lazily with unique names, and their functions, called directly
with `ResourceHookArgs` (hooks never fire under mocks), smoke one key or secret and raise on failure."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from tests.smoke.conftest import RG, SmokedVault
from vaultspec.smoke import SmokeOptions
from vaultspec.smoke.hooks import SmokeHookFactory, SmokeHookFailed, SmokeHooks
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import async_credential


def factory(twin: TwinInfo, smoked: SmokedVault, **kwargs: Any) -> SmokeHooks:
    options = SmokeOptions(connection_verify=twin.ca_bundle, rbac_wait=0, environ={})
    return SmokeHooks(smoked.spec, name="main", options=options, credential=lambda: async_credential(twin), **kwargs)


def arm_id(twin: TwinInfo, vault: str, kind: str, name: str) -> str:
    vaults = "Microsoft.KeyVault/vaults"
    return f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/{vaults}/{vault}/{kind}/{name}"


def key_args(twin: TwinInfo, vault: str, name: str) -> pulumi.ResourceHookArgs:
    uri = f"{twin.vault_url(vault)}/keys/{name}"
    return pulumi.ResourceHookArgs(
        urn=f"urn:pulumi:dev::vaultspec::vaultspec:index:KeyVault$azure-native:keyvault:Key::{name}",
        id=arm_id(twin, vault, "keys", name),
        name=name,
        type="azure-native:keyvault:Key",
        new_outputs={"keyUri": uri, "keyUriWithVersion": f"{uri}/0123", "kty": "RSA", "keySize": 2048.0},
    )


def secret_args(twin: TwinInfo, vault: str, name: str, properties: Any) -> pulumi.ResourceHookArgs:
    return pulumi.ResourceHookArgs(
        urn=f"urn:pulumi:dev::vaultspec::vaultspec:index:KeyVault$azure-native:keyvault:Secret::{name}",
        id=arm_id(twin, vault, "secrets", name),
        name=name,
        type="azure-native:keyvault:Secret",
        new_outputs={"id": arm_id(twin, vault, "secrets", name), "name": name, "properties": properties},
    )


def test_key_hook_passes_for_a_key_that_matches_its_spec(twin: TwinInfo, healthy: SmokedVault) -> None:
    hook = factory(twin, healthy).function("keys", "rsa-hsm-sign")
    assert asyncio.run(hook(key_args(twin, healthy.name, "rsa-hsm-sign"))) is None


def test_key_hook_raises_naming_the_failed_checks(twin: TwinInfo, sabotaged: SmokedVault) -> None:
    hook = factory(twin, sabotaged).function("keys", "wrong-type")
    with pytest.raises(SmokeHookFailed) as failure:
        asyncio.run(hook(key_args(twin, sabotaged.name, "wrong-type")))
    assert "smoke of keys/wrong-type" in str(failure.value)
    assert "type: declared EC but the vault reports kty RSA" in str(failure.value)


def test_secret_hook_reads_the_secret_uri_from_a_secret_properties_output(twin: TwinInfo, healthy: SmokedVault) -> None:
    hook = factory(twin, healthy).function("secrets", "from-config")
    uri = f"{twin.vault_url(healthy.name)}/secrets/from-config"

    async def call() -> None:
        # the engine hands `properties` over as a secret Output because it holds the (secret) value input
        properties = pulumi.Output.secret({"secretUri": uri, "secretUriWithVersion": f"{uri}/0123"})
        await hook(secret_args(twin, healthy.name, "from-config", properties))

    asyncio.run(call())


def test_secret_hook_falls_back_to_the_arm_id_and_dns_suffix(twin: TwinInfo, healthy: SmokedVault) -> None:
    hook = factory(twin, healthy, dns_suffix=f"vault.localhost:{twin.port}").function("secrets", "generated")
    assert asyncio.run(hook(secret_args(twin, healthy.name, "generated", None))) is None


def test_secret_hook_uses_the_vault_url_given_to_the_factory(twin: TwinInfo, healthy: SmokedVault) -> None:
    hook = factory(twin, healthy, vault_url=twin.vault_url(healthy.name)).function("secrets", "generated")
    args = pulumi.ResourceHookArgs(
        urn="u", id="", name="generated", type="azure-native:keyvault:Secret", new_outputs={}
    )
    assert asyncio.run(hook(args)) is None


def test_secret_hook_raises_for_a_missing_secret(twin: TwinInfo, sabotaged: SmokedVault) -> None:
    hook = factory(twin, sabotaged, dns_suffix=f"vault.localhost:{twin.port}").function("secrets", "missing")
    with pytest.raises(SmokeHookFailed, match="exists: not found in the vault"):
        asyncio.run(hook(secret_args(twin, sabotaged.name, "missing", {})))


def test_hook_without_any_vault_identifier_says_what_it_needs(twin: TwinInfo, healthy: SmokedVault) -> None:
    hook = factory(twin, healthy).function("keys", "rsa-all")
    args = pulumi.ResourceHookArgs(urn="u", id="", name="rsa-all", type="azure-native:keyvault:Key", new_outputs={})
    with pytest.raises(SmokeHookFailed, match="cannot tell the vault URL"):
        asyncio.run(hook(args))


class RecordedHook:
    """Stands in for pulumi.ResourceHook to observe when hooks are constructed (and so registered)."""

    made: list[RecordedHook] = []

    def __init__(self, name: str, func: Any, opts: pulumi.ResourceHookOptions | None = None) -> None:
        self.name, self.callback, self.opts = name, func, opts
        RecordedHook.made.append(self)


def test_hooks_are_built_lazily_once_per_object_with_unique_names(
    healthy: SmokedVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    RecordedHook.made = []
    monkeypatch.setattr(pulumi, "ResourceHook", RecordedHook)
    hooks = SmokeHooks(healthy.spec, name="payments")
    assert RecordedHook.made == []  # constructing the factory registers nothing
    binding = hooks.for_key("rsa-all")
    assert hooks.for_key("rsa-all").after_create[0] is binding.after_create[0]
    hooks.for_secret("canary")
    assert [h.name for h in RecordedHook.made] == [
        "vaultspec-smoke-payments-keys-rsa-all",
        "vaultspec-smoke-payments-secrets-canary",
    ]
    assert binding.after_create == binding.after_update == [RecordedHook.made[0]]
    assert binding.before_create is None and binding.after_delete is None
    assert RecordedHook.made[0].opts.on_dry_run is False
    with pytest.raises(ValueError, match="declares no key named 'nope'"):
        hooks.for_key("nope")


def test_hooks_register_under_pulumi_mocks(healthy: SmokedVault) -> None:
    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
            return f"{args.name}_id", args.inputs

        def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
            return {}

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(Mocks(), preview=False)
        binding = SmokeHooks(healthy.spec, name="mocked").for_secret("canary")
        hook = binding.after_create[0]
        loop.run_until_complete(hook._registered)  # the mock monitor accepted the registration
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert isinstance(hook, pulumi.ResourceHook) and hook.name == "vaultspec-smoke-mocked-secrets-canary"


def test_importing_the_hook_module_creates_no_hook() -> None:
    program = (
        "import pulumi\n"
        "made = []\n"
        "pulumi.ResourceHook = lambda *args, **kwargs: made.append(args)\n"
        "import vaultspec.smoke.hooks, vaultspec.smoke\n"
        "print(len(made))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"


@dataclass(frozen=True)
class Target:
    """The fields of `vaultspec.components.hooks.HookTarget` (the components branch's seam), which the
    factory reads by name."""

    component: str
    vault_name: str
    kind: str
    name: str
    declaration: dict[str, Any] = field(default_factory=dict)


RSA_ALL_ARGS = {  # `KeyArgs` as the components' from_spec writes them (snake_case)
    "name": "rsa-all",
    "type": "RSA",
    "size": 2048,
    "ops": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
    "enabled": True,
    "expires": "2028-06-01T00:00:00+00:00",
    "rotation": {"rotate_after_create": "P90D", "notify_before_expiry": "P30D", "expiry_time": "P1Y"},
}


def test_component_seam_binds_one_named_hook_per_key_and_secret(
    healthy: SmokedVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    RecordedHook.made = []
    monkeypatch.setattr(pulumi, "ResourceHook", RecordedHook)
    factory = SmokeHookFactory()
    key = Target("payments", healthy.name, "key", "rsa-all", RSA_ALL_ARGS)
    secret = Target("payments", healthy.name, "secret", "s", {"name": "s", "value": {"value": "from-the-program"}})
    binding = factory(key)
    assert factory(key).after_create == binding.after_create == binding.after_update
    factory(secret)
    assert [h.name for h in RecordedHook.made] == [
        "vaultspec-smoke-payments-keys-rsa-all",
        "vaultspec-smoke-payments-secrets-s",
    ]


def test_component_seam_smokes_a_key_from_its_declaration(twin: TwinInfo, healthy: SmokedVault) -> None:
    options = SmokeOptions(connection_verify=twin.ca_bundle, rbac_wait=0)
    factory = SmokeHookFactory(options=options, credential=lambda: async_credential(twin))
    hooks = factory.hooks_for(Target("payments", healthy.name, "key", "rsa-all", RSA_ALL_ARGS), "keys")
    assert hooks is not None
    assert asyncio.run(hooks.function("keys", "rsa-all")(key_args(twin, healthy.name, "rsa-all"))) is None


def test_component_seam_prefers_the_spec_declaration(twin: TwinInfo, sabotaged: SmokedVault) -> None:
    factory = SmokeHookFactory([sabotaged.spec], options=SmokeOptions(connection_verify=twin.ca_bundle, rbac_wait=0))
    wrong = {"name": "wrong-type", "type": "RSA", "size": 2048, "ops": ["sign", "verify"]}  # what the vault has
    hooks = factory.hooks_for(Target("c", sabotaged.name, "key", "wrong-type", wrong), "keys")
    assert hooks is not None and hooks.vault is sabotaged.spec  # the spec says EC: smoke will fail `type`


def test_component_seam_skips_objects_the_spec_cannot_express(healthy: SmokedVault) -> None:
    odd = Target("c", healthy.name, "key", "aes", {"name": "aes", "type": "oct-HSM", "ops": ["encrypt"]})
    assert SmokeHookFactory()(odd) is None
