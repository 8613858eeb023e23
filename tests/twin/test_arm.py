"""The ARM subset through azure-mgmt-keyvault (and azure-mgmt-authorization), unmodified."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    Permissions,
    Sku,
    Vault,
    VaultAccessPolicyParameters,
    VaultAccessPolicyProperties,
    VaultCheckNameAvailabilityParameters,
    VaultCreateOrUpdateParameters,
    VaultPatchParameters,
    VaultPatchProperties,
    VaultProperties,
)

from tests.twin.conftest import arm_request, fresh_name
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import mgmt_client, secret_client

RG = "rg-arm"
VAULTS = "Microsoft.KeyVault/vaults"
ROLE_DEFINITIONS = "Microsoft.Authorization/roleDefinitions"
WORKSPACE = "/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/workspaces/w"


@pytest.fixture(scope="module")
def mgmt(twin: TwinInfo) -> Any:
    return mgmt_client(twin)


def vault_params(twin: TwinInfo, **props: Any) -> VaultCreateOrUpdateParameters:
    return VaultCreateOrUpdateParameters(
        location="westeurope",
        tags={"owner": "platform"},
        properties=VaultProperties(tenant_id=twin.tenant_id, sku=Sku(family="A", name="standard"), **props),
    )


def create(mgmt: Any, twin: TwinInfo, name: str | None = None, **props: Any) -> Vault:
    return mgmt.vaults.begin_create_or_update(RG, name or fresh_name("v"), vault_params(twin, **props)).result()


def test_create_get_update_list_vault(twin: TwinInfo, mgmt: Any) -> None:
    name = fresh_name("v")
    vault = create(mgmt, twin, name, soft_delete_retention_in_days=30)
    assert vault.properties.vault_uri == f"https://{name}.vault.localhost:{twin.port}/"
    assert vault.properties.provisioning_state == "Succeeded"
    assert vault.properties.enable_soft_delete is True and vault.properties.soft_delete_retention_in_days == 30
    assert vault.properties.enable_rbac_authorization is True  # the 2026 api-version default
    assert vault.id == f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/{VAULTS}/{name}"
    assert mgmt.vaults.get(RG, name).tags == {"owner": "platform"}
    patched = mgmt.vaults.update(
        RG,
        name,
        VaultPatchParameters(tags={"x": "y"}, properties=VaultPatchProperties(enable_purge_protection=True)),
    )
    assert patched.tags == {"x": "y"} and patched.properties.enable_purge_protection is True
    assert name in [v.name for v in mgmt.vaults.list_by_resource_group(RG)]
    assert name in [v.name for v in mgmt.vaults.list_by_subscription()]
    with pytest.raises(HttpResponseError) as err:
        mgmt.vaults.update(
            RG, name, VaultPatchParameters(properties=VaultPatchProperties(enable_purge_protection=False))
        )
    assert err.value.status_code == 400


def test_vault_names_are_one_name_whatever_their_case(twin: TwinInfo, mgmt: Any) -> None:
    """ARM names are case-insensitive: an upper-case spelling of a taken name is taken (the twin stored
    names in lower case but looked them up as given, so such a PUT in another group replaced the vault)."""
    name = create(mgmt, twin).name
    shouting = name.upper()
    assert mgmt.vaults.get(RG, shouting).name == name
    availability = mgmt.vaults.check_name_availability(
        VaultCheckNameAvailabilityParameters(name=shouting, type="Microsoft.KeyVault/vaults")
    )
    assert availability.name_available is False
    with pytest.raises(HttpResponseError) as taken:
        mgmt.vaults.begin_create_or_update("rg-arm-other", shouting, vault_params(twin)).result()
    assert taken.value.status_code == 409
    assert mgmt.vaults.get(RG, name).id.endswith(f"/resourceGroups/{RG}/providers/{VAULTS}/{name}")


def test_rbac_default_is_false_for_older_api_versions(twin: TwinInfo) -> None:
    name = fresh_name("v")
    response = arm_request(
        twin,
        "PUT",
        f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{name}",
        {
            "location": "westeurope",
            "properties": {"tenantId": twin.tenant_id, "sku": {"family": "A", "name": "standard"}},
        },
        api="2024-11-01",
    )
    assert response.status_code == 201 and response.json()["properties"]["enableRbacAuthorization"] is False


@pytest.mark.parametrize(
    ("name", "props", "code"),
    [
        ("1bad", {}, "VaultNameNotValid"),
        ("has--hyphens", {}, "VaultNameNotValid"),
        ("ok-name", {"tenantId": "not-a-guid"}, "BadRequest"),
        ("ok-name", {"sku": {"family": "A", "name": "gold"}}, "BadRequest"),
        ("ok-name", {"softDeleteRetentionInDays": 91}, "BadRequest"),
        ("ok-name", {"enableSoftDelete": False}, "BadRequest"),
        ("ok-name", {"networkAcls": {"defaultAction": "Maybe"}}, "BadRequest"),
        (
            "ok-name",
            {"networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "999.1.1.1"}]}},
            "BadRequest",
        ),
        (
            "ok-name",
            {"accessPolicies": [{"tenantId": "x", "objectId": "y", "permissions": {}}]},
            "BadRequest",
        ),
        ("ok-name", {"createMode": "recover"}, "DeletedVaultNotFound"),
    ],
)
def test_vault_validation_errors_are_arm_bodies(twin: TwinInfo, name: str, props: dict[str, Any], code: str) -> None:
    body = {"tenantId": twin.tenant_id, "sku": {"family": "A", "name": "standard"}, **props}
    response = arm_request(
        twin,
        "PUT",
        f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{name}",
        {"location": "westeurope", "properties": body},
    )
    assert response.status_code in (400, 404)
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and "details" in error


def test_access_policies_add_replace_remove(twin: TwinInfo, mgmt: Any) -> None:
    name = create(mgmt, twin, enable_rbac_authorization=False).name
    principal = str(uuid.uuid4())

    def policy(*secret_perms: str) -> VaultAccessPolicyParameters:
        entry = AccessPolicyEntry(
            tenant_id=twin.tenant_id, object_id=principal, permissions=Permissions(secrets=list(secret_perms))
        )
        return VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=[entry]))

    mgmt.vaults.update_access_policy(RG, name, "add", policy("get"))
    mgmt.vaults.update_access_policy(RG, name, "add", policy("list"))
    perms = mgmt.vaults.get(RG, name).properties.access_policies[0].permissions.secrets
    assert sorted(perms) == ["get", "list"]
    mgmt.vaults.update_access_policy(RG, name, "replace", policy("set"))
    assert mgmt.vaults.get(RG, name).properties.access_policies[0].permissions.secrets == ["set"]
    mgmt.vaults.update_access_policy(RG, name, "remove", policy("set"))
    assert mgmt.vaults.get(RG, name).properties.access_policies == []


def test_deleted_vault_keeps_name_and_contents_until_purged(twin: TwinInfo, mgmt: Any) -> None:
    name = create(
        mgmt,
        twin,
        enable_rbac_authorization=False,
        access_policies=[
            AccessPolicyEntry(
                tenant_id=twin.tenant_id,
                object_id=twin.default_object_id,
                permissions=Permissions(secrets=["all"]),
            )
        ],
    ).name
    secret_client(twin, name).set_secret("kept", "value")
    mgmt.vaults.delete(RG, name)
    with pytest.raises(ResourceNotFoundError):
        mgmt.vaults.get(RG, name)
    deleted = mgmt.vaults.get_deleted(name, "westeurope")
    assert deleted.properties.vault_id.endswith(f"/vaults/{name}") and deleted.properties.scheduled_purge_date
    assert name in [d.name for d in mgmt.vaults.list_deleted()]
    availability = mgmt.vaults.check_name_availability(
        VaultCheckNameAvailabilityParameters(name=name, type="Microsoft.KeyVault/vaults")
    )
    assert availability.name_available is False
    with pytest.raises((ResourceExistsError, HttpResponseError)) as err:
        create(mgmt, twin, name)
    assert err.value.status_code == 409
    with pytest.raises(HttpResponseError) as gone:
        secret_client(twin, name).get_secret("kept")
    assert gone.value.status_code == 404
    create(mgmt, twin, name, create_mode="recover")
    assert secret_client(twin, name).get_secret("kept").value == "value"
    mgmt.vaults.delete(RG, name)
    mgmt.vaults.begin_purge_deleted(name, "westeurope").result()
    assert mgmt.vaults.check_name_availability(
        VaultCheckNameAvailabilityParameters(name=name, type="Microsoft.KeyVault/vaults")
    ).name_available


def test_purge_protection_forbids_vault_purge(twin: TwinInfo, mgmt: Any) -> None:
    name = create(mgmt, twin, enable_purge_protection=True).name
    mgmt.vaults.delete(RG, name)
    with pytest.raises(HttpResponseError) as err:
        mgmt.vaults.begin_purge_deleted(name, "westeurope").result()
    assert err.value.status_code == 409


def test_arm_keys_are_create_if_not_exist(twin: TwinInfo, mgmt: Any) -> None:
    from azure.mgmt.keyvault.models import KeyCreateParameters, KeyProperties

    name = create(mgmt, twin).name
    params = KeyCreateParameters(
        properties=KeyProperties(kty="RSA", key_size=2048, key_ops=["sign", "verify"]), tags={"a": "b"}
    )
    first = mgmt.keys.create_if_not_exist(RG, name, "k", params)
    again = mgmt.keys.create_if_not_exist(RG, name, "k", params)
    assert first.properties.key_uri_with_version == again.properties.key_uri_with_version
    assert first.properties.key_uri == f"https://{name}.vault.localhost:{twin.port}/keys/k"
    assert first.properties.key_size == 2048 and first.properties.key_ops == ["sign", "verify"]
    assert mgmt.keys.get(RG, name, "k").name == "k"
    assert [k.name for k in mgmt.keys.list(RG, name)] == ["k"]
    assert len(list(mgmt.keys.list_versions(RG, name, "k"))) == 1


def test_arm_secrets_never_return_values(twin: TwinInfo, mgmt: Any) -> None:
    from azure.mgmt.keyvault.models import (
        SecretCreateOrUpdateParameters,
        SecretPatchParameters,
        SecretPatchProperties,
        SecretProperties,
    )

    name = create(mgmt, twin).name
    created = mgmt.secrets.create_or_update(
        RG,
        name,
        "s",
        SecretCreateOrUpdateParameters(properties=SecretProperties(value="arm-canary-41", content_type="text/plain")),
    )
    assert created.properties.value is None and created.properties.content_type == "text/plain"
    patched = mgmt.secrets.update(
        RG, name, "s", SecretPatchParameters(properties=SecretPatchProperties(content_type="x"))
    )
    assert patched.properties.content_type == "x"
    listed = list(mgmt.secrets.list(RG, name))
    assert [s.name for s in listed] == ["s"] and all(s.properties.value is None for s in listed)
    raw = arm_request(
        twin,
        "GET",
        f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{name}/secrets/s",
    )
    assert "arm-canary-41" not in raw.text


def test_locks_are_enforced_like_azure(twin: TwinInfo, mgmt: Any) -> None:
    name = create(mgmt, twin).name
    vault_id = f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/{VAULTS}/{name}"
    lock = arm_request(
        twin,
        "PUT",
        f"{vault_id}/providers/Microsoft.Authorization/locks/nodelete",
        {"properties": {"level": "CanNotDelete"}},
        api="2020-05-01",
    )
    assert lock.status_code == 201 and lock.json()["properties"]["level"] == "CanNotDelete"
    with pytest.raises(HttpResponseError) as err:
        mgmt.vaults.delete(RG, name)
    assert err.value.status_code == 409 and err.value.error.code == "ScopeLocked"
    mgmt.vaults.update(RG, name, VaultPatchParameters(tags={"still": "writable"}))
    rg_id = f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}"
    readonly = arm_request(
        twin,
        "PUT",
        f"{rg_id}/providers/Microsoft.Authorization/locks/ro-{name}",
        {"properties": {"level": "ReadOnly"}},
        api="2020-05-01",
    )
    assert readonly.status_code == 201
    try:
        with pytest.raises(HttpResponseError) as err:
            mgmt.vaults.update(RG, name, VaultPatchParameters(tags={"blocked": "yes"}))
        assert err.value.error.code == "ScopeLocked"
    finally:
        arm_request(twin, "DELETE", f"{rg_id}/providers/Microsoft.Authorization/locks/ro-{name}", api="2020-05-01")
    assert (
        arm_request(
            twin, "GET", f"{vault_id}/providers/Microsoft.Authorization/locks/nodelete", api="2020-05-01"
        ).status_code
        == 200
    )
    arm_request(twin, "DELETE", f"{vault_id}/providers/Microsoft.Authorization/locks/nodelete", api="2020-05-01")
    mgmt.vaults.delete(RG, name)


def test_a_client_of_another_subscription_never_reaches_a_locked_vault(twin: TwinInfo, mgmt: Any) -> None:
    """The probe: azure-mgmt-keyvault configured for a subscription the twin does not hold tried to delete,
    patch and grant on a locked vault; each call must be ARM's 404, and the vault must stay as it was."""
    name = create(mgmt, twin).name
    vault_id = f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/{VAULTS}/{name}"
    lock = f"{vault_id}/providers/Microsoft.Authorization/locks/probe"
    assert arm_request(twin, "PUT", lock, {"properties": {"level": "ReadOnly"}}).status_code == 201
    foreign = mgmt_client(twin, subscription_id="00000000-0000-0000-0000-000000000000")
    policy = VaultAccessPolicyParameters(
        properties=VaultAccessPolicyProperties(
            access_policies=[
                AccessPolicyEntry(
                    tenant_id=twin.tenant_id, object_id=str(uuid.uuid4()), permissions=Permissions(secrets=["get"])
                )
            ]
        )
    )
    attempts = [
        lambda: foreign.vaults.delete(RG, name),
        lambda: foreign.vaults.update(RG, name, VaultPatchParameters(tags={"probe": "1"})),
        lambda: foreign.vaults.update_access_policy(RG, name, "add", policy),
        lambda: foreign.vaults.get(RG, name),
    ]
    try:
        for attempt in attempts:
            with pytest.raises(ResourceNotFoundError) as err:
                attempt()
            assert err.value.error.code == "SubscriptionNotFound"
        with pytest.raises(ResourceNotFoundError) as err:  # the right subscription, another group
            mgmt.vaults.delete("rg-arm-elsewhere", name)
        assert err.value.error.code == "ResourceGroupNotFound"
        kept = mgmt.vaults.get(RG, name)
        assert kept.tags == {"owner": "platform"} and kept.properties.access_policies == []
    finally:
        arm_request(twin, "DELETE", lock)
    mgmt.vaults.delete(RG, name)


