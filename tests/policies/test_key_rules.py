"""Key rules: type, strength, curve, expiry against evaluation time, rotation, exportability."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.policies.builders import DAY, component, diagnostic_setting, findings, key, vault


def judged(judge, item: dict[str, Any], config: dict[str, Any] | None = None):
    """The key with its (compliant, premium) vault and audit logs; only the key's verdicts."""
    owner = vault()
    verdicts = judge([component(), owner, diagnostic_setting(owner), item], config)
    return [v for v in verdicts if v.urn == item["urn"]]


def test_compliant_rsa_hsm_key_draws_no_verdict(judge):
    assert judged(judge, key()) == []


def test_compliant_ec_hsm_key_draws_no_verdict(judge):
    assert judged(judge, key(kty="EC-HSM", keySize=None, curveName="P-384")) == []


def _rotation(*actions: dict[str, Any], expiry: str | None = "P1Y") -> dict[str, Any]:
    policy: dict[str, Any] = {"lifetimeActions": list(actions)}
    if expiry is not None:
        policy["attributes"] = {"expiryTime": expiry}
    return policy


def _rotate(**trigger: str) -> dict[str, Any]:
    return {"action": {"type": "Rotate"}, "trigger": trigger}


VIOLATIONS = [
    ("software key", key(kty="RSA"), "kv-key-hsm-backed", "advisory", "not an HSM-backed type"),
    ("small RSA key", key(keySize=2048), "kv-key-rsa-min-size", "mandatory", "below the minimum of 3072 bits"),
    ("RSA size unset", key(keySize=None), "kv-key-rsa-min-size", "mandatory", "Key Vault creates 2048-bit"),
    ("secp256k1", key(kty="EC-HSM", keySize=None, curveName="P-256K"), "kv-key-ec-curves", "advisory", "curves"),
    ("no expiry", key(attributes={"enabled": True}), "kv-key-expiry", "mandatory", "is not set"),
    (
        "expired",
        key(attributes={"expires": int(time.time()) - DAY}),
        "kv-key-expiry",
        "mandatory",
        "is in the past",
    ),
    (
        "expiry too far",
        key(attributes={"expires": int(time.time()) + 400 * DAY}),
        "kv-key-expiry",
        "mandatory",
        "more than 365 days after evaluation time",
    ),
    ("no rotation policy", key(rotationPolicy=None), "kv-key-rotation", "advisory", "is not set"),
    (
        "notify only",
        key(rotationPolicy=_rotation({"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}})),
        "kv-key-rotation",
        "advisory",
        "no Rotate lifetime action",
    ),
    (
        "rotates after two years",
        key(rotationPolicy=_rotation(_rotate(timeAfterCreate="P2Y"), expiry="P3Y")),
        "kv-key-rotation",
        "advisory",
        "later than 365 days",
    ),
    (
        "rotation before a distant expiry",
        key(rotationPolicy=_rotation(_rotate(timeBeforeExpiry="P30D"), expiry="P2Y")),
        "kv-key-rotation",
        "advisory",
        "later than 365 days",
    ),
    (
        "rotation duration garbled",
        key(rotationPolicy=_rotation(_rotate(timeAfterCreate="90 days"))),
        "kv-key-rotation",
        "advisory",
        "not an ISO 8601 duration",
    ),
    (
        "exportable",
        key(attributes={"expires": int(time.time()) + 30 * DAY, "exportable": True}),
        "kv-key-not-exportable",
        "advisory",
        "exportable is true",
    ),
    (
        "release policy",
        key(releasePolicy={"contentType": "application/json; charset=utf-8", "data": "e30"}),
        "kv-key-not-exportable",
        "advisory",
        "releasePolicy is set",
    ),
]


@pytest.mark.parametrize(("case", "item", "policy", "level", "fragment"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_unsafe_key_is_caught_by_its_rule(judge, case, item, policy, level, fragment):
    properties = item["inputs"]["properties"]
    for field in [name for name, value in properties.items() if value is None]:
        del properties[field]
    verdicts = judged(judge, item)
    assert [(v.policy, v.level) for v in verdicts] == [(policy, level)], case
    assert fragment in verdicts[0].message


def test_rotation_before_expiry_within_the_limit_passes(judge):
    item = key(rotationPolicy=_rotation(_rotate(timeBeforeExpiry="P60D"), expiry="P1Y"))
    assert judged(judge, item) == []


def test_key_type_allow_list_is_a_parameter(judge):
    config = {"kv-key-allowed-types": {"allowedKeyTypes": ["EC-HSM"]}}
    verdicts = judged(judge, key(), config)
    assert [(v.policy, v.message) for v in verdicts] == [
        ("kv-key-allowed-types", "properties.kty is not one of the allowed key types (EC-HSM)")
    ]


def test_key_without_kty_is_reported_by_the_type_rules(judge):
    item = key()
    del item["inputs"]["properties"]["kty"]
    assert {v.policy for v in judged(judge, item)} == {"kv-key-hsm-backed", "kv-key-allowed-types"}


def test_rsa_minimum_is_a_parameter(judge):
    config = {"kv-key-rsa-min-size": {"minimumRSAKeySize": 4096}}
    verdicts = findings(judged(judge, key(keySize=3072), config), "kv-key-rsa-min-size")
    assert [v.message for v in verdicts] == ["properties.keySize is below the minimum of 4096 bits"]
    assert judged(judge, key(keySize=2048), {"kv-key-rsa-min-size": {"minimumRSAKeySize": 2048}}) == []


def test_ec_curve_unset_means_p256_which_passes_by_default_and_fails_when_excluded(judge):
    item = key(kty="EC-HSM")
    del item["inputs"]["properties"]["keySize"]
    assert judged(judge, item) == []
    config = {"kv-key-ec-curves": {"allowedECNames": ["P-384"]}}
    assert [v.policy for v in judged(judge, item, config)] == ["kv-key-ec-curves"]


def test_curve_rule_ignores_rsa_keys_and_size_rule_ignores_ec_keys(judge):
    config = {"kv-key-ec-curves": {"allowedECNames": ["P-521"]}, "kv-key-rsa-min-size": {"minimumRSAKeySize": 4096}}
    rsa = key(keySize=4096)
    ec = key("ec", kty="EC", curveName="P-521", keySize=256)
    config["kv-key-hsm-backed"] = "disabled"
    assert judged(judge, rsa, config) == [] and judged(judge, ec, config) == []


def test_maximum_validity_is_measured_from_evaluation_time(judge):
    in_200_days = key(attributes={"expires": int(time.time()) + 200 * DAY})
    assert judged(judge, in_200_days) == []
    verdicts = judged(judge, in_200_days, {"kv-key-expiry": {"maximumValidityInDays": 90}})
    assert [v.message for v in verdicts] == ["properties.attributes.expires is more than 90 days after evaluation time"]


def test_rotation_limit_is_a_parameter(judge):
    config = {"kv-key-rotation": {"maximumDaysToRotate": 60}}
    assert [v.policy for v in judged(judge, key(), config)] == ["kv-key-rotation"]


def test_keys_of_other_providers_are_not_judged(judge):
    item = key(kty="RSA", keySize=1024)
    item["type"] = "azure:keyvault/key:Key"
    assert judged(judge, item) == []
