"""The identity endpoint: App Service-style managed identity (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`).

`GET /msi/token?api-version=2019-08-01&resource=R` with header `X-IDENTITY-HEADER: <secret>` returns
`{access_token, expires_on, resource, token_type, client_id}` as azure-identity's
ManagedIdentityCredential expects. The token's audience is R exactly; its `oid` is the default
identity's, or the GUID given as `client_id`, `object_id` or `principal_id` (any GUID is a
principal: that is how tests and pipelines act as several identities). `mi_res_id` maps a user-assigned
identity resource id to a stable GUID. `client_id` with `object_id` (or `principal_id`) asks for a token
of application `client_id` acting on behalf of principal `object_id` (`appid` != `oid`, what a
compound-identity access policy entry requires). Tokens are only ever issued for the twin's own tenant.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Query, Request, Response

from vaultspec.twin.http.auth import backend_of
from vaultspec.twin.http.identity_token import IDENTITY_PATH, principal_for, token_answer
from vaultspec.twin.http.json_body import StrictJsonRoute
from vaultspec.twin.http.responses import json_response
from vaultspec.twin.http.schemas import ArmErrorBody, IdentityErrorBody, TokenResponse, doc

router = APIRouter(tags=["identity"], route_class=StrictJsonRoute)
__all__ = ["IDENTITY_PATH", "router"]


@router.get(
    IDENTITY_PATH,
    responses={
        200: doc(TokenResponse),
        400: {"model": IdentityErrorBody | ArmErrorBody, "description": "missing resource or malformed principal"},
        401: doc(IdentityErrorBody, "missing or wrong X-IDENTITY-HEADER"),
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
    oid, app_id = principal_for(client_id, object_id, principal_id, mi_res_id, backend.ids.default_object_id)
    request.state.principal = oid
    request.state.app_id = app_id
    return json_response(token_answer(backend, resource, oid, app_id))
