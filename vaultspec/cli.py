"""The `vaultspec` command: one sub-command per step of the flow.

Exit codes: 0 ok; 1 a smoke check or apply failed; 2 usage or spec error; 3 mandatory policy violated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from vaultspec.byok.cli import byok_app
from vaultspec.engine.plan import plan_command
from vaultspec.engine.up import down_command, up_command
from vaultspec.smoke.cli import smoke as smoke_command
from vaultspec.spec import Problem, SpecError, check_specs
from vaultspec.spec.schema import spec_schema_text
from vaultspec.twin.cli import twin_app

app = typer.Typer(
    name="vaultspec",
    help="Azure Key Vault as code: validate, plan, apply to the twin, smoke-test.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_SPEC_ERROR = 2


def report_spec_error(error: SpecError) -> None:
    """Each problem as `FILE:LINE:COL: message` on stderr (the contract pipelines parse), with the
    warnings of the valid files as `FILE:LINE:COL: warning: message`."""
    report_problems([*error.warnings, *error.problems])


def report_problems(problems: list[Problem]) -> None:
    """`FILE:LINE:COL: [warning: ]message` on stderr, one per line."""
    for problem in problems:
        typer.echo(str(problem), err=True)


def known_policy_names() -> frozenset[str]:
    """Names of the policy pack's rules, so a waiver naming an unknown policy is caught early."""
    from vaultspec.policies import POLICY_NAMES

    return frozenset(POLICY_NAMES)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Spec files or folders of them (default: stacks/).")
    ] = None,
) -> None:
    """Validate spec files: exit 0 when valid (warnings included), 2 with FILE:LINE:COL errors otherwise."""
    try:
        checked = check_specs(paths or [Path("stacks")], known_policy_names())
    except SpecError as error:
        report_spec_error(error)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    report_problems([warning for result in checked.values() for warning in result.warnings])
    console = Console()
    for path, result in checked.items():
        vaults = ", ".join(v.name for v in result.spec.vaults)
        count = len(result.warnings)
        warned = f", {count} warning{'s' if count > 1 else ''}" if count else ""
        console.print(f"[green]ok[/green] {path} ({len(result.spec.vaults)} vaults: {vaults}{warned})", highlight=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema (2020-12) of a spec file."""
    typer.echo(spec_schema_text(), nl=False)


app.command(name="plan")(plan_command)
app.add_typer(twin_app, name="twin")
app.add_typer(byok_app, name="byok")
app.command(name="smoke")(smoke_command)
app.command(name="up")(up_command)
app.command(name="down")(down_command)


def main() -> None:
    """Console-script entry point."""
    app()
