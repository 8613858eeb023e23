"""Waivers: a `waiver:<rule>` tag turns that rule's findings into advisory, reasoned, non-blocking
verdicts — through the same diagnostic channel a real `pulumi preview/up` prints."""

from __future__ import annotations

import pytest
from pulumi.runtime import proto

from tests.policies.builders import (
    KEY_VAULT_ADMINISTRATOR,
    analyze_request,
    component,
    diagnostic_setting,
    findings,
    key,
    role_assignment,
    secret,
    vault,
    with_tags,
)
from vaultspec.engine.analyzer import UNKNOWN, PolicyHost, has_blocking_violation, policy_host
from vaultspec.policies.waivers import NoticeItem, PolicyNotice, parse_notice

REASON = "legacy vault; migration tracked in SEC-42"


def _audited(item):
    return [component(), item, diagnostic_setting(item)]


def test_waived_mandatory_finding_is_reported_as_waived_with_its_reason_and_does_not_block(judge):
    item = with_tags(vault(enablePurgeProtection=False), **{"waiver:kv-purge-protection": REASON})
    verdicts = judge(_audited(item))
    assert [(v.policy, v.level, v.urn, v.waived, v.reason) for v in verdicts] == [
        ("kv-purge-protection", "advisory", item["urn"], True, REASON)
    ]
    assert verdicts[0].message.startswith("properties.enablePurgeProtection is not true")
    assert not has_blocking_violation(verdicts)


def test_the_same_finding_without_waiver_blocks(judge):
    assert has_blocking_violation(judge(_audited(vault(enablePurgeProtection=False))))


def test_waiver_stays_advisory_even_when_config_makes_every_rule_mandatory(judge):
    item = with_tags(vault(publicNetworkAccess="Enabled"), **{"waiver:kv-public-network-disabled": REASON})
    verdicts = judge(_audited(item), {"all": "mandatory"})
    assert [(v.policy, v.level, v.waived) for v in verdicts] == [("kv-public-network-disabled", "advisory", True)]


def test_waiver_tag_names_are_case_insensitive_like_arm_tags(judge):
    item = with_tags(vault(enablePurgeProtection=False), **{"Waiver:KV-Purge-Protection": REASON})
    assert [v.waived for v in judge(_audited(item))] == [True]


def test_waiver_with_an_empty_reason_is_ignored(judge):
    item = with_tags(vault(enablePurgeProtection=False), **{"waiver:kv-purge-protection": "  "})
    verdicts = judge(_audited(item))
    assert [(v.level, v.waived) for v in verdicts] == [("mandatory", False)]


def test_waiver_on_a_rule_that_finds_nothing_produces_nothing(judge):
    item = with_tags(vault(), **{"waiver:kv-purge-protection": REASON})
    assert judge(_audited(item)) == []


def test_waiver_covers_only_the_named_rule(judge):
    item = with_tags(
        vault(enablePurgeProtection=False, softDeleteRetentionInDays=7), **{"waiver:kv-purge-protection": REASON}
    )
    verdicts = judge(_audited(item))
    assert {(v.policy, v.waived) for v in verdicts} == {
        ("kv-purge-protection", True),
        ("kv-soft-delete-retention", False),
    }


def test_every_finding_of_a_waived_rule_is_listed(judge):
    item = with_tags(
        vault(networkAcls={"defaultAction": "Allow", "bypass": "AzureServices"}),
        **{"waiver:kv-firewall-default-deny": REASON},
    )
    verdicts = judge(_audited(item))
    assert len(verdicts) == 2 and all(v.waived and v.reason == REASON for v in verdicts)


def test_waiver_on_keys_and_secrets(judge):
    owner = vault()
    weak = with_tags(key(owner=owner, keySize=2048), **{"waiver:kv-key-rsa-min-size": REASON})
    forever = with_tags(secret(attributes={}), **{"waiver:kv-secret-expiry": REASON})
    verdicts = judge([component(), owner, diagnostic_setting(owner), weak, forever])
    assert {(v.policy, v.urn, v.waived) for v in verdicts} == {
        ("kv-key-rsa-min-size", weak["urn"], True),
        ("kv-secret-expiry", forever["urn"], True),
    }


