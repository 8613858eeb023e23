"""Values not known at preview: every rule answers with an advisory "cannot check", never a crash,
never a silent pass, and never a blocking verdict."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.policies.builders import (
    KEY_VAULT_ADMINISTRATOR,
    component,
    diagnostic_setting,
    findings,
    key,
    role_assignment,
    secret,
    vault,
)
from vaultspec.engine.analyzer import UNKNOWN, has_blocking_violation


def _set(item: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(item)
    target = changed["inputs"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


CASES = [
    (vault(), ("properties", "enablePurgeProtection"), "kv-purge-protection"),
    (vault(), ("properties", "enableSoftDelete"), "kv-soft-delete-enabled"),
    (vault(), ("properties", "softDeleteRetentionInDays"), "kv-soft-delete-retention"),
    (vault(), ("properties", "enableRbacAuthorization"), "kv-rbac-authorization"),
    (vault(), ("properties", "enabledForDeployment"), "kv-enabled-for-disabled"),
    (vault(), ("properties", "publicNetworkAccess"), "kv-public-network-disabled"),
    (vault(), ("properties", "networkAcls"), "kv-firewall-default-deny"),
    (vault(), ("properties", "networkAcls", "ipRules"), "kv-firewall-ip-rules"),
    (vault(), ("properties", "accessPolicies"), "kv-access-least-privilege"),
    (key(), ("properties", "kty"), "kv-key-hsm-backed"),
    (key(), ("properties", "kty"), "kv-key-allowed-types"),
    (key(), ("properties", "keySize"), "kv-key-rsa-min-size"),
    (key(kty="EC-HSM", curveName="P-256"), ("properties", "curveName"), "kv-key-ec-curves"),
    (key(), ("properties", "attributes", "expires"), "kv-key-expiry"),
    (key(), ("properties", "rotationPolicy"), "kv-key-rotation"),
    (key(), ("properties", "attributes", "exportable"), "kv-key-not-exportable"),
    (secret(), ("properties", "attributes", "expires"), "kv-secret-expiry"),
    (secret(), ("properties", "contentType"), "kv-secret-content-type"),
]


@pytest.mark.parametrize(("item", "path", "policy"), CASES, ids=[f"{c[2]}:{'.'.join(c[1])}" for c in CASES])
def test_unknown_input_gives_an_advisory_cannot_check_verdict(judge, item, path, policy):
    unknown = _set(item, path, UNKNOWN)
    owner = vault()
    stack = [component(), unknown] if unknown["type"].endswith(":Vault") else [component(), owner, unknown]
    stack.append(diagnostic_setting(unknown if unknown["type"].endswith(":Vault") else owner))
    verdicts = findings(judge(stack), policy)
    assert [(v.level, v.waived, v.urn) for v in verdicts] == [("advisory", False, unknown["urn"])]
    assert verdicts[0].message.startswith("cannot check yet:")
    assert ".".join(path) in verdicts[0].message
    assert not has_blocking_violation(judge(stack))


def test_unknown_vault_sku_leaves_the_hsm_rule_unchecked(judge):
    owner = _set(vault(), ("properties", "sku"), UNKNOWN)
    item = key(owner=owner)
    verdicts = findings(judge([component(), owner, diagnostic_setting(owner), item]), "kv-hsm-requires-premium")
    assert [(v.level, v.urn) for v in verdicts] == [("advisory", item["urn"])]
    assert "vault SKU" in verdicts[0].message


def test_unknown_logs_leave_the_diagnostics_rule_unchecked(judge):
    owner = vault()
    setting = diagnostic_setting(owner, logs=UNKNOWN)
    verdicts = judge([component(), owner, setting])
    assert [(v.policy, v.level, v.urn) for v in verdicts] == [("kv-diagnostics", "advisory", owner["urn"])]
    assert verdicts[0].message.startswith("cannot check yet")


def test_computed_workspace_id_still_counts_as_a_destination(judge):
    owner = vault()
    assert judge([component(), owner, diagnostic_setting(owner, workspaceId=UNKNOWN)]) == []


def test_unknown_role_definition_leaves_the_rbac_rule_unchecked(judge):
    owner = vault()
    grant = role_assignment(role=KEY_VAULT_ADMINISTRATOR, owner=owner, roleDefinitionId=UNKNOWN)
    verdicts = judge([component(), owner, diagnostic_setting(owner), grant])
    assert [(v.policy, v.level, v.urn) for v in verdicts] == [("kv-rbac-least-privilege", "advisory", grant["urn"])]


def test_unknown_parts_do_not_hide_known_violations_of_the_same_resource(judge):
    item = _set(vault(enablePurgeProtection=False), ("properties", "publicNetworkAccess"), UNKNOWN)
    verdicts = judge([component(), item, diagnostic_setting(item)])
    assert {(v.policy, v.level) for v in verdicts} == {
        ("kv-purge-protection", "mandatory"),
        ("kv-public-network-disabled", "advisory"),
    }
