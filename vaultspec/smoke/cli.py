"""`vaultspec smoke`: smoke-test live vaults (Azure or the twin) with DefaultAzureCredential.

    vaultspec smoke --vault-url URL --spec PATH [--vault NAME] [--json FILE] [--junit FILE] [--check-grants]
    vaultspec smoke --stack NAME [--outputs FILE] [--spec PATH] ...

Exit 0 when every check passed (skips allowed), 1 when any check failed, 2 on usage or spec errors.
Against the twin: `eval "$(vaultspec twin env)"` first (identity endpoint, CA bundle); `*.localhost`
vault URLs resolve to loopback inside this process.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console

from vaultspec.smoke.console import SmokeProgress, render_summary
from vaultspec.smoke.options import DEFAULT_CONCURRENCY, DEFAULT_RBAC_WAIT_S, SmokeOptions
from vaultspec.smoke.report_files import json_text, write_json, write_junit
from vaultspec.smoke.results import SmokeReport
from vaultspec.smoke.runner import run_smoke
from vaultspec.smoke.stack import OutputsError, SmokeTarget, targets_for_stack
from vaultspec.spec import SpecError, load_spec
from vaultspec.spec.model import Spec, Vault

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments, an unreadable spec or outputs: exit 2 with this message."""


def pick_vault(spec: Spec, vault_url: str, name: str | None) -> Vault:
    """`--vault NAME`, else the vault named by the URL's first host label, else the spec's only vault."""
    by_name = {v.name.lower(): v for v in spec.vaults}
    names = ", ".join(v.name for v in spec.vaults)
    if name is not None:
        if name.lower() not in by_name:
            raise UsageError(f"--vault {name}: the spec declares no such vault (it declares: {names})")
        return by_name[name.lower()]
    label = (urlsplit(vault_url).hostname or "").split(".", 1)[0]
    if label in by_name:
        return by_name[label]
    if len(spec.vaults) == 1:
        return spec.vaults[0]
    raise UsageError(f"cannot tell which vault {vault_url} is; pass --vault NAME (the spec declares: {names})")


def check_url(vault_url: str) -> str:
    parts = urlsplit(vault_url)
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"--vault-url {vault_url}: expected https://NAME.vault.azure.net (Key Vault needs HTTPS)")
    return f"https://{parts.netloc}"


def _load(path: Path) -> Spec:
    if not path.exists():
        raise UsageError(f"{path}: spec file not found")
    return load_spec(path)


def resolve_targets(
    vault_url: str | None, spec: Path | None, vault: str | None, stack: str | None, outputs: Path | None
) -> list[SmokeTarget]:
    if (vault_url is None) == (stack is None):
        raise UsageError("give either --vault-url URL --spec PATH, or --stack NAME")
    if stack is not None:
        if spec is not None and not spec.exists():
            raise UsageError(f"{spec}: spec file not found")
        try:
            return targets_for_stack(stack, outputs, spec)
        except OutputsError as error:
            raise UsageError(str(error)) from None
    assert vault_url is not None
    if spec is None:
        raise UsageError("--vault-url needs --spec PATH (the spec the vault was deployed from)")
    url = check_url(vault_url)
    return [SmokeTarget(url, pick_vault(_load(spec), url, vault))]


async def smoke_targets(targets: list[SmokeTarget], options: SmokeOptions, console: Console) -> list[SmokeReport]:
    """Each target in turn, with one DefaultAzureCredential (trusting REQUESTS_CA_BUNDLE like the SDK clients)."""
    from azure.identity.aio import DefaultAzureCredential

    reports = []
    verify = options.connection_verify
    async with DefaultAzureCredential(
        **({"connection_verify": verify} if isinstance(verify, str) else {})
    ) as credential:
        for target in targets:
            with SmokeProgress(console, f"smoke {target.vault.name}") as progress:
                run_options = options.model_copy(update={"on_event": progress.on_event})
                reports.append(await run_smoke(target.vault_url, target.vault, credential, run_options))
    return reports


def smoke(
    vault_url: Annotated[
        str | None, typer.Option("--vault-url", help="The vault, e.g. https://NAME.vault.azure.net")
    ] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="The spec file the vault was deployed from.")] = None,
    vault: Annotated[
        str | None, typer.Option("--vault", help="Which vault of the spec (default: from the URL).")
    ] = None,
    stack: Annotated[str | None, typer.Option("--stack", help="Smoke every vault a Pulumi stack exports.")] = None,
    outputs: Annotated[
        Path | None, typer.Option("--outputs", help="A file of `pulumi stack output --json` (instead of the CLI).")
    ] = None,
    json_file: Annotated[str | None, typer.Option("--json", help="Write the JSON report here ('-' = stdout).")] = None,
    junit_file: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    check_grants: Annotated[
        bool, typer.Option("--check-grants", help="Also prove each grant whose principal this process can act as.")
    ] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Checks in flight.")] = (
        DEFAULT_CONCURRENCY
    ),
    rbac_wait: Annotated[
        float, typer.Option("--rbac-wait", min=0, help="Seconds to retry 403 ForbiddenByRbac (role propagation).")
    ] = DEFAULT_RBAC_WAIT_S,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every check, not only failures.")] = False,
) -> None:
    """Prove every declared key, secret (and grant) works on a live vault; exit 0 passed, 1 failed, 2 usage."""
    console = Console(stderr=json_file == "-", highlight=False)
    try:
        targets = resolve_targets(vault_url, spec, vault, stack, outputs)
    except SpecError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except UsageError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    options = SmokeOptions(
        concurrency=concurrency,
        rbac_wait=rbac_wait,
        check_grants=check_grants,
        connection_verify=os.environ.get("REQUESTS_CA_BUNDLE") or None,
    )
    reports = asyncio.run(smoke_targets(targets, options, console))
    render_summary(reports, console, verbose=verbose)
    if json_file == "-":
        typer.echo(json_text(reports), nl=False)
    elif json_file:
        write_json(reports, json_file)
    if junit_file:
        write_junit(reports, junit_file)
    raise typer.Exit(EXIT_OK if all(r.passed for r in reports) else EXIT_FAILED)
