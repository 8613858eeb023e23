"""A stand-in for `vaultspec up` on specs with imported keys, until the real-engine `up` lands.

TODAY'S `vaultspec up` renders the program through its own mocks-based engine
(`vaultspec/engine/twin_backend.py`), which applies azure-native resources through the twin's ARM API
and has no support for Python dynamic resources: an `ImportedKey` makes it fail with "the offline
engine does not apply this type". The real-engine `up` (Pulumi CLI + Automation API) runs the
ImportedKey's provider in `pulumi-resource-pulumi-python` like any Pulumi program.

Until then this module drives a spec the way `vaultspec up` does (validate -> plan + policy gate ->
apply -> smoke, the same JSON report shape) and adds the one thing today's engine lacks: each dynamic
resource is driven as the Pulumi engine drives it (unpickle its provider from `__provider`, `check`,
`diff` against its last outputs, then `create` / `update` / replace, and `delete` when it leaves the
spec). Its outputs are kept next to the engine's state, never its secret inputs. Everything else goes
through the unmodified `TwinBackend`.

Delete this module when `vaultspec up` carries dynamic resources; `tests/byok/howto.py: up` is the one
place that calls it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
from pathlib import Path
from typing import Any

import dill
from rich.console import Console

from vaultspec.cli import known_policy_names
from vaultspec.engine.analyzer import blocking_verdicts
from vaultspec.engine.apply import Deployer, connect, delete_records
from vaultspec.engine.plan import run_plan
from vaultspec.engine.recording import RenderedResource
from vaultspec.engine.render import RenderError, render_spec
from vaultspec.engine.state import StateStore
from vaultspec.engine.twin_backend import Action, ApplyError, ResourceChange, TwinBackend
from vaultspec.engine.up import changes_table, count_changes
from vaultspec.engine.values import reveal
from vaultspec.spec import SpecError, load_spec
from vaultspec.twin.server import TwinInfo

DYNAMIC = "pulumi-python:dynamic"
PROVIDER_KEY = "__provider"


class DynamicAwareBackend:
    """`TwinBackend`, plus Python dynamic resources driven as the Pulumi engine drives them."""

    def __init__(self, inner: TwinBackend, state_file: Path) -> None:
        self.inner = inner
        self.state_file = state_file
        self.state: dict[str, dict[str, Any]] = json.loads(state_file.read_text()) if state_file.exists() else {}
        self.changes: dict[str, ResourceChange] = {}
        self.seen: set[str] = set()
        self._lock = threading.Lock()

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        return self.inner.call(token, args)

    def create(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        if not resource.type.startswith(DYNAMIC):
            return self.inner.create(resource)
        try:
            return self._apply(resource)
        except Exception as error:  # the provider's own message (it never holds material)
            message = f"{resource.type} {resource.name}: {error}"
            self._record(resource, Action.FAILED, message)
            raise ApplyError(message) from None

    def _apply(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        news = reveal(resource.inputs)
        provider = dill.loads(base64.b64decode(news[PROVIDER_KEY]))
        with self._lock:
            self.seen.add(resource.urn)
            previous = self.state.get(resource.urn)
        checked = provider.check(previous["outputs"] if previous else {}, news)
        if checked.failures:
            raise ApplyError("; ".join(f"{f.property}: {f.reason}" for f in checked.failures))
        if previous is None:
            created = provider.create(news)
            return self._remember(resource, created.id, created.outs, Action.CREATE)
        olds = {**previous["outputs"], PROVIDER_KEY: news[PROVIDER_KEY]}
        diff = provider.diff(previous["id"], olds, news)
        if not diff.changes:
            return self._remember(resource, previous["id"], previous["outputs"], Action.SAME)
        if diff.replaces:
            provider.delete(previous["id"], olds)
            created = provider.create(news)
            return self._remember(resource, created.id, created.outs, Action.CREATE, "replaced")
        updated = provider.update(previous["id"], olds, news)
        return self._remember(resource, previous["id"], updated.outs, Action.UPDATE)

    def _remember(
        self, resource: RenderedResource, id_: str, outputs: dict[str, Any], action: Action, detail: str = ""
    ) -> tuple[str, dict[str, Any]]:
        kept = {k: v for k, v in outputs.items() if k != PROVIDER_KEY}
        with self._lock:
            self.state[resource.urn] = {"id": id_, "type": resource.type, "name": resource.name, "outputs": kept}
            self._save()
        self._record(resource, action, detail)
        return id_, kept

    def _record(self, resource: RenderedResource, action: Action, detail: str = "") -> None:
        with self._lock:
            self.changes[resource.urn] = ResourceChange(
                urn=resource.urn, type=resource.type, name=resource.name, action=action, detail=detail
            )

    def _save(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=2, sort_keys=True))

    def delete_removed(self) -> list[ResourceChange]:
        """Delete the dynamic resources the program no longer declares (after a successful render)."""
        removed = [urn for urn in self.state if urn not in self.seen]
        deletions = []
        for urn in removed:
            entry = self.state[urn]
            provider = _provider_for(entry["type"])
            provider.delete(entry["id"], entry["outputs"])
            deletions.append(ResourceChange(urn=urn, type=entry["type"], name=entry["name"], action=Action.DELETE))
            del self.state[urn]
            self._save()
        return deletions


def _provider_for(resource_type: str) -> Any:
    from vaultspec.catalog.keys import IMPORTED_KEY_TYPE
    from vaultspec.components.import_provider import ImportedKeyProvider

    if resource_type != IMPORTED_KEY_TYPE:
        raise ApplyError(f"no provider known for the removed dynamic resource type {resource_type}")
    return ImportedKeyProvider()


def stand_in_up(spec_path: Path, twin: TwinInfo, report_path: Path) -> tuple[int, str]:
    """What `vaultspec up SPEC --data DIR --json REPORT` does, with dynamic resources; (exit code, output)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, highlight=False, soft_wrap=True)
    report: dict[str, Any] = {"command": "up", "spec": str(spec_path), "stack": spec_path.stem, "passed": False}
    code = _run(spec_path, twin, console, report)
    report_path.write_text(json.dumps(report, indent=2))
    return code, buffer.getvalue()


