"""The azure-native stand-in against a live twin, verb by verb, as the engine calls it.

Each test drives the provider's resource types directly (no engine) and checks the twin through the
official SDK clients: what azure-native does on Azure is what the stand-in does on the twin.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from vaultspec.twin.provider import azure_native
from vaultspec.twin.provider.plumbing import ProviderError, Request, is_unknown
from vaultspec.twin.testing import key_client, secret_client

VAULT = azure_native.PLUGIN.types["azure-native:keyvault:Vault"]
KEY = azure_native.PLUGIN.types["azure-native:keyvault:Key"]
SECRET = azure_native.PLUGIN.types["azure-native:keyvault:Secret"]
ROLE = azure_native.PLUGIN.types["azure-native:authorization:RoleAssignment"]
OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"  # Key Vault Crypto Officer
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def urn(token: str, name: str) -> str:
    return f"urn:pulumi:test::p::vaultspec:index:KeyVault${token}::{name}"


def create(kind: Any, name: str, inputs: dict[str, Any]) -> Any:
    checked = run(kind.check(Request(urn=urn(kind.token, name), inputs=inputs)))
    return run(kind.create(Request(urn=urn(kind.token, name), inputs=checked))), checked


@pytest.fixture
def vault(provider_twin) -> dict[str, Any]:
    """An RBAC vault made by the provider, where the twin's identity may manage keys and secrets."""
    name = f"pv{uuid.uuid4().hex[:10]}"
    inputs = {
        "resourceGroupName": "rg-provider",
        "vaultName": name,
        "location": "westeurope",
        "properties": {
            "tenantId": provider_twin.tenant_id,
            "sku": {"family": "A", "name": "premium"},
            "enableRbacAuthorization": True,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 7,
            "publicNetworkAccess": "Enabled",
            "networkAcls": {"defaultAction": "Allow", "bypass": "None"},
        },
    }
    made, checked = create(VAULT, name, inputs)
    for role in (OFFICER, SECRETS_OFFICER):
        create(
            ROLE,
            f"{name}/{role}",
            {
                "scope": made.id,
                "roleAssignmentName": str(uuid.uuid4()),
                "principalId": provider_twin.default_object_id,
                "principalType": "ServicePrincipal",
                "roleDefinitionId": f"/subscriptions/{provider_twin.subscription_id}/providers/"
                f"Microsoft.Authorization/roleDefinitions/{role}",
            },
        )
    return {"name": name, "id": made.id, "inputs": checked, "outputs": made.properties}


def key_inputs(vault: dict[str, Any], name: str = "k1") -> dict[str, Any]:
    return {
        "resourceGroupName": "rg-provider",
        "vaultName": vault["name"],
        "keyName": name,
        "properties": {"kty": "EC", "curveName": "P-256", "keyOps": ["sign", "verify"]},
    }


def test_a_vault_is_created_read_back_and_refuses_a_second_create(vault, provider_twin):
    outputs = vault["outputs"]
    assert outputs["properties"]["vaultUri"] == provider_twin.vault_url(vault["name"]) + "/"
    assert outputs["azureApiVersion"] == "2024-11-01" and outputs["type"] == "Microsoft.KeyVault/vaults"
    assert outputs["properties"]["accessPolicies"] == []  # sent on create when unset, as azure-native does
    assert vault["inputs"]["azureApiVersion"] == "2024-11-01"  # Check adds it
    with pytest.raises(ProviderError, match=f"cannot create already existing resource '{vault['id']}'"):
        run(VAULT.create(Request(urn=urn(VAULT.token, vault["name"]), inputs=vault["inputs"])))


def test_refresh_of_an_unchanged_vault_gives_back_exactly_its_inputs_and_diff_sees_nothing(vault):
    read = run(VAULT.read(Request(urn=urn(VAULT.token, "v"), id=vault["id"], inputs=vault["inputs"])))
    assert read.inputs == vault["inputs"]
    diff = run(VAULT.diff(Request(urn=urn(VAULT.token, "v"), old_inputs=read.inputs, inputs=vault["inputs"])))
    assert diff.changes == {}


def test_import_reads_a_vault_into_inputs_without_read_only_fields(vault):
    read = run(VAULT.read(Request(urn=urn(VAULT.token, "v"), id=vault["id"])))
    assert read.inputs["vaultName"] == vault["name"] and read.inputs["resourceGroupName"] == "rg-provider"
    assert "vaultUri" not in read.inputs["properties"] and "provisioningState" not in read.inputs["properties"]
    assert read.inputs["properties"]["enableRbacAuthorization"] is True


