"""Secret GET requests per second over HTTPS keep-alive (goal >= 4,000/s on 2 cores).

Run: .venv/bin/python bench/twin_secret_get.py
Load generator: Debian's `wrk` (C; -t1 -c32), installed with apt-get if missing.

1. 2 cores (the goal's reading): the twin with one worker per core (what `twin serve` runs) and wrk
   share the machine's cores; wrk's own CPU is part of the bill.
2. one core: the twin (1 worker) confined to CPU 1, wrk to CPU 0: what one worker process does on
   one core of its own.

Each is the median of ROUNDS runs; every run prints who used the CPU meanwhile (the twin, wrk, and
everything else on the shared machine) and the twin's CPU time per request. The ratios printed are
against the goal and against Azure's per-vault limit (4,000 transactions per 10 s = 400/s).
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from twin_common import VAULT, Load, start, token, wrk

from vaultspec.twin import server
from vaultspec.twin.testing import secret_client, use_identity_of

SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
GOAL = 4000.0
AZURE = 400.0


def scenario(title: str, workers: int, twin_cpus: set[int] | None, wrk_cpus: set[int] | None) -> float:
    info, data = start(workers, twin_cpus)
    try:
        use_identity_of(info)
        secret_client(info, VAULT).set_secret("bench-secret", "v" * 64)
        bearer = token(info)
        path = "/secrets/bench-secret/?api-version=2026-04-01"
        wrk(info, path, bearer, CONNECTIONS, 2, cpus=wrk_cpus)  # warm-up
        loads: list[Load] = [wrk(info, path, bearer, CONNECTIONS, SECONDS, cpus=wrk_cpus) for _ in range(ROUNDS)]
    finally:
        server.stop(data)
    where = "all cores" if twin_cpus is None else f"CPU {min(twin_cpus)}"
    print(f"\n== {title}: twin {workers} worker(s) on {where}; wrk -t1 -c{CONNECTIONS} -d{SECONDS:g}s on ", end="")
    print("all cores" if wrk_cpus is None else f"CPU {min(wrk_cpus)}")
    for index, load in enumerate(loads, 1):
        print(f"   run {index}: {load.rate:7.0f} /s (non-2xx {load.non_2xx}); {load.cpu_line()}")
    rate = statistics.median(load.rate for load in loads)
    per_request = statistics.median(load.twin_us_per_request for load in loads)
    print(f"   median {rate:.0f} /s: ratio to the goal {rate / GOAL:.2f}, to Azure's limit {rate / AZURE:.1f}")
    print(f"   twin CPU per request (median) {per_request:.0f} us")
    return rate


def main() -> None:
    cores = len(os.sched_getaffinity(0))
    print(f"secret GET; cores: {cores}; load average now: {os.getloadavg()[0]:.2f}; goal {GOAL:.0f}/s")
    results = {f"{cores} cores": scenario(f"{cores} cores", cores, None, None)}
    if cores >= 2:
        results["one core"] = scenario("one core", 1, {cores - 1}, {0})
    print("\nsummary (median requests/s):")
    for title, rate in results.items():
        print(f"   {title:9s}: {rate:7.0f} /s  (goal ratio {rate / GOAL:.2f})")


if __name__ == "__main__":
    main()
