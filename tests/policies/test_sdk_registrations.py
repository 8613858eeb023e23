"""Resources registered through the real pulumi-azure-native 3.29 SDK (under Pulumi mocks) are judged
as the rules expect: wire names, SDK-filled defaults, enum strings, property dependencies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pytest
from google.protobuf import json_format
from pulumi.runtime import mocks

from vaultspec.engine.analyzer import RenderedResource, analyze

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"
CANARY = "canary-sdk-secret-0042"


def _redact(value: Any) -> Any:
    """Secret values as the plan prints them ("[secret]")."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return "[secret]"
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


class RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, also keeping each registration the way the engine would see it."""

    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self.registered: list[RenderedResource] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(
                RenderedResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent or None,
                    inputs=_redact(json_format.MessageToDict(request.object)),
                    dependencies=list(request.dependencies),
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                )
            )
        return response


class EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == "azure-native:keyvault:Vault":
            state["name"] = args.inputs.get("vaultName")
        return f"/subscriptions/s/resourceGroups/rg/providers/x/{args.name}", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@pytest.fixture
def monitor() -> Iterator[RecordingMonitor]:
    # set_mocks runs on the thread's current loop; an earlier test's asyncio.run() leaves none behind.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mock = EchoMocks()
    recording = RecordingMonitor(mock)
    pulumi.runtime.set_mocks(mock, project="vaultspec", stack="prod", preview=False, monitor=recording)
    yield recording
    asyncio.set_event_loop(None)
    loop.close()


def _program(sku: str, key_size: int) -> None:
    kv = azure_native.keyvault
    vault = kv.Vault(
        "payments",
        vault_name="payments-kv",
        resource_group_name="rg-payments",
        tags={"waiver:kv-diagnostics": "audit logs shipped by the platform team"},
        properties=kv.VaultPropertiesArgs(
            tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
            sku=kv.SkuArgs(family=kv.SkuFamily.A, name=sku),
            enable_purge_protection=True,
            enable_rbac_authorization=True,
            public_network_access="Disabled",
            network_acls=kv.NetworkRuleSetArgs(default_action="Deny", bypass="None"),
        ),
    )
    kv.Key(
        "signing",
        vault_name=vault.name,
        resource_group_name="rg-payments",
        key_name="signing",
        properties=kv.KeyPropertiesArgs(
            kty=kv.JsonWebKeyType.RS_A_HSM,
            key_size=key_size,
            attributes=kv.KeyAttributesArgs(expires=int(time.time()) + 100 * 86_400),
            rotation_policy=kv.RotationPolicyArgs(
                lifetime_actions=[
                    kv.LifetimeActionArgs(
                        action=kv.ActionArgs(type=kv.KeyRotationPolicyActionType.ROTATE),
                        trigger=kv.TriggerArgs(time_after_create="P90D"),
                    )
                ]
            ),
        ),
    )
    kv.Secret(
        "db",
        vault_name=vault.name,
        resource_group_name="rg-payments",
        secret_name="db",
        properties=kv.SecretPropertiesArgs(
            value=pulumi.Output.secret(CANARY),
            content_type="text/plain",
            attributes=kv.SecretAttributesArgs(expires=int(time.time()) + 30 * 86_400),
        ),
    )


@pulumi.runtime.test
def _register(sku: str, key_size: int):
    _program(sku, key_size)


def test_sdk_registered_premium_stack_passes_with_its_waiver(monitor):
    _register("premium", 3072)
    verdicts = analyze(monitor.registered)
    assert [(v.policy, v.waived) for v in verdicts] == [("kv-diagnostics", True)]


def test_sdk_registered_unsafe_stack_is_caught_and_the_secret_never_leaks(monitor):
    _register("standard", 2048)
    vault = next(r for r in monitor.registered if r.type == "azure-native:keyvault:Vault")
    assert vault.inputs["properties"]["enableSoftDelete"] is True  # filled in by the SDK
    key = next(r for r in monitor.registered if r.type == "azure-native:keyvault:Key")
    assert key.property_dependencies["vaultName"] == [vault.urn]
    verdicts = analyze(monitor.registered)
    assert {(v.policy, v.level) for v in verdicts if not v.waived} == {
        ("kv-key-rsa-min-size", "mandatory"),
        ("kv-hsm-requires-premium", "mandatory"),
    }
    assert CANARY not in "".join(v.model_dump_json() for v in verdicts)
    assert CANARY not in repr([r.inputs for r in monitor.registered])
