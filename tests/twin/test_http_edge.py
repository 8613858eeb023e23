"""Raw HTTP only where the SDK cannot go: challenges, bad tokens, malformed bodies, limits."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.twin.conftest import token_for
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT


def vault_get(
    info: TwinInfo, path: str, token: str | None = None, extra: dict[str, str] | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(extra or {})
    return requests.get(f"{info.vault_url(TWIN_VAULT)}{path}", headers=headers, verify=info.ca_bundle, timeout=10)


def test_missing_token_gets_the_key_vault_challenge(twin: TwinInfo) -> None:
    response = vault_get(twin, "/secrets?api-version=7.6")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.windows.net/{twin.tenant_id}", resource="https://vault.localhost:{twin.port}"'
    )
    assert response.json()["error"]["code"] == "Unauthorized"


def test_malformed_body_without_token_is_still_a_401_challenge(twin: TwinInfo) -> None:
    response = requests.put(
        f"{twin.vault_url(TWIN_VAULT)}/secrets/x?api-version=7.6",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        verify=twin.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers


def test_malformed_body_with_token_is_400_bad_parameter_not_422(twin: TwinInfo) -> None:
    token = token_for(twin, twin.data_plane_resource)
    for body in (b"{not json", b'{"value": 5}', b"[]"):
        response = requests.put(
            f"{twin.vault_url(TWIN_VAULT)}/secrets/x?api-version=7.6",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            verify=twin.ca_bundle,
            timeout=10,
        )
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "BadParameter"


def _forge(twin: TwinInfo, key: object, alg: str = "RS256", **overrides: object) -> str:
    now = int(time.time())
    claims = {
        "iss": f"https://sts.windows.net/{twin.tenant_id}/",
        "aud": twin.data_plane_resource,
        "tid": twin.tenant_id,
        "oid": twin.default_object_id,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 600,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm=alg)  # type: ignore[arg-type]


def _twin_key(twin: TwinInfo) -> bytes:
    return (Path(twin.data_dir) / "token-signing-key.pem").read_bytes()


@pytest.mark.parametrize(
    "case",
    [
        "foreign-key",
        "hs256",
        "none",
        "wrong-aud",
        "arm-aud",
        "wrong-iss",
        "wrong-tid",
        "expired",
        "future-nbf",
        "garbage",
    ],
)
def test_invalid_tokens_are_refused_with_the_challenge(twin: TwinInfo, case: str) -> None:
    own = _twin_key(twin)
    token = {
        "foreign-key": lambda: _forge(twin, rsa.generate_private_key(65537, 2048)),
        "hs256": lambda: _forge(twin, "shared-secret-of-at-least-32-bytes!!", alg="HS256"),
        "none": lambda: _forge(twin, None, alg="none"),
        "wrong-aud": lambda: _forge(twin, own, aud="https://vault.azure.net"),
        "arm-aud": lambda: token_for(twin, "https://management.azure.com/"),
        "wrong-iss": lambda: _forge(twin, own, iss="https://sts.windows.net/other/"),
        "wrong-tid": lambda: _forge(twin, own, tid="00000000-0000-0000-0000-000000000000"),
        "expired": lambda: _forge(twin, own, exp=int(time.time()) - 10),
        "future-nbf": lambda: _forge(twin, own, nbf=int(time.time()) + 3600),
        "garbage": lambda: "not.a.jwt",
    }[case]()
    response = vault_get(twin, "/secrets?api-version=7.6", token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer authorization=")
    assert token not in response.text


def test_a_correctly_forged_twin_token_is_accepted(twin: TwinInfo) -> None:
    assert vault_get(twin, "/secrets?api-version=7.6", _forge(twin, _twin_key(twin))).status_code == 200


def test_data_plane_token_is_refused_by_arm(twin: TwinInfo) -> None:
    token = token_for(twin, twin.data_plane_resource)
    response = requests.get(
        f"{twin.arm_url}/subscriptions/{twin.subscription_id}/providers/Microsoft.KeyVault/vaults",
        params={"api-version": "2024-11-01"},
        headers={"Authorization": f"Bearer {token}"},
        verify=twin.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_identity_endpoint_requires_the_header_secret(twin: TwinInfo) -> None:
    response = requests.get(
        twin.identity_endpoint,
        params={"api-version": "2019-08-01", "resource": twin.data_plane_resource},
        headers={"X-IDENTITY-HEADER": "wrong"},
        verify=twin.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 401 and "access_token" not in response.text


def test_unknown_vault_is_404(twin: TwinInfo) -> None:
    token = token_for(twin, twin.data_plane_resource)
    response = requests.get(
        f"https://nosuchvault.vault.localhost:{twin.port}/secrets?api-version=7.6",
        headers={"Authorization": f"Bearer {token}"},
        verify=twin.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 404


def test_oversized_body_is_413_and_the_server_survives(twin: TwinInfo) -> None:
    token = token_for(twin, twin.data_plane_resource)
    response = requests.put(
        f"{twin.vault_url(TWIN_VAULT)}/secrets/big?api-version=7.6",
        data=b"x" * (5 * 1024 * 1024),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        verify=twin.ca_bundle,
        timeout=30,
    )
    assert response.status_code == 413
    assert vault_get(twin, "/secrets?api-version=7.6", token).status_code == 200


def test_oversized_headers_are_refused(twin: TwinInfo) -> None:
    response = vault_get(twin, "/secrets?api-version=7.6", extra={"X-Big": "a" * 40_000})
    assert response.status_code in (400, 431)
    assert vault_get(twin, "/secrets?api-version=7.6").status_code == 401


def test_maxresults_out_of_range_is_bad_parameter(twin: TwinInfo) -> None:
    token = token_for(twin, twin.data_plane_resource)
    assert vault_get(twin, "/secrets?api-version=7.6&maxresults=26", token).status_code == 400
    assert vault_get(twin, "/secrets?api-version=7.6&maxresults=abc", token).status_code == 400


def test_openapi_document_is_served_with_documented_routes(twin: TwinInfo) -> None:
    doc = requests.get(f"{twin.arm_url}/openapi.json", verify=twin.ca_bundle, timeout=10).json()
    assert "/keys/{name}/create" in doc["paths"] and "/secrets/{name}/{version}" in doc["paths"]
    sign = doc["paths"]["/keys/{name}/{version}/sign"]["post"]
    assert "Sign" in sign["description"] and "401" in sign["responses"] and "422" not in sign["responses"]
