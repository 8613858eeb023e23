"""`python -m vaultspec.sdks schema|build`: what `make schema` and `make sdks` run."""

from __future__ import annotations

import time

import typer

from vaultspec.engine.toolchain import ToolchainError, find_cli
from vaultspec.sdks.build import build_go, build_typescript
from vaultspec.sdks.provider import check_provider
from vaultspec.sdks.schema import SCHEMA_PATH, write_schema
from vaultspec.sdks.steps import BuildError

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command()
def schema() -> None:
    """Rewrite components/schema.json from the components (commit it: the SDKs are generated from it)."""
    changed = write_schema()
    typer.echo(f"{SCHEMA_PATH.name}: {'rewritten' if changed else 'unchanged'}")


@app.command()
def build() -> None:
    """Check the provider serves the committed schema; generate, link and compile both SDKs (cached by inputs)."""
    try:
        cli = find_cli()
        started = time.monotonic()
        check_provider(cli)
        typer.echo(f"sdks: component provider: serves components/schema.json ({time.monotonic() - started:.0f}s)")
        for language, builder in (("typescript", build_typescript), ("go", build_go)):
            started = time.monotonic()
            built = builder(cli)
            ran = ", ".join(built.steps_run) or "nothing changed"
            typer.echo(f"sdks: {language}: {ran} ({time.monotonic() - started:.0f}s)")
    except (BuildError, ToolchainError) as error:
        typer.echo(f"sdks: {error}", err=True)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
