"""Stack rules: audit logs, HSM keys in premium vaults, privileged role assignments — and how each
resource is tied to its vault without computed ids (which are unknown at preview)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.policies.builders import (
    KEY_VAULT_ADMINISTRATOR,
    WORKSPACE,
    compliant_stack,
    component,
    diagnostic_setting,
    findings,
    key,
    role_assignment,
    vault,
    vault_arm_id,
)
from vaultspec.engine.analyzer import UNKNOWN


def _unlinked(item: dict[str, Any], *, keep_parent: bool = False) -> dict[str, Any]:
    """The same resource without dependency links (and optionally without parent)."""
    changed = copy.deepcopy(item)
    changed["dependencies"] = []
    changed["property_dependencies"] = {}
    if not keep_parent:
        changed["parent"] = None
    return changed


# --- kv-diagnostics -----------------------------------------------------------------------------


def test_vault_without_diagnostic_setting_is_reported_on_the_vault(judge):
    owner = vault()
    verdicts = findings(judge([component(), owner]), "kv-diagnostics")
    assert [(v.level, v.urn) for v in verdicts] == [("advisory", owner["urn"])]
    assert "no diagnostic setting" in verdicts[0].message


@pytest.mark.parametrize(
    "change",
    [
        {"logs": [{"categoryGroup": "audit", "enabled": False}]},
        {"logs": [{"category": "AzurePolicyEvaluationDetails", "enabled": True}]},
        {"workspaceId": None},
    ],
    ids=["audit disabled", "other category", "no destination"],
)
def test_diagnostic_setting_without_enabled_audit_logs_and_destination_does_not_count(judge, change):
    owner = vault()
    setting = diagnostic_setting(owner, **change)
    verdicts = findings(judge([component(), owner, setting]), "kv-diagnostics")
    assert [v.urn for v in verdicts] == [owner["urn"]]
    assert "enable no audit log category" in verdicts[0].message


@pytest.mark.parametrize(
    "logs",
    [[{"category": "AuditEvent", "enabled": True}], [{"categoryGroup": "allLogs", "enabled": True}]],
    ids=["AuditEvent", "allLogs"],
)
def test_audit_category_or_all_logs_group_counts(judge, logs):
    owner = vault()
    assert judge([component(), owner, diagnostic_setting(owner, logs=logs)]) == []


@pytest.mark.parametrize(
    "destination",
    [{"logAnalyticsDestinationType": "Dedicated"}, {"logAnalyticsDestinationType": "AzureDiagnostics"}, {}],
    ids=["resource-specific tables", "AzureDiagnostics named", "AzureDiagnostics by default"],
)
def test_either_log_analytics_table_counts(judge, destination):
    owner = vault()
    assert judge([component(), owner, diagnostic_setting(owner, **destination)]) == []


def test_storage_account_is_a_destination_too(judge):
    owner = vault()
    setting = diagnostic_setting(owner, workspaceId=None, storageAccountId="/subscriptions/s/storageAccounts/logs")
    assert judge([component(), owner, setting]) == []


def test_accepted_categories_are_parameters(judge):
    owner = vault()
    setting = diagnostic_setting(owner, logs=[{"categoryGroup": "allLogs", "enabled": True}])
    config = {"kv-diagnostics": {"acceptedCategoryGroups": ["audit"]}}
    assert [v.urn for v in judge([component(), owner, setting], config)] == [owner["urn"]]


def test_diagnostic_setting_of_another_vault_does_not_count(judge):
    first, second = vault("a", "kv-a"), vault("b", "kv-b")
    verdicts = judge([component("a"), component("b"), first, second, diagnostic_setting(first, component_name="a")])
    assert [(v.policy, v.urn) for v in verdicts] == [("kv-diagnostics", second["urn"])]


def test_diagnostic_setting_found_by_literal_resource_uri_among_many_vaults(judge):
    first, second = vault("a", "kv-a"), vault("b", "kv-b")
    setting = _unlinked(diagnostic_setting(second, resourceUri=vault_arm_id("KV-B")))
    verdicts = judge([first, second, setting, _unlinked(diagnostic_setting(first, component_name="a"))])
    assert verdicts == []


def test_diagnostic_setting_found_through_a_computed_resource_uri_and_its_property_dependency(judge):
    owner = vault()
    setting = diagnostic_setting(owner, resourceUri=UNKNOWN)
    setting["dependencies"] = []
    setting["parent"] = None
    assert judge([owner, setting]) == []


def test_diagnostic_setting_found_through_depends_on(judge):
    owner = vault()
    setting = diagnostic_setting(owner, resourceUri=UNKNOWN)
    setting["property_dependencies"] = {}
    setting["parent"] = None
    assert judge([owner, setting]) == []


def test_diagnostic_setting_found_through_its_parent_component(judge):
    owner = vault()
    setting = _unlinked(diagnostic_setting(owner, resourceUri=UNKNOWN), keep_parent=True)
    assert judge([component(), owner, setting]) == []


def test_unlinked_setting_with_computed_target_is_not_credited_to_a_vault(judge):
    owner = vault()
    setting = _unlinked(diagnostic_setting(owner, resourceUri=UNKNOWN))
    assert [v.policy for v in judge([owner, setting])] == ["kv-diagnostics"]


def test_insights_token_of_azure_native_2_is_accepted(judge):
    owner = vault()
    setting = diagnostic_setting(owner)
    setting["type"] = "azure-native:insights:DiagnosticSetting"
    assert judge([component(), owner, setting]) == []


# --- kv-hsm-requires-premium -----------------------------------------------------------------------


def test_hsm_key_in_standard_vault_is_a_mandatory_violation_on_the_key(judge):
    owner = vault(sku={"family": "A", "name": "standard"})
    item = key(owner=owner)
    verdicts = findings(judge([component(), owner, diagnostic_setting(owner), item]), "kv-hsm-requires-premium")
    assert [(v.level, v.urn) for v in verdicts] == [("mandatory", item["urn"])]


def test_software_key_in_standard_vault_is_fine(judge):
    owner = vault(sku={"family": "A", "name": "standard"})
    item = key(owner=owner, kty="RSA")
    verdicts = judge([component(), owner, diagnostic_setting(owner), item], {"kv-key-hsm-backed": "disabled"})
    assert verdicts == []


def test_hsm_key_matched_to_its_vault_by_literal_name_and_resource_group(judge):
    premium, standard = vault("a", "kv-a"), vault("b", "kv-b", sku={"family": "A", "name": "standard"})
    in_standard = _unlinked(key("k1", owner=standard, component_name="b"))
    in_premium = _unlinked(key("k2", owner=premium, component_name="a"))
    verdicts = findings(judge([premium, standard, in_standard, in_premium]), "kv-hsm-requires-premium")
    assert [v.urn for v in verdicts] == [in_standard["urn"]]


def test_literal_match_respects_the_resource_group(judge):
    standard = vault("b", "kv-b", sku={"family": "A", "name": "standard"})
    item = _unlinked(key(owner=standard, component_name="b"))
    item["inputs"]["resourceGroupName"] = "another-rg"
    assert findings(judge([standard, item]), "kv-hsm-requires-premium") == []


def test_literal_vault_names_match_case_insensitively(judge):
    standard = vault("b", "kv-b", sku={"family": "A", "name": "standard"})
    item = _unlinked(key(owner=standard, component_name="b"))
    item["inputs"]["vaultName"] = "KV-B"
    assert [v.urn for v in findings(judge([standard, item]), "kv-hsm-requires-premium")] == [item["urn"]]


def test_vaults_sharing_a_name_are_told_apart_by_resource_group_or_not_at_all(judge):
    premium, standard = vault("a", "kv-shared"), vault("b", "kv-shared", sku={"family": "A", "name": "standard"})
    standard["inputs"]["resourceGroupName"] = "rg-other"
    in_standard = _unlinked(key("k1", owner=standard, component_name="b"))
    in_standard["inputs"]["resourceGroupName"] = "RG-OTHER"
    in_premium = _unlinked(key("k2", owner=premium, component_name="a"))
    verdicts = findings(judge([premium, standard, in_standard, in_premium]), "kv-hsm-requires-premium")
    assert [v.urn for v in verdicts] == [in_standard["urn"]]
    same_group = copy.deepcopy(standard)
    same_group["inputs"]["resourceGroupName"] = premium["inputs"]["resourceGroupName"]
    ambiguous = _unlinked(key("k3", owner=same_group, component_name="b"))
    assert findings(judge([premium, same_group, ambiguous]), "kv-hsm-requires-premium") == []


def test_hsm_key_whose_vault_is_not_in_the_stack_is_not_judged(judge):
    item = _unlinked(key())
    item["inputs"]["vaultName"] = "vault-made-elsewhere"
    assert findings(judge([item]), "kv-hsm-requires-premium") == []


def test_hsm_rule_reads_key_type_from_inputs_although_outputs_lack_it_at_preview(judge):
    # At preview pulumi-azure-native's outputs of a Key have `kty` unknown (the input sits under
    # `properties`); the pack remembers the inputs Analyze saw, so the stack rule still decides.
    owner = vault(sku={"family": "A", "name": "standard"})
    item = key(owner=owner)
    verdicts = findings(judge([owner, item]), "kv-hsm-requires-premium")
    assert [(v.level, v.waived) for v in verdicts] == [("mandatory", False)]


def test_after_deployment_outputs_alone_decide(judge):
    # Outputs of a deployed key (flat kty) and vault, e.g. a resource not registered in this run.
    from vaultspec.engine.analyzer import PolicyHost

    owner = vault(sku={"family": "A", "name": "standard"})
    item = key(owner=owner)
    item["outputs"] = {"kty": "RSA-HSM", "keySize": 3072, "name": "signing", "tags": {}}
    owner["outputs"] = {"name": "payments-kv", "properties": owner["inputs"]["properties"], "tags": {}}
    host = PolicyHost()
    verdicts = host.analyze([owner, item], {"all": "disabled", "kv-hsm-requires-premium": "mandatory"})
    assert [(v.policy, v.urn) for v in verdicts] == [("kv-hsm-requires-premium", item["urn"])]


# --- kv-rbac-least-privilege -----------------------------------------------------------------------


def _rbac_stack(assignment: dict[str, Any], owner: dict[str, Any]) -> list[dict[str, Any]]:
    return [component(), owner, diagnostic_setting(owner), assignment]


def test_key_vault_administrator_for_a_service_principal_is_a_mandatory_violation(judge):
    owner = vault()
    grant = role_assignment(role=KEY_VAULT_ADMINISTRATOR, owner=owner)
    verdicts = judge(_rbac_stack(grant, owner))
    assert [(v.policy, v.level, v.urn) for v in verdicts] == [("kv-rbac-least-privilege", "mandatory", grant["urn"])]
    assert "Key Vault Administrator" in verdicts[0].message and "service principal" in verdicts[0].message


def test_key_vault_administrator_for_a_group_is_left_to_people_processes(judge):
    owner = vault()
    grant = role_assignment(role=KEY_VAULT_ADMINISTRATOR, principal_type="Group", owner=owner)
    assert judge(_rbac_stack(grant, owner)) == []


def test_unset_principal_type_counts_as_a_possible_service_principal(judge):
    owner = vault()
    grant = role_assignment(role=KEY_VAULT_ADMINISTRATOR, principal_type=None, owner=owner)
    verdicts = judge(_rbac_stack(grant, owner))
    assert len(verdicts) == 1 and "principalType is not set" in verdicts[0].message


def test_owner_on_a_key_below_the_vault_is_caught_via_a_literal_scope(judge):
    owner = vault()
    grant = _unlinked(
        role_assignment(
            role="8e3af657-a8ff-443c-a75c-2fe8c4bcb635", owner=owner, scope=vault_arm_id("payments-kv") + "/keys/k"
        )
    )
    assert [v.policy for v in judge(_rbac_stack(grant, owner))] == ["kv-rbac-least-privilege"]


def test_computed_scope_is_tied_to_the_vault_through_its_property_dependency(judge):
    owner = vault()
    grant = role_assignment(role=KEY_VAULT_ADMINISTRATOR, owner=owner, scope=UNKNOWN)
    grant["parent"] = None
    assert [v.policy for v in judge(_rbac_stack(grant, owner))] == ["kv-rbac-least-privilege"]


def test_assignments_outside_key_vault_scope_are_not_judged(judge):
    owner = vault()
    grant = role_assignment(
        role="8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        owner=owner,
        scope="/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-payments",
    )
    assert judge(_rbac_stack(grant, owner)) == []


def test_forbidden_roles_and_principal_types_are_parameters(judge):
    owner = vault()
    grant = role_assignment(owner=owner, principal_type="User")  # Key Vault Crypto User
    config = {
        "kv-rbac-least-privilege": {
            "forbiddenRoleDefinitionIds": ["12338af0-0e69-4776-bea7-57ae8d297424"],
            "principalTypes": ["User"],
        }
    }
    verdicts = judge(_rbac_stack(grant, owner), config)
    assert len(verdicts) == 1 and "a role listed in forbiddenRoleDefinitionIds" in verdicts[0].message


def test_the_compliant_stack_uses_a_workspace(judge):
    assert any(item["inputs"].get("workspaceId") == WORKSPACE for item in compliant_stack())
    assert judge(compliant_stack()) == []
