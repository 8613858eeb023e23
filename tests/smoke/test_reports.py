"""Report shapes: JSON exactly as documented (one vault, or the several-vault wrapper), JUnit XML with one
testcase per check, and the console summary."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import jsonschema
from rich.console import Console

from tests.smoke.conftest import SmokedVault
from vaultspec.smoke import SmokeEvent
from vaultspec.smoke.console import SmokeProgress, render_summary
from vaultspec.smoke.report_files import json_document, json_text, junit_text

CHECK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["object", "check", "status", "detail", "ms"],
    "properties": {
        "object": {"type": "string", "pattern": "^(keys|secrets)/[0-9A-Za-z-]+$|^grants/[0-9]+$"},
        "check": {"type": "string", "minLength": 1},
        "status": {"enum": ["passed", "failed", "skipped"]},
        "detail": {"type": "string"},
        "ms": {"type": "integer", "minimum": 0},
    },
}
VAULT_DOCUMENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["vault", "passed", "checks"],
    "properties": {
        "vault": {"type": "string"},
        "passed": {"type": "boolean"},
        "checks": {"type": "array", "items": CHECK},
    },
}
STACK_DOCUMENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["passed", "vaults"],
    "properties": {"passed": {"type": "boolean"}, "vaults": {"type": "array", "items": VAULT_DOCUMENT}},
}


def test_one_vault_is_exactly_the_documented_json(healthy: SmokedVault) -> None:
    document = json.loads(json_text([healthy.report]))
    jsonschema.validate(document, VAULT_DOCUMENT)
    assert document["vault"] == healthy.name and document["passed"] is True
    assert len(document["checks"]) == len(healthy.report.checks)


def test_several_vaults_are_wrapped_with_an_overall_verdict(healthy: SmokedVault, sabotaged: SmokedVault) -> None:
    document = json_document([healthy.report, sabotaged.report])
    jsonschema.validate(document, STACK_DOCUMENT)
    assert document["passed"] is False
    assert [v["vault"] for v in document["vaults"]] == [healthy.name, sabotaged.name]
    assert [v["passed"] for v in document["vaults"]] == [True, False]


def test_junit_has_one_testcase_per_check_and_failures_with_messages(
    healthy: SmokedVault, sabotaged: SmokedVault
) -> None:
    root = ET.fromstring(junit_text([healthy.report, sabotaged.report]))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [healthy.name, sabotaged.name]
    for suite, report in zip(suites, (healthy.report, sabotaged.report), strict=True):
        cases = suite.findall("testcase")
        assert len(cases) == len(report.checks) == int(suite.get("tests"))
        failures = [c for c in cases if c.find("failure") is not None]
        assert len(failures) == report.count("failed") == int(suite.get("failures"))
        assert len([c for c in cases if c.find("skipped") is not None]) == report.count("skipped")
    case = next(
        c
        for c in root.iter("testcase")
        if c.get("classname") == f"{sabotaged.name}.keys.wrong-type" and c.get("name") == "type"
    )
    assert case.find("failure").get("message") == "declared EC but the vault reports kty RSA"
    assert int(root.get("tests")) == len(healthy.report.checks) + len(sabotaged.report.checks)


def test_console_summary_lists_objects_failures_and_the_verdict(sabotaged: SmokedVault) -> None:
    out = io.StringIO()
    render_summary([sabotaged.report], Console(file=out, width=200))
    text = out.getvalue()
    assert "keys/wrong-type" in text and "secrets/env-mismatch" in text
    assert "FAILED" in text and "declared EC but the vault reports kty RSA" in text
    assert "smoke failed" in text


def test_progress_bar_follows_the_run(healthy: SmokedVault) -> None:
    out = io.StringIO()
    with SmokeProgress(Console(file=out, force_terminal=True, width=120), "smoke demo") as progress:
        progress.on_event(SmokeEvent("planned", total=2))
        progress.on_event(SmokeEvent("waiting", "keys/k", "exists", reason="rbac", seconds=2.0))
        progress.on_event(SmokeEvent("finished", "keys/k", "exists", status="failed"))
        progress.on_event(SmokeEvent("finished", "keys/k", "type", status="passed"))
    assert "smoke demo" in out.getvalue()
