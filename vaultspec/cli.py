"""The `vaultspec` command: one sub-command per step of the flow."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="vaultspec",
    help="Azure Key Vault as code: validate, plan, apply to the twin, smoke-test.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point."""
    app()
