"""Running the twin: foreground `serve`, and `start_background` / `find_running` / `stop` for other code.

Public API (other areas build on it; keep it stable):

- `TwinInfo` — what a running twin publishes in `<data>/twin.json`: `port`, `pid`, `tenant_id`,
  `subscription_id`, `default_object_id`, `ca_bundle`, `identity_endpoint`, `identity_header_file`
  (the header secret lives in that 0600 file, not in twin.json), plus `vault_url(name)`, `arm_url`,
  `identity_header()` and `env()` (the variables that point unmodified Azure SDK programs at the twin).
- `start_background(data_dir, port=None, vaults=(), workers=1) -> TwinInfo` — start (or reuse) a twin.
- `find_running(data_dir) -> TwinInfo | None`; `stop(data_dir)`.
- `serve(data_dir, port=None, vaults=(), workers=None, on_listening=None)` — run in the foreground (what
  `vaultspec twin serve` does); `workers` defaults to one process per usable core; `on_listening(info)`
  runs once the port is bound.

The port is remembered in `<data>/port`, so key and secret ids stay valid across restarts. The server
is uvicorn (httptools + uvloop) over TLS, HTTP/1.1 keep-alive with a 75 s idle timeout, bound to
127.0.0.1. Several workers share one listening socket under a supervising parent
(`vaultspec.twin.workers`); every cache is per process and re-checked against the store on each
request (`vaultspec.twin.read_cache`). Body and header limits live in `vaultspec.twin.http.edge`; the
per-request read deadline and head budget (slowloris) in `vaultspec.twin.http.protocol`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vaultspec.twin.store import write_private_file

DEFAULT_DATA_DIR = Path(".vaultspec/twin")
RUNTIME_FILE = "twin.json"
PORT_FILE = "port"
IDENTITY_HEADER_FILE = "identity-header"
LOG_FILE = "twin.log"
HOST = "127.0.0.1"
IDLE_TIMEOUT_S = int(os.environ.get("VAULTSPEC_TWIN_IDLE_TIMEOUT_S", "75"))  # keep-alive; shortened by tests


@dataclass(frozen=True)
class TwinInfo:
    """A running twin, as read from `<data>/twin.json`."""

    data_dir: str
    port: int
    pid: int
    tenant_id: str
    subscription_id: str
    default_object_id: str
    ca_bundle: str
    identity_endpoint: str
    identity_header_file: str

    def vault_url(self, name: str) -> str:
        return f"https://{name.lower()}.vault.localhost:{self.port}"

    @property
    def arm_url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def data_plane_resource(self) -> str:
        return f"https://vault.localhost:{self.port}"

    def identity_header(self) -> str:
        return Path(self.identity_header_file).read_text().strip()

    def env(self) -> dict[str, str]:
        """Variables that make DefaultAzureCredential and the SDK's HTTPS use this twin."""
        return {
            "REQUESTS_CA_BUNDLE": self.ca_bundle,
            "SSL_CERT_FILE": self.ca_bundle,
            "IDENTITY_ENDPOINT": self.identity_endpoint,
            "IDENTITY_HEADER": self.identity_header(),
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_SUBSCRIPTION_ID": self.subscription_id,
        }


def _identity_header(data_dir: Path) -> str:
    path = data_dir / IDENTITY_HEADER_FILE
    if not path.exists():
        write_private_file(path, secrets.token_urlsafe(32).encode())
    return path.read_text().strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def resolve_port(data_dir: Path, port: int | None) -> int:
    """The port to use: the one asked for, else the remembered one, else a free one (remembered)."""
    path = data_dir / PORT_FILE
    if port is None and path.exists():
        port = int(path.read_text().strip())
    if port is None:
        port = _free_port()
    path.write_text(str(port))
    return port


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited child not yet reaped) is not running
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def read_info(data_dir: Path) -> TwinInfo | None:
    path = Path(data_dir) / RUNTIME_FILE
    try:
        return TwinInfo(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def find_running(data_dir: Path | str = DEFAULT_DATA_DIR) -> TwinInfo | None:
    """The twin serving `data_dir`, if its process is alive and its port accepts connections."""
    info = read_info(Path(data_dir))
    if info is None or not _pid_alive(info.pid):
        return None
    try:
        with socket.create_connection((HOST, info.port), timeout=1):
            return info
    except OSError:
        return None


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity): the default worker count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class _Site:
    """What every worker needs, prepared once by the process that owns the data dir."""

    data_dir: Path
    port: int
    server_cert: Path
    server_key: Path
    identity_header: str


