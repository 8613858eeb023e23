"""`vaultspec plan` on a generated spec of ~1,300 resources vs registering the same resources bare.

    .venv/bin/python bench/plan_render.py [--vaults 80] [--repeat 5] [--stock] [--engine-order]

Measured in one run, best of `--repeat`:

- plan: what `vaultspec plan --json` does in-process (`run_plan` + the JSON document): render the
  real program (`vaultspec.program.run`: spec loading and validation, components, spec adapter,
  recording monitor, default Azure backend), run the policy pack (`vaultspec.engine.analyzer`)
  and build the JSON document; "render" is the same without the policy pack; the policy stage
  (`evaluate_policies`) is also timed on its own inside each plan run;
- bare: the same azure-native and random resources with the same inputs (secrets as secrets),
  constructed flat through the same SDK classes by a minimal program, under the same mocks and
  harness (`vaultspec.engine.render.render`: same monitor, same backend, same event-loop driving).

The ratio render / bare is the price of everything the rendering adds (spec loading and
validation, components, parenting, spec adapter, recording, JSON) on top of Pulumi's own
per-resource cost; plan / bare adds the policy pack (measured on its own in
bench/policies_analyze.py). The goal is at most 1.2x. `--stock` also times the bare program
under Pulumi's stock `set_mocks` and end-of-program wait (once), to show what the render harness
itself saves. `--engine-order` also times plans whose policy stage calls pulumi-policy's servicer
in the engine's plain order (every resource policy on every resource), to show what routing saves.

Every timed run starts from a collected heap (`gc.collect()`, untimed), as a fresh `vaultspec plan`
process does: otherwise the cyclic garbage of the previous run (Pulumi's Outputs and futures) is
still on the heap and every collection of the next run traverses it, whichever function runs next
(`--no-collect` measures that way, as this script did before).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_random
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi_azure_native import authorization, keyvault, monitor

from vaultspec.engine.analyzer import policy_host
from vaultspec.engine.azure_mock import AzureMockBackend
from vaultspec.engine.plan import evaluate_policies, plan_document, policy_subjects
from vaultspec.engine.recording import BackendMocks, Rendering
from vaultspec.engine.render import render, render_spec
from vaultspec.engine.values import Concealed

APP = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
GROUP = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
WORKSPACE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-obs"
    "/providers/Microsoft.OperationalInsights/workspaces/law"
)


def vault_yaml(index: int) -> str:
    return f"""\
  - name: bench-{index:05d}-kv
    network: {{publicAccess: disabled, defaultAction: Deny, bypass: None, ipRules: [203.0.113.0/24]}}
    access:
      model: rbac
      deployer: lifecycle
      grants:
        - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Crypto User, scope: keys/signing}}
        - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Secrets User, scope: secrets/db}}
        - {{principal: {GROUP}, principalType: Group, role: Key Vault Reader}}
    keys:
      - name: signing
        type: RSA-HSM
        size: 3072
        ops: [sign, verify]
        expires: 2028-01-01T00:00:00Z
        rotation: {{rotateAfterCreate: P90D, notifyBeforeExpiry: P30D, expiryTime: P1Y}}
      - {{name: tokens, type: EC-HSM, curve: P-384, ops: [sign, verify], expires: 2028-01-01T00:00:00Z}}
      - {{name: wrapping, type: RSA-HSM, size: 3072, ops: [wrapKey, unwrapKey], expires: 2028-01-01T00:00:00Z}}
    secrets:
      - {{name: db, value: {{fromConfig: dbPassword}}, contentType: text/plain, expires: 2027-06-01T00:00:00Z}}
      - {{name: token, value: {{fromEnv: BENCH_TOKEN}}, contentType: text/plain, expires: 2027-06-01T00:00:00Z}}
      - {{name: session, value: {{generate: {{length: 48}}}}, contentType: text/plain, expires: 2027-06-01T00:00:00Z}}
    diagnostics: {{workspaceId: {WORKSPACE}}}
    lock: CanNotDelete
    exceptions:
      - {{policy: kv-public-network-disabled, reason: bench}}
"""


def generate(vaults: int) -> str:
    header = "apiVersion: vaultspec/v1\ndefaults: {location: westeurope, resourceGroup: rg-bench}\nvaults:\n"
    return header + "".join(vault_yaml(i) for i in range(vaults))


POLICY_STAGE: dict[str, list[float]] = {"routed": [], "engine order": []}


def plan_once(path: Path, *, engine_order: bool = False) -> Rendering:
    """What `vaultspec plan PATH --json` does (`run_plan`), minus printing: render, policy pack, JSON.

    The policy stage's CPU time is recorded in POLICY_STAGE."""
    rendering = render_spec(path)
    started = time.process_time()
    if engine_order:
        violations = policy_host().analyze(policy_subjects(rendering.resources), None, route_by_type=False)
    else:
        violations = evaluate_policies(rendering.resources, None)
    POLICY_STAGE["engine order" if engine_order else "routed"].append(time.process_time() - started)
    json.dumps(plan_document(rendering, violations), indent=2, sort_keys=True)
    return rendering


def render_once(path: Path) -> Rendering:
    """The plan without the policy pack: render and JSON (vaultspec's own share of a plan)."""
    rendering = render_spec(path)
    json.dumps(plan_document(rendering, []), indent=2, sort_keys=True)
    return rendering