def both_orders(resources, config=None):
    """Verdicts of the routed host and of the engine's plain call order, which must agree."""
    host = policy_host()
    routed, plain = host.analyze(resources, config), host.analyze(resources, config, route_by_type=False)
    assert routed == plain
    return routed


def test_a_vaults_waiver_covers_its_keys_and_secrets_findings():
    owner = with_tags(vault(), **{"waiver:kv-key-rsa-min-size": REASON, "waiver:kv-secret-expiry": REASON})
    weak, forever = key(owner=owner, keySize=2048), secret(attributes={})
    verdicts = both_orders([component(), owner, diagnostic_setting(owner), weak, forever])
    assert {(v.policy, v.urn, v.waived, v.reason) for v in verdicts} == {
        ("kv-key-rsa-min-size", weak["urn"], True, REASON),
        ("kv-secret-expiry", forever["urn"], True, REASON),
    }


def test_a_vaults_waiver_does_not_reach_a_vault_of_the_same_name_in_another_group():
    owner = with_tags(vault(), **{"waiver:kv-key-rsa-min-size": REASON})
    elsewhere = key(owner=owner, keySize=2048)
    elsewhere["inputs"]["resourceGroupName"] = "rg-other"
    verdicts = both_orders([component(), owner, diagnostic_setting(owner), elsewhere])
    assert [(v.policy, v.level, v.waived) for v in verdicts] == [("kv-key-rsa-min-size", "mandatory", False)]


def test_a_vaults_waiver_covers_nothing_in_other_vaults():
    waived = with_tags(vault(), **{"waiver:kv-key-rsa-min-size": REASON})
    other = vault("billing", "billing-kv")
    weak = key(owner=other, component_name="billing", keySize=2048)
    stack = [component(), waived, diagnostic_setting(waived), component("billing"), other]
    verdicts = both_orders([*stack, diagnostic_setting(other, component_name="billing"), weak])
    assert [(v.policy, v.urn, v.waived) for v in verdicts] == [("kv-key-rsa-min-size", weak["urn"], False)]


def test_a_key_analyzed_before_its_vault_is_not_waived_by_it():
    """The engine analyzes each resource as it registers; a lookup that finds nothing never waives."""
    owner = with_tags(vault(), **{"waiver:kv-key-rsa-min-size": REASON})
    early = key(owner=owner, keySize=2048)
    verdicts = both_orders([component(), early, owner, diagnostic_setting(owner)])
    assert [(v.policy, v.level, v.waived) for v in verdicts] == [("kv-key-rsa-min-size", "mandatory", False)]


def test_a_key_whose_vault_name_is_unknown_at_preview_is_unchecked_not_blocking():
    owner = with_tags(vault(), **{"waiver:kv-key-rsa-min-size": REASON})
    weak = key(owner=owner, keySize=2048)
    weak["inputs"]["vaultName"] = UNKNOWN
    verdicts = findings(both_orders([component(), owner, diagnostic_setting(owner), weak]), "kv-key-rsa-min-size")
    assert [(v.level, v.waived) for v in verdicts] == [("advisory", False)]
    assert "of the resource or its vault are not known yet" in verdicts[0].message


def test_a_vault_whose_name_is_unknown_waives_nothing_by_name():
    owner = with_tags(vault(), **{"waiver:kv-key-rsa-min-size": REASON})
    weak = key(owner=owner, keySize=2048)
    owner["inputs"]["vaultName"] = UNKNOWN
    verdicts = findings(both_orders([component(), owner, diagnostic_setting(owner), weak]), "kv-key-rsa-min-size")
    assert [(v.level, v.waived) for v in verdicts] == [("mandatory", False)]


def test_stack_rule_waiver_is_read_from_the_vault_tags(judge):
    owner = with_tags(vault(), **{"waiver:kv-diagnostics": "logs shipped by the SIEM agent"})
    verdicts = judge([component(), owner])
    assert [(v.policy, v.urn, v.waived, v.reason) for v in verdicts] == [
        ("kv-diagnostics", owner["urn"], True, "logs shipped by the SIEM agent")
    ]


