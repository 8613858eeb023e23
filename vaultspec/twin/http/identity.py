"""The identity endpoint: App Service-style managed identity (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`).

`GET /msi/token?api-version=2019-08-01&resource=R` with header `X-IDENTITY-HEADER: <secret>` returns
`{access_token, expires_on, resource, token_type, client_id}` as azure-identity's
ManagedIdentityCredential expects. The token's audience is R exactly; its `oid` is the default
identity's, or the GUID given as `client_id`, `object_id` or `principal_id` (any GUID is a
principal: that is how tests and pipelines act as several identities). `mi_res_id` maps a user-assigned
identity resource id to a stable GUID.
"""

from __future__ import annotations

import hmac
import uuid

from fastapi import APIRouter, Query, Request, Response

from vaultspec.twin.errors import ArmError
from vaultspec.twin.http.auth import backend_of
from vaultspec.twin.http.responses import json_response

router = APIRouter(tags=["identity"])
IDENTITY_PATH = "/msi/token"


def _principal(
    client_id: str | None,
    object_id: str | None,
    principal_id: str | None,
    mi_res_id: str | None,
    default: str,
) -> str:
    for value in (client_id, object_id, principal_id):
        if value:
            try:
                return str(uuid.UUID(value))
            except ValueError as exc:
                raise ArmError(400, "invalid_request", "client_id/object_id/principal_id must be a GUID") from exc
    if mi_res_id:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, mi_res_id.lower()))
    return default


@router.get(
    IDENTITY_PATH,
    responses={
        200: {"description": "{access_token, expires_on, resource, token_type, client_id}"},
        400: {"description": "missing resource or malformed principal"},
        401: {"description": "missing or wrong X-IDENTITY-HEADER"},
    },
)
async def get_token(
    request: Request,
    resource: str = Query(..., description="the audience, e.g. https://vault.localhost:PORT"),
    api_version: str = Query("2019-08-01", alias="api-version"),
    client_id: str | None = Query(None),
    object_id: str | None = Query(None),
    principal_id: str | None = Query(None),
    mi_res_id: str | None = Query(None),
) -> Response:
    """App Service managed identity: get a token (api-version 2019-08-01)."""
    backend = backend_of(request)
    request.state.plane = "identity"
    request.state.operation = "GetToken"
    secret = request.app.state.identity_header
    given = request.headers.get("x-identity-header", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return json_response(
            {"error": "unauthorized", "error_description": "X-IDENTITY-HEADER is missing or wrong"}, 401
        )
    if not resource:
        return json_response({"error": "invalid_request", "error_description": "resource is required"}, 400)
    object_id_value = _principal(client_id, object_id, principal_id, mi_res_id, backend.ids.default_object_id)
    token, expires = backend.tokens.issue(resource, object_id_value)
    request.state.principal = object_id_value
    return json_response(
        {
            "access_token": token,
            "expires_on": str(expires),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": object_id_value,
        }
    )
