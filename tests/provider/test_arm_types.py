"""The twin's provider sends each azure-native resource to ARM the way pulumi-azure-native does, and reads it back."""

from __future__ import annotations

import pytest

from vaultspec.twin.provider.arm_types import (
    DIAGNOSTIC_SETTING,
    KEY,
    MANAGEMENT_LOCK,
    ROLE_ASSIGNMENT,
    SECRET,
    VAULT,
    arm_type,
)

SUB = "00000000-0000-0000-0000-0000000000aa"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"


def test_vault_path_parameters_go_to_the_url_and_the_rest_to_the_body():
    inputs = {
        "resourceGroupName": "rg",
        "vaultName": "kv1",
        "location": "westeurope",
        "tags": {"a": "b"},
        "properties": {"x": 1},
    }
    assert VAULT.url_path(inputs, SUB) == VAULT_ID
    assert VAULT.request_body(inputs) == {"location": "westeurope", "tags": {"a": "b"}, "properties": {"x": 1}}
    assert VAULT.api_version == "2024-11-01"


def test_keys_and_secrets_live_under_their_vault_and_are_deleted_through_the_data_plane():
    key = {"resourceGroupName": "rg", "vaultName": "kv1", "keyName": "k", "properties": {"kty": "RSA"}}
    secret = {"resourceGroupName": "rg", "vaultName": "kv1", "secretName": "s", "properties": {"value": "v"}}
    assert KEY.url_path(key, SUB) == f"{VAULT_ID}/keys/k"
    assert SECRET.url_path(secret, SUB) == f"{VAULT_ID}/secrets/s"
    assert KEY.request_body(key) == {"properties": {"kty": "RSA"}}
    assert (KEY.delete_via, SECRET.delete_via, VAULT.delete_via) == ("data-plane-key", "data-plane-secret", "arm")


def test_flattened_types_nest_their_inputs_under_properties():
    inputs = {
        "scope": VAULT_ID,
        "roleAssignmentName": "8f6c",
        "principalId": "p",
        "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/r",
        "principalType": "ServicePrincipal",
    }
    assert ROLE_ASSIGNMENT.url_path(inputs, SUB) == f"{VAULT_ID}/providers/Microsoft.Authorization/roleAssignments/8f6c"
    assert ROLE_ASSIGNMENT.request_body(inputs) == {
        "properties": {
            "principalId": "p",
            "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/r",
            "principalType": "ServicePrincipal",
        }
    }
    lock = {"scope": VAULT_ID, "lockName": "no-delete", "level": "CanNotDelete"}
    assert MANAGEMENT_LOCK.url_path(lock, SUB) == f"{VAULT_ID}/providers/Microsoft.Authorization/locks/no-delete"
    setting = {"resourceUri": VAULT_ID, "name": "audit", "workspaceId": "/w", "logs": []}
    assert DIAGNOSTIC_SETTING.url_path(setting, SUB).endswith("/providers/Microsoft.Insights/diagnosticSettings/audit")
    assert DIAGNOSTIC_SETTING.request_body(setting) == {"properties": {"workspaceId": "/w", "logs": []}}


def test_outputs_are_flattened_where_the_sdk_flattens_them():
    response = {"id": "/k", "name": "k", "properties": {"kty": "RSA-HSM", "keyUri": "https://kv1/keys/k"}}
    assert KEY.outputs(response) == {
        "id": "/k",
        "name": "k",
        "kty": "RSA-HSM",
        "keyUri": "https://kv1/keys/k",
        "azureApiVersion": "2024-11-01",
    }
    vault = VAULT.outputs({"id": VAULT_ID, "properties": {"vaultUri": "https://kv1/"}})
    assert vault["properties"] == {"vaultUri": "https://kv1/"}


def test_a_missing_path_input_is_named():
    with pytest.raises(KeyError, match="vaultName"):
        VAULT.url_path({"resourceGroupName": "rg"}, SUB)


