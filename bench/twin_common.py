"""Shared set-up of the twin benchmarks: a twin in a temp dir, a token, `wrk` as load generator, and
the CPU accounting that makes figures from a shared machine readable.

wrk (C, one thread, keep-alive connections over TLS) is installed with apt-get when missing. It
connects to 127.0.0.1 and sets `Host: NAME.vault.localhost:PORT`, which is how the twin picks the vault.

Every run reports, next to its rate, who used the CPU meanwhile (from /proc): the twin's processes,
wrk, and everything else on the machine (other builds share these 2 cores), as cores busy on average.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from vaultspec import localhost
from vaultspec.twin import server

VAULT = "benchkv"
TICK = os.sysconf("SC_CLK_TCK")


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


@contextlib.contextmanager
def affinity(cpus: set[int] | None) -> Iterator[None]:
    """Run the block with this thread pinned to `cpus` (children started meanwhile inherit it)."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def start(workers: int, cpus: set[int] | None = None) -> tuple[server.TwinInfo, Path]:
    """A twin with `workers` processes in a new data dir, confined to `cpus` (None: all cores)."""
    localhost.install()
    data = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    with affinity(cpus):
        if workers == 1:  # also runs against the twin from before workers existed (for before/after runs)
            info = server.start_background(data, vaults=(VAULT,))
        else:
            info = server.start_background(data, vaults=(VAULT,), workers=workers)
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


def twin_pids(info: server.TwinInfo) -> list[int]:
    """The twin's process and its workers."""
    pids = [info.pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
                if int(fields[1]) == info.pid:
                    pids.append(int(entry.name))
    return pids


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system, all threads) used so far by `pids`."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK


@dataclass(frozen=True)
class Load:
    """What one wrk run measured and who used the CPU meanwhile (cores busy on average)."""

    rate: float
    non_2xx: int
    seconds: float
    twin_cores: float
    wrk_cores: float
    other_cores: float

    @property
    def twin_us_per_request(self) -> float:
        return self.twin_cores * 1e6 / self.rate if self.rate else float("inf")

    def cpu_line(self) -> str:
        return (
            f"CPU meanwhile (cores busy): twin {self.twin_cores:.2f}, wrk {self.wrk_cores:.2f}, "
            f"everything else on the machine {self.other_cores:.2f}; twin CPU per request "
            f"{self.twin_us_per_request:.0f} us"
        )


def wrk(
    info: server.TwinInfo,
    path: str,
    bearer: str,
    connections: int,
    seconds: float,
    body: str | None = None,
    cpus: set[int] | None = None,
) -> Load:
    """Run wrk (-t1) against `path` on the bench vault, pinned to `cpus` if given."""
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
    command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", script.name]
    command.append(f"https://127.0.0.1:{info.port}{path}")
    if cpus is not None:
        command = ["taskset", "-c", ",".join(map(str, sorted(cpus))), *command]
    pids = twin_pids(info)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    twin_before, busy_before, own_before = process_cpu(pids), machine_busy(), _own_cpu()
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    twin_used = process_cpu(pids) - twin_before
    busy = machine_busy() - busy_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_used = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    own_used = _own_cpu() - own_before
    Path(script.name).unlink(missing_ok=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    other = max(busy - twin_used - wrk_used - own_used, 0.0)
    return Load(
        rate, int(bad.group(1)) if bad else 0, elapsed, twin_used / elapsed, wrk_used / elapsed, other / elapsed
    )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
