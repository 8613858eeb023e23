"""Cold start: from spawning the twin process to its first HTTPS answers (goal < 1 s).

Run: .venv/bin/python bench/twin_cold_start.py

Spawns `python -m vaultspec.twin.server` (what `start_background` runs) with 1 worker and with one
worker per core (what `vaultspec twin serve` runs), each on a brand-new data dir (CA, server
certificate, token key and master key are generated, the vault is created) and again on that
existing data dir, 5 times each. Three moments are timed from the spawn, as an SDK meets them:

- first answer: `GET /secrets/probe` without a token -> 401 with the challenge (an SDK's first call);
- first token: the identity endpoint's answer (the credential's next call);
- first routed answer: `GET /secrets` with that token -> 200, which needs the FastAPI routers
  (they load in the background once the server listens).

Prints the medians and their ratios to the 1 s goal.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vaultspec.twin import server

VAULT = "coldkv"
STARTS = int(os.environ.get("BENCH_STARTS", "5"))


def _request(port: int, ca: Path, raw: bytes) -> bytes | None:
    """One request on a new TLS connection; None while the twin is not answering yet."""
    try:
        context = ssl.create_default_context(cafile=str(ca))
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as plain,
            context.wrap_socket(plain, server_hostname="localhost") as tls,
        ):
            tls.sendall(raw)
            chunks = []
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
    except (OSError, ssl.SSLError):
        return None


def _get(host: str, path: str, headers: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n".encode()


def milestones(data: Path, port: int, workers: int) -> tuple[float, float, float]:
    """Seconds from spawn to: first answer, first token, first routed answer."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "vaultspec.twin.server", "--data", str(data), "--port", str(port)]
    command += ["--vault", VAULT, "--workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    vault_host = f"{VAULT}.vault.localhost:{port}"
    try:
        while True:
            answer = _request(port, data / "ca.pem", _get(vault_host, "/secrets/probe?api-version=7.6"))
            if answer is not None and answer.startswith(b"HTTP/1.1 401"):
                first = time.perf_counter() - started
                break
            if time.perf_counter() - started > 30:
                raise RuntimeError("no answer in 30 s")
            time.sleep(0.002)
        header = (data / server.IDENTITY_HEADER_FILE).read_text().strip()
        query = f"api-version=2019-08-01&resource=https://vault.localhost:{port}"
        answer = _request(
            port, data / "ca.pem", _get(f"localhost:{port}", f"/msi/token?{query}", f"X-IDENTITY-HEADER: {header}\r\n")
        )
        assert answer is not None and answer.startswith(b"HTTP/1.1 200"), answer
        token = json.loads(answer.split(b"\r\n\r\n", 1)[1])["access_token"]
        first_token = time.perf_counter() - started
        answer = _request(
            port,
            data / "ca.pem",
            _get(vault_host, "/secrets?api-version=7.6", f"Authorization: Bearer {token}\r\n"),
        )
        assert answer is not None and answer.startswith(b"HTTP/1.1 200"), answer
        return first, first_token, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    cores = len(os.sched_getaffinity(0))
    print(f"cores: {cores}; load average now: {os.getloadavg()[0]:.2f}; medians of {STARTS} starts")
    print(f"{'workers':>7}  {'data dir':<9} {'first answer':>13} {'first token':>12} {'first routed':>13}")
    for workers in sorted({1, cores}):
        fresh, again = [], []
        for _ in range(STARTS):
            data = Path(tempfile.mkdtemp(prefix="twin-cold-"))
            port = server._free_port()
            fresh.append(milestones(data, port, workers))
            again.append(milestones(data, port, workers))
            shutil.rmtree(data, ignore_errors=True)
        for label, runs in (("new", fresh), ("existing", again)):
            first, token, routed = (statistics.median(column) for column in zip(*runs, strict=True))
            print(f"{workers:>7}  {label:<9} {first:>11.3f} s {token:>10.3f} s {routed:>11.3f} s")
    print("ratio to the 1 s goal = the seconds above (goal: first answer < 1 s)")


if __name__ == "__main__":
    main()
