"""Secret GET requests per second over HTTPS keep-alive (goal >= 4,000/s on 2 cores).

Run: .venv/bin/python bench/twin_secret_get.py
Load generator: Debian's `wrk` (C; -t1 -c32), installed with apt-get if missing. The server and wrk share
the machine's cores. The ratio printed is against the goal and against 10x Azure's per-vault limit
(4,000 transactions per 10 s = 400/s).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from twin_common import VAULT, start, token, wrk

from vaultspec.twin import server
from vaultspec.twin.testing import secret_client, use_identity_of

SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
GOAL = 4000.0


def main() -> None:
    info, data = start()
    try:
        use_identity_of(info)
        secret_client(info, VAULT).set_secret("bench-secret", "v" * 64)
        bearer = token(info)
        path = "/secrets/bench-secret/?api-version=2026-04-01"
        wrk(info, path, bearer, CONNECTIONS, 2)  # warm-up
        rate, bad = wrk(info, path, bearer, CONNECTIONS, SECONDS)
    finally:
        server.stop(data)
    print(f"cores: {os.cpu_count()}; wrk -t1 -c{CONNECTIONS} -d{SECONDS}s; non-2xx answers: {bad}")
    print(f"secret GET over HTTPS keep-alive: {rate:8.0f} /s")
    print(f"ratio to the goal ({GOAL:.0f}/s):     {rate / GOAL:.2f}")
    print(f"ratio to Azure's per-vault limit (400/s): {rate / 400:.1f}")


if __name__ == "__main__":
    main()
