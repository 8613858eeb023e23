"""The twin as an Azure cloud: its metadata document, its one tenant and its one subscription.

Tools that support sovereign and private clouds (the Azure CLI's `az cloud register`, Terraform's
go-azure-sdk, Azure Stack tooling) learn a cloud's endpoints from ARM's metadata document,
`GET {resourceManager}/metadata/endpoints?api-version=...`, which answers in three shapes:

- api-version 2022-09-01 and later: one object for this cloud (what `az cloud register` and
  go-azure-sdk read: `resourceManager`, `authentication.{loginEndpoint, audiences}`,
  `microsoftGraphResourceId`, `suffixes.keyVaultDns`, ...);
- 2019-05-01 up to 2022-09-01: a list of such objects (what `ARM_CLOUD_METADATA_URL` expects);
- `1.0` and 2015-01-01: Azure Stack's older document (`galleryEndpoint`, `graphEndpoint`,
  `portalEndpoint`, `authentication`).

The twin fills it with what it is: ARM, the identity it trusts for login and Graph, and the Key Vault
DNS suffix `vault.localhost:PORT`. Its ARM audiences are Azure's own (`management.core.windows.net`,
`management.azure.com`), the ones every ARM token the twin accepts carries, so SDK programs that
default to Azure's ARM scope and the CLI with this document get tokens the twin accepts alike. The
twin has no other services, so the document names no storage, SQL or Managed HSM suffixes.
"""

from __future__ import annotations

import re
from typing import Any

from vaultspec.twin.errors import ArmError

CLOUD_NAME = "VaultspecTwin"
DISPLAY_NAME = "vaultspec twin"
ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.azure.com/")
_LEGACY_VERSIONS = ("1.0", "2015-01-01")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview)?$")


def arm_url(port: int) -> str:
    """The twin's resource manager, as the metadata document names it (with its trailing slash)."""
    return f"https://localhost:{port}/"


def keyvault_dns_suffix(port: int) -> str:
    """Key Vault's DNS suffix: vaults are `https://<name>.<suffix>`."""
    return f"vault.localhost:{port}"


def _cloud(port: int) -> dict[str, Any]:
    """The 2022-09-01 document (one cloud)."""
    twin = arm_url(port)
    return {
        "name": CLOUD_NAME,
        "resourceManager": twin,
        "portal": twin,
        "authentication": {
            "loginEndpoint": twin,
            "audiences": list(ARM_AUDIENCES),
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "graph": twin,
        "graphAudience": twin,
        "microsoftGraphResourceId": twin,
        "suffixes": {"keyVaultDns": keyvault_dns_suffix(port)},
    }


def _legacy(port: int) -> dict[str, Any]:
    """Azure Stack's document (api-version 1.0 / 2015-01-01)."""
    twin = arm_url(port)
    return {
        "galleryEndpoint": twin,
        "graphEndpoint": twin,
        "portalEndpoint": twin,
        "authentication": {"loginEndpoint": twin, "audiences": list(ARM_AUDIENCES)},
    }


def metadata_document(port: int, api_version: str | None) -> dict[str, Any] | list[dict[str, Any]]:
    """ARM's metadata document for the twin on `port`, in the shape `api_version` asks for."""
    if not api_version:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
            "api-version",
        )
    if api_version in _LEGACY_VERSIONS:
        return _legacy(port)
    match = _DATE.match(api_version)
    if match is None or match.group(1) < "2019-05-01":
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{api_version}' is invalid. The supported versions are "
            "'2022-09-01,2020-06-01,2019-05-01,2015-01-01,1.0'.",
            "api-version",
        )
    if match.group(1) < "2022-09-01":
        return [_cloud(port)]
    return _cloud(port)


def subscription_body(subscription_id: str, tenant_id: str) -> dict[str, Any]:
    """Subscriptions - Get (2022-12-01) for the twin's one subscription."""
    return {
        "id": f"/subscriptions/{subscription_id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": subscription_id,
        "tenantId": tenant_id,
        "displayName": DISPLAY_NAME,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def tenant_body(tenant_id: str) -> dict[str, Any]:
    """Tenants - List (2022-12-01) entry for the twin's one tenant."""
    return {
        "id": f"/tenants/{tenant_id}",
        "tenantId": tenant_id,
        "tenantCategory": "Home",
        "displayName": DISPLAY_NAME,
        "domains": ["twin.localhost"],
        "defaultDomain": "twin.localhost",
        "tenantType": "AAD",
    }
