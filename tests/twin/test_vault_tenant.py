"""A vault's `tenantId` binds its data plane: the 401 challenge names the vault's tenant authority, and a
token of another tenant is refused (401 `AKV10032: Invalid issuer`), on the raw-ASGI hot paths and the
routed paths alike.

The probes created a vault with a foreign tenant id: it accepted the twin tenant's tokens and its
challenge named the twin's tenant. The twin's identity endpoint issues tokens for its own tenant only
(a managed identity lives in one tenant), so such a vault is unreachable on the data plane until its
tenantId is set back, as in Azure after a subscription moves to another tenant.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from cryptography.hazmat.primitives import serialization

from tests.twin.conftest import arm_request, token_for
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import key_client, secret_client
from vaultspec.twin.tokens import SIGNING_KEY_FILE

RG = "rg-tenant"
FOREIGN = "11111111-2222-4333-8444-555555555555"
# (method, path, body): the secret GET and the sign call are the raw-ASGI hot paths; the rest are routed.
CALLS = [
    ("GET", "/secrets/s", None),
    ("POST", "/keys/k/0123456789abcdef0123456789abcdef/sign", {"alg": "ES256", "value": "AAAA"}),
    ("GET", "/secrets", None),
    ("PUT", "/secrets/s", {"value": "x"}),
    ("POST", "/keys/k/create", {"kty": "EC"}),
]


def _authority(response: requests.Response) -> str:
    challenge = response.headers["WWW-Authenticate"]
    return challenge.split('authorization="', 1)[1].split('"', 1)[0]


def _call(twin: TwinInfo, vault: str, method: str, path: str, body: object, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method,
        f"{twin.vault_url(vault)}{path}?api-version=7.6",
        json=body,
        headers=headers,
        verify=twin.ca_bundle,
        timeout=30,
    )


def _forged(twin: TwinInfo, tenant: str) -> str:
    """A token signed with the twin's own key that claims `tenant` (the twin never issues one)."""
    key = serialization.load_pem_private_key((Path(twin.data_dir) / SIGNING_KEY_FILE).read_bytes(), None)
    now = int(time.time())
    claims = {
        "iss": f"https://sts.windows.net/{tenant}/",
        "aud": twin.data_plane_resource,
        "tid": tenant,
        "oid": twin.default_object_id,
        "appid": twin.default_object_id,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 600,
    }
    return jwt.encode(claims, key, algorithm="RS256")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def foreign_vault(twin: TwinInfo, make_vault: Callable[..., str]) -> str:
    everything = {"keys": ["all"], "secrets": ["all"]}
    policy = {"tenantId": twin.tenant_id, "objectId": twin.default_object_id, "permissions": everything}
    vault = make_vault({"enableRbacAuthorization": False, "accessPolicies": [policy]}, rg=RG)
    secret_client(twin, vault).set_secret("s", "before the move")
    key_client(twin, vault).create_ec_key("k")
    path = f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{vault}"
    moved = arm_request(twin, "PATCH", path, {"properties": {"tenantId": FOREIGN}})
    assert moved.status_code == 200 and moved.json()["properties"]["tenantId"] == FOREIGN
    return vault


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=[f"{m} {p}" for m, p, _ in CALLS])
def test_the_challenge_names_the_vault_tenant_and_other_tenants_tokens_are_refused(
    twin: TwinInfo, foreign_vault: str, method: str, path: str, body: object
) -> None:
    anonymous = _call(twin, foreign_vault, method, path, body, None)
    assert anonymous.status_code == 401 and _authority(anonymous) == f"https://login.windows.net/{FOREIGN}"
    ours = _call(twin, foreign_vault, method, path, body, token_for(twin, twin.data_plane_resource))
    assert ours.status_code == 401, ours.text
    assert ours.json()["error"]["message"].startswith("AKV10032: Invalid issuer. Expected one of")
    assert _authority(ours) == f"https://login.windows.net/{FOREIGN}"
    forged = _call(twin, foreign_vault, method, path, body, _forged(twin, FOREIGN))
    assert forged.status_code == 401  # only the twin's own tenant issues tokens the twin trusts


def test_the_sdk_is_refused_by_a_foreign_tenant_vault_until_its_tenant_is_set_back(
    twin: TwinInfo, foreign_vault: str
) -> None:
    with pytest.raises(ClientAuthenticationError):
        secret_client(twin, foreign_vault).get_secret("s")
    with pytest.raises(ClientAuthenticationError):
        key_client(twin, foreign_vault).get_key("k")
    path = (
        f"/subscriptions/{twin.subscription_id}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{foreign_vault}"
    )
    assert arm_request(twin, "PATCH", path, {"properties": {"tenantId": twin.tenant_id}}).status_code == 200
    try:
        assert secret_client(twin, foreign_vault).get_secret("s").value == "before the move"
        anonymous = _call(twin, foreign_vault, "GET", "/secrets/s", None, None)
        assert _authority(anonymous) == f"https://login.windows.net/{twin.tenant_id}"
    finally:
        assert arm_request(twin, "PATCH", path, {"properties": {"tenantId": FOREIGN}}).status_code == 200


def test_an_unknown_vault_names_the_twin_tenant(twin: TwinInfo) -> None:
    anonymous = _call(twin, f"absent{uuid.uuid4().hex[:8]}", "GET", "/secrets/s", None, None)
    assert anonymous.status_code == 401 and _authority(anonymous) == f"https://login.windows.net/{twin.tenant_id}"
