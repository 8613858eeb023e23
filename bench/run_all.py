"""Run every benchmark in this folder, one after another, each in its own process (`make bench`).

Each script prints the ratios it measured in its own run; copy them into bench/RESULTS.md. The
reliability stress drivers (crash, fuzz) take much longer and run on their own (see RESULTS.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = (
    "spec_validate.py",
    "plan_render.py",
    "policies_analyze.py",
    "twin_cold_start.py",
    "twin_secret_get.py",
    "twin_sign.py",
    "smoke_concurrency.py",
    "engine_up.py",
)


def main() -> int:
    folder = Path(__file__).resolve().parent
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== {name}", flush=True)
        if subprocess.run([sys.executable, str(folder / name)], check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
