"""`vaultspec up` / `vaultspec down`: the main job offline, in the order DESIGN.md gives.

validate -> plan (pure mocks) -> policy pack (a mandatory violation stops here, exit 3, before the
twin is touched) -> twin (reused if it serves the data dir, else started in the background) ->
apply through the real program (`apply.apply_spec`) -> smoke every vault -> report (console,
`--json`, `--junit`). Exit 0 only when policy passed, apply succeeded and every smoke check passed.

The deployer is the twin's default identity; its subscription and tenant are the twin's
(`vaultspec twin env`). Secrets the spec reads come from `Pulumi.<stack>.yaml` (passphrase secrets
decrypted with PULUMI_CONFIG_PASSPHRASE), `PULUMI_CONFIG`, and the environment.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from vaultspec.engine.apply import ApplyResult, Deployer, apply_spec, connect, destroy
from vaultspec.engine.state import StateStore
from vaultspec.engine.twin_backend import Action, ResourceChange
from vaultspec.spec import SpecError, load_spec

EXIT_FAILED = 1
EXIT_SPEC_ERROR = 2
EXIT_POLICY_VIOLATION = 3
DEFAULT_DATA_DIR = Path(".vaultspec/twin")
TWIN_RBAC_WAIT_S = 5.0  # the twin applies role assignments at once; Azure needs minutes (smoke's default)
COUNTED = (Action.CREATE, Action.UPDATE, Action.DELETE, Action.SAME, Action.RECOVERED)


class UpReport(BaseModel):
    """The `--json` document of `up` and `down` (DESIGN.md contract, plus the run's context)."""

    command: str
    spec: str
    stack: str
    passed: bool
    changes: dict[str, int] = Field(default_factory=dict)
    resources: list[ResourceChange] = Field(default_factory=list)
    violations: list[dict[str, Any]] = Field(default_factory=list)
    smoke: dict[str, Any] | None = None
    errors: list[str] = Field(default_factory=list)
    twin: dict[str, Any] = Field(default_factory=dict)


def count_changes(changes: list[ResourceChange]) -> dict[str, int]:
    counted = Counter(change.action for change in changes)
    return {action.value: counted.get(action, 0) for action in COUNTED}


def changes_table(changes: list[ResourceChange], title: str) -> Table:
    table = Table(title=title)
    for column in ("action", "type", "name", "detail"):
        table.add_column(column)
    colours = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red", Action.RECOVERED: "cyan"}
    for change in changes:
        if change.action == Action.SAME:
            continue
        colour = "bold red" if change.action == Action.FAILED else colours.get(change.action, "white")
        table.add_row(
            f"[{colour}]{change.action.value}[/{colour}]", change.type.rsplit(":", 1)[-1], change.name, change.detail
        )
    return table


def ensure_twin(data_dir: Path, console: Console) -> Any:
    """The twin serving `data_dir`: the running one, or a new background process (and say so)."""
    from vaultspec.twin.server import find_running, start_background

    running = find_running(data_dir)
    if running is not None:
        console.print(f"twin: using the twin on port {running.port} (data {data_dir})", highlight=False)
        return running
    console.print(f"twin: starting the twin in the background (data {data_dir}) ...", highlight=False)
    info = start_background(data_dir)
    console.print(
        f"twin: serving on https://localhost:{info.port} (pid {info.pid}); stop it with "
        f"`vaultspec twin stop --data {data_dir}`",
        highlight=False,
    )
    return info


def _write_reports(report: UpReport, json_path: Path | None, junit_path: Path | None, smoke_reports: list) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    if junit_path is not None:
        from vaultspec.smoke.report_files import write_junit

        write_junit(smoke_reports, junit_path)


def _policy_gate(spec_path: Path, policy_config: Path | None, console: Console) -> tuple[list[dict[str, Any]], bool]:
    """Plan with pure mocks and run the pack: (verdicts as JSON, whether a mandatory one blocks)."""
    from vaultspec.engine.analyzer import blocking_verdicts
    from vaultspec.engine.plan import policy_summary, run_plan, violations_table

    rendering, verdicts = run_plan(spec_path, policy_config)
    for warning in rendering.warnings:
        console.print(f"[yellow]warning[/yellow]: {warning}", highlight=False)
    blocking = blocking_verdicts(verdicts)
    if blocking:
        console.print(violations_table(blocking))
    console.print(policy_summary(verdicts))
    return [v.model_dump(mode="json") for v in verdicts], bool(blocking)


def _smoke(spec: Any, outputs: dict[str, Any], deployer: Deployer, console: Console) -> list:
    """Smoke every vault of the spec at the URI the apply returned, as the deployer."""
    from azure.identity.aio import ManagedIdentityCredential

    from vaultspec.smoke import SmokeOptions, run_smoke
    from vaultspec.smoke.console import SmokeProgress

    vault_outputs = outputs.get("vaults") or {}
    verify = deployer.twin.ca_bundle

    async def smoke_vault(vault: Any, progress: SmokeProgress) -> Any:
        uri = (vault_outputs.get(vault.name) or {}).get("uri") or deployer.twin.vault_url(vault.name)
        options = SmokeOptions(connection_verify=verify, rbac_wait=TWIN_RBAC_WAIT_S, on_event=progress.on_event)
        async with ManagedIdentityCredential(connection_verify=verify) as credential:
            return await run_smoke(uri, vault, credential, options)

    reports = []
    for vault in spec.vaults:
        with SmokeProgress(console, f"smoke {vault.name}") as progress:
            reports.append(asyncio.run(smoke_vault(vault, progress)))
    return reports


def up_command(
    path: Annotated[Path, typer.Argument(help="The stack's spec file (stacks/<stack>.yaml).")],
    data: Annotated[Path, typer.Option("--data", help="The twin's data directory.")] = DEFAULT_DATA_DIR,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    junit_path: Annotated[Path | None, typer.Option("--junit", help="Write the smoke JUnit XML here.")] = None,
    policy_config: Annotated[
        Path | None, typer.Option("--policy-config", help="Policy pack configuration (Pulumi's JSON format).")
    ] = None,
    smoke: Annotated[bool, typer.Option("--smoke/--no-smoke", help="Smoke-test every vault after applying.")] = True,
) -> None:
    """Plan, policy-check, apply to the twin, then smoke-test: the main job, offline."""
    from vaultspec.cli import known_policy_names, report_spec_error
    from vaultspec.engine.analyzer import PolicyConfigError
    from vaultspec.engine.render import RenderError
    from vaultspec.engine.stackconfig import StackConfigError
    from vaultspec.smoke.console import render_summary

    console = Console(highlight=False)
    stack = path.stem
    report = UpReport(command="up", spec=str(path), stack=stack, passed=False)
    try:
        spec = load_spec(path, known_policy_names())
    except SpecError as error:
        report_spec_error(error)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    try:
        report.violations, blocked = _policy_gate(path, policy_config, console)
    except (RenderError, StackConfigError) as error:
        typer.echo(f"{path}: {error}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    except PolicyConfigError as error:
        for line in error.errors:
            typer.echo(f"{policy_config}: {line}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    if blocked:
        console.print("[bold red]up: a mandatory policy is violated; nothing was applied[/bold red]")
        _write_reports(report, json_path, None, [])
        raise typer.Exit(EXIT_POLICY_VIOLATION)
    twin = ensure_twin(data, console)
    report.twin = {"dataDir": str(data), "port": twin.port, "subscriptionId": twin.subscription_id}
    deployer = connect(twin)
    try:
        result = apply_spec(path, deployer, StateStore(data), stack)
        _report_apply(report, result, console)
        smoke_reports = _smoke(spec, result.stack_outputs, deployer, console) if result.succeeded and smoke else []
    finally:
        deployer.close()
    if smoke_reports:
        render_summary(smoke_reports, console)
        report.smoke = {
            "passed": all(r.passed for r in smoke_reports),
            "vaults": [r.model_dump(mode="json") for r in smoke_reports],
        }
    report.passed = result.succeeded and (not smoke or bool(report.smoke and report.smoke["passed"]))
    _write_reports(report, json_path, junit_path, smoke_reports)
    _verdict_line(report, console)
    if not report.passed:
        raise typer.Exit(EXIT_FAILED)


def down_command(
    path: Annotated[Path, typer.Argument(help="The stack's spec file `up` deployed.")],
    data: Annotated[Path, typer.Option("--data", help="The twin's data directory.")] = DEFAULT_DATA_DIR,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
) -> None:
    """Remove exactly what `vaultspec up` made for this spec (newest first)."""
    console = Console(highlight=False)
    report = UpReport(command="down", spec=str(path), stack=path.stem, passed=False)
    store = StateStore(data)
    if not store.load(path, path.stem).resources:
        console.print(f"down: nothing recorded for {path} in {data}")
        report.passed = True
        _write_reports(report, json_path, None, [])
        return
    twin = ensure_twin(data, console)
    report.twin = {"dataDir": str(data), "port": twin.port, "subscriptionId": twin.subscription_id}
    deployer = connect(twin)
    try:
        result = destroy(path, deployer, store, path.stem)
    finally:
        deployer.close()
    _report_apply(report, result, console)
    report.passed = result.succeeded
    _write_reports(report, json_path, None, [])
    _verdict_line(report, console)
    if not report.passed:
        raise typer.Exit(EXIT_FAILED)


def _report_apply(report: UpReport, result: ApplyResult, console: Console) -> None:
    report.resources = result.changes
    report.changes = count_changes(result.changes)
    report.errors = result.errors
    if any(c.action != Action.SAME for c in result.changes):
        console.print(changes_table(result.changes, f"vaultspec {report.command}: {report.stack}"))
    for error in result.errors:
        console.print(f"[bold red]error[/bold red]: {error}")


def _verdict_line(report: UpReport, console: Console) -> None:
    changed = {action: n for action, n in report.changes.items() if n and action != Action.SAME.value}
    unchanged = report.changes.get(Action.SAME.value, 0)
    counts = ", ".join(f"{n} {action}" for action, n in changed.items()) or "no changes"
    if unchanged:
        counts += f" ({unchanged} unchanged)"
    smoke = ""
    if report.smoke is not None:
        checks = [c for v in report.smoke["vaults"] for c in v["checks"]]
        passed = sum(1 for c in checks if c["status"] == "passed")
        smoke = f"; smoke {passed}/{len(checks)} checks passed"
    colour = "green" if report.passed else "red"
    status = "ok" if report.passed else "FAILED"
    console.print(f"[bold {colour}]{report.command} {status}[/bold {colour}]: {counts}{smoke}")
