"""The offline host skips the resource policies that cannot judge a resource's type, and its verdicts
stay exactly those of calling the servicer as the engine does (one `Configure`, `Analyze` for every
resource with every policy, `AnalyzeStack`); what it derives once from the pack never hides a run's config."""

from __future__ import annotations

import copy
import gc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policies.builders import compliant_stack, component, diagnostic_setting, key, vault
from tests.policies.test_every_rule import VIOLATING
from vaultspec.engine.analyzer import (
    PolicyConfigError,
    PolicyHost,
    RenderedResource,
    Verdict,
    _vaults_lead,
    policy_host,
)
from vaultspec.engine.plan import policy_subjects
from vaultspec.engine.render import render_spec
from vaultspec.policies import RULES

ROOT = Path(__file__).resolve().parents[2]
PINNED_NOW = datetime(2026, 11, 28, tzinfo=UTC).timestamp()  # the day stacks/*.yaml's dates were chosen for
RESOURCE_RULES = [rule.name for rule in RULES if rule.kind == "resource"]
CONFIGS: list[dict[str, Any] | None] = [
    None,
    {"all": "mandatory"},
    {"all": "remediate"},
    {"all": "disabled"},
    {"kv-preview-api-version": "disabled"},
    # Only stack rules: no resource policy records inputs, under the engine or here.
    {"all": "disabled", "kv-hsm-requires-premium": "mandatory", "kv-diagnostics": "advisory"},
    # One vault rule left: every other type is judged by no enabled policy, yet its inputs must
    # still reach the ledger (the engine calls the vault rule on keys too, and it records them).
    {"all": "disabled", "kv-purge-protection": "advisory", "kv-hsm-requires-premium": "mandatory"},
    {"kv-key-rsa-min-size": {"minimumRSAKeySize": 4096}, "kv-key-expiry": {"maximumValidityInDays": 30}},
]


def engine_order(host: PolicyHost, stack: list[dict[str, Any]], config: dict[str, Any] | None) -> list[Verdict]:
    return host.analyze(stack, config, route_by_type=False)


def both_dispatches(stack: list[dict[str, Any]], config: dict[str, Any] | None) -> tuple[list[Verdict], list[Verdict]]:
    host = policy_host()
    return host.analyze(stack, config), engine_order(host, stack, config)


@pytest.mark.parametrize("config", CONFIGS, ids=repr)
def test_every_violating_example_gets_the_engine_order_verdicts_waived_or_not(config):
    for name, example in sorted(VIOLATING.items()):
        stack, waived_index = example()
        waived = copy.deepcopy(stack)
        waived[waived_index]["inputs"].setdefault("tags", {})[f"waiver:{name}"] = "accepted"
        for candidate in (stack, waived):
            routed, reference = both_dispatches(candidate, config)
            assert routed == reference, name


def test_types_no_enabled_policy_judges_still_reach_the_ledger():
    owner = vault(sku={"family": "A", "name": "standard"})
    item = key(owner=owner)
    stack = [component(), owner, diagnostic_setting(owner), item]
    config = {"all": "disabled", "kv-purge-protection": "advisory", "kv-hsm-requires-premium": "mandatory"}
    routed, reference = both_dispatches(stack, config)
    # The key's type comes from its recorded inputs: its preview outputs have `kty` unknown.
    assert [(v.policy, v.level, v.urn, v.waived) for v in routed] == [
        ("kv-hsm-requires-premium", "mandatory", item["urn"], False)
    ]
    assert routed == reference
    unrecorded = {"all": "disabled", "kv-hsm-requires-premium": "mandatory"}
    routed, reference = both_dispatches(stack, unrecorded)
    assert [(v.policy, v.level, v.message.startswith("cannot check yet")) for v in routed] == [
        ("kv-hsm-requires-premium", "advisory", True)
    ]
    assert routed == reference


@pytest.fixture(scope="module")
def rendered_stacks() -> dict[str, list[dict[str, Any]]]:
    return {
        name: policy_subjects(render_spec(ROOT / "stacks" / name).resources)
        for name in ("dev.yaml", "prod.example.yaml")
    }


