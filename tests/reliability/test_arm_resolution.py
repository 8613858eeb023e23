"""ARM resolution property: a request whose path names a wrong subscription, resource group or vault never
reaches a resource, on every ARM route the twin serves; and locks bind every caller.

The routes come from the twin's own `/openapi.json`, so a route added later is covered without touching
this test. The target is a vault under a ReadOnly lock (the probes found that a wrong subscription id
slipped past a lock and soft-deleted a locked vault), with a key, a secret, an access policy, a role
assignment, a lock and a diagnostic setting, plus a soft-deleted vault for the deleted-vault routes.
For each route, hypothesis corrupts one part of the path (a random other subscription GUID, a string
that is no GUID, a group or a vault that does not exist; inside `{scope}` too) and sends the request
with a body that would succeed on the right path. The answer must be ARM's: 404 SubscriptionNotFound /
ResourceGroupNotFound / ResourceNotFound (400 InvalidSubscriptionId for a non-GUID), and nothing the
twin holds may change (compared through ARM reads with the right paths after every write).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.twinhttp import TwinHttp
from vaultspec.twin.domain.vaults import is_guid

RG, VAULT, GONE, LOCATION = "rg-resolve", "resolvekv", "resolvegone", "westeurope"
KEY, SECRET, LOCK, DIAGNOSTIC = "reskey", "ressecret", "res-readonly", "res-diag"
ADMIN_ROLE = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
READER_ROLE = "21090545-7ca7-4776-b22c-e363652d74d2"
WORKSPACE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-obs"
    "/providers/Microsoft.OperationalInsights/workspaces/law"
)
WRITES = ("PUT", "PATCH", "POST", "DELETE")
EXPECTED = {
    "subscription": {(404, "SubscriptionNotFound")},
    "subscription-not-a-guid": {(400, "InvalidSubscriptionId")},
    "group": {(404, "ResourceGroupNotFound")},
    "vault": {(404, "ResourceNotFound")},
}


@dataclass(frozen=True)
class Target:
    """The real objects every route's path is filled with."""

    subscription: str
    vault_id: str
    key_version: str
    assignment: str


def _vault_body(http: TwinHttp, tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {**http.policy_vault_body(LOCATION), "tags": tags or {}}


@pytest.fixture(scope="module")
def target(http: TwinHttp) -> Iterator[Target]:
    sub = http.info.subscription_id
    vault_id = http.vault_path(VAULT, RG)
    assert http.arm("PUT", vault_id, json=_vault_body(http)).status_code in (200, 201)
    gone = http.vault_path(GONE, RG)
    if (
        http.arm(
            "GET", f"/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{LOCATION}/deletedVaults/{GONE}"
        ).status_code
        != 200
    ):
        assert http.arm("PUT", gone, json=_vault_body(http)).status_code in (200, 201)
        assert http.arm("DELETE", gone).status_code == 200
    key = http.arm("PUT", f"{vault_id}/keys/{KEY}", json={"properties": {"kty": "EC", "curveName": "P-256"}})
    assert key.status_code == 200, key.text
    assert http.arm("PUT", f"{vault_id}/secrets/{SECRET}", json={"properties": {"value": "v"}}).status_code in (
        200,
        201,
    )
    assignment = str(uuid.uuid5(uuid.NAMESPACE_URL, vault_id))
    role = {
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE}",
            "principalId": str(uuid.uuid4()),
        }
    }
    http.arm(
        "PUT", f"{vault_id}/providers/Microsoft.Authorization/roleAssignments/{assignment}", json=role, api="2022-04-01"
    )
    diagnostic = {"properties": {"workspaceId": WORKSPACE, "logs": [{"category": "AuditEvent", "enabled": True}]}}
    assert (
        http.arm(
            "PUT", f"{vault_id}/providers/Microsoft.Insights/diagnosticSettings/{DIAGNOSTIC}", json=diagnostic
        ).status_code
        == 200
    )
    lock = f"{vault_id}/providers/Microsoft.Authorization/locks/{LOCK}"
    assert http.arm("PUT", lock, json={"properties": {"level": "ReadOnly"}}).status_code in (200, 201)
    yield Target(sub, vault_id, key.json()["properties"]["keyUriWithVersion"].rsplit("/", 1)[1], assignment)
    assert http.arm("DELETE", lock).status_code == 200


