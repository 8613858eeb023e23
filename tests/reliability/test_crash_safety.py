"""Crash safety: acknowledged writes survive SIGKILL of the twin at a random moment (see `crash.py`).

Two bounded runs here (seeded, so CI repeats them); `bench/reliability_crash.py --runs N` repeats
the same run N times with fresh seeds and prints writes acknowledged vs lost.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash import run_once


@pytest.mark.parametrize("seed", [1, 2])
def test_acknowledged_writes_survive_sigkill_intact_and_the_store_reopens_cleanly(tmp_path: Path, seed: int) -> None:
    report = run_once(tmp_path, writers=4, seed=seed, max_acks=40)
    assert report.acknowledged >= 3
    assert report.integrity == "ok"
    assert report.restarted
    assert report.lost == []
    assert report.corrupt == []
    assert report.audit_bad_lines == 0
