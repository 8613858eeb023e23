"""stacks/prod.example.yaml passes every guardrail; each unsafe variant of it is caught by the right rule.

The real program is rendered offline (`vaultspec plan`'s path) and judged by the real pack. Expiry
rules measure from the evaluation time, so the clock is pinned to the day the example's dates were
chosen for: the example's keys expire 2027-10-01, and judged in 2028 they would rightly fail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from vaultspec.engine.plan import run_plan

PINNED_NOW = datetime(2026, 11, 28, tzinfo=UTC).timestamp()
PROD = Path(__file__).resolve().parents[2] / "stacks" / "prod.example.yaml"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vaultspec.policies.rule.evaluation_time", lambda: PINNED_NOW)


def verdicts_for(text: str, tmp_path: Path) -> list:
    spec = tmp_path / "prod.yaml"
    spec.write_text(text)
    _, verdicts = run_plan(spec)
    return verdicts


def test_the_production_example_has_no_finding_at_all(tmp_path: Path):
    assert verdicts_for(PROD.read_text(), tmp_path) == []


ADMIN_GRANT = """\
        - principal: 5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b   # storage account CMK identity
          principalType: ServicePrincipal
          role: Key Vault Administrator
"""

SOFT_DELETE = "softDelete: {retentionDays: 90, purgeProtection: true}"
ROTATION = "        rotation: {rotateAfterCreate: P90D, notifyBeforeExpiry: P30D, expiryTime: P1Y}\n"
KEY_EXPIRY = "        expires: 2027-10-01T00:00:00Z\n" + ROTATION
SECRET_VALUE = "        value: {fromConfig: dbPassword}\n"
WORKSPACE = (
    "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-observability-prod"
    "/providers/Microsoft.OperationalInsights/workspaces/law-prod"
)
RSA_3072 = "        type: RSA-HSM\n        size: 3072"

VARIANTS = [
    (SOFT_DELETE, SOFT_DELETE.replace("true", "false"), "kv-purge-protection", "mandatory"),
    (SOFT_DELETE, SOFT_DELETE.replace("90,", "30,"), "kv-soft-delete-retention", "mandatory"),
    ("publicAccess: disabled", "publicAccess: enabled", "kv-public-network-disabled", "advisory"),
    ("defaultAction: Deny", "defaultAction: Allow", "kv-firewall-default-deny", "advisory"),
    ("bypass: None", "bypass: AzureServices", "kv-firewall-default-deny", "advisory"),
    ("      bypass: None\n", "      bypass: None\n      ipRules: [0.0.0.0/0]\n", "kv-firewall-ip-rules", "mandatory"),
    ("    access:\n", "    enabledFor: [deployment]\n    access:\n", "kv-enabled-for-disabled", "advisory"),
    (RSA_3072, RSA_3072.replace("3072", "2048"), "kv-key-rsa-min-size", "mandatory"),
    (RSA_3072, RSA_3072.replace("RSA-HSM", "RSA"), "kv-key-hsm-backed", "advisory"),
    ("        curve: P-384", "        curve: P-256K", "kv-key-ec-curves", "advisory"),
    (KEY_EXPIRY, ROTATION, "kv-key-expiry", "mandatory"),
    (ROTATION, "", "kv-key-rotation", "advisory"),
    ("        expires: 2027-04-01T00:00:00Z\n", "", "kv-secret-expiry", "mandatory"),
    (SECRET_VALUE + "        contentType: text/plain\n", SECRET_VALUE, "kv-secret-content-type", "advisory"),
    (f"    diagnostics:\n      workspaceId: {WORKSPACE}\n", "", "kv-diagnostics", "advisory"),
    ("      grants:\n", "      grants:\n" + ADMIN_GRANT, "kv-rbac-least-privilege", "mandatory"),
]


@pytest.mark.parametrize(
    ("safe", "unsafe", "policy", "level"), VARIANTS, ids=[f"{v[2]}-{i}" for i, v in enumerate(VARIANTS)]
)
def test_each_unsafe_variant_is_caught_by_its_rule(tmp_path: Path, safe: str, unsafe: str, policy: str, level: str):
    text = PROD.read_text()
    assert safe in text, "the variant no longer matches the example; update the test"
    verdicts = verdicts_for(text.replace(safe, unsafe, 1), tmp_path)
    assert {v.policy for v in verdicts} == {policy}, [v.model_dump() for v in verdicts]
    assert all(v.level == level and not v.waived for v in verdicts)


def test_access_policies_instead_of_rbac_are_flagged(tmp_path: Path):
    text = PROD.read_text()
    start = text.index("    access:\n")
    end = text.index("    keys:\n")
    access = """\
    access:
      model: accessPolicies
      grants:
        - principal: 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
          keys: [get, sign, verify]
          secrets: [get]
"""
    verdicts = verdicts_for(text[:start] + access + text[end:], tmp_path)
    assert {v.policy for v in verdicts} == {"kv-rbac-authorization"}


def test_a_waiver_turns_a_mandatory_finding_into_a_recorded_exception(tmp_path: Path):
    text = PROD.read_text().replace("purgeProtection: true}", "purgeProtection: false}")
    text = text.replace(
        "    lock: CanNotDelete\n",
        "    lock: CanNotDelete\n"
        "    exceptions:\n"
        "      - {policy: kv-purge-protection, reason: migration window CHG-1234}\n",
    )
    (verdict,) = verdicts_for(text, tmp_path)
    assert (verdict.policy, verdict.waived, verdict.reason) == (
        "kv-purge-protection",
        True,
        "migration window CHG-1234",
    )
    assert not verdict.blocking
