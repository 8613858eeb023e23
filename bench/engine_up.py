"""The real engine: vaultspec's `pulumi up` vs the same azure-native resources declared bare, on the twin.

    .venv/bin/python bench/engine_up.py [--vaults 20]

Measured in one run, wall seconds, each deployment into a fresh twin and an empty stack:

- bare: a plain Pulumi program (`pulumi.CustomResource` per resource, flat, no components, no policy
  pack, no hooks) declaring exactly the azure-native resources the vaultspec program declares for the
  generated spec (same types, names, inputs and dependencies, read from the program's own offline
  rendering), `pulumi up` through the Automation API with the same CLI, language host and twin
  provider plugins;
- vaultspec: the vaultspec program (spec loading, components, a smoke hook on every key and secret)
  with `--policy-pack policies`, the same `pulumi up`; and, to tell where the difference goes, the
  program alone (no hooks, no policy pack) and the program with the policy pack but no hooks, each
  into a twin and a stack of its own;
- `vaultspec up` of the same spec when nothing changed (preview with the policy pack and refresh, then
  `up --refresh`, no smoke), and the smoke of every vault that follows it in a full `vaultspec up`.

The ratio vaultspec / bare is the price of the components, the policy pack and the hooks on the same
engine; the goal is at most 1.3x. The no-change `vaultspec up` goal is at most 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vaultspec.engine.azure_mock import AzureIdentity
from vaultspec.engine.deploy import POLICY_PACK
from vaultspec.engine.render import render_spec
from vaultspec.engine.values import Concealed
from vaultspec.engine.workspace import ConfigSetting, TwinWorkspace
from vaultspec.twin.server import start_background, stop

APP = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
WORKSPACE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-obs"
    "/providers/Microsoft.OperationalInsights/workspaces/law"
)
TOKEN = "bench-token-value-0123456789"
DB = "bench-db-value-0123456789"
PLUGIN_VERSIONS = {"azure-native": "3.29.0", "random": "4.21.4"}

BARE_PROGRAM = '''"""A plain program: the resources of resources.json, flat, one pulumi.CustomResource each."""

import json
from pathlib import Path

import pulumi

resources = json.loads(Path(__file__).with_name("resources.json").read_text())
made = {}


def value(v):
    if isinstance(v, dict) and set(v) == {"__secret"}:
        return pulumi.Output.secret(v["__secret"])
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [value(x) for x in v]
    return v


for r in resources:
    deps = [made[d] for d in r["depends_on"] if d in made]
    made[r["urn"]] = pulumi.CustomResource(
        r["type"], r["name"], value(r["inputs"]), pulumi.ResourceOptions(depends_on=deps, version=r["version"])
    )
'''


PROGRAM_WITHOUT_HOOKS = """from vaultspec.program import run

run()
"""


def vault_yaml(index: int) -> str:
    return f"""\
  - name: eb-{index:03d}-kv
    network: {{publicAccess: enabled, defaultAction: Deny, bypass: None, ipRules: [127.0.0.1/32]}}
    access:
      model: rbac
      deployer: lifecycle
      deployerPrincipalType: ServicePrincipal
      grants:
        - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Crypto User, scope: keys/signing}}
        - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Secrets User, scope: secrets/db}}
        - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Reader}}
    keys:
      - name: signing
        type: RSA-HSM
        size: 3072
        ops: [sign, verify]
        expires: 2027-06-01T00:00:00Z
        rotation: {{rotateAfterCreate: P90D, notifyBeforeExpiry: P30D, expiryTime: P1Y}}
      - {{name: tokens, type: EC-HSM, curve: P-384, ops: [sign, verify], expires: 2027-06-01T00:00:00Z}}
      - {{name: wrapping, type: RSA-HSM, size: 3072, ops: [wrapKey, unwrapKey], expires: 2027-06-01T00:00:00Z}}
    secrets:
      - {{name: db, value: {{fromConfig: dbPassword}}, contentType: text/plain, expires: 2027-06-01T00:00:00Z}}
      - {{name: token, value: {{fromEnv: BENCH_TOKEN}}, contentType: text/plain, expires: 2027-06-01T00:00:00Z}}
      - {{name: api, value: {{fromEnv: BENCH_TOKEN}}, contentType: text/plain, expires: 2027-06-01T00:00:00Z}}
    diagnostics: {{workspaceId: {WORKSPACE}}}
    exceptions:
      - {{policy: kv-public-network-disabled, reason: the twin has no private endpoints}}
      - {{policy: kv-firewall-ip-rules, reason: the twin sees every caller on loopback}}
