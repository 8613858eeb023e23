"""Schemathesis against the twin's own /openapi.json, with valid tokens on each plane (see `fuzzing.py`).

A bounded, derandomized run (the same cases on every CI run): every documented operation, positive
and negative generation, random and pinned path parameters. No 5xx; every answer has a documented
status, content type, headers and body schema. `bench/reliability_fuzz.py` runs the long version.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.fuzzing import fuzz
from tests.reliability.twinhttp import TwinHttp

EXAMPLES = 3  # per operation x generation mode x path-parameter profile


@pytest.mark.parametrize("planes", [("data",), ("arm", "identity")], ids=["data-plane", "arm-and-identity"])
def test_fuzzed_requests_get_documented_answers_and_never_a_server_error(
    http: TwinHttp, planes: tuple[str, ...]
) -> None:
    report = fuzz(http, examples=EXAMPLES, planes=planes)
    assert report.cases >= 150, report.statuses
    assert report.server_errors == 0, report.failures
    assert report.failures == [], "\n".join(report.failures)
    log = (Path(http.info.data_dir) / "twin.log").read_text(errors="replace")
    assert "Traceback" not in log and "internal error" not in log