def _arm_operations(http: TwinHttp) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path, operation in http.documented_operations()
        if any(tag.startswith("arm") for tag in operation.get("tags", ()))
    ]


def _fill(template: str, target: Target, wrong: dict[str, str]) -> str:
    """The route's path for the real objects, with the corrupted parts in `wrong` swapped in."""
    subscription = wrong.get("subscription", target.subscription)
    group, vault = wrong.get("group", RG), wrong.get("vault", VAULT)
    deleted = wrong.get("vault", GONE)
    scope = f"subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{vault}"
    values = {
        "subscriptionId": subscription,
        "resourceGroupName": group,
        "vaultName": deleted if "/deletedVaults/" in template else vault,
        "scope": scope,
        "location": LOCATION,
        "keyName": KEY,
        "keyVersion": target.key_version,
        "secretName": SECRET,
        "operationKind": "add",
        "roleAssignmentName": target.assignment,
        "roleDefinitionId": READER_ROLE,
        "lockName": LOCK,
        "name": DIAGNOSTIC,
    }
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"a new path parameter: {template}"  # give it a real value above
    return path if path.startswith("/") else "/" + path


def _body(http: TwinHttp, method: str, template: str) -> Any:
    """A body that would succeed on the right path (so a leak would show in the state)."""
    if method in ("GET", "DELETE"):
        return None
    if template.endswith("/vaults/{vaultName}"):
        return _vault_body(http, tags={"leaked": "yes"}) if method == "PUT" else {"tags": {"leaked": "yes"}}
    if template.endswith("/accessPolicies/{operationKind}"):
        entry = {"tenantId": http.info.tenant_id, "objectId": str(uuid.uuid4()), "permissions": {"secrets": ["get"]}}
        return {"properties": {"accessPolicies": [entry]}}
    if template.endswith("/keys/{keyName}"):
        return {"properties": {"kty": "RSA"}}
    if template.endswith("/secrets/{secretName}"):
        return {"properties": {"value": "leaked"}}
    if "/roleAssignments/" in template:
        role = f"/providers/Microsoft.Authorization/roleDefinitions/{ADMIN_ROLE}"
        return {"properties": {"roleDefinitionId": role, "principalId": str(uuid.uuid4())}}
    if "/locks/" in template:
        return {"properties": {"level": "CanNotDelete"}}
    if "/diagnosticSettings/" in template:
        return {"properties": {"workspaceId": WORKSPACE}}
    if template.endswith("/checkNameAvailability"):
        return {"name": VAULT, "type": "Microsoft.KeyVault/vaults"}
    if template.endswith("/resourceGroups/{resourceGroupName}"):
        return {"location": LOCATION, "tags": {"leaked": "yes"}}
    return {}  # a write route this test does not know yet still gets the path checks


def _state(http: TwinHttp, target: Target) -> str:
    """What a leaked write could change, read through ARM with the right paths."""
    sub = f"/subscriptions/{target.subscription}"
    reads = [
        target.vault_id,
        f"{target.vault_id}/keys",
        f"{target.vault_id}/secrets",
        f"{sub}/providers/Microsoft.Authorization/roleAssignments",
        f"{sub}/providers/Microsoft.Authorization/locks",
        f"{target.vault_id}/providers/Microsoft.Insights/diagnosticSettings",
        f"{sub}/providers/Microsoft.KeyVault/deletedVaults",
        f"{sub}/resourceGroups/{RG}",
    ]
    answers = []
    for path in reads:
        response = http.arm("GET", path, api="2022-04-01") if "Authorization" in path else http.arm("GET", path)
        assert response.status_code == 200, (path, response.text)
        answers.append(response.json())
    return json.dumps(answers, sort_keys=True)


def _parts(method: str, template: str) -> list[str]:
    """The parts of this route's path that can be corrupted (and are not the thing a PUT creates)."""
    parts = ["subscription", "subscription-not-a-guid"]
    names_group = "{resourceGroupName}" in template or "{scope}" in template
    creates_group = method == "PUT" and template.endswith("/resourceGroups/{resourceGroupName}")
    if names_group and not creates_group:
        parts.append("group")
    creates_vault = method == "PUT" and template.endswith("/vaults/{vaultName}")
    if ("{vaultName}" in template or "{scope}" in template) and not creates_vault:
        parts.append("vault")
    return parts