def test_hsm_premium_waiver_on_the_key_or_on_the_vault(judge):
    standard = vault(sku={"family": "A", "name": "standard"})
    waived_on_key = with_tags(key(owner=standard), **{"waiver:kv-hsm-requires-premium": REASON})
    verdicts = findings(judge([standard, waived_on_key]), "kv-hsm-requires-premium")
    assert [(v.urn, v.waived) for v in verdicts] == [(waived_on_key["urn"], True)]
    waived_on_vault = with_tags(standard, **{"waiver:kv-hsm-requires-premium": REASON})
    verdicts = findings(judge([waived_on_vault, key(owner=waived_on_vault)]), "kv-hsm-requires-premium")
    assert [v.waived for v in verdicts] == [True]


def test_rbac_waiver_is_read_from_the_vault_of_the_assignment(judge):
    owner = with_tags(vault(), **{"waiver:kv-rbac-least-privilege": "break-glass automation, reviewed quarterly"})
    grant = role_assignment(role=KEY_VAULT_ADMINISTRATOR, owner=owner)
    verdicts = judge([component(), owner, diagnostic_setting(owner), grant])
    assert [(v.urn, v.waived) for v in verdicts] == [(grant["urn"], True)]


def test_stack_rule_mixes_waived_and_blocking_findings_per_vault(judge):
    waived = with_tags(vault("a", "kv-a"), **{"waiver:kv-diagnostics": REASON})
    plain = vault("b", "kv-b")
    verdicts = judge([component("a"), component("b"), waived, plain])
    assert {(v.urn, v.waived) for v in verdicts} == {(waived["urn"], True), (plain["urn"], False)}


def test_unknown_tags_make_a_finding_uncheckable_rather_than_waived_or_blocking(judge):
    item = vault(enablePurgeProtection=False)
    item["inputs"]["tags"] = UNKNOWN
    verdicts = findings(judge(_audited(item)), "kv-purge-protection")
    assert [(v.level, v.waived) for v in verdicts] == [("advisory", False)]
    assert "tags (waivers) of the resource or its vault are not known yet" in verdicts[0].message


def test_the_servicer_emits_waivers_as_advisory_diagnostics_carrying_the_reason():
    """What the Pulumi engine receives for a waived mandatory finding (and prints as advisory)."""
    servicer = PolicyHost().servicer
    mandatory = proto.PolicyConfig(enforcementLevel=proto.MANDATORY)
    servicer.Configure(proto.ConfigureAnalyzerRequest(policyConfig={"kv-purge-protection": mandatory}), None)
    item = with_tags(vault(enablePurgeProtection=False), **{"waiver:kv-purge-protection": REASON})
    response = servicer.Analyze(analyze_request(item), None)
    (diagnostic,) = [d for d in response.diagnostics if d.policyName == "kv-purge-protection"]
    assert diagnostic.enforcementLevel == proto.ADVISORY
    assert REASON in diagnostic.message and "waived" in diagnostic.message
    assert list(response.not_applicable) == []  # the engine would drop a not_applicable reason


@pytest.mark.parametrize(
    "reason",
    ['with "quotes", braces {} and\nnewlines\nwaived {"urn": "fake"}', "ünïcödé ✓", "x" * 256],
    ids=["hostile", "unicode", "max length"],
)
def test_notice_lines_round_trip_any_reason(reason):
    items = [NoticeItem("waived", "urn:pulumi:s::p::t::n", "finding", reason), NoticeItem("unchecked", "u", "m")]
    notice = PolicyNotice(items)
    message = f"can't run policy 'p' from policy pack 'x@v0.0.1' during preview: {notice.message}"
    assert parse_notice(message) == items


def test_plain_preview_messages_carry_no_notice_items():
    assert parse_notice("can't run policy 'p' from policy pack 'x@v1' during preview: string value at .a") == []