def test_resource_groups_exist_once_created_or_named_by_a_vault(twin: TwinInfo, mgmt: Any) -> None:
    group = fresh_name("rg-")
    path = f"/subscriptions/{twin.subscription_id}/resourceGroups/{group}"
    missing = arm_request(twin, "GET", path, api="2021-04-01")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceGroupNotFound"
    listing = arm_request(twin, "GET", f"{path}/providers/{VAULTS}")
    assert listing.status_code == 404 and listing.json()["error"]["code"] == "ResourceGroupNotFound"
    name = mgmt.vaults.begin_create_or_update(group, fresh_name("v"), vault_params(twin)).result().name
    assert arm_request(twin, "GET", path, api="2021-04-01").json()["name"] == group
    assert [v.name for v in mgmt.vaults.list_by_resource_group(group)] == [name]
    assert arm_request(twin, "DELETE", path, api="2021-04-01").status_code == 200  # takes its vaults along
    assert arm_request(twin, "GET", path, api="2021-04-01").status_code == 404
    assert mgmt.vaults.get_deleted(name, "westeurope").properties.vault_id.endswith(
        f"/{group}/providers/{VAULTS}/{name}"
    )


def test_diagnostic_settings_are_recorded(twin: TwinInfo, mgmt: Any) -> None:
    name = create(mgmt, twin).name
    vault_id = f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/{VAULTS}/{name}"
    body = {
        "properties": {
            "workspaceId": WORKSPACE,
            "logs": [{"category": "AuditEvent", "enabled": True}],
        }
    }
    path = f"{vault_id}/providers/Microsoft.Insights/diagnosticSettings/audit"
    put = arm_request(twin, "PUT", path, body, api="2021-05-01-preview")
    assert (
        put.status_code == 200
        and put.json()["id"] == path
        and put.json()["type"] == "Microsoft.Insights/diagnosticSettings"
    )
    assert (
        arm_request(twin, "GET", path, api="2021-05-01-preview").json()["properties"]["logs"][0]["category"]
        == "AuditEvent"
    )
    assert arm_request(twin, "PUT", path, {"properties": {}}, api="2021-05-01-preview").status_code == 400
    assert arm_request(twin, "DELETE", path, api="2021-05-01-preview").status_code == 200
    assert arm_request(twin, "GET", path, api="2021-05-01-preview").status_code == 404


