"""Running the twin: foreground `serve`, and `start_background` / `find_running` / `stop` for other code.

Public API (other areas build on it; keep it stable):

- `TwinInfo` — what a running twin publishes in `<data>/twin.json`: `port`, `pid`, `tenant_id`,
  `subscription_id`, `default_object_id`, `ca_bundle`, `identity_endpoint`, `identity_header_file`
  (the header secret lives in that 0600 file, not in twin.json), plus `vault_url(name)`, `arm_url`,
  `identity_header()` and `env()` (the variables that point unmodified Azure SDK programs at the twin).
- `start_background(data_dir, port=None, vaults=()) -> TwinInfo` — start (or reuse) a twin process.
- `find_running(data_dir) -> TwinInfo | None`; `stop(data_dir)`.
- `serve(data_dir, port=None, vaults=())` — run in the foreground (what `vaultspec twin serve` does).

The port is remembered in `<data>/port`, so key and secret ids stay valid across restarts. The server
is uvicorn (httptools + uvloop) over TLS, HTTP/1.1 keep-alive with a 75 s idle timeout, bound to
127.0.0.1. Body and header limits live in `vaultspec.twin.http.app`.
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
from dataclasses import asdict, dataclass
from pathlib import Path

from vaultspec.twin.store import write_private_file

DEFAULT_DATA_DIR = Path(".vaultspec/twin")
RUNTIME_FILE = "twin.json"
PORT_FILE = "port"
IDENTITY_HEADER_FILE = "identity-header"
LOG_FILE = "twin.log"
HOST = "127.0.0.1"
IDLE_TIMEOUT_S = 75


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


def _build(data_dir: Path, port: int | None, vaults: tuple[str, ...]) -> tuple[object, socket.socket, TwinInfo]:
    """Backend, app and a listening socket; the runtime file is written once the socket listens."""
    from vaultspec.twin.domain.backend import TwinBackend
    from vaultspec.twin.http.app import create_app
    from vaultspec.twin.http.identity import IDENTITY_PATH
    from vaultspec.twin.tls import ensure_tls

    data_dir.mkdir(parents=True, exist_ok=True)
    port = resolve_port(data_dir, port)
    tls = ensure_tls(data_dir)
    header = _identity_header(data_dir)
    backend = TwinBackend(data_dir, port)
    for name in vaults:
        backend.ensure_admin_vault(name)
    app = create_app(backend, header)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    info = TwinInfo(
        data_dir=str(data_dir.resolve()),
        port=port,
        pid=os.getpid(),
        tenant_id=backend.ids.tenant_id,
        subscription_id=backend.ids.subscription_id,
        default_object_id=backend.ids.default_object_id,
        ca_bundle=str(tls.ca_cert.resolve()),
        identity_endpoint=f"https://localhost:{port}{IDENTITY_PATH}",
        identity_header_file=str((data_dir / IDENTITY_HEADER_FILE).resolve()),
    )
    return (app, backend, tls), sock, info


def serve(data_dir: Path | str = DEFAULT_DATA_DIR, port: int | None = None, vaults: tuple[str, ...] = ()) -> None:
    """Run the twin in the foreground until SIGINT/SIGTERM."""
    import uvicorn

    data_dir = Path(data_dir)
    running = find_running(data_dir)
    if running is not None:
        raise RuntimeError(f"a twin already serves {data_dir} (pid {running.pid}, port {running.port})")
    (app, backend, tls), sock, info = _build(data_dir, port, vaults)
    config = uvicorn.Config(
        app,
        http="httptools",
        loop="uvloop",
        lifespan="off",
        ssl_certfile=str(tls.server_cert),
        ssl_keyfile=str(tls.server_key),
        timeout_keep_alive=IDLE_TIMEOUT_S,
        timeout_graceful_shutdown=1,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=True,
    )
    server = uvicorn.Server(config)
    runtime = data_dir / RUNTIME_FILE
    tmp = runtime.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(info), indent=2))
    os.replace(tmp, runtime)
    try:
        server.run(sockets=[sock])
    finally:
        current = read_info(data_dir)
        if current is not None and current.pid == os.getpid():
            runtime.unlink(missing_ok=True)
        backend.close()  # type: ignore[attr-defined]


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
) -> TwinInfo:
    """Start a twin process for `data_dir` (or reuse the one running) and wait until it answers TLS."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    running = find_running(data_dir)
    if running is not None:
        ensure_vaults(data_dir, vaults)
        return running
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)
    command = [sys.executable, "-m", "vaultspec.twin.server", "--data", str(data_dir)]
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
    """`python -m vaultspec.twin.server --data DIR [--port P] [--vault NAME]...` (start_background)."""
    import argparse

    parser = argparse.ArgumentParser(prog="vaultspec.twin.server")
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--port", type=int)
    parser.add_argument("--vault", action="append", default=[])
    args = parser.parse_args(argv)
    serve(Path(args.data), args.port, tuple(args.vault))


if __name__ == "__main__":
    main()