def _prepare(data_dir: Path, port: int | None, vaults: tuple[str, ...]) -> tuple[_Site, TwinInfo]:
    """TLS files, identity header, store (migrated, `vaults` created); nothing is left open afterwards."""
    from vaultspec.twin.domain.backend import TwinBackend
    from vaultspec.twin.http.identity_token import IDENTITY_PATH
    from vaultspec.twin.tls import ensure_tls

    data_dir.mkdir(parents=True, exist_ok=True)
    port = resolve_port(data_dir, port)
    tls = ensure_tls(data_dir)
    header = _identity_header(data_dir)
    backend = TwinBackend(data_dir, port)
    try:
        for name in vaults:
            backend.ensure_admin_vault(name)
        ids = backend.ids
    finally:
        backend.close()
    info = TwinInfo(
        data_dir=str(data_dir.resolve()),
        port=port,
        pid=os.getpid(),
        tenant_id=ids.tenant_id,
        subscription_id=ids.subscription_id,
        default_object_id=ids.default_object_id,
        ca_bundle=str(tls.ca_cert.resolve()),
        identity_endpoint=f"https://localhost:{port}{IDENTITY_PATH}",
        identity_header_file=str((data_dir / IDENTITY_HEADER_FILE).resolve()),
    )
    return _Site(data_dir, port, tls.server_cert, tls.server_key, header), info