"""


def generate(vaults: int) -> str:
    header = "apiVersion: vaultspec/v1\ndefaults: {location: westeurope, resourceGroup: rg-engine-bench}\nvaults:\n"
    return header + "".join(vault_yaml(i) for i in range(vaults))


def plain(value: Any) -> Any:
    if isinstance(value, Concealed):
        return {"__secret": plain(value.value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def bare_resources(spec: Path, twin: Any) -> list[dict[str, Any]]:
    """The custom resources the vaultspec program declares, with the twin's ids, in dependency order."""
    os.environ["BENCH_TOKEN"] = TOKEN
    os.environ["PULUMI_CONFIG"] = json.dumps({"vaultspec:dbPassword": DB})  # how the renderer takes config
    try:
        rendering = render_spec(spec, stack="bare", preview=False)
    finally:
        del os.environ["PULUMI_CONFIG"]
    mock = AzureIdentity()
    text = json.dumps([plain(r.inputs) for r in rendering.resources])
    for fake, real in (
        (mock.subscription_id, twin.subscription_id),
        (mock.tenant_id, twin.tenant_id),
        (mock.object_id, twin.default_object_id),
        (mock.client_id, twin.default_object_id),
    ):
        text = text.replace(fake, real)
    inputs = json.loads(text)
    by_urn = {r.urn: r for r in rendering.resources}
    custom = [r for r in rendering.resources if r.custom]
    ordered: list[Any] = []
    placed: set[str] = set()
    while len(ordered) < len(custom):  # dependencies first
        for r in custom:
            deps = {d for d in [*r.dependencies, *(u for us in r.property_dependencies.values() for u in us)]}
            if r.urn not in placed and all(d in placed or not by_urn.get(d, r).custom for d in deps):
                ordered.append(r)
                placed.add(r.urn)
    index = {r.urn: i for i, r in enumerate(rendering.resources)}
    return [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "inputs": inputs[index[r.urn]],
            "depends_on": sorted({*r.dependencies, *(u for us in r.property_dependencies.values() for u in us)}),
            "version": PLUGIN_VERSIONS[r.type.split(":")[0]],
        }
        for r in ordered
    ]


def timed(label: str, function: Any) -> float:
    started = time.perf_counter()
    function()
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.1f} s", flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vaults", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="engine-bench-"))
    spec = root / "dev-engine-bench.yaml"
    spec.write_text(generate(args.vaults))
    names = ("bare", "program", "policy", "vaultspec")
    twins = {name: start_background(root / f"twin-{name}") for name in names}
    os.environ.update({"BENCH_TOKEN": TOKEN, "BENCH_DB": DB})
    try:
        bare = TwinWorkspace(
            spec_path=spec, stack_name="dev-engine-bench", data_dir=root / "twin-bare", twin=twins["bare"]
        )
        resources = bare_resources(spec, twins["bare"])
        print(f"{len(resources)} azure-native resources in {args.vaults} vaults", flush=True)
        project = Path(bare.project_dir)
        (project / "resources.json").write_text(json.dumps(resources))
        (project / "__main__.py").write_text(BARE_PROGRAM)
        bare_stack = bare.stack()
        stacks = {}
        for name in names[1:]:
            workspace = TwinWorkspace(
                spec_path=spec, stack_name="dev-engine-bench", data_dir=root / f"twin-{name}", twin=twins[name]
            )
            stacks[name] = workspace.stack()
            workspace.set_config(stacks[name], [ConfigSetting("vaultspec:dbPassword", DB, secret=True)])
            if name != "vaultspec":  # the program without its smoke hooks
                (Path(workspace.project_dir) / "__main__.py").write_text(PROGRAM_WITHOUT_HOOKS)
        t_bare = timed("bare program, pulumi up", lambda: bare_stack.up(show_secrets=False))
        t_program = timed(
            "vaultspec program alone (no policy pack, no hooks), pulumi up",
            lambda: stacks["program"].up(show_secrets=False),
        )
        t_policy = timed(
            "vaultspec program + policy pack (no hooks), pulumi up",
            lambda: stacks["policy"].up(policy_packs=[str(POLICY_PACK)], show_secrets=False),
        )
        t_ours = timed(
            "vaultspec program + policy pack + hooks, pulumi up",
            lambda: stacks["vaultspec"].up(policy_packs=[str(POLICY_PACK)], show_secrets=False),
        )
        command = [sys.executable, "-m", "vaultspec", "up", str(spec), "--data", str(root / "twin-vaultspec")]
        t_same = timed(
            "vaultspec up, nothing changed (no smoke)",
            lambda: subprocess.run([*command, "--no-smoke"], check=True, capture_output=True),
        )
        t_full = timed(
            "vaultspec up, nothing changed, with smoke",
            lambda: subprocess.run(command, check=True, capture_output=True),
        )
        print(f"ratio vaultspec / bare: {t_ours / t_bare:.2f}x (goal <= 1.3x)")
        print(
            f"  of which: program {t_program / t_bare:.2f}x, + policy pack {t_policy / t_bare:.2f}x, "
            f"+ hooks {t_ours / t_bare:.2f}x"
        )
        print(f"no-change vaultspec up: {t_same:.1f} s (goal <= 10 s); with smoke of every vault: {t_full:.1f} s")
    finally:
        for name in twins:
            stop(root / f"twin-{name}")


if __name__ == "__main__":
    main()
