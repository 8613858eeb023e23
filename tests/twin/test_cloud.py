"""The twin as a cloud: ARM's metadata document, subscriptions and tenants, role definition ids at any
scope, empty Managed HSM lists (what the Azure CLI needs; `test_azure_cli.py` drives the CLI itself).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from azure.core.rest import HttpRequest

from vaultspec.twin.http.auth import ARM_AUDIENCES
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import client_options, credential, mgmt_client

KV_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
DEFINITIONS = "providers/Microsoft.Authorization/roleDefinitions"


def _metadata(twin: TwinInfo, query: str, path: str = "/metadata/endpoints") -> requests.Response:
    return requests.get(f"{twin.arm_url}{path}{query}", verify=twin.ca_bundle, timeout=10)


def _arm(twin: TwinInfo, path: str, principal: str | None = None) -> Any:
    """GET through an official SDK pipeline (azure-mgmt-keyvault's: bearer policy, ARM error mapping)."""
    client = mgmt_client(twin, principal)
    return client._client.send_request(HttpRequest("GET", f"{twin.arm_url}{path}"))


def test_metadata_document_2022_09_01_names_the_twin(twin: TwinInfo) -> None:
    # What `az cloud register --endpoint-resource-manager https://localhost:PORT/` sends: a double slash.
    response = _metadata(twin, "?api-version=2022-09-01", "//metadata/endpoints")
    assert response.status_code == 200, response.text  # anonymous, as in Azure
    document = response.json()
    twin_url = f"https://localhost:{twin.port}/"
    assert document["resourceManager"] == twin_url
    assert document["authentication"]["loginEndpoint"] == twin_url
    assert document["microsoftGraphResourceId"] == twin_url
    assert document["suffixes"]["keyVaultDns"] == f"vault.localhost:{twin.port}"
    audiences = document["authentication"]["audiences"]
    assert audiences and set(audiences) <= ARM_AUDIENCES  # the twin's ARM accepts tokens for each
    assert "mhsmDns" not in document["suffixes"] and "storage" not in document["suffixes"]


@pytest.mark.parametrize(
    ("api_version", "shape"),
    [("2022-09-01", dict), ("2024-01-01", dict), ("2020-06-01", list), ("2019-05-01", list), ("1.0", dict)],
)
def test_metadata_document_shape_follows_the_api_version(twin: TwinInfo, api_version: str, shape: type) -> None:
    document = _metadata(twin, f"?api-version={api_version}").json()
    assert isinstance(document, shape)
    if shape is list:
        assert [cloud["resourceManager"] for cloud in document] == [f"https://localhost:{twin.port}/"]
    elif api_version == "1.0":  # Azure Stack's older shape
        assert set(document) == {"galleryEndpoint", "graphEndpoint", "portalEndpoint", "authentication"}


@pytest.mark.parametrize(
    ("query", "code"),
    [("", "MissingApiVersionParameter"), ("?api-version=2014-01-01", "InvalidApiVersionParameter")],
)
def test_metadata_document_api_version_errors_are_arm_errors(twin: TwinInfo, query: str, code: str) -> None:
    response = _metadata(twin, query)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_subscriptions_and_tenants_list_the_twins_own(twin: TwinInfo) -> None:
    principal = str(uuid.uuid4())  # any principal of the tenant sees the subscription
    listed = _arm(twin, "/subscriptions?api-version=2022-12-01", principal)
    assert listed.status_code == 200, listed.text()
    [subscription] = listed.json()["value"]
    assert subscription["id"] == f"/subscriptions/{twin.subscription_id}"
    assert (subscription["subscriptionId"], subscription["tenantId"]) == (twin.subscription_id, twin.tenant_id)
    assert subscription["state"] == "Enabled"
    got = _arm(twin, f"/subscriptions/{twin.subscription_id}?api-version=2022-12-01")
    assert got.json() == subscription
    missing = _arm(twin, f"/subscriptions/{uuid.uuid4()}?api-version=2022-12-01")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SubscriptionNotFound"
    [tenant] = _arm(twin, "/tenants?api-version=2022-12-01").json()["value"]
    assert tenant["tenantId"] == twin.tenant_id and tenant["id"] == f"/tenants/{twin.tenant_id}"


def test_subscriptions_need_a_management_token(twin: TwinInfo) -> None:
    response = requests.get(
        f"{twin.arm_url}/subscriptions", params={"api-version": "2022-12-01"}, verify=twin.ca_bundle, timeout=10
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "AuthenticationFailed"


def _authorization(twin: TwinInfo) -> Any:
    from azure.mgmt.authorization import AuthorizationManagementClient

    return AuthorizationManagementClient(
        credential(twin), twin.subscription_id, base_url=twin.arm_url, **client_options(twin)
    )


def test_built_in_role_definitions_carry_their_subscription_id_at_any_scope(twin: TwinInfo, make_vault: Any) -> None:
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    auth = _authorization(twin)
    subscription = f"/subscriptions/{twin.subscription_id}"
    vault = f"{subscription}/resourceGroups/rg-tests/providers/Microsoft.KeyVault/vaults/{make_vault()}"
    expected = f"{subscription}/{DEFINITIONS}/{KV_ADMINISTRATOR}"
    for scope in (subscription, f"{subscription}/resourceGroups/rg-tests", vault):
        [by_name] = auth.role_definitions.list(scope, filter="roleName eq 'Key Vault Administrator'")
        assert by_name.id == expected, scope
        assert auth.role_definitions.get(scope, KV_ADMINISTRATOR).id == expected
        assert {d.id for d in auth.role_definitions.list(scope)} >= {expected}
    # What `az role assignment list --role NAME` does: compare the assignments' ids with the definition's.
    principal = str(uuid.uuid4())
    auth.role_assignments.create(
        vault,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(role_definition_id=expected, principal_id=principal, principal_type="User"),
    )
    assigned = [a for a in auth.role_assignments.list_for_scope(vault) if a.principal_id == principal]
    assert [a.role_definition_id for a in assigned] == [expected]


def test_role_definitions_at_tenant_scope_keep_the_bare_id(twin: TwinInfo) -> None:
    response = _arm(twin, f"/{DEFINITIONS}/{KV_ADMINISTRATOR}?api-version=2022-04-01")
    assert response.json()["id"] == f"/{DEFINITIONS}/{KV_ADMINISTRATOR}"


def test_managed_hsm_lists_are_empty_as_for_a_subscription_without_any(twin: TwinInfo) -> None:
    hsms = mgmt_client(twin).managed_hsms
    assert list(hsms.list_by_subscription()) == []
    assert list(hsms.list_by_resource_group("rg-tests")) == []
    assert list(hsms.list_deleted()) == []