def test_the_azure_native_3x_diagnostic_setting_token_is_known():
    assert arm_type("azure-native:monitor:DiagnosticSetting") is DIAGNOSTIC_SETTING
    assert arm_type("azure-native:keyvault:ManagedHsm") is None


def test_attribute_times_use_arms_wire_names_and_come_back_under_the_sdks():
    """ARM's KeyAttributes/SecretAttributes say nbf/exp; the SDK says notBefore/expires (x-ms-client-name)."""
    key = {
        "resourceGroupName": "rg",
        "vaultName": "kv1",
        "keyName": "k",
        "properties": {"kty": "RSA", "attributes": {"enabled": True, "expires": 1900000000, "notBefore": 1800000000}},
    }
    body = KEY.request_body(key)
    assert body["properties"]["attributes"] == {"enabled": True, "exp": 1900000000, "nbf": 1800000000}
    assert key["properties"]["attributes"]["expires"] == 1900000000  # the inputs are left untouched
    outputs = KEY.outputs({"properties": {"attributes": {"exp": 1900000000, "created": 1}}})
    assert outputs["attributes"] == {"expires": 1900000000, "created": 1}
    secret = SECRET.request_body(
        {"resourceGroupName": "rg", "vaultName": "kv1", "secretName": "s", "properties": {"attributes": {"expires": 5}}}
    )
    assert secret == {"properties": {"attributes": {"exp": 5}}}


def test_the_providers_own_api_version_input_never_reaches_arm():
    inputs = {"resourceGroupName": "rg", "vaultName": "kv1", "location": "westeurope", "azureApiVersion": "2024-11-01"}
    assert VAULT.request_body(inputs) == {"location": "westeurope"}


@pytest.mark.parametrize(
    ("kind", "arm_id", "expected"),
    [
        (VAULT, VAULT_ID, {"resourceGroupName": "rg", "vaultName": "kv1"}),
        (KEY, f"{VAULT_ID}/keys/k", {"resourceGroupName": "rg", "vaultName": "kv1", "keyName": "k"}),
        (
            ROLE_ASSIGNMENT,
            f"{VAULT_ID}/keys/k/providers/Microsoft.Authorization/roleAssignments/r1",
            {"scope": f"{VAULT_ID}/keys/k", "roleAssignmentName": "r1"},
        ),
        (
            DIAGNOSTIC_SETTING,
            f"{VAULT_ID}/providers/Microsoft.Insights/diagnosticSettings/audit",
            {"resourceUri": VAULT_ID, "name": "audit"},
        ),
    ],
)
def test_path_parameters_are_read_back_from_an_arm_id(kind, arm_id, expected):
    assert kind.path_values(arm_id) == expected


def test_an_arm_answer_becomes_the_sdk_inputs_it_stands_for_read_only_fields_dropped():
    response = {
        "id": f"{VAULT_ID}/keys/k",
        "name": "k",
        "properties": {
            "kty": "EC-HSM",
            "curveName": "P-256",
            "keyUri": "https://kv1.vault.azure.net/keys/k",
            "attributes": {"enabled": True, "exp": 1900000000, "created": 1, "recoveryLevel": "Recoverable"},
        },
    }
    assert KEY.inputs_of(response["id"], response) == {
        "resourceGroupName": "rg",
        "vaultName": "kv1",
        "keyName": "k",
        "properties": {"kty": "EC-HSM", "curveName": "P-256", "attributes": {"enabled": True, "expires": 1900000000}},
    }
    assignment = {
        "properties": {"principalId": "p", "roleDefinitionId": "/r", "principalType": "User", "createdOn": "now"}
    }
    arm_id = f"{VAULT_ID}/providers/Microsoft.Authorization/roleAssignments/r1"
    assert ROLE_ASSIGNMENT.inputs_of(arm_id, assignment) == {
        "scope": VAULT_ID,
        "roleAssignmentName": "r1",
        "principalId": "p",
        "roleDefinitionId": "/r",
        "principalType": "User",
    }
