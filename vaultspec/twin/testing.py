"""Reusable helpers and pytest fixtures for any area's tests that need a live twin.

Use the fixtures by adding `pytest_plugins = ["vaultspec.twin.testing"]` to a conftest.py (or import
the helpers directly):

- `twin` (session fixture) — a twin process on a free port in a temporary data dir, with the admin
  vault `TWIN_VAULT` ("twinkv"); stopped at the end of the session. pytest-xdist friendly: each
  worker gets its own twin.
- `start_twin(data_dir, vaults=()) -> TwinInfo` — the same, by hand. It installs the `*.localhost`
  resolver (so `NAME.vault.localhost` works without /etc/hosts in this process) and exports
  `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` into `os.environ`: msal, under azure-identity's
  ManagedIdentityCredential, reads them when it fetches a token, not when the credential is built.
  So credentials in one process talk to the twin started last.
- `credential(info, principal_id=None)` / `async_credential(...)` — azure-identity
  `ManagedIdentityCredential` against the twin's App Service-style identity endpoint: without
  `principal_id` it is the twin's default identity, with it (`client_id=`) any principal GUID.
- `client_options(info)` — `{"connection_verify": <CA bundle>}` for any Azure SDK client.
- `CompoundIdentityCredential(info, app_id, object_id)` — a TokenCredential for application `app_id` acting
  on behalf of principal `object_id` (token `appid` != `oid`), which azure-identity's
  ManagedIdentityCredential cannot ask for (it names one identity); pass it as `credential=`.
- `key_client`, `secret_client`, `crypto_client`, `mgmt_client` — official SDK clients wired to the twin
  (`credential=` overrides the managed identity credential).
- `new_principal()` — a fresh principal GUID.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from vaultspec import localhost
from vaultspec.twin.server import TwinInfo, start_background, stop

TWIN_VAULT = "twinkv"
_ENV_LOCK = threading.Lock()
_MI_VARS = (
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
)


def start_twin(data_dir: Path | str, vaults: tuple[str, ...] = ()) -> TwinInfo:
    localhost.install()
    info = start_background(data_dir, vaults=vaults)
    use_identity_of(info)
    return info


def use_identity_of(info: TwinInfo) -> None:
    """Point this process's managed-identity variables at `info`'s identity endpoint."""
    for name in _MI_VARS:
        os.environ.pop(name, None)
    os.environ["IDENTITY_ENDPOINT"] = info.identity_endpoint
    os.environ["IDENTITY_HEADER"] = info.identity_header()


def new_principal() -> str:
    return str(uuid.uuid4())


def client_options(info: TwinInfo) -> dict[str, Any]:
    return {"connection_verify": info.ca_bundle}


@contextmanager
def _identity_env(info: TwinInfo) -> Iterator[None]:
    with _ENV_LOCK:
        if os.environ.get("IDENTITY_ENDPOINT") != info.identity_endpoint:
            use_identity_of(info)
        yield


def credential(info: TwinInfo, principal_id: str | None = None) -> Any:
    return _managed_identity(info, principal_id)


def _managed_identity(info: TwinInfo, principal_id: str | None = None) -> Any:
    from azure.identity import ManagedIdentityCredential

    with _identity_env(info):
        return ManagedIdentityCredential(client_id=principal_id, **client_options(info))


def async_credential(info: TwinInfo, principal_id: str | None = None) -> Any:
    from azure.identity.aio import ManagedIdentityCredential

    with _identity_env(info):
        return ManagedIdentityCredential(client_id=principal_id, **client_options(info))


class CompoundIdentityCredential:
    """Tokens of application `app_id` acting on behalf of principal `object_id`, from the twin's identity
    endpoint (`client_id` + `object_id`): what a compound-identity access policy entry requires."""

    def __init__(self, info: TwinInfo, app_id: str, object_id: str) -> None:
        self.info, self.app_id, self.object_id = info, app_id, object_id

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        import requests
        from azure.core.credentials import AccessToken

        params = {
            "api-version": "2019-08-01",
            "resource": scopes[0].removesuffix("/.default"),
            "client_id": self.app_id,
            "object_id": self.object_id,
        }
        headers = {"X-IDENTITY-HEADER": self.info.identity_header()}
        response = requests.get(
            self.info.identity_endpoint, params=params, headers=headers, verify=self.info.ca_bundle, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        return AccessToken(body["access_token"], int(body["expires_on"]))


def key_client(
    info: TwinInfo, vault: str, principal_id: str | None = None, credential: Any = None, **kwargs: Any
) -> Any:
    from azure.keyvault.keys import KeyClient

    token_source = credential or _managed_identity(info, principal_id)
    return KeyClient(info.vault_url(vault), token_source, **client_options(info), **kwargs)


def secret_client(
    info: TwinInfo, vault: str, principal_id: str | None = None, credential: Any = None, **kwargs: Any
) -> Any:
    from azure.keyvault.secrets import SecretClient

    token_source = credential or _managed_identity(info, principal_id)
    return SecretClient(info.vault_url(vault), token_source, **client_options(info), **kwargs)


def crypto_client(info: TwinInfo, key: Any, principal_id: str | None = None, **kwargs: Any) -> Any:
    from azure.keyvault.keys.crypto import CryptographyClient

    return CryptographyClient(key, credential(info, principal_id), **client_options(info), **kwargs)


def mgmt_client(
    info: TwinInfo, principal_id: str | None = None, subscription_id: str | None = None, **kwargs: Any
) -> Any:
    """azure-mgmt-keyvault's KeyVaultManagementClient against the twin's ARM endpoint (for the twin's
    subscription unless `subscription_id` names another one)."""
    from azure.mgmt.keyvault import KeyVaultManagementClient

    return KeyVaultManagementClient(
        credential(info, principal_id),
        subscription_id or info.subscription_id,
        base_url=info.arm_url,
        credential_scopes=["https://management.azure.com/.default"],
        **client_options(info),
        **kwargs,
    )


@pytest.fixture(scope="session")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinInfo]:
    """A running twin (with admin vault `TWIN_VAULT`) for the whole session."""
    data_dir = tmp_path_factory.mktemp("twin")
    info = start_twin(data_dir, vaults=(TWIN_VAULT,))
    try:
        yield info
    finally:
        stop(data_dir)
