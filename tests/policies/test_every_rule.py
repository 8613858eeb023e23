"""Every rule, one violating stack each: caught at its default level, waivable by tag, and robust to
arbitrary input shapes (a broken program gets verdicts, never a crash)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policies.builders import (
    DAY,
    KEY_VAULT_ADMINISTRATOR,
    compliant_stack,
    component,
    diagnostic_setting,
    imported_key,
    key,
    role_assignment,
    secret,
    vault,
)
from vaultspec.engine.analyzer import analyze
from vaultspec.policies import RULES

Stack = list[dict[str, Any]]


def _with_vault(item: dict[str, Any]) -> tuple[Stack, int]:
    return [component(), item, diagnostic_setting(item)], 1


def _with_key(**properties: Any) -> tuple[Stack, int]:
    owner = vault()
    return [component(), owner, diagnostic_setting(owner), key(owner=owner, **properties)], 3


def _with_imported_key(**options: Any) -> tuple[Stack, int]:
    owner = vault()
    return [component(), owner, diagnostic_setting(owner), imported_key(owner=owner, **options)], 3


def _with_secret(**properties: Any) -> tuple[Stack, int]:
    owner = vault()
    return [component(), owner, diagnostic_setting(owner), secret(**properties)], 3


def _preview_key() -> tuple[Stack, int]:
    stack, index = _with_key()
    stack[index]["type"] = "azure-native:keyvault/v20241201preview:Key"
    return stack, index


def _hsm_in_standard() -> tuple[Stack, int]:
    owner = vault(sku={"family": "A", "name": "standard"})
    return [component(), owner, diagnostic_setting(owner), key(owner=owner)], 1  # waiver on the vault


def _administrator() -> tuple[Stack, int]:
    owner = vault()
    return [
        component(),
        owner,
        diagnostic_setting(owner),
        role_assignment(role=KEY_VAULT_ADMINISTRATOR, owner=owner),
    ], 1


ACL = {"defaultAction": "Deny", "bypass": "None"}
VIOLATING: dict[str, Callable[[], tuple[Stack, int]]] = {
    "kv-purge-protection": lambda: _with_vault(vault(enablePurgeProtection=False)),
    "kv-soft-delete-enabled": lambda: _with_vault(vault(enableSoftDelete=False)),
    "kv-soft-delete-retention": lambda: _with_vault(vault(softDeleteRetentionInDays=7)),
    "kv-rbac-authorization": lambda: _with_vault(vault(enableRbacAuthorization=False)),
    "kv-enabled-for-disabled": lambda: _with_vault(vault(enabledForDeployment=True)),
    "kv-public-network-disabled": lambda: _with_vault(vault(publicNetworkAccess="Enabled")),
    "kv-firewall-default-deny": lambda: _with_vault(vault(networkAcls={**ACL, "defaultAction": "Allow"})),
    "kv-firewall-ip-rules": lambda: _with_vault(vault(networkAcls={**ACL, "ipRules": [{"value": "0.0.0.0/0"}]})),
    "kv-access-least-privilege": lambda: _with_vault(
        vault(accessPolicies=[{"objectId": "o", "tenantId": "t", "permissions": {"keys": ["all"]}}])
    ),
    "kv-rbac-least-privilege": _administrator,
    "kv-key-hsm-backed": lambda: _with_key(kty="RSA"),
    "kv-key-allowed-types": lambda: _with_key(kty="oct-HSM"),
    "kv-key-rsa-min-size": lambda: _with_key(keySize=2048),
    "kv-key-ec-curves": lambda: _with_key(kty="EC-HSM", curveName="P-256K"),
    "kv-key-expiry": lambda: _with_key(attributes={"enabled": True}),
    "kv-key-rotation": lambda: _with_key(rotationPolicy={"lifetimeActions": []}),
    "kv-key-hsm-import-byok": lambda: _with_imported_key(source="material"),
    "kv-kek-import-only": lambda: _with_key(keyOps=["import", "sign"]),
    "kv-key-not-exportable": lambda: _with_key(attributes={"exportable": True, "expires": int(time.time()) + 30 * DAY}),
    "kv-secret-expiry": lambda: _with_secret(attributes={}),
    "kv-secret-content-type": lambda: _with_secret(contentType=""),
    "kv-diagnostics": lambda: ([component(), vault()], 1),
    "kv-hsm-requires-premium": _hsm_in_standard,
    "kv-preview-api-version": _preview_key,
}
RULE_LEVELS = {rule.name: rule.level.value for rule in RULES}


def test_every_rule_has_a_violating_example():
    assert set(VIOLATING) == set(RULE_LEVELS)


@pytest.mark.parametrize("name", sorted(VIOLATING))
def test_violation_is_reported_at_the_default_level_and_a_waiver_turns_it_advisory(name):
    stack, waived_index = VIOLATING[name]()
    reported = [v for v in analyze(stack) if v.policy == name]
    assert reported and {v.level for v in reported} == {RULE_LEVELS[name]} and not any(v.waived for v in reported)

    waived_stack = copy.deepcopy(stack)
    waived_stack[waived_index]["inputs"].setdefault("tags", {})[f"waiver:{name}"] = "accepted risk, ticket SEC-1"
    waived = [v for v in analyze(waived_stack) if v.policy == name]
    assert len(waived) == len(reported)
    assert all(v.waived and v.level == "advisory" and v.reason == "accepted risk, ticket SEC-1" for v in waived)
    assert [v.message for v in waived] == [v.message for v in reported]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=JSON, field=st.sampled_from(range(12)))
def test_any_input_shape_gets_verdicts_never_a_crash(garbage, field):
    stack = compliant_stack()
    targets = [
        (1, ("properties",)),
        (1, ("properties", "networkAcls")),
        (1, ("properties", "networkAcls", "ipRules")),
        (1, ("properties", "accessPolicies")),
        (1, ("tags",)),
        (2, ("properties",)),
        (2, ("properties", "rotationPolicy")),
        (2, ("properties", "attributes")),
        (3, ("properties",)),
        (4, ("scope",)),
        (4, ("roleDefinitionId",)),
        (5, ("logs",)),
    ]
    index, path = targets[field]
    target = stack[index]["inputs"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = garbage
    for verdict in analyze(stack):
        assert verdict.message and verdict.policy in RULE_LEVELS