def _run(spec_path: Path, twin: TwinInfo, console: Console, report: dict[str, Any]) -> int:
    try:
        spec = load_spec(spec_path, known_policy_names())
    except SpecError as error:
        for problem in error.problems:
            console.print(str(problem), markup=False)
        return 2
    try:
        _, verdicts = run_plan(spec_path)
    except RenderError as error:
        console.print(f"{spec_path}: {error}", markup=False)
        return 2
    report["violations"] = [v.model_dump(mode="json") for v in verdicts]
    blocking = blocking_verdicts(verdicts)
    if blocking:
        for verdict in blocking:
            console.print(f"[{verdict.level}] {verdict.policy}: {verdict.message}", markup=False)
        console.print("up: a mandatory policy is violated; nothing was applied")
        return 3
    deployer = connect(twin)
    try:
        changes, errors, outputs = _apply(spec_path, deployer)
        report["resources"] = [c.model_dump(mode="json") for c in changes]
        report["changes"] = count_changes(changes)
        report["errors"] = errors
        if any(c.action != Action.SAME for c in changes):
            console.print(changes_table(changes, f"vaultspec up: {spec_path.stem}"))
        for error in errors:
            console.print(f"error: {error}", markup=False)
        if errors:
            return 1
        reports = [asyncio.run(_smoke(vault, outputs, deployer)) for vault in spec.vaults]
    finally:
        deployer.close()
    report["smoke"] = {"passed": all(r.passed for r in reports), "vaults": [r.model_dump(mode="json") for r in reports]}
    for smoke_report in reports:
        for check in smoke_report.checks:
            line = f"smoke {smoke_report.vault} {check.object} {check.check}: {check.status} {check.detail}"
            console.print(line, markup=False)
    report["passed"] = report["smoke"]["passed"]
    return 0 if report["passed"] else 1


def _apply(spec_path: Path, deployer: Deployer) -> tuple[list[ResourceChange], list[str], dict[str, Any]]:
    """`vaultspec.engine.apply.apply_spec` with the dynamic-aware backend."""
    store = StateStore(Path(deployer.twin.data_dir))
    state = store.load(spec_path, spec_path.stem)
    inner = TwinBackend(
        identity=deployer.identity,
        arm=deployer.arm,
        credential=deployer.credential,
        vault_url=deployer.twin.vault_url,
        ca_bundle=deployer.twin.ca_bundle,
        store=store,
        state=state,
        persist=lambda: store.save(spec_path, state),
    )
    backend = DynamicAwareBackend(inner, Path(deployer.twin.data_dir) / f"dynamic-{spec_path.stem}.json")
    errors: list[str] = []
    rendering = None
    try:
        rendering = render_spec(spec_path, preview=False, backend=backend, decrypt_config=True)
    except RenderError as error:
        errors.append(str(error))
    changes = [*inner.changes.values(), *backend.changes.values()]
    outputs: dict[str, Any] = {}
    if rendering is not None:
        outputs = reveal(rendering.stack_outputs)
        registered = {r.urn for r in rendering.resources}
        changes += backend.delete_removed()
        removed = [r for r in state.in_delete_order() if r.urn not in registered]
        deletions, delete_errors = delete_records(removed, deployer, store, spec_path, state)
        changes += deletions
        errors += delete_errors
    store.save(spec_path, state)
    return changes, errors, outputs


async def _smoke(vault: Any, outputs: dict[str, Any], deployer: Deployer) -> Any:
    from azure.identity.aio import ManagedIdentityCredential

    from vaultspec.smoke import SmokeOptions, run_smoke

    uri = ((outputs.get("vaults") or {}).get(vault.name) or {}).get("uri") or deployer.twin.vault_url(vault.name)
    options = SmokeOptions(connection_verify=deployer.twin.ca_bundle, rbac_wait=5.0)
    async with ManagedIdentityCredential(connection_verify=deployer.twin.ca_bundle) as credential:
        return await run_smoke(uri, vault, credential, options)
