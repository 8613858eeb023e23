"""Shared set-up of the twin benchmarks: a twin in a temp dir, a token, and Debian's `wrk` as load generator.

wrk (C, one thread, keep-alive connections over TLS) is installed with apt-get when missing, so the
load generator costs little of the 2 cores the server also needs. It connects to 127.0.0.1 and sets the
`Host: NAME.vault.localhost:PORT` header, which is how the twin picks the vault.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import requests

from vaultspec import localhost
from vaultspec.twin import server

VAULT = "benchkv"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def start() -> tuple[server.TwinInfo, Path]:
    localhost.install()
    data = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    info = server.start_background(data, vaults=(VAULT,))
    return info, data


def token(info: server.TwinInfo) -> str:
    response = requests.get(
        info.identity_endpoint,
        params={"api-version": "2019-08-01", "resource": info.data_plane_resource},
        headers={"X-IDENTITY-HEADER": info.identity_header()},
        verify=info.ca_bundle,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def wrk(
    info: server.TwinInfo, path: str, bearer: str, connections: int, seconds: int, body: str | None = None
) -> tuple[float, int]:
    """Requests/s and the count of non-2xx answers for `path` on the bench vault."""
    lua = ['wrk.headers["Authorization"] = "Bearer ' + bearer + '"']
    lua.append(f'wrk.headers["Host"] = "{VAULT}.vault.localhost:{info.port}"')
    if body is not None:
        lua += [
            'wrk.method = "POST"',
            'wrk.headers["Content-Type"] = "application/json"',
            f"wrk.body = '{body}'",
        ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lua) + "\n")
    result = subprocess.run(
        [
            ensure_wrk(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            script.name,
            f"https://127.0.0.1:{info.port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    return rate, int(bad.group(1)) if bad else 0
