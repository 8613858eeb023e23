"""A minimal ARM client on azure-core: PUT/GET/DELETE/POST of raw resource bodies.

The engine speaks to ARM the way pulumi-azure-native does (path + api-version + JSON body), so it
uses azure-core's pipeline (bearer token policy, retries, TLS verification against the twin's CA)
rather than a typed management SDK. Errors carry the HTTP status and ARM error code, never a body
that could echo a secret.
"""

from __future__ import annotations

import json
from typing import Any

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ServiceRequestError
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

ARM_SCOPE = "https://management.azure.com/.default"


class ArmError(Exception):
    """An ARM call that failed: status, ARM error code and message (the message never holds a secret)."""

    def __init__(self, status: int, code: str, message: str, method: str, path: str) -> None:
        super().__init__(f"{method} {path}: {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ArmClient:
    """Raw ARM requests against `base_url` (Azure's https://management.azure.com or the twin)."""

    def __init__(self, base_url: str, credential: TokenCredential, verify: str | bool = True) -> None:
        self._client = PipelineClient(
            base_url=base_url.rstrip("/"),
            policies=[
                HeadersPolicy({"Accept": "application/json"}),
                UserAgentPolicy(base_user_agent="vaultspec-engine"),
                RetryPolicy(retry_total=3, retry_backoff_factor=0.2),
                BearerTokenCredentialPolicy(credential, ARM_SCOPE),
            ],
            transport=RequestsTransport(connection_verify=verify),
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self, method: str, path: str, api_version: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any] | None]:
        """Send one request; 2xx and 404 return (status, json-or-None), anything else raises ArmError."""
        request = HttpRequest(
            method,
            f"{self._client._base_url}{path}",
            params={"api-version": api_version},
            json=body,
        )
        try:
            response = self._client.send_request(request)
        except ServiceRequestError as exc:
            raise ArmError(0, "ConnectionFailed", str(exc.message or exc), method, path) from None
        payload = _json(response.text()) if response.text() else None
        if 200 <= response.status_code < 300 or response.status_code == 404:
            return response.status_code, payload
        error = (payload or {}).get("error") if isinstance(payload, dict) else None
        code = str((error or {}).get("code") or response.reason or "Error")
        message = str((error or {}).get("message") or "")
        raise ArmError(response.status_code, code, message, method, path)

    def get(self, path: str, api_version: str) -> dict[str, Any] | None:
        status, payload = self.request("GET", path, api_version)
        return None if status == 404 else payload

    def put(self, path: str, api_version: str, body: dict[str, Any]) -> dict[str, Any]:
        _, payload = self.request("PUT", path, api_version, body)
        return payload or {}

    def delete(self, path: str, api_version: str) -> bool:
        """True when something was deleted, False when it was already gone."""
        status, _ = self.request("DELETE", path, api_version)
        return status != 404

    def post(self, path: str, api_version: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        _, payload = self.request("POST", path, api_version, body)
        return payload


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
