"""Crash safety under stress: N runs of concurrent SDK writes, SIGKILL at a random moment, restart, verify.

Run: .venv/bin/python bench/reliability_crash.py --runs 50 [--writers 4] [--max-acks 80] [--seed 1000]

Each run is `tests/reliability/crash.py:run_once` in a fresh data dir: 4 writer threads (secrets, and
EC P-256 / RSA-2048 keys, official SDK clients, retries off) until a random number of writes is
acknowledged, SIGKILL, `PRAGMA integrity_check`, restart on the same data dir, then every
acknowledged write is read back (secret values compared, keys sign server-side and verify locally).
Prints one line per run and the totals: writes acknowledged vs lost, corrupt, in flight.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.reliability` lives in the repo

from tests.reliability.crash import run_once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--max-acks", type=int, default=80, help="kill after 3..N acknowledged writes")
    parser.add_argument("--seed", type=int, default=1000, help="seed of the first run (then +1 per run)")
    args = parser.parse_args()
    totals = {"acknowledged": 0, "lost": 0, "corrupt": 0, "in_flight": 0, "in_flight_present": 0, "failed_runs": 0}
    for run in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="reliability-crash-"))
        try:
            report = run_once(work, writers=args.writers, seed=args.seed + run, max_acks=args.max_acks)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        totals["acknowledged"] += report.acknowledged
        totals["lost"] += len(report.lost)
        totals["corrupt"] += len(report.corrupt)
        totals["in_flight"] += report.in_flight
        totals["in_flight_present"] += report.in_flight_present
        totals["failed_runs"] += 0 if report.ok else 1
        print(
            f"run {run + 1:3d}: acknowledged {report.acknowledged:3d}, lost {len(report.lost)}, "
            f"corrupt {len(report.corrupt)}, in flight {report.in_flight} ({report.in_flight_present} landed), "
            f"integrity {report.integrity}, restarted {report.restarted}, "
            f"audit lines {report.audit_lines} ({report.audit_bad_lines} bad), {report.seconds:.1f} s",
            flush=True,
        )
        for problem in report.lost + report.corrupt:
            print(f"          {problem}", flush=True)
    print(
        f"\n{args.runs} SIGKILL runs: {totals['acknowledged']} writes acknowledged, {totals['lost']} lost, "
        f"{totals['corrupt']} corrupt; {totals['in_flight']} in flight at the kill "
        f"({totals['in_flight_present']} of them landed intact); {totals['failed_runs']} runs failed a check"
    )
    return 0 if totals["lost"] == totals["corrupt"] == totals["failed_runs"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