def _as_input(value: Any) -> Any:
    if isinstance(value, Concealed):
        return pulumi.Output.secret(_as_input(value.value))
    if isinstance(value, dict):
        return {k: _as_input(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_input(v) for v in value]
    return value


SDK_CLASSES: dict[str, type[pulumi.CustomResource]] = {
    "azure-native:keyvault:Vault": keyvault.Vault,
    "azure-native:keyvault:Key": keyvault.Key,
    "azure-native:keyvault:Secret": keyvault.Secret,
    "azure-native:authorization:RoleAssignment": authorization.RoleAssignment,
    "azure-native:authorization:ManagementLockByScope": authorization.ManagementLockByScope,
    "azure-native:monitor:DiagnosticSetting": monitor.DiagnosticSetting,
    "random:index/randomPassword:RandomPassword": pulumi_random.RandomPassword,
}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def flat_program(resources: list[tuple[str, str, dict[str, Any]]]) -> Callable[[], None]:
    def program() -> None:
        for type_, name, inputs in resources:
            SDK_CLASSES[type_](name, **{_snake(k): _as_input(v) for k, v in inputs.items()})

    return program


def bare_once(resources: list[tuple[str, str, dict[str, Any]]]) -> None:
    """The flat program under the same harness and mocks as a plan."""
    render(flat_program(resources), project="bench", stack="bare")


def stock_once(resources: list[tuple[str, str, dict[str, Any]]]) -> None:
    """The flat program under Pulumi's stock mocks, in a fresh thread and event loop."""
    failure: list[BaseException] = []
    program = flat_program(resources)

    def work() -> None:
        try:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            pulumi_settings.ROOT.set(None)
            pulumi_config.set_all_config({})
            pulumi.runtime.set_mocks(BackendMocks(AzureMockBackend()), project="bench", stack="bare", preview=True)
            loop.run_until_complete(run_pulumi_func(program))
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
        except BaseException as exc:  # reported in the main thread
            failure.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def interleaved(repeat: int, *functions: Callable[[], Any], collect: bool = True) -> list[tuple[float, float]]:
    """(CPU seconds, wall seconds), best of `repeat` for each function, runs alternating.

    CPU time (all threads of this process) is the measure: the work is CPU-bound, and on a shared
    2-core machine wall time mostly measures the neighbours. Wall time is reported alongside."""
    timings: list[list[tuple[float, float]]] = [[] for _ in functions]
    for _ in range(repeat):
        for fn, bucket in zip(functions, timings, strict=True):
            if collect:
                gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            bucket.append((time.process_time() - cpu, time.perf_counter() - wall))
    return [(min(c for c, _ in bucket), min(w for _, w in bucket)) for bucket in timings]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vaults", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stock", action="store_true", help="also time the bare program under stock mocks")
    parser.add_argument("--engine-order", action="store_true", help="also time plans with unrouted policy calls")
    parser.add_argument(
        "--no-collect", action="store_true", help="do not collect the heap before each timed run (the earlier method)"
    )
    args = parser.parse_args()
    os.environ["BENCH_TOKEN"] = "bench-token-value"
    os.environ["PULUMI_CONFIG"] = json.dumps({"vaultspec:dbPassword": "bench-db-password"})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "Pulumi.yaml").write_text("name: vaultspec\nruntime: python\n")
        path = folder / "bench.yaml"
        path.write_text(generate(args.vaults))
        rendering = plan_once(path)  # warm-up: imports, caches
        custom = [(r.type, r.name, r.inputs) for r in rendering.resources if r.custom]
        bare_once(custom)
        functions: list[Callable[[], Any]] = [
            lambda: plan_once(path),
            lambda: render_once(path),
            lambda: bare_once(custom),
        ]
        verdicts = evaluate_policies(rendering.resources, None)
        if args.engine_order:
            plan_once(path, engine_order=True)  # warm-up
            functions.append(lambda: plan_once(path, engine_order=True))
            unrouted = policy_host().analyze(policy_subjects(rendering.resources), None, route_by_type=False)
            if unrouted != verdicts:
                raise SystemExit("routed and engine-order verdicts differ")
        for stage in POLICY_STAGE.values():
            stage.clear()  # the warm-ups
        plan, rendered, bare, *unrouted = interleaved(args.repeat, *functions, collect=not args.no_collect)
        stock = interleaved(1, lambda: stock_once(custom))[0] if args.stock else None
    total = len(rendering.resources)
    print(f"vaults: {args.vaults}; resources: {total} ({len(custom)} custom, {total - len(custom)} components)")
    checked = ", identical with engine-order calls" if args.engine_order else ""
    print(f"policy verdicts: {len(verdicts)} ({sum(v.waived for v in verdicts)} waived){checked}")
    print("CPU seconds (wall seconds), best of each:")
    print(f"vaultspec plan (render + policy pack + JSON): {plan[0]:.3f} s ({plan[1]:.3f} s)")
    print(
        f"  render + JSON only: {rendered[0]:.3f} s ({rendered[1]:.3f} s), {rendered[0] / total * 1000:.2f} ms/resource"
    )
    for name, stage in POLICY_STAGE.items():
        if stage:
            print(
                f"  policy stage inside the plan runs ({name}): best {min(stage):.3f} s, median "
                f"{statistics.median(stage):.3f} s CPU = {min(stage) / bare[0]:.3f}x bare, "
                f"{min(stage) / total * 1000:.3f} ms/resource"
            )
    print(f"bare registration of the same {len(custom)} resources: {bare[0]:.3f} s ({bare[1]:.3f} s)")
    print(f"ratio render / bare: {rendered[0] / bare[0]:.2f}x (wall {rendered[1] / bare[1]:.2f}x)")
    print(f"ratio plan / bare:   {plan[0] / bare[0]:.2f}x (wall {plan[1] / bare[1]:.2f}x)")
    if unrouted:
        print(f"ratio plan / bare, engine-order policy calls: {unrouted[0][0] / bare[0]:.2f}x")
    if stock is not None:
        print(f"bare under Pulumi's stock mocks and end-of-program wait: {stock[0]:.3f} s ({stock[1]:.3f} s)")


if __name__ == "__main__":
    main()
