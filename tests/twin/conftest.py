"""Fixtures of the twin's tests: one twin process per xdist worker, fresh vaults per test module."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT, key_client, secret_client, twin  # noqa: F401

__all__ = ["TWIN_VAULT"]


def fresh_name(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def token_for(info: TwinInfo, resource: str, principal: str | None = None) -> str:
    params = {"api-version": "2019-08-01", "resource": resource}
    if principal:
        params["client_id"] = principal
    response = requests.get(
        info.identity_endpoint,
        params=params,
        headers={"X-IDENTITY-HEADER": info.identity_header()},
        verify=info.ca_bundle,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def arm_request(
    info: TwinInfo,
    method: str,
    path: str,
    body: Any = None,
    principal: str | None = None,
    api: str = "2024-11-01",
) -> requests.Response:
    token = token_for(info, "https://management.azure.com/", principal)
    return requests.request(
        method,
        f"{info.arm_url}{path}",
        params={"api-version": api},
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        verify=info.ca_bundle,
        timeout=30,
    )


@pytest.fixture(scope="session")
def admin_vault(twin: TwinInfo) -> str:  # noqa: F811
    return TWIN_VAULT


@pytest.fixture(scope="session")
def keys(twin: TwinInfo) -> Any:  # noqa: F811
    return key_client(twin, TWIN_VAULT)


@pytest.fixture(scope="session")
def secrets(twin: TwinInfo) -> Any:  # noqa: F811
    return secret_client(twin, TWIN_VAULT)


@pytest.fixture
def name() -> str:
    return fresh_name()


@pytest.fixture(scope="session")
def make_vault(twin: TwinInfo) -> Iterator[Callable[..., str]]:  # noqa: F811
    """Create a vault through ARM; returns its name."""

    def make(
        properties: dict[str, Any] | None = None,
        rg: str = "rg-tests",
        premium: bool = True,
        location: str = "westeurope",
    ) -> str:
        vault = fresh_name("v")
        props = {
            "tenantId": twin.tenant_id,
            "sku": {"family": "A", "name": "premium" if premium else "standard"},
            "softDeleteRetentionInDays": 7,
            **(properties or {}),
        }
        response = arm_request(
            twin,
            "PUT",
            f"/subscriptions/{twin.subscription_id}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}",
            {"location": location, "properties": props},
        )
        assert response.status_code in (200, 201), response.text
        return vault

    yield make