@pytest.mark.parametrize("config", CONFIGS, ids=repr)
def test_the_rendered_stacks_get_the_engine_order_verdicts(rendered_stacks, config, monkeypatch):
    monkeypatch.setattr("vaultspec.policies.rule.evaluation_time", lambda: PINNED_NOW)
    for name, stack in rendered_stacks.items():
        routed, reference = both_dispatches(stack, config)
        assert routed == reference, name
    if config is None:  # dev.yaml has findings (waived ones among them): the comparison is not vacuous
        assert any(v.waived for v in both_dispatches(rendered_stacks["dev.yaml"], None)[0])


def test_rendered_stacks_of_several_vaults_are_routed(rendered_stacks):
    """Routing is not quietly off where it matters: each vault precedes the keys and secrets that
    look it up, though other vaults' keys come before it."""
    for name, stack in rendered_stacks.items():
        resources = [RenderedResource.model_validate(item) for item in stack]
        assert _vaults_lead(resources), name
    dev = [RenderedResource.model_validate(item) for item in rendered_stacks["dev.yaml"]]
    assert sum(r.type == "azure-native:keyvault:Vault" for r in dev) >= 2


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
TYPES = st.sampled_from(
    [
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
        "azure-native:keyvault/v20241201preview:Key",
        "azure-native:keyvault:AccessPolicy",
        "azure-native:monitor:DiagnosticSetting",
        "random:index/randomPassword:RandomPassword",
    ]
)
LEVEL_MAPS = st.dictionaries(
    st.sampled_from([*RESOURCE_RULES, "all"]), st.sampled_from(["advisory", "mandatory", "disabled"]), max_size=6
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    garbage=JSON,
    index=st.integers(0, 5),
    field=st.sampled_from(["properties", "tags", "kty"]),
    type_=TYPES,
    config=LEVEL_MAPS,
)
def test_any_input_type_and_levels_get_the_engine_order_verdicts(garbage, index, field, type_, config):
    stack = compliant_stack()
    stack[index]["inputs"][field] = garbage
    stack[(index + 1) % len(stack)]["type"] = type_
    routed, reference = both_dispatches(stack, config)
    assert routed == reference


def test_a_reused_host_applies_each_runs_config():
    host = PolicyHost()
    owner = vault()
    stack = [component(), owner, diagnostic_setting(owner), key(owner=owner)]
    strict = {"kv-key-rsa-min-size": {"minimumRSAKeySize": 4096}}
    assert [(v.policy, v.level) for v in host.analyze(stack, strict)] == [("kv-key-rsa-min-size", "mandatory")]
    assert host.analyze(stack) == []
    advisory = {"kv-key-rsa-min-size": {"minimumRSAKeySize": 4096, "enforcementLevel": "advisory"}}
    assert [(v.policy, v.level) for v in host.analyze(stack, advisory)] == [("kv-key-rsa-min-size", "advisory")]
    with pytest.raises(PolicyConfigError, match="minimumRSAKeySize"):
        host.analyze(stack, {"kv-key-rsa-min-size": {"minimumRSAKeySize": 1024}})
    assert [v.policy for v in host.analyze(stack, strict)] == ["kv-key-rsa-min-size"]
    disabled = {"kv-key-rsa-min-size": {"minimumRSAKeySize": 4096, "enforcementLevel": "disabled"}}
    assert host.analyze(stack, disabled) == []


def test_a_reconciled_config_shares_nothing_with_the_hosts_defaults():
    host = PolicyHost()
    first = host.reconcile(None)
    first["kv-key-rsa-min-size"].properties["minimumRSAKeySize"] = 2048  # type: ignore[index]
    first["kv-key-allowed-types"].properties["allowedKeyTypes"].append("oct")  # type: ignore[index]
    first["kv-purge-protection"].level = "disabled"
    again = host.reconcile(None)
    assert again["kv-key-rsa-min-size"].properties == {"minimumRSAKeySize": 3072}
    assert again["kv-key-allowed-types"].properties == {"allowedKeyTypes": ["RSA", "RSA-HSM", "EC", "EC-HSM"]}
    assert again["kv-purge-protection"].level == "mandatory"


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_garbage_collector_is_left_as_it_was_after_a_run_or_a_failed_one(enabled_before):
    host = policy_host()
    was = gc.isenabled()
    try:
        gc.enable() if enabled_before else gc.disable()
        host.analyze(compliant_stack())
        assert gc.isenabled() is enabled_before
        with pytest.raises(PolicyConfigError):
            host.analyze(compliant_stack(), {"all": "strict"})
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable() if was else gc.disable()
