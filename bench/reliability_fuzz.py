"""Long schemathesis run against the twin's /openapi.json; prints cases run and server errors found.

Run: .venv/bin/python bench/reliability_fuzz.py [--examples 60] [--seed 7]

Starts a twin in a temporary data dir and runs `tests/reliability/fuzzing.py:fuzz` with `--examples`
cases per operation x generation mode (positive, negative) x path-parameter profile (random, pinned
to real objects), seeded instead of derandomized (so each --seed explores other cases, reproducibly).
Every answer is checked: no 5xx, documented status code, content type, headers and body schema.
Exit status 1 when any check failed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.reliability` lives in the repo

from tests.reliability.fuzzing import fuzz
from tests.reliability.twinhttp import TwinHttp
from vaultspec.twin import server
from vaultspec.twin.testing import start_twin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60, help="cases per operation x mode x profile")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="reliability-fuzz-"))
    info = start_twin(data, vaults=("twinkv",))
    http = TwinHttp(info)
    started = time.monotonic()
    try:
        report = fuzz(http, examples=args.examples, derandomize=False, seed=args.seed, shrink=False)
        log = (data / "twin.log").read_text(errors="replace")
    finally:
        http.close()
        server.stop(data)
        shutil.rmtree(data, ignore_errors=True)
    elapsed = time.monotonic() - started
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(report.statuses.items()))
    print(f"operation x mode x profile runs: {len(report.labels)} ({len(report.unsatisfiable)} had no case to make)")
    print(f"cases: {report.cases} in {elapsed:.0f} s ({report.cases / elapsed:.1f}/s); statuses: {statuses}")
    print(f"server errors (5xx): {report.server_errors}; tracebacks in the twin log: {log.count('Traceback')}")
    print(f"failed checks: {len(report.failures)}")
    for failure in report.failures:
        print(f"  {failure}")
    return 0 if not report.failures and not report.server_errors and "Traceback" not in log else 1


if __name__ == "__main__":
    sys.exit(main())
