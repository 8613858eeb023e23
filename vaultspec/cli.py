"""The `vaultspec` command: one sub-command per step of the flow."""

from __future__ import annotations

import typer

from vaultspec.twin.cli import twin_app

app = typer.Typer(
    name="vaultspec",
    help="Azure Key Vault as code: validate, plan, apply to the twin, smoke-test.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.add_typer(twin_app, name="twin")


def main() -> None:
    """Console-script entry point."""
    app()
