"""What Key Vault and ARM answer where the probes found the twin answering otherwise (sources in
docs/RELIABILITY.md §7 and in the modules named below):

- data-plane api-version (`caller.check_api_version`): missing -> 400 BadParameter; malformed -> 400
  BadParameter "The specified version (X) is not recognized. Consider using the latest supported version
  (Y)." (Key Vault's answer); well formed but unknown -> served (the twin's leniency); the 401 challenge
  still comes first;
- role assignment (and lock) scopes that are no resource (`domain.scopes`): a collection such as
  `.../vaults/V/keys`, `.` or `..` segments -> 400 InvalidScope; a vault, group or subscription that does
  not exist -> ARM's 404 ResourceNotFound / ResourceGroupNotFound / SubscriptionNotFound;
- access-policy objectIds (and applicationIds) that are not GUIDs -> 400 BadRequest "An invalid value was
  provided for 'accessPolicies'." (Key Vault's answer), on vault PUT/PATCH and accessPolicies/{kind};
- `/rng` on a key vault (a Managed HSM operation) -> 400 BadParameter, GET and POST alike.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from tests.reliability.rawhttp import exchange, request_bytes
from tests.reliability.twinhttp import TwinHttp
from vaultspec.twin.testing import TWIN_VAULT, client_options, credential, key_client, mgmt_client, secret_client

RG = "rg-answers"
READER = "21090545-7ca7-4776-b22c-e363652d74d2"
NOT_RECOGNIZED = "is not recognized. Consider using the latest supported version"


@pytest.fixture(scope="module")
def objects(http: TwinHttp) -> dict[str, str]:
    assert http.vault("PUT", "/secrets/answers", json={"value": "v"}).status_code == 200
    created = http.vault("POST", "/keys/answers-key/create", json={"kty": "EC", "crv": "P-256"})
    version = str(created.json()["key"]["kid"]).rsplit("/", 1)[1]
    vault = http.arm("PUT", http.vault_path("answerskv", RG), json=http.policy_vault_body())
    assert vault.status_code in (200, 201), vault.text
    return {"version": version, "vault_id": vault.json()["id"]}


# -- api-version ------------------------------------------------------------------------------------
CALLS = [
    ("GET", "/secrets/answers", None),  # hot path
    ("POST", "/keys/answers-key/{version}/sign", {"alg": "ES256", "value": "A" * 43}),  # hot path
    ("GET", "/secrets", None),  # routed
    ("PUT", "/secrets/answers-set", {"value": "v"}),  # routed
]


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=[f"{m} {p}" for m, p, _ in CALLS])
@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("", "missing"),
        ("api-version=", "missing"),
        ("api-version=banana", NOT_RECOGNIZED),
        ("api-version=7", NOT_RECOGNIZED),
        ("api-version=7.6.1", NOT_RECOGNIZED),
        ("api-version=2025-07-01x", NOT_RECOGNIZED),
        ("api-version=7.6&api-version=7.5", NOT_RECOGNIZED),
        ("api-version=7.9", None),  # well formed: served as the latest
        ("api-version=2030-01-01", None),
        ("api-version=7.7-preview.1", None),
    ],
)
def test_a_missing_or_malformed_api_version_is_400_on_hot_and_routed_paths(
    http: TwinHttp, objects: dict[str, str], method: str, path: str, body: Any, query: str, answer: str | None
) -> None:
    target = path.format(version=objects["version"]) + (f"?{query}" if query else "")
    response = http.vault(method, target, json=body, api=None)
    if answer is None:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BadParameter" and answer in error["message"]
    anonymous = http.vault(method, target, json=body, api=None, token=None)
    assert anonymous.status_code == 401  # the challenge comes before any verdict on the request


def test_the_sdk_sees_a_malformed_api_version_as_400(http: TwinHttp) -> None:
    secrets = secret_client(http.info, TWIN_VAULT)
    response = secrets.send_request(HttpRequest("GET", "/secrets/answers?api-version=banana"))
    assert response.status_code == 400 and NOT_RECOGNIZED in response.json()["error"]["message"]
    assert secrets.send_request(HttpRequest("GET", "/secrets/answers")).status_code == 200  # the SDK adds one


# -- role assignment and lock scopes ---------------------------------------------------------------------
def _assignment(scope: str) -> tuple[str, dict[str, Any]]:
    body = {
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            "principalId": str(uuid.uuid4()),
        }
    }
    return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}", body


@pytest.mark.parametrize(
    ("suffix", "status", "code"),
    [
        ("/keys", 400, "InvalidScope"),  # a collection, not a resource
        ("/secrets", 400, "InvalidScope"),
        ("/keys/k/versions", 400, "InvalidScope"),
        ("/keys/any-key", 201, None),  # a key scope: the vault must exist, the key need not (yet)
        ("/secrets/any-secret", 201, None),
    ],
)
def test_role_assignment_scopes_must_be_resources(
    http: TwinHttp, objects: dict[str, str], suffix: str, status: int, code: str | None
) -> None:
    path, body = _assignment(objects["vault_id"] + suffix)
    response = http.arm("PUT", path, json=body, api="2022-04-01")
    assert response.status_code == status, response.text
    if code:
        assert response.json()["error"]["code"] == code
    else:
        assert http.arm("DELETE", path, api="2022-04-01").status_code == 200


@pytest.mark.parametrize("record", ["roleAssignments", "locks"])
@pytest.mark.parametrize("trick", ["/..", "/../answerskv", "/.", "/%2e%2e", "/%2E%2e/answerskv"])
def test_dot_segments_in_a_scope_are_400(http: TwinHttp, objects: dict[str, str], record: str, trick: str) -> None:
    """Sent as raw bytes: HTTP clients remove dot segments before they send (urllib3 does)."""
    scope = objects["vault_id"] + trick
    name = str(uuid.uuid4()) if record == "roleAssignments" else "dotlock"
    target = f"{scope}/providers/Microsoft.Authorization/{record}/{name}?api-version=2022-04-01"
    _, body = _assignment(scope)
    if record == "locks":
        body = {"properties": {"level": "CanNotDelete"}}
    payload = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {http.arm_token()}", "Content-Type": "application/json"}
    response = exchange(http.info, request_bytes("PUT", target, f"localhost:{http.info.port}", headers, payload))
    assert response.status == 400 and b"InvalidScope" in response.body, (trick, response.head[:100], response.body)


@pytest.mark.parametrize(
    ("scope", "code"),
    [
        (
            "/subscriptions/{sub}/resourceGroups/" + RG + "/providers/Microsoft.KeyVault/vaults/absentvault",
            "ResourceNotFound",
        ),
        ("/subscriptions/{sub}/resourceGroups/rg-absent-answers", "ResourceGroupNotFound"),
        ("/subscriptions/00000000-0000-0000-0000-00000000000a", "SubscriptionNotFound"),
        (
            "/subscriptions/{sub}/resourceGroups/" + RG + "/providers/Microsoft.Storage/storageAccounts/sa",
            "ResourceNotFound",
        ),
    ],
)
def test_a_scope_that_does_not_exist_is_404(http: TwinHttp, objects: dict[str, str], scope: str, code: str) -> None:
    path, body = _assignment(scope.format(sub=http.info.subscription_id))
    response = http.arm("PUT", path, json=body, api="2022-04-01")
    assert response.status_code == 404 and response.json()["error"]["code"] == code, response.text


def test_azure_mgmt_authorization_sees_a_missing_vault_as_resource_not_found(http: TwinHttp) -> None:
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    info = http.info
    auth = AuthorizationManagementClient(
        credential(info), info.subscription_id, base_url=info.arm_url, **client_options(info)
    )
    scope = http.vault_path("absentvault", RG)
    role = f"/subscriptions/{info.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    with pytest.raises(ResourceNotFoundError) as missing:
        auth.role_assignments.create(
            scope,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(role_definition_id=role, principal_id=str(uuid.uuid4())),
        )
    assert missing.value.error.code == "ResourceNotFound"


# -- access-policy identities ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        (field, value)
        for field in ("objectId", "applicationId", "tenantId")
        for value in ("not-a-guid", "", "12345", "/subscriptions/x/resourceGroups/y")
        if (field, value) != ("applicationId", "")  # an empty applicationId: a plain entry, not a compound one
    ],
)
def test_access_policy_identities_must_be_guids(
    http: TwinHttp, objects: dict[str, str], field: str, value: str
) -> None:
    entry = {
        "tenantId": http.info.tenant_id,
        "objectId": str(uuid.uuid4()),
        "permissions": {"secrets": ["get"]},
        field: value,
    }
    kind = http.arm(
        "PUT", objects["vault_id"] + "/accessPolicies/add", json={"properties": {"accessPolicies": [entry]}}
    )
    patch = http.arm("PATCH", objects["vault_id"], json={"properties": {"accessPolicies": [entry]}})
    for response in (kind, patch):
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "BadRequest"
        assert error["message"].startswith("An invalid value was provided for 'accessPolicies'")


def test_azure_mgmt_keyvault_sees_a_non_guid_object_id_as_400(http: TwinHttp) -> None:
    from azure.mgmt.keyvault.models import (
        AccessPolicyEntry,
        Permissions,
        VaultAccessPolicyParameters,
        VaultAccessPolicyProperties,
    )

    entry = AccessPolicyEntry(
        tenant_id=http.info.tenant_id, object_id="sql-server-name", permissions=Permissions(keys_property=["get"])
    )
    parameters = VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=[entry]))
    with pytest.raises(HttpResponseError) as refused:
        mgmt_client(http.info).vaults.update_access_policy(RG, "answerskv", "add", parameters)
    assert refused.value.status_code == 400 and "accessPolicies" in refused.value.error.message


# -- random bytes ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_rng_on_a_key_vault_is_400(http: TwinHttp, method: str) -> None:
    body = {"count": 8} if method == "POST" else None
    response = http.vault(method, "/rng", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "BadParameter", response.text
    assert "Managed HSM" in response.json()["error"]["message"]
    assert http.vault(method, "/rng", json=body, token=None).status_code == 401
    absent = http.vault(method, "/rng", json=body, vault="absentvault")
    assert absent.status_code == 404 and absent.json()["error"]["code"] == "VaultNotFound"
    with pytest.raises(HttpResponseError) as refused:
        key_client(http.info, TWIN_VAULT).get_random_bytes(8)
    assert refused.value.status_code == 400
