"""Small response builders: JSON bytes straight to the wire (no pydantic round trip on hot paths)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Response

from vaultspec.twin.errors import ArmError, KeyVaultError


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=json.dumps(body, separators=(",", ":")).encode(),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


def kv_error_response(error: KeyVaultError, headers: dict[str, str] | None = None) -> Response:
    return json_response(error.body(), error.status, headers)


def arm_error_response(error: ArmError) -> Response:
    return json_response(error.body(), error.status)


# OpenAPI `responses=` fragments shared by the routers.
KV_ERROR = {"description": "Key Vault error: {error: {code, message, innererror}}"}
KV_ERRORS: dict[int | str, dict[str, Any]] = {
    400: KV_ERROR,
    401: {"description": "Missing or invalid bearer token; carries the WWW-Authenticate challenge"},
    403: KV_ERROR,
    404: KV_ERROR,
    409: KV_ERROR,
}
ARM_ERROR = {"description": "ARM error: {error: {code, message, target, details}}"}
ARM_ERRORS: dict[int | str, dict[str, Any]] = {400: ARM_ERROR, 401: ARM_ERROR, 404: ARM_ERROR, 409: ARM_ERROR}
