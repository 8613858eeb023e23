"""Vault rules: recoverability, permission model, platform access, network exposure, access policies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.builders import compliant_stack, component, diagnostic_setting, findings, resource, vault
from vaultspec.engine.analyzer import policy_host


def audited(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The vault in its component, with audit logs, so only the vault's own settings are judged."""
    return [component(), item, diagnostic_setting(item)]


def test_compliant_stack_draws_no_verdict_at_all(judge):
    assert judge(compliant_stack()) == []


def _networkless() -> dict[str, Any]:
    item = vault()
    del item["inputs"]["properties"]["networkAcls"]
    return item


def _without(field: str) -> dict[str, Any]:
    item = vault()
    del item["inputs"]["properties"][field]
    return item


ACCESS_POLICY = {"objectId": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}

VIOLATIONS = [
    ("purge protection off", vault(enablePurgeProtection=False), "kv-purge-protection", "mandatory"),
    ("purge protection absent", _without("enablePurgeProtection"), "kv-purge-protection", "mandatory"),
    ("soft delete disabled", vault(enableSoftDelete=False), "kv-soft-delete-enabled", "mandatory"),
    ("retention below 90", vault(softDeleteRetentionInDays=30), "kv-soft-delete-retention", "mandatory"),
    ("access policies model", vault(enableRbacAuthorization=False), "kv-rbac-authorization", "advisory"),
    ("rbac flag absent", _without("enableRbacAuthorization"), "kv-rbac-authorization", "advisory"),
    ("template deployment on", vault(enabledForTemplateDeployment=True), "kv-enabled-for-disabled", "advisory"),
    ("public access enabled", vault(publicNetworkAccess="Enabled"), "kv-public-network-disabled", "advisory"),
    ("public access lower-case", vault(publicNetworkAccess="enabled"), "kv-public-network-disabled", "advisory"),
    ("public access absent", _without("publicNetworkAccess"), "kv-public-network-disabled", "advisory"),
    (
        "firewall allows",
        vault(networkAcls={"defaultAction": "Allow", "bypass": "None"}),
        "kv-firewall-default-deny",
        "advisory",
    ),
    (
        "firewall bypass",
        vault(networkAcls={"defaultAction": "Deny", "bypass": "AzureServices"}),
        "kv-firewall-default-deny",
        "advisory",
    ),
    ("firewall absent", _networkless(), "kv-firewall-default-deny", "advisory"),
    (
        "ip rule opens the internet",
        vault(networkAcls={"defaultAction": "Deny", "bypass": "None", "ipRules": [{"value": "0.0.0.0/0"}]}),
        "kv-firewall-ip-rules",
        "mandatory",
    ),
    (
        "access policy with purge on an access-policy vault",
        vault(
            enableRbacAuthorization=False,
            accessPolicies=[{**ACCESS_POLICY, "permissions": {"keys": ["get", "Purge"], "secrets": ["get"]}}],
        ),
        "kv-access-least-privilege",
        "mandatory",
    ),
    (
        "access policies on an RBAC vault",
        vault(accessPolicies=[{**ACCESS_POLICY, "permissions": {"secrets": ["get"]}}]),
        "kv-access-least-privilege",
        "mandatory",
    ),
]


@pytest.mark.parametrize(("case", "item", "policy", "level"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_unsafe_vault_setting_is_caught_by_its_rule_at_its_default_level(judge, case, item, policy, level):
    verdicts = judge(audited(item))
    if item["inputs"]["properties"].get("enableRbacAuthorization") is False and policy != "kv-rbac-authorization":
        verdicts = [v for v in verdicts if v.policy != "kv-rbac-authorization"]
    assert {v.policy for v in verdicts} == {policy}, case
    assert {v.level for v in verdicts} == {level}
    assert all(v.urn == item["urn"] and not v.waived for v in verdicts)


def test_retention_absent_means_azure_default_of_90_days(judge):
    assert judge(audited(_without("softDeleteRetentionInDays"))) == []


def test_retention_minimum_is_a_parameter(judge):
    relaxed = {"kv-soft-delete-retention": {"minimumRetentionDays": 30}}
    assert judge(audited(vault(softDeleteRetentionInDays=30)), relaxed) == []
    verdicts = judge(audited(vault(softDeleteRetentionInDays=29)), relaxed)
    assert [v.message for v in verdicts] == [
        "properties.softDeleteRetentionInDays is below the required minimum of 30 days"
    ]


def test_allowed_enabled_for_flag_is_accepted_and_others_still_reported(judge):
    item = vault(enabledForDiskEncryption=True, enabledForDeployment=True)
    config = {"kv-enabled-for-disabled": {"allowedFlags": ["enabledForDiskEncryption"]}}
    messages = [v.message for v in findings(judge([item], config), "kv-enabled-for-disabled")]
    assert len(messages) == 1 and messages[0].startswith("properties.enabledForDeployment is true")


def test_azure_services_bypass_can_be_allowed_by_parameter(judge):
    item = vault(networkAcls={"defaultAction": "Deny", "bypass": "AzureServices"})
    assert judge(audited(item), {"kv-firewall-default-deny": {"allowAzureServicesBypass": True}}) == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("10.1.0.0/16", "broader than /24"),
        ("10.1.2.0/24", "not a public range"),
        ("192.168.1.7", "not a public range"),
        ("300.1.1.1", "not an IP address or CIDR range"),
        ("2001:db8::/32", "broader than /48"),
    ],
)
def test_ip_rule_hygiene(judge, value, fragment):
    item = vault(networkAcls={"defaultAction": "Deny", "bypass": "None", "ipRules": [{"value": value}]})
    messages = [v.message for v in findings(judge([item]), "kv-firewall-ip-rules")]
    assert len(messages) == 1 and fragment in messages[0]
    assert messages[0].startswith("properties.networkAcls.ipRules[0].value")
    assert value not in messages[0]  # messages name the path, never the value


