"""Compound-identity access policy entries (`objectId` + `applicationId`): they apply only when that
application acts on behalf of that principal (token `appid` = applicationId and `oid` = objectId).

The probes found that such an entry granted the user acting alone. Key Vault's model (learn.microsoft.com,
"Key Vault access policy": an entry for an application and a user grants the application acting on
behalf of the user) gives nothing to the user alone, the application alone, another application for
the user, or the application for another user. Checked with the official SecretClient and KeyClient.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from tests.twin.conftest import arm_request
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import CompoundIdentityCredential, key_client, secret_client

RG = "rg-compound"


@pytest.fixture(scope="module")
def setup(twin: TwinInfo, make_vault: Callable[..., str]) -> dict[str, str]:
    user, app = str(uuid.uuid4()), str(uuid.uuid4())
    everything = {"keys": ["all"], "secrets": ["all"]}
    policies = [
        {"tenantId": twin.tenant_id, "objectId": twin.default_object_id, "permissions": everything},
        {
            "tenantId": twin.tenant_id,
            "objectId": user,
            "applicationId": app,
            "permissions": {"secrets": ["get"], "keys": ["get"]},
        },
    ]
    vault = make_vault({"enableRbacAuthorization": False, "accessPolicies": policies}, rg=RG)
    secret_client(twin, vault).set_secret("shared", "for-the-app-acting-for-the-user")
    key_client(twin, vault).create_ec_key("shared-key")
    return {"vault": vault, "user": user, "app": app}


def _reads(twin: TwinInfo, vault: str, credential: Any = None, principal: str | None = None) -> list[int]:
    """Status of a secret read and a key read by this caller."""
    statuses = []
    for read in (
        lambda: secret_client(twin, vault, principal, credential=credential).get_secret("shared"),
        lambda: key_client(twin, vault, principal, credential=credential).get_key("shared-key"),
    ):
        try:
            read()
            statuses.append(200)
        except HttpResponseError as err:
            assert err.status_code != 403 or err.error.code == "Forbidden"
            statuses.append(err.status_code or 0)
    return statuses


def test_a_compound_entry_grants_only_the_application_acting_for_the_user(
    twin: TwinInfo, setup: dict[str, str]
) -> None:
    vault, user, app = setup["vault"], setup["user"], setup["app"]
    assert _reads(twin, vault, CompoundIdentityCredential(twin, app, user)) == [200, 200]
    assert _reads(twin, vault, principal=user) == [403, 403]  # the user alone
    assert _reads(twin, vault, principal=app) == [403, 403]  # the application alone
    other = str(uuid.uuid4())
    assert _reads(twin, vault, CompoundIdentityCredential(twin, other, user)) == [403, 403]  # another app
    assert _reads(twin, vault, CompoundIdentityCredential(twin, app, other)) == [403, 403]  # another user


def test_plain_and_compound_entries_for_one_principal_are_distinct_entries(
    twin: TwinInfo, setup: dict[str, str]
) -> None:
    vault, user, app = setup["vault"], setup["user"], setup["app"]
    path = f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{vault}"
    plain = {"tenantId": twin.tenant_id, "objectId": user, "permissions": {"secrets": ["list"]}}
    added = arm_request(twin, "PUT", f"{path}/accessPolicies/add", {"properties": {"accessPolicies": [plain]}})
    assert added.status_code == 200, added.text
    entries = {
        p.get("applicationId"): p["permissions"]["secrets"]
        for p in added.json()["properties"]["accessPolicies"]
        if p["objectId"] == user
    }
    assert entries == {None: ["list"], app: ["get"]}  # added beside the compound entry, not merged into it
    assert _reads(twin, vault, principal=user) == [403, 403]  # `list` alone does not read values
    compound = {"tenantId": twin.tenant_id, "objectId": user, "applicationId": app, "permissions": {"secrets": ["get"]}}
    removed = arm_request(twin, "PUT", f"{path}/accessPolicies/remove", {"properties": {"accessPolicies": [compound]}})
    remaining = {
        p.get("applicationId"): p["permissions"]
        for p in removed.json()["properties"]["accessPolicies"]
        if p["objectId"] == user
    }
    assert remaining[None]["secrets"] == ["list"]  # the plain entry is untouched
    assert remaining[app] == {"secrets": [], "keys": ["get"]}
    assert _reads(twin, vault, CompoundIdentityCredential(twin, app, user)) == [403, 200]
