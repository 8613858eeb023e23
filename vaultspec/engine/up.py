"""`vaultspec up` / `vaultspec down`: the main job offline, on the real Pulumi engine, in DESIGN.md's order.

validate -> twin (reused if it serves the data dir, else started in the background) -> the stack's
workspace (`workspace.py`) -> preview with the policy pack (a mandatory violation stops here, exit 3,
before any write) -> `pulumi up --refresh` with the pack enforced by the engine and the smoke hooks
firing inside it (`deploy.py`) -> smoke every vault from the stack's outputs -> report (console with a
live view of the engine's steps, `--json`, `--junit`). Exit 0 only when policy passed, the update
succeeded and every smoke check passed; 1 a failed update or smoke check; 2 a spec, config or usage
error; 3 a mandatory policy violation.

The deployer is the twin's default identity. Config comes from the project's `Pulumi.<stack>.yaml`,
plus `--config KEY=VALUE` / `--secret KEY=VALUE` / `--secret-from-env KEY=VARIABLE` (kept in the stack's
config as `pulumi config set` does, secrets encrypted by the stack's passphrase provider).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from vaultspec.engine.events import Action, HookResult, ResourceChange
from vaultspec.smoke.options import TWIN_RBAC_WAIT_S
from vaultspec.smoke.reach import before_apply
from vaultspec.spec import SpecError, check_spec

EXIT_FAILED = 1
EXIT_SPEC_ERROR = 2
EXIT_POLICY_VIOLATION = 3
DEFAULT_DATA_DIR = Path(".vaultspec/twin")


class UpReport(BaseModel):
    """The `--json` document of `up` and `down` (DESIGN.md contract, plus the run's context)."""

    command: str
    spec: str
    stack: str
    passed: bool
    changes: dict[str, int] = Field(default_factory=dict)
    resources: list[ResourceChange] = Field(default_factory=list)
    violations: list[dict[str, Any]] = Field(default_factory=list)
    hooks: list[HookResult] = Field(default_factory=list)
    smoke: dict[str, Any] | None = None
    errors: list[str] = Field(default_factory=list)
    twin: dict[str, Any] = Field(default_factory=dict)


def changes_table(changes: list[ResourceChange], title: str) -> Table:
    table = Table(title=title)
    for column in ("action", "type", "name", "detail"):
        table.add_column(column, overflow="fold")
    colours = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red", Action.RECOVERED: "cyan"}
    for change in changes:
        if change.action == Action.SAME:
            continue
        colour = "bold red" if change.action == Action.FAILED else colours.get(change.action, "magenta")
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


def twin_summary(data: Path, twin: Any) -> dict[str, Any]:
    """Which twin the run deployed to, for the report."""
    return {"dataDir": str(data), "port": twin.port, "subscriptionId": twin.subscription_id}


def _write_reports(report: UpReport, json_path: Path | None, junit_path: Path | None, smoke_reports: list) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    if junit_path is not None:
        from vaultspec.smoke.report_files import write_junit

        write_junit(smoke_reports, junit_path)


def _smoke(spec: Any, outputs: dict[str, Any], twin: Any, console: Console) -> list:
    """Smoke every vault of the spec at the URI the stack exported, as the deployer."""
    from azure.identity.aio import ManagedIdentityCredential

    from vaultspec.smoke import SmokeOptions, run_smoke
    from vaultspec.smoke.console import SmokeProgress

    os.environ["IDENTITY_ENDPOINT"] = twin.identity_endpoint
    os.environ["IDENTITY_HEADER"] = twin.identity_header()
    vault_outputs = outputs.get("vaults") or {}
    verify = twin.ca_bundle

    async def smoke_vault(vault: Any, progress: SmokeProgress) -> Any:
        uri = (vault_outputs.get(vault.name) or {}).get("uri") or twin.vault_url(vault.name)
        options = SmokeOptions(connection_verify=verify, rbac_wait=TWIN_RBAC_WAIT_S, on_event=progress.on_event)
        async with ManagedIdentityCredential(connection_verify=verify) as credential:
            return await run_smoke(uri, vault, credential, options)

    reports = []
    for vault in spec.vaults:
        with SmokeProgress(console, f"smoke {vault.name}") as progress:
            reports.append(asyncio.run(smoke_vault(vault, progress)))
    return reports


def _settings(config: list[str], secret: list[str], secret_from_env: list[str]) -> list[Any]:
    from vaultspec.engine.workspace import ConfigSetting, WorkspaceError

    settings = [ConfigSetting.parse(item, secret=False) for item in config]
    settings += [ConfigSetting.parse(item, secret=True) for item in secret]
    for item in secret_from_env:
        named = ConfigSetting.parse(item, secret=True)
        if named.value not in os.environ:
            raise WorkspaceError(f"--secret-from-env {named.key}: environment variable {named.value} is not set")
        settings.append(ConfigSetting(named.key, os.environ[named.value], secret=True))
    return settings


def _workspace(path: Path, stack: str | None, data: Path, project: Path | None, console: Console) -> Any:
    from vaultspec.engine.workspace import TwinWorkspace

    twin = ensure_twin(data, console)
    return TwinWorkspace(spec_path=path, stack_name=stack or path.stem, data_dir=data, twin=twin, project_dir=project)


DATA = typer.Option("--data", help="The twin's data directory (the Pulumi backend and passphrase live there too).")
STACK = typer.Option("--stack", help="The stack (default: the spec file's name).")
PROJECT = typer.Option("--project", help="The Pulumi project (default: the nearest Pulumi.yaml above the spec).")
EVENT_LOG = typer.Option("--event-log", help="Append the engine's event stream here (JSON lines, secrets masked).")


def up_command(
    path: Annotated[Path, typer.Argument(help="The stack's spec file (stacks/<stack>.yaml).")],
    data: Annotated[Path, DATA] = DEFAULT_DATA_DIR,
    stack: Annotated[str | None, STACK] = None,
    project: Annotated[Path | None, PROJECT] = None,
    config: Annotated[list[str], typer.Option("--config", help="KEY=VALUE: plain stack config.")] = [],  # noqa: B006
    secret: Annotated[list[str], typer.Option("--secret", help="KEY=VALUE: secret stack config.")] = [],  # noqa: B006
    secret_from_env: Annotated[
        list[str],
        typer.Option("--secret-from-env", help="KEY=VARIABLE: secret stack config from an environment variable."),
    ] = [],  # noqa: B006
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    junit_path: Annotated[Path | None, typer.Option("--junit", help="Write the smoke JUnit XML here.")] = None,
    policy_config: Annotated[
        Path | None, typer.Option("--policy-config", help="Policy pack configuration (Pulumi's JSON format).")
    ] = None,
    smoke: Annotated[bool, typer.Option("--smoke/--no-smoke", help="Smoke-test every vault after applying.")] = True,
    refresh: Annotated[
        bool, typer.Option("--refresh/--no-refresh", help="Refresh the state from the twin first (repairs drift).")
    ] = True,
    event_log: Annotated[Path | None, EVENT_LOG] = None,
) -> None:
    """Preview, policy-check and apply a spec to the twin with the Pulumi engine, then smoke-test it."""
    from vaultspec.cli import known_policy_names, report_problems, report_spec_error
    from vaultspec.engine.deploy import deploy
    from vaultspec.engine.plan import policy_summary, violations_table
    from vaultspec.engine.progress import StepView
    from vaultspec.engine.toolchain import ToolchainError
    from vaultspec.engine.workspace import WorkspaceError
    from vaultspec.smoke.console import render_summary

    console = Console(highlight=False)
    report = UpReport(command="up", spec=str(path), stack=stack or path.stem, passed=False)
    try:
        checked = check_spec(path, known_policy_names(), stack=report.stack)
    except SpecError as error:
        report_spec_error(error)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    report_problems(checked.warnings)
    spec = checked.spec
    for name, verdict in before_apply(spec, twin=True).items():
        console.print(f"note: {verdict.note(name)}")
    if policy_config is not None and not policy_config.is_file():
        typer.echo(f"{policy_config}: no such policy config file", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)
    try:
        settings = _settings(config, secret, secret_from_env)
        workspace = _workspace(path, stack, data, project, console)
        report.twin = twin_summary(data, workspace.twin)
        with StepView(console, f"vaultspec up: {report.stack}") as view:
            result = deploy(
                workspace,
                spec,
                settings,
                policy_config=policy_config,
                refresh=refresh,
                listener=view.on_step,
                event_log=event_log,
            )
    except (WorkspaceError, ToolchainError) as error:
        typer.echo(f"{path}: {error}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    report.violations = [v.model_dump(mode="json") for v in result.verdicts]
    shown = [v for v in result.verdicts if v.blocking or v.waived or v.level == "advisory"]
    if shown:
        console.print(violations_table(shown))
    console.print(policy_summary(result.verdicts))
    if result.blocked and any(v.blocking for v in result.verdicts):
        console.print("[bold red]up: a mandatory policy is violated; nothing was applied[/bold red]")
        _write_reports(report, json_path, None, [])
        raise typer.Exit(EXIT_POLICY_VIOLATION)
    if result.missing:
        for message in result.missing:
            typer.echo(f"{path}: {message}", err=True)
        console.print("[bold red]up: secrets the spec reads are not set; nothing was applied[/bold red]")
        report.errors = result.missing
        _write_reports(report, json_path, None, [])
        raise typer.Exit(EXIT_SPEC_ERROR)
    _report_run(report, result, console)
    smoke_reports = _smoke(spec, result.outputs, workspace.twin, console) if result.succeeded and smoke else []
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
    data: Annotated[Path, DATA] = DEFAULT_DATA_DIR,
    stack: Annotated[str | None, STACK] = None,
    project: Annotated[Path | None, PROJECT] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    event_log: Annotated[Path | None, EVENT_LOG] = None,
) -> None:
    """Remove what `vaultspec up` made for this spec: `pulumi destroy` of its stack (newest first)."""
    from vaultspec.engine.deploy import destroy
    from vaultspec.engine.progress import StepView
    from vaultspec.engine.toolchain import ToolchainError
    from vaultspec.engine.workspace import WorkspaceError

    console = Console(highlight=False)
    report = UpReport(command="down", spec=str(path), stack=stack or path.stem, passed=False)
    try:
        workspace = _workspace(path, stack, data, project, console)
        report.twin = twin_summary(data, workspace.twin)
        with StepView(console, f"vaultspec down: {report.stack}") as view:
            result = destroy(workspace, listener=view.on_step, event_log=event_log)
    except (WorkspaceError, ToolchainError) as error:
        typer.echo(f"{path}: {error}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    _report_run(report, result, console)
    report.passed = result.succeeded
    _write_reports(report, json_path, None, [])
    _verdict_line(report, console)
    if not report.passed:
        raise typer.Exit(EXIT_FAILED)


def _report_run(report: UpReport, result: Any, console: Console) -> None:
    report.resources = result.changes
    report.changes = result.counts or {
        a.value: 0 for a in (Action.CREATE, Action.UPDATE, Action.DELETE, Action.SAME, Action.RECOVERED)
    }
    report.hooks = result.hooks
    report.errors = result.errors
    if any(c.action != Action.SAME for c in result.changes):
        console.print(changes_table(result.changes, f"vaultspec {report.command}: {report.stack}"))
    for hook in result.hooks:
        mark = "[green]passed[/green]" if hook.passed else "[bold red]FAILED[/bold red]"
        console.print(f"hook {mark} {hook.name}: {hook.message}")
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
