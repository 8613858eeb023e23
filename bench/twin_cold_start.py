"""Cold start: from spawning the twin process to its first HTTPS answer (goal < 1 s).

Run: .venv/bin/python bench/twin_cold_start.py
Measures a brand-new data dir (CA, server certificate, token key and master key are generated) and a
restart over an existing data dir, 5 times each; prints the medians and their ratio to the 1 s goal.
"""

from __future__ import annotations

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


def first_answer(data: Path, port: int) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vaultspec.twin.server",
            "--data",
            str(data),
            "--port",
            str(port),
            "--vault",
            "coldkv",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    request = f"GET /secrets HTTP/1.1\r\nHost: coldkv.vault.localhost:{port}\r\nConnection: close\r\n\r\n".encode()
    try:
        while True:
            ca = data / "ca.pem"
            try:
                context = ssl.create_default_context(cafile=str(ca))
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=1) as raw,
                    context.wrap_socket(raw, server_hostname="localhost") as tls,
                ):
                    tls.sendall(request)
                    if tls.recv(64).startswith(b"HTTP/1.1 401"):
                        return time.perf_counter() - started
            except (OSError, ssl.SSLError):
                time.sleep(0.005)
            if time.perf_counter() - started > 30:
                raise RuntimeError("no answer in 30 s")
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    fresh, warm = [], []
    for _ in range(5):
        data = Path(tempfile.mkdtemp(prefix="twin-cold-"))
        port = server._free_port()
        fresh.append(first_answer(data, port))
        warm.append(first_answer(data, port))
        shutil.rmtree(data, ignore_errors=True)
    first, again = statistics.median(fresh), statistics.median(warm)
    print(f"first start (new data dir), median of 5: {first:.3f} s; ratio to the 1 s goal: {first:.2f}")
    print(f"restart (existing data dir), median of 5: {again:.3f} s; ratio to the 1 s goal: {again:.2f}")


if __name__ == "__main__":
    main()
