"""Machine-readable reports: JSON (`--json`) and JUnit XML (`--junit`) for pipeline test tabs.

JSON: one vault is exactly `{"vault","passed","checks":[{"object","check","status","detail","ms"}]}`;
several vaults (`--stack`) are `{"passed": <all>, "vaults": [<one document per vault>]}`.

JUnit: `<testsuites>` with one `<testsuite name="<vault>">` per vault and one `<testcase>` per check
(`classname` = `<vault>.<kind>.<object name>`, `name` = the check); failed checks carry a
`<failure message=detail>`, skipped ones a `<skipped message=detail>`. GitHub's and Azure DevOps'
JUnit publishers both read this shape.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from vaultspec.smoke.results import SmokeReport, StackReport


def json_document(reports: list[SmokeReport]) -> dict:
    if len(reports) == 1:
        return reports[0].model_dump(mode="json")
    return StackReport.of(reports).model_dump(mode="json")


def json_text(reports: list[SmokeReport]) -> str:
    return json.dumps(json_document(reports), indent=2) + "\n"


def junit_text(reports: list[SmokeReport]) -> str:
    suites = ET.Element("testsuites", name="vaultspec smoke")
    totals = {"tests": 0, "failures": 0, "skipped": 0, "time": 0.0}
    for report in reports:
        seconds = sum(c.ms for c in report.checks) / 1000
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=report.vault,
            tests=str(len(report.checks)),
            failures=str(report.count("failed")),
            errors="0",
            skipped=str(report.count("skipped")),
            time=f"{seconds:.3f}",
        )
        for check in report.checks:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{report.vault}.{check.object.replace('/', '.')}",
                name=check.check,
                time=f"{check.ms / 1000:.3f}",
            )
            if check.status == "failed":
                ET.SubElement(case, "failure", message=check.detail, type="SmokeCheckFailed").text = check.detail
            elif check.status == "skipped":
                ET.SubElement(case, "skipped", message=check.detail)
            else:
                ET.SubElement(case, "system-out").text = check.detail
        totals["tests"] += len(report.checks)
        totals["failures"] += report.count("failed")
        totals["skipped"] += report.count("skipped")
        totals["time"] += seconds
    suites.set("tests", str(totals["tests"]))
    suites.set("failures", str(totals["failures"]))
    suites.set("errors", "0")
    suites.set("skipped", str(totals["skipped"]))
    suites.set("time", f"{totals['time']:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _write(path: Path | str, text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def write_json(reports: list[SmokeReport], path: Path | str) -> None:
    _write(path, json_text(reports))


def write_junit(reports: list[SmokeReport], path: Path | str) -> None:
    _write(path, junit_text(reports))