def test_single_public_addresses_and_narrow_ranges_pass(judge):
    rules = [{"value": "20.50.1.7"}, {"value": "20.50.2.0/24"}, {"value": "2a01:110::/48"}]
    assert judge(audited(vault(networkAcls={"defaultAction": "Deny", "bypass": "None", "ipRules": rules}))) == []


def test_ip_rule_prefix_and_allowed_ranges_are_parameters(judge):
    rules = [{"value": "20.50.0.0/22"}, {"value": "52.1.1.1"}]
    item = vault(networkAcls={"defaultAction": "Deny", "bypass": "None", "ipRules": rules})
    config = {"kv-firewall-ip-rules": {"minimumPrefixLength": 22, "allowedRanges": ["20.50.0.0/16"]}}
    messages = [v.message for v in findings(judge([item], config), "kv-firewall-ip-rules")]
    assert messages == ["properties.networkAcls.ipRules[1].value is outside the allowed ranges"]


def test_access_policy_forbidden_permissions_are_a_parameter(judge):
    entry = {**ACCESS_POLICY, "permissions": {"keys": ["get", "delete"], "certificates": ["all"]}}
    item = vault(enableRbacAuthorization=False, accessPolicies=[entry])
    config = {"kv-access-least-privilege": {"forbiddenPermissions": ["delete"]}, "kv-rbac-authorization": "disabled"}
    assert [v.message for v in judge(audited(item), config)] == [
        "properties.accessPolicies[0].permissions.keys grants delete: forbidden by least privilege"
    ]


def test_standalone_access_policy_resource_is_judged_too(judge):
    item = resource(
        "azure-native:keyvault:AccessPolicy",
        "ops",
        {
            "vaultName": "legacy-kv",
            "resourceGroupName": "rg",
            "policy": {**ACCESS_POLICY, "permissions": {"secrets": ["all"], "keys": ["get"]}},
        },
        parent=None,
    )
    assert [(v.policy, v.level, v.message) for v in judge([item])] == [
        (
            "kv-access-least-privilege",
            "mandatory",
            "policy.permissions.secrets grants all: forbidden by least privilege",
        )
    ]


def _standalone_policy(owner: dict) -> dict:
    return resource(
        "azure-native:keyvault:AccessPolicy",
        "ops",
        {
            "vaultName": owner["inputs"]["vaultName"],
            "resourceGroupName": owner["inputs"]["resourceGroupName"],
            "policy": {**ACCESS_POLICY, "permissions": {"secrets": ["get"]}},
        },
        dependencies=[owner["urn"]],
    )


@pytest.mark.parametrize("route_by_type", [True, False], ids=["routed", "engine order"])
def test_standalone_access_policy_on_an_rbac_vault_is_a_violation(route_by_type):
    owner = vault()  # RBAC
    verdicts = policy_host().analyze([*audited(owner), _standalone_policy(owner)], route_by_type=route_by_type)
    assert [(v.policy, v.level, v.message) for v in verdicts] == [
        (
            "kv-access-least-privilege",
            "mandatory",
            "an access policy on a vault that uses RBAC authorization: Key Vault ignores it, so it only "
            "misleads reviewers",
        )
    ]


def test_standalone_access_policy_on_an_access_policy_vault_is_fine(judge):
    owner = vault(enableRbacAuthorization=False)
    verdicts = judge([*audited(owner), _standalone_policy(owner)], {"kv-rbac-authorization": "disabled"})
    assert verdicts == []


def test_vaults_of_explicit_api_versions_are_judged(judge):
    item = vault(enablePurgeProtection=False)
    item["type"] = "azure-native:keyvault/v20230701:Vault"
    assert [v.policy for v in judge(audited(item))] == ["kv-purge-protection"]
