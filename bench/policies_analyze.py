"""Run the policy pack offline on ~1,300 resources; print the ratio to registering them under mocks.

    .venv/bin/python bench/policies_analyze.py [--vaults 100] [--repeat 5]

Each vault brings 13 resources (component, vault, 5 keys, 3 secrets, 2 role assignments, a
diagnostic setting), registered through the real pulumi-azure-native SDK under Pulumi's mocks, the
way `vaultspec plan` renders. The registrations are recorded as the engine would see them (inputs,
parent, dependencies, property dependencies) and judged by `vaultspec.engine.analyzer.analyze`,
i.e. pulumi-policy's analyzer servicer with real Analyze/AnalyzeStack requests. Both are measured in
this run; the analyzer's one-time start (importing the pack and SDK classes) is reported apart.

The analysis runs both ways, alternating, best of `--repeat` (CPU seconds; wall in brackets): routed
(the default: each resource is shown only the resource policies that can judge its type) and in the
engine's plain order (`route_by_type=False`: every resource policy on every resource); the two must
give identical verdicts, which the script checks.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
from google.protobuf import json_format
from pulumi.runtime import mocks

from vaultspec.engine.analyzer import RenderedResource, policy_host

SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
APP = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
CRYPTO_USER = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424"


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return "[secret]" if value.get(SIG_KEY) == SECRET_SIG else {k: _redact(v) for k, v in value.items()}
    return [_redact(item) for item in value] if isinstance(value, list) else value


class Recording(mocks.MockMonitor):
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


class Echo(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == "azure-native:keyvault:Vault":
            state["name"] = args.inputs.get("vaultName")
        return f"/subscriptions/s/resourceGroups/rg/providers/bench/{args.name}", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class Bundle(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("bench:index:KeyVault", name, {}, None)
        kv, child = azure_native.keyvault, pulumi.ResourceOptions(parent=self)
        expires = int(time.time()) + 200 * 86_400
        vault = kv.Vault(
            f"{name}-vault",
            vault_name=f"{name}-kv",
            resource_group_name="rg",
            properties=kv.VaultPropertiesArgs(
                tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
                sku=kv.SkuArgs(family="A", name="premium"),
                enable_purge_protection=True,
                enable_rbac_authorization=True,
                public_network_access="Disabled",
                network_acls=kv.NetworkRuleSetArgs(default_action="Deny", bypass="None"),
            ),
            opts=child,
        )
        for index in range(5):
            kv.Key(
                f"{name}-key{index}",
                vault_name=vault.name,
                resource_group_name="rg",
                key_name=f"key{index}",
                properties=kv.KeyPropertiesArgs(
                    kty="RSA-HSM",
                    key_size=3072,
                    attributes=kv.KeyAttributesArgs(expires=expires),
                    rotation_policy=kv.RotationPolicyArgs(
                        lifetime_actions=[
                            kv.LifetimeActionArgs(
                                action=kv.ActionArgs(type="rotate"), trigger=kv.TriggerArgs(time_after_create="P90D")
                            )
                        ]
                    ),
                ),
                opts=child,
            )
        for index in range(3):
            kv.Secret(
                f"{name}-secret{index}",
                vault_name=vault.name,
                resource_group_name="rg",
                secret_name=f"secret{index}",
                properties=kv.SecretPropertiesArgs(
                    value=pulumi.Output.secret("bench"),
                    content_type="text/plain",
                    attributes=kv.SecretAttributesArgs(expires=expires),
                ),
                opts=child,
            )
        for index in range(2):
            azure_native.authorization.RoleAssignment(
                f"{name}-grant{index}",
                principal_id=APP,
                principal_type="ServicePrincipal",
                role_definition_id=CRYPTO_USER,
                scope=vault.id,
                opts=child,
            )
        azure_native.monitor.DiagnosticSetting(
            f"{name}-audit",
            resource_uri=vault.id,
            workspace_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w",
            logs=[azure_native.monitor.DiagnosticsLogSettingsArgs(category_group="audit", enabled=True)],
            opts=child,
        )
        self.register_outputs({})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vaults", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    mock = Echo()
    monitor = Recording(mock)
    pulumi.runtime.set_mocks(mock, project="bench", stack="bench", preview=False, monitor=monitor)

    @pulumi.runtime.test
    def register():
        for index in range(args.vaults):
            Bundle(f"v{index:04d}")

    started = time.perf_counter()
    register()
    registration = time.perf_counter() - started

    started = time.perf_counter()
    host = policy_host()
    startup = time.perf_counter() - started

    resources = monitor.registered
    timings: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    verdicts = {}
    for _ in range(args.repeat):
        for routed in (True, False):
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            verdicts[routed] = host.analyze(resources, route_by_type=routed)
            timings[routed].append((time.process_time() - cpu, time.perf_counter() - wall))
    if verdicts[True] != verdicts[False]:
        raise SystemExit("routed and engine-order verdicts differ")
    best = {routed: (min(c for c, _ in runs), min(w for _, w in runs)) for routed, runs in timings.items()}

    count = len(resources)
    print(f"resources registered under mocks: {count}")
    print(f"registration under mocks:        {registration:7.2f} s (wall)")
    print(f"analyzer start (once):           {startup:7.2f} s (wall)")
    for routed, label in ((False, "engine order"), (True, "routed")):
        cpu, wall = best[routed]
        print(
            f"policy analysis, {label + ':':13} {cpu:6.3f} s CPU ({wall:.3f} s wall), "
            f"{cpu / count * 1000:.3f} ms per resource, {wall / registration:.3f} of registration (wall)"
        )
    print(f"verdicts:                        {len(verdicts[True])}, identical both ways")
    print(f"routed / engine order (CPU):     {best[True][0] / best[False][0]:7.3f}")


if __name__ == "__main__":
    main()