def _listen(port: int) -> socket.socket:
    """The one listening socket every worker accepts from (so a second twin on the port fails to bind)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _run_worker(site: _Site, sock: socket.socket, sign_inline: bool) -> None:
    """Serve on `sock` until SIGINT/SIGTERM: uvicorn over TLS, the edge in front, FastAPI built behind it."""
    import uvicorn

    from vaultspec.twin.domain.backend import TwinBackend
    from vaultspec.twin.http.deferred_app import DeferredApp
    from vaultspec.twin.http.edge import TwinEdge
    from vaultspec.twin.http.protocol import TwinHttpProtocol

    backend = TwinBackend(site.data_dir, site.port)

    def build_routers() -> Any:
        from vaultspec.twin.http.app import create_routers

        return create_routers(backend, site.identity_header)

    routers = DeferredApp(build_routers)

    class TwinServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            routers.start()  # only once listening: the first answers need no FastAPI

    config = uvicorn.Config(
        TwinEdge(routers, backend, site.identity_header, sign_inline),
        http=TwinHttpProtocol,  # httptools + corked writes + lingering close + read deadline + head budget
        loop="uvloop",
        lifespan="off",
        ssl_certfile=str(site.server_cert),
        ssl_keyfile=str(site.server_key),
        timeout_keep_alive=IDLE_TIMEOUT_S,
        timeout_graceful_shutdown=1,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=True,
        proxy_headers=False,  # the caller is who the socket says (firewall rules depend on it)
    )
    # uvicorn re-raises the signal it stopped on; SIGTERM's default action would then end the process
    # before the store is closed, so SIGTERM becomes SystemExit here.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        TwinServer(config).run(sockets=[sock])
    finally:
        backend.close()


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(
    data_dir: Path | str = DEFAULT_DATA_DIR,
    port: int | None = None,
    vaults: tuple[str, ...] = (),
    workers: int | None = None,
    on_listening: Callable[[TwinInfo], None] | None = None,
) -> None:
    """Run the twin in the foreground until SIGINT/SIGTERM.

    `workers` processes (default: one per usable core) accept from one listening socket; with more
    than one, this process supervises them (`vaultspec.twin.workers`) and is the pid in twin.json.
    `on_listening(info)` runs once the port is bound and twin.json written (`twin serve` prints the
    port there): connections made from then on wait in the backlog until a worker accepts them.
    """
    data_dir = Path(data_dir)
    count = usable_cores() if workers is None else workers
    if count < 1:
        raise ValueError("workers must be at least 1")
    running = find_running(data_dir)
    if running is not None:
        raise RuntimeError(f"a twin already serves {data_dir} (pid {running.pid}, port {running.port})")
    site, info = _prepare(data_dir, port, vaults)
    sock = _listen(site.port)
    runtime = data_dir / RUNTIME_FILE
    tmp = runtime.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(info), indent=2))
    os.replace(tmp, runtime)
    if on_listening is not None:
        on_listening(info)
    sign_inline = count >= usable_cores()
    try:
        if count == 1:
            _run_worker(site, sock, sign_inline)
        else:
            import uvicorn.protocols.http.httptools_impl  # noqa: F401  (imported once, before the forks)
            import uvloop  # noqa: F401

            from vaultspec.twin.http import corked_protocol, deferred_app, edge  # noqa: F401
            from vaultspec.twin.workers import supervise

            supervise(count, lambda: _run_worker(site, sock, sign_inline))
    finally:
        sock.close()
        current = read_info(data_dir)
        if current is not None and current.pid == os.getpid():
            runtime.unlink(missing_ok=True)


def ensure_vaults(data_dir: Path | str, vaults: tuple[str, ...]) -> None:
    """Create admin vaults (as `--vault` does) in a data dir, whether or not its twin is running."""
    if not vaults:
        return
    from vaultspec.twin.domain.backend import TwinBackend

    data_dir = Path(data_dir)
    backend = TwinBackend(data_dir, resolve_port(data_dir, None))
    try:
        for name in vaults:
            backend.ensure_admin_vault(name)
    finally:
        backend.close()


def _ready(info: TwinInfo, timeout: float) -> bool:
    context = ssl.create_default_context(cafile=info.ca_bundle)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with (
                socket.create_connection((HOST, info.port), timeout=1) as raw,
                context.wrap_socket(raw, server_hostname="localhost"),
            ):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def start_background(
    data_dir: Path | str = DEFAULT_DATA_DIR,
    port: int | None = None,
    vaults: tuple[str, ...] = (),
    timeout: float = 30.0,
    workers: int = 1,
) -> TwinInfo:
    """Start a twin process for `data_dir` (or reuse the one running) and wait until it answers TLS.

    `workers` server processes (default 1, a single process: light for test sessions; `twin serve`
    defaults to one per core). A twin already running is reused whatever its worker count.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    running = find_running(data_dir)
    if running is not None:
        ensure_vaults(data_dir, vaults)
        return running
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)
    command = [sys.executable, "-m", "vaultspec.twin.server", "--data", str(data_dir), "--workers", str(workers)]
    if port is not None:
        command += ["--port", str(port)]
    for name in vaults:
        command += ["--vault", name]
    with open(data_dir / LOG_FILE, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        info = read_info(data_dir)
        if info is not None and info.pid == process.pid:
            if _ready(info, max(end - time.monotonic(), 0.1)):
                return info
            break
        if process.poll() is not None:
            break
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    tail = (data_dir / LOG_FILE).read_text(errors="replace")[-2000:]
    raise RuntimeError(f"the twin did not start for {data_dir}; last log lines:\n{tail}")


def stop(data_dir: Path | str = DEFAULT_DATA_DIR, timeout: float = 10.0) -> bool:
    """Stop the twin serving `data_dir` (SIGTERM, then SIGKILL). True if one was running."""
    data_dir = Path(data_dir)
    info = read_info(data_dir)
    if info is None or not _pid_alive(info.pid):
        (data_dir / RUNTIME_FILE).unlink(missing_ok=True)
        return False
    os.kill(info.pid, signal.SIGTERM)
    end = time.monotonic() + timeout
    while time.monotonic() < end and _pid_alive(info.pid):
        time.sleep(0.02)
    if _pid_alive(info.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGKILL)
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)
    return True


def main(argv: list[str] | None = None) -> None:
    """`python -m vaultspec.twin.server --data DIR [--port P] [--vault NAME]... [--workers N]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="vaultspec.twin.server")
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--port", type=int)
    parser.add_argument("--vault", action="append", default=[])
    parser.add_argument("--workers", type=int, help="server processes (default: one per usable core)")
    args = parser.parse_args(argv)
    serve(Path(args.data), args.port, tuple(args.vault), args.workers)


if __name__ == "__main__":
    main()
