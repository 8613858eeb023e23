"""Policy-pack config as the CLI applies it: per-policy > `all` > policy level > pack level; schema
defaults filled in; invalid config rejected with the policy named."""

from __future__ import annotations

import json

import pytest

from tests.policies.builders import component, diagnostic_setting, key, vault
from vaultspec.engine.analyzer import PolicyConfigError, load_policy_config, policy_host

UNSAFE = vault(enablePurgeProtection=False, publicNetworkAccess="Enabled")


def _levels(judge, config):
    verdicts = judge([component(), UNSAFE, diagnostic_setting(UNSAFE)], config)
    return {v.policy: v.level for v in verdicts}


def test_policy_levels_apply_without_config(judge):
    assert _levels(judge, None) == {"kv-purge-protection": "mandatory", "kv-public-network-disabled": "advisory"}


def test_all_overrides_every_policy_level(judge):
    assert _levels(judge, {"all": "advisory"}) == {
        "kv-purge-protection": "advisory",
        "kv-public-network-disabled": "advisory",
    }


def test_per_policy_config_overrides_all(judge):
    config = {"all": "mandatory", "kv-purge-protection": {"enforcementLevel": "advisory"}}
    assert _levels(judge, config) == {"kv-purge-protection": "advisory", "kv-public-network-disabled": "mandatory"}


def test_per_policy_level_as_plain_string(judge):
    assert _levels(judge, {"kv-public-network-disabled": "mandatory"})["kv-public-network-disabled"] == "mandatory"


def test_disabled_policy_reports_nothing(judge):
    assert "kv-purge-protection" not in _levels(judge, {"kv-purge-protection": "disabled"})
    assert _levels(judge, {"all": "disabled"}) == {}


def test_remediate_without_remediation_reports_as_mandatory(judge):
    assert _levels(judge, {"kv-public-network-disabled": "remediate"})["kv-public-network-disabled"] == "mandatory"


def test_schema_defaults_are_filled_in_and_kept_when_only_the_level_changes():
    reconciled = policy_host().reconcile({"kv-key-rsa-min-size": {"enforcementLevel": "advisory"}})
    entry = reconciled["kv-key-rsa-min-size"]
    assert (entry.level, entry.properties) == ("advisory", {"minimumRSAKeySize": 3072})
    assert reconciled["kv-soft-delete-retention"].properties == {"minimumRetentionDays": 90}
    assert reconciled["kv-purge-protection"].properties is None


def test_given_parameters_merge_over_defaults():
    reconciled = policy_host().reconcile({"kv-firewall-ip-rules": {"minimumPrefixLength": 28}})
    assert reconciled["kv-firewall-ip-rules"].properties == {
        "minimumPrefixLength": 28,
        "minimumIPv6PrefixLength": 48,
        "allowedRanges": [],
    }


def test_issue_example_config_sets_level_and_parameter_together(judge):
    config = {"all": "mandatory", "kv-key-rsa-min-size": {"minimumRSAKeySize": 4096, "enforcementLevel": "advisory"}}
    owner = vault()
    verdicts = judge([component(), owner, diagnostic_setting(owner), key(owner=owner)], config)
    assert [(v.policy, v.level, v.message) for v in verdicts] == [
        ("kv-key-rsa-min-size", "advisory", "properties.keySize is below the minimum of 4096 bits")
    ]


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"kv-key-rsa-min-size": {"minimumRSAKeySize": 1024}}, "kv-key-rsa-min-size: minimumRSAKeySize: 1024"),
        ({"kv-soft-delete-retention": {"minimumRetentionDays": "ninety"}}, "kv-soft-delete-retention"),
        ({"kv-key-allowed-types": {"allowedKeyTypes": ["DES"]}}, "kv-key-allowed-types: allowedKeyTypes/0"),
        ({"kv-purge-protection": "strict"}, '"strict" is not a valid enforcement level'),
        ({"kv-purge-protection": {"enforcementLevel": 1}}, "kv-purge-protection"),
        ({"kv-purge-protection": 3}, "must be a string or object"),
        ({"kv-typo": {"minimumRSAKeySize": 4096}}, 'unknown policy "kv-typo"'),
        ({"environments": ["org/env"]}, "cannot be resolved offline"),
    ],
)
def test_invalid_config_is_rejected_naming_the_policy(config, fragment):
    with pytest.raises(PolicyConfigError) as raised:
        policy_host().reconcile(config)
    assert any(fragment in error for error in raised.value.errors), raised.value.errors


def test_unknown_policy_with_a_level_is_ignored_like_the_cli_does(judge):
    assert _levels(judge, {"kv-not-a-rule": "mandatory"}) == _levels(judge, None)


def test_config_file_is_read_and_its_errors_name_the_file(tmp_path):
    good = tmp_path / "policy-config.json"
    good.write_text(json.dumps({"all": "mandatory"}))
    assert load_policy_config(good) == {"all": "mandatory"}
    bad = tmp_path / "broken.json"
    bad.write_text('{"all": "mandatory",\n  oops}')
    with pytest.raises(PolicyConfigError) as raised:
        load_policy_config(bad)
    assert raised.value.errors[0].startswith(f"{bad}:2:")
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(PolicyConfigError, match="must be a JSON object"):
        load_policy_config(listed)
    with pytest.raises(PolicyConfigError, match="cannot read"):
        load_policy_config(tmp_path / "missing.json")