def test_role_assignments_through_azure_mgmt_authorization(twin: TwinInfo, mgmt: Any) -> None:
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    from vaultspec.twin.testing import client_options, credential

    auth = AuthorizationManagementClient(
        credential(twin), twin.subscription_id, base_url=twin.arm_url, **client_options(twin)
    )
    vault = create(mgmt, twin)
    principal = str(uuid.uuid4())
    secrets_user = "4633458b-17de-408a-b874-0445c86b69e6"
    role = f"/subscriptions/{twin.subscription_id}/providers/{ROLE_DEFINITIONS}/{secrets_user}"
    name = str(uuid.uuid4())
    created = auth.role_assignments.create(
        vault.id,
        name,
        RoleAssignmentCreateParameters(
            role_definition_id=role, principal_id=principal, principal_type="ServicePrincipal"
        ),
    )
    assert created.principal_id == principal and created.scope == vault.id
    assert auth.role_assignments.get(vault.id, name).role_definition_id == role
    listed = list(auth.role_assignments.list_for_scope(vault.id, filter=f"principalId eq '{principal}'"))
    assert [a.name for a in listed] == [name]
    with pytest.raises(HttpResponseError) as dup:
        auth.role_assignments.create(
            vault.id,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(role_definition_id=role, principal_id=principal),
        )
    assert dup.value.status_code == 409
    with pytest.raises(HttpResponseError) as bad:
        auth.role_assignments.create(
            vault.id,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(
                role_definition_id=role.replace("4633458b", "00000000"), principal_id=principal
            ),
        )
    assert bad.value.status_code == 400
    definition = auth.role_definitions.get(vault.id, "4633458b-17de-408a-b874-0445c86b69e6")
    assert definition.role_name == "Key Vault Secrets User"
    assert "Microsoft.KeyVault/vaults/secrets/getSecret/action" in definition.permissions[0].data_actions
    auth.role_assignments.delete(vault.id, name)
    assert list(auth.role_assignments.list_for_scope(vault.id, filter=f"principalId eq '{principal}'")) == []


def test_arm_requires_a_management_token(twin: TwinInfo) -> None:
    import requests

    response = requests.get(
        f"{twin.arm_url}/subscriptions/{twin.subscription_id}/providers/Microsoft.KeyVault/vaults",
        params={"api-version": "2024-11-01"},
        verify=twin.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "AuthenticationFailed"
