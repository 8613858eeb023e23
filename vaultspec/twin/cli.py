"""`vaultspec twin ...`: run the local Key Vault and point programs at it.

- `serve [--port P] [--data DIR] [--vault NAME]... [--workers N]` — foreground; each `--vault` is created
  if missing, administered by the twin's default identity (Key Vault Administrator); N server
  processes share the port (default: one per usable core); once it listens it prints (stderr) its
  port, the vaults' URLs and the `eval` lines for `env` and `az`;
- `env [--data DIR]` — `export` lines so `eval "$(vaultspec twin env)"` makes any unmodified Azure SDK
  program with DefaultAzureCredential use the running twin;
- `az [--data DIR]` — lines so `eval "$(vaultspec twin az)"` points the official Azure CLI at the twin
  (its own AZURE_CONFIG_DIR, the twin's cloud registered by discovery and selected, `az login
  --identity`); see `vaultspec.twin.azure_cli`;
- `hosts NAME... [--write]` — `/etc/hosts` lines for `NAME.vault.localhost` (`--write` appends the
  missing ones to /etc/hosts, idempotently);
- `stop [--data DIR]`; `audit [--data DIR] [--follow]` — the audit log (JSON lines).
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import typer

from vaultspec.twin.azure_cli import session_lines
from vaultspec.twin.domain.vaults import check_vault_name
from vaultspec.twin.errors import ArmError
from vaultspec.twin.server import DEFAULT_DATA_DIR, TwinInfo, find_running, serve, stop, usable_cores

twin_app = typer.Typer(help="The local Key Vault twin.", no_args_is_help=True)
HOSTS_FILE = Path("/etc/hosts")
HOSTS_MARK = "# vaultspec twin"

DATA = typer.Option(DEFAULT_DATA_DIR, "--data", help="Data dir of the twin.")


@twin_app.command("serve")
def serve_command(
    port: int = typer.Option(None, "--port", help="HTTPS port (default: the remembered one, else a free one)."),
    data: Path = DATA,
    vault: list[str] = typer.Option([], "--vault", help="Create this vault if missing (repeatable)."),
    workers: int = typer.Option(
        None, "--workers", min=1, help="Server processes sharing the port (default: one per usable core)."
    ),
) -> None:
    """Run the twin in the foreground."""
    if find_running(data) is not None:
        typer.echo(f"error: a twin already serves {data}; stop it with `vaultspec twin stop --data {data}`", err=True)
        raise typer.Exit(2)
    for name in vault:
        try:
            check_vault_name(name)
        except ArmError as exc:
            typer.echo(f"error: --vault {name}: {exc.message}", err=True)
            raise typer.Exit(2) from exc
    count = workers or usable_cores()

    def announce(info: TwinInfo) -> None:
        for line in listening_lines(info, data, vault, count):
            typer.echo(line, err=True)

    serve(data, port, tuple(vault), count, on_listening=announce)


def listening_lines(info: TwinInfo, data: Path, vaults: list[str], workers: int) -> list[str]:
    """What `twin serve` prints once it listens: its port, its vaults, how to point programs at it."""
    data_option = "" if data == DEFAULT_DATA_DIR else f" --data {shlex.quote(str(data))}"
    return [
        f"vaultspec twin: listening on port {info.port} (ARM {info.arm_url}); data {data}; "
        f"{workers} worker process(es); Ctrl-C stops it",
        *(f"  vault {name}: {info.vault_url(name)}" for name in vaults),
        f'  Azure SDK programs: eval "$(vaultspec twin env{data_option})"',
        f'  Azure CLI:          eval "$(vaultspec twin az{data_option})"',
        f'  Pulumi CLI:         eval "$(vaultspec twin pulumi-env{data_option})"',
    ]


def _running_or_exit(data: Path) -> TwinInfo:
    info = find_running(data)
    if info is None:
        typer.echo(
            f"error: no twin is running for {data}; start one with `vaultspec twin serve --data {data}`",
            err=True,
        )
        raise typer.Exit(1)
    return info


@twin_app.command("env")
def env_command(data: Path = DATA) -> None:
    """Print `export` lines for the running twin."""
    for key, value in _running_or_exit(data).env().items():
        typer.echo(f"export {key}={shlex.quote(value)}")


@twin_app.command("pulumi-env")
def pulumi_env_command(data: Path = DATA) -> None:
    """Print `export` lines that make plain `pulumi` commands in this shell deploy to the running twin.

    The environment `vaultspec up` gives the engine (its file:// backend and passphrase in the data dir,
    the stand-in azure-native and random plugins and the built CLI first on PATH, the twin's identity and
    CA), for programs vaultspec does not run itself: a TypeScript or Go program using the component SDK.
    """
    from vaultspec.engine.toolchain import ToolchainError
    from vaultspec.engine.workspace import TwinWorkspace

    info = _running_or_exit(data)
    try:
        workspace = TwinWorkspace(spec_path=None, stack_name="", data_dir=data, twin=info, project_dir=Path.cwd())
        environment = workspace.environment()
    except ToolchainError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for key, value in environment.items():
        typer.echo(f"export {key}={shlex.quote(value)}")


@twin_app.command("az")
def az_command(data: Path = DATA) -> None:
    """Print the lines that point the Azure CLI at the running twin: `eval "$(vaultspec twin az)"`."""
    for line in session_lines(_running_or_exit(data)):
        typer.echo(line)
    typer.echo(
        "vaultspec twin az: each vault NAME must resolve to 127.0.0.1 for az; if `getent hosts "
        "NAME.vault.localhost` prints nothing, run `sudo vaultspec twin hosts NAME --write`",
        err=True,
    )


def hosts_lines(names: list[str]) -> list[str]:
    return [f"127.0.0.1 {name.lower()}.vault.localhost" for name in ["", *names] if name] + [
        "127.0.0.1 vault.localhost"
    ]


@twin_app.command("hosts")
def hosts_command(
    names: list[str] = typer.Argument(..., help="Vault names."),
    write: bool = typer.Option(False, "--write", help="Append the missing lines to /etc/hosts."),
) -> None:
    """Print (or append to /etc/hosts) the lines that resolve NAME.vault.localhost to loopback."""
    lines = hosts_lines(names)
    if not write:
        for line in lines:
            typer.echo(line)
        return
    try:
        present = {" ".join(line.split("#")[0].split()) for line in HOSTS_FILE.read_text().splitlines()}
        missing = [line for line in lines if line not in present]
        if missing:
            with HOSTS_FILE.open("a") as hosts:
                hosts.write("".join(f"{line} {HOSTS_MARK}\n" for line in missing))
    except OSError as exc:
        typer.echo(
            f"error: cannot update {HOSTS_FILE}: {exc.strerror}; run as root or add these lines yourself:",
            err=True,
        )
        for line in lines:
            typer.echo(line, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{HOSTS_FILE}: {len(missing)} line(s) added, {len(lines) - len(missing)} already present")


@twin_app.command("stop")
def stop_command(data: Path = DATA) -> None:
    """Stop the twin serving DATA."""
    if stop(data):
        typer.echo(f"stopped the twin for {data}")
    else:
        typer.echo(f"no twin was running for {data}")


@twin_app.command("audit")
def audit_command(
    data: Path = DATA, follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines.")
) -> None:
    """Print the audit log (JSON lines: time, plane, operationName, resultType, httpStatusCode, principal,
    vault, object, ...)."""
    path = data / "audit.jsonl"
    if not path.exists():
        typer.echo(f"error: no audit log at {path}", err=True)
        raise typer.Exit(1)
    with path.open() as log:
        while True:
            line = log.readline()
            if line:
                sys.stdout.write(line)
                continue
            if not follow:
                return
            sys.stdout.flush()
            time.sleep(0.2)
