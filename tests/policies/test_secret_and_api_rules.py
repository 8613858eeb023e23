"""Secret rules (expiry, content type), the preview-API rule, and the secret-value canary."""

from __future__ import annotations

import time
from typing import Any

from tests.policies.builders import DAY, component, diagnostic_setting, findings, key, secret, vault

CANARY = "canary-7f3a9c2e-never-print-me"


def judged(judge, *items: dict[str, Any], config: dict[str, Any] | None = None):
    owner = vault()
    return judge([component(), owner, diagnostic_setting(owner), *items], config)


def test_compliant_secret_draws_no_verdict(judge):
    assert judged(judge, secret()) == []


def test_secret_without_expiry_is_a_mandatory_violation(judge):
    verdicts = judged(judge, secret(attributes={"enabled": True}))
    assert [(v.policy, v.level, v.message) for v in verdicts] == [
        ("kv-secret-expiry", "mandatory", "properties.attributes.expires is not set: the object never expires")
    ]


def test_secret_expiry_limit_is_a_parameter_measured_from_now(judge):
    item = secret(attributes={"expires": int(time.time()) + 100 * DAY})
    assert judged(judge, item, config={"kv-secret-expiry": {"maximumValidityInDays": 120}}) == []
    verdicts = judged(judge, item, config={"kv-secret-expiry": {"maximumValidityInDays": 30}})
    assert [v.message for v in verdicts] == ["properties.attributes.expires is more than 30 days after evaluation time"]


def test_secret_without_content_type_is_advisory(judge):
    item = secret(contentType="  ")
    assert [(v.policy, v.level) for v in judged(judge, item)] == [("kv-secret-content-type", "advisory")]


def test_a_secret_value_present_in_inputs_never_reaches_a_verdict(judge):
    # The engine hands secrets to the pack unwrapped; every finding on this secret must stay value-free.
    item = secret(value=CANARY, contentType="", attributes={"expires": int(time.time()) - DAY})
    item["inputs"]["tags"] = {"waiver:kv-secret-expiry": "rotated by the app team"}
    verdicts = judged(judge, item)
    assert {v.policy for v in verdicts} == {"kv-secret-expiry", "kv-secret-content-type"}
    dumped = "".join(v.model_dump_json() for v in verdicts)
    assert CANARY not in dumped


def test_preview_api_versions_of_key_vault_are_mandatory_violations(judge):
    item = key()
    item["type"] = "azure-native:keyvault/v20241201preview:Key"
    verdicts = findings(judged(judge, item), "kv-preview-api-version")
    assert [(v.level, v.urn) for v in verdicts] == [("mandatory", item["urn"])]


def test_stable_explicit_versions_and_other_modules_pass_by_default(judge):
    stable = key()
    stable["type"] = "azure-native:keyvault/v20230701:Key"
    other = diagnostic_setting(vault())
    other["type"] = "azure-native:monitor/v20210501preview:DiagnosticSetting"
    other["urn"] = other["urn"].replace("audit", "audit-preview")
    assert findings(judged(judge, stable, other), "kv-preview-api-version") == []


def test_guarded_modules_are_a_parameter(judge):
    item = diagnostic_setting(vault())
    item["type"] = "azure-native:monitor/v20210501preview:DiagnosticSetting"
    item["urn"] = item["urn"].replace("audit", "audit-preview")
    config = {"kv-preview-api-version": {"modules": ["keyvault", "monitor"]}}
    assert [v.urn for v in findings(judged(judge, item, config=config), "kv-preview-api-version")] == [item["urn"]]