def test_path_parameters_replace_and_location_only_updates(vault):
    request = Request(urn=urn(VAULT.token, "v"), old_inputs=vault["inputs"])
    renamed = run(VAULT.diff(Request(**{**request.__dict__, "inputs": {**vault["inputs"], "vaultName": "other"}})))
    assert renamed.replaces == {"vaultName"} and renamed.delete_before_replace
    moved = run(VAULT.diff(Request(**{**request.__dict__, "inputs": {**vault["inputs"], "location": "West Europe"}})))
    assert moved.changes == {}  # the same location, spelt as ARM may spell it
    relocated = run(VAULT.diff(Request(**{**request.__dict__, "inputs": {**vault["inputs"], "location": "eastus"}})))
    assert relocated.changes == {"location": "update"} and relocated.replaces == set()


def test_a_preview_predicts_outputs_with_what_arm_computes_unknown(provider_twin):
    inputs = {"resourceGroupName": "rg", "vaultName": "kvx", "keyName": "k", "properties": {"kty": "RSA"}}
    predicted = run(KEY.create(Request(urn=urn(KEY.token, "k"), inputs=inputs, preview=True)))
    assert predicted.id == "" and is_unknown(predicted.properties["keyUri"]) and predicted.properties["kty"] == "RSA"


def test_keys_are_deleted_through_the_data_plane_and_a_soft_deleted_name_is_recovered_on_create(vault, provider_twin):
    made, checked = create(KEY, f"{vault['name']}/keys/k1", key_inputs(vault))
    assert made.properties["keyUri"] == f"{provider_twin.vault_url(vault['name'])}/keys/k1"
    assert made.properties["azureApiVersion"] == "2024-11-01"
    run(KEY.delete(Request(urn=urn(KEY.token, "k"), id=made.id, inputs=checked)))
    with key_client(provider_twin, vault["name"]) as keys:
        deleted = keys.get_deleted_key("k1")  # soft-deleted, not purged
        assert deleted.recovery_id
    again = run(KEY.create(Request(urn=urn(KEY.token, "k"), inputs=checked)))
    assert again.properties["keyUriWithVersion"] == made.properties["keyUriWithVersion"]  # the same key came back
    assert run(KEY.read(Request(urn=urn(KEY.token, "k"), id=made.id, inputs=checked))) is not None


def test_a_secret_read_keeps_its_declared_value_arm_never_returns(vault, provider_twin):
    inputs = {
        "resourceGroupName": "rg-provider",
        "vaultName": vault["name"],
        "secretName": "s1",
        "properties": {"value": "not-returned-by-arm", "contentType": "text/plain"},
    }
    made, checked = create(SECRET, f"{vault['name']}/secrets/s1", inputs)
    assert "value" not in made.properties["properties"]
    read = run(SECRET.read(Request(urn=urn(SECRET.token, "s"), id=made.id, inputs=checked)))
    assert read.inputs["properties"]["value"] == "not-returned-by-arm"
    run(SECRET.delete(Request(urn=urn(SECRET.token, "s"), id=made.id, inputs=checked)))
    with secret_client(provider_twin, vault["name"]) as secrets, pytest.raises(ResourceNotFoundError):
        secrets.get_secret("s1")
    assert run(SECRET.read(Request(urn=urn(SECRET.token, "s"), id=made.id, inputs=checked))) is None  # soft-deleted


def test_a_deleted_vault_reads_as_gone(provider_twin):
    name = f"pv{uuid.uuid4().hex[:10]}"
    inputs = {
        "resourceGroupName": "rg-provider",
        "vaultName": name,
        "location": "westeurope",
        "properties": {"tenantId": provider_twin.tenant_id, "sku": {"family": "A", "name": "standard"}},
    }
    made, checked = create(VAULT, name, inputs)
    run(VAULT.delete(Request(urn=urn(VAULT.token, name), id=made.id, inputs=checked)))
    assert run(VAULT.read(Request(urn=urn(VAULT.token, name), id=made.id, inputs=checked))) is None


def test_check_names_a_missing_path_parameter_and_the_location(provider_twin):
    with pytest.raises(ProviderError, match="missing required property 'vaultName'"):
        run(VAULT.check(Request(urn=urn(VAULT.token, "v"), inputs={"resourceGroupName": "rg", "location": "x"})))
    with pytest.raises(ProviderError, match="azure-native:location"):
        run(VAULT.check(Request(urn=urn(VAULT.token, "v"), inputs={"resourceGroupName": "rg", "vaultName": "v"})))


def test_client_config_and_token_come_from_the_twins_identity(provider_twin):
    config = run(azure_native.get_client_config({})).properties
    assert config == {
        "clientId": provider_twin.default_object_id,
        "objectId": provider_twin.default_object_id,
        "subscriptionId": provider_twin.subscription_id,
        "tenantId": provider_twin.tenant_id,
    }
    token = run(azure_native.get_client_token({}))
    assert token.secret_paths == ("token",) and token.properties["token"].count(".") == 2