absent = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=12)
not_a_guid = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=40).filter(
    lambda s: s not in (".", "..") and not is_guid(s)
)


def _expected(part: str, method: str, template: str) -> set[tuple[int, str]]:
    expected = set(EXPECTED[part])
    if part == "group" and method == "PUT" and template.endswith("/vaults/{vaultName}"):
        expected = {(409, "VaultAlreadyExists")}  # vault names are global: the name is taken
    if part == "vault" and method == "DELETE" and template.endswith("/vaults/{vaultName}"):
        expected.add((204, ""))  # deleting what is not there
    return expected


def _check_route(http: TwinHttp, target: Target, method: str, template: str, part: str) -> None:
    """Send one route with one part of its path corrupted (hypothesis picks the wrong values)."""

    @settings(max_examples=3, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(other=st.uuids(), name=absent, junk=not_a_guid)
    def never_reaches(other: uuid.UUID, name: str, junk: str) -> None:
        wrong = {
            "subscription": {"subscription": str(other)},
            "subscription-not-a-guid": {"subscription": junk},
            "group": {"group": f"rg-absent-{name}"},
            "vault": {"vault": f"absent{name}"},
        }[part]
        path = _fill(template, target, wrong)
        response = http.arm(method, path, json=_body(http, method, template), api="2022-04-01")
        code = response.json()["error"]["code"] if response.content else ""
        answer = (response.status_code, code)
        assert answer in _expected(part, method, template), (method, path, response.status_code, response.text[:300])

    never_reaches()


def test_a_wrong_subscription_group_or_vault_never_reaches_a_resource(http: TwinHttp, target: Target) -> None:
    operations = _arm_operations(http)
    assert len(operations) >= 40  # every ARM route of the twin, read from its OpenAPI document
    before = _state(http, target)
    checked = []
    for method, template in operations:
        if "{subscriptionId}" not in template and "{scope}" not in template:
            continue  # tenant-level routes (role definitions) name no subscription
        for part in _parts(method, template):
            _check_route(http, target, method, template, part)
            if method in WRITES:  # nothing changed, whatever the answer said
                assert _state(http, target) == before, (method, template, part)
        checked.append((method, template))
    assert len(checked) >= 38, checked  # all but the two tenant-level role definition routes


def _case_variants(target: Target) -> list[str]:
    """The locked vault's id as given, and spelled in other cases (ARM ids are case-insensitive)."""
    vault_id = target.vault_id
    return [vault_id, vault_id.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"), vault_id.lower()]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"tags": {"locked": "no"}}),
        ("DELETE", "", None),
        ("PUT", f"/secrets/{SECRET}", {"properties": {"value": "locked-out"}}),
        ("PATCH", f"/secrets/{SECRET}", {"properties": {"contentType": "x"}}),
        ("PUT", "/keys/newkey", {"properties": {"kty": "RSA"}}),
        ("PUT", "/accessPolicies/add", {"properties": {"accessPolicies": []}}),
    ],
)
def test_a_lock_binds_every_caller_however_the_path_is_spelled(
    http: TwinHttp, target: Target, method: str, suffix: str, body: Any
) -> None:
    before = _state(http, target)
    for vault_id in _case_variants(target):
        if suffix == "/accessPolicies/add":
            body = {
                "properties": {
                    "accessPolicies": [
                        {
                            "tenantId": http.info.tenant_id,
                            "objectId": str(uuid.uuid4()),
                            "permissions": {"keys": ["get"]},
                        }
                    ]
                }
            }
        response = http.arm(method, vault_id + suffix, json=body)
        assert response.status_code == 409 and response.json()["error"]["code"] == "ScopeLocked", response.text
    for principal in (None, str(uuid.uuid4())):  # any caller: the default identity or another principal
        response = http.arm("DELETE", target.vault_id, token=http.arm_token(principal))
        assert response.status_code == 409, response.text
    assert _state(http, target) == before
