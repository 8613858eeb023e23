"""Raw HTTPS access to a running twin, for requests no SDK client would send.

`TwinHttp` fetches real tokens from the twin's identity endpoint and sends data-plane requests with
the vault's `Host` and ARM requests to `localhost`, over the twin's real TLS. `tls_socket` opens a
bare TLS connection for slow or half-finished requests.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import requests

from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT

ARM_RESOURCE = "https://management.azure.com/"
ARM_API = "2024-11-01"
DATA_API = "7.6"


class _Default:
    """Marker: use the default identity's token for this plane."""


DEFAULT = _Default()


class TwinHttp:
    """Requests to one twin with its CA and real tokens (cached per resource and principal)."""

    def __init__(self, info: TwinInfo, default_vault: str = TWIN_VAULT) -> None:
        self.info = info
        self.default_vault = default_vault
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override `verify`
        self.session.verify = info.ca_bundle
        self._tokens: dict[tuple[str, str | None, str | None], str] = {}

    def close(self) -> None:
        self.session.close()

    # -- tokens ------------------------------------------------------------------------------------
    def token(self, resource: str, principal: str | None = None, app: str | None = None) -> str:
        """A token for `principal` (default identity when None); with `app`, application `app` acting on
        behalf of `principal` (a compound identity: `appid` = app, `oid` = principal)."""
        cached = self._tokens.get((resource, principal, app))
        if cached is not None:
            return cached
        params = {"api-version": "2019-08-01", "resource": resource}
        if principal:
            params["client_id"] = principal
        if app:
            params.update(client_id=app, object_id=principal or self.info.default_object_id)
        response = self.session.get(
            self.info.identity_endpoint,
            params=params,
            headers={"X-IDENTITY-HEADER": self.info.identity_header()},
            timeout=30,
        )
        response.raise_for_status()
        token = response.json()["access_token"]
        self._tokens[(resource, principal, app)] = token
        return token

    def data_token(self, principal: str | None = None, app: str | None = None) -> str:
        return self.token(self.info.data_plane_resource, principal, app)

    def arm_token(self, principal: str | None = None) -> str:
        return self.token(ARM_RESOURCE, principal)

    # -- requests ----------------------------------------------------------------------------------
    def vault(
        self,
        method: str,
        path: str,
        *,
        vault: str | None = None,
        token: str | _Default | None = DEFAULT,
        headers: dict[str, str] | None = None,
        api: str | None = DATA_API,
        **kwargs: Any,
    ) -> requests.Response:
        """A data-plane request on `vault` (path relative to the vault, e.g. `/secrets/x`)."""
        bearer = self.data_token() if isinstance(token, _Default) else token
        return self._send(method, self.info.vault_url(vault or self.default_vault) + path, bearer, headers, api, kwargs)

    def arm(
        self,
        method: str,
        path: str,
        *,
        token: str | _Default | None = DEFAULT,
        headers: dict[str, str] | None = None,
        api: str | None = ARM_API,
        **kwargs: Any,
    ) -> requests.Response:
        """An ARM request (path from `/subscriptions/...` or `/providers/...`)."""
        bearer = self.arm_token() if isinstance(token, _Default) else token
        return self._send(method, self.info.arm_url + path, bearer, headers, api, kwargs)

    def _send(
        self,
        method: str,
        url: str,
        bearer: str | None,
        headers: dict[str, str] | None,
        api: str | None,
        kwargs: dict[str, Any],
    ) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
        all_headers.update(headers or {})
        if api is not None and "api-version=" not in url:
            url += ("&" if "?" in url else "?") + f"api-version={api}"
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, url, headers=all_headers, **kwargs)

    # -- helpers -----------------------------------------------------------------------------------
    def vault_path(self, name: str, rg: str) -> str:
        return (
            f"/subscriptions/{self.info.subscription_id}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}"
        )

    def documented_operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(METHOD, path template, operation) for every operation of the twin's served /openapi.json."""
        document = self.session.get(f"{self.info.arm_url}/openapi.json", timeout=30).json()
        return [
            (method.upper(), path, operation)
            for path, operations in document["paths"].items()
            for method, operation in operations.items()
        ]

    def policy_vault_body(self, location: str = "westeurope", **properties: Any) -> dict[str, Any]:
        """An ARM vault body: a standard access-policy vault where the default identity holds every key and
        secret permission (`properties` override or add vault properties)."""
        owner = {
            "tenantId": self.info.tenant_id,
            "objectId": self.info.default_object_id,
            "permissions": {"keys": ["all"], "secrets": ["all"]},
        }
        return {
            "location": location,
            "properties": {
                "tenantId": self.info.tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": False,
                "softDeleteRetentionInDays": 7,
                "accessPolicies": [owner],
                **properties,
            },
        }

    def serves_normally(self) -> bool:
        """A plain authenticated request still succeeds: the twin kept serving."""
        return self.vault("GET", "/secrets?maxresults=1").status_code == 200


def tls_socket(info: TwinInfo, host: str, timeout: float = 30.0) -> ssl.SSLSocket:
    """A TLS connection to the twin for hand-written (slow, partial) HTTP."""
    context = ssl.create_default_context(cafile=info.ca_bundle)
    raw = socket.create_connection(("127.0.0.1", info.port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname=host)


def read_until_closed(sock: ssl.SSLSocket) -> bytes:
    """Everything the server sends until it closes the connection (or the socket times out)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ssl.SSLError, ConnectionError):
        pass
    return received
