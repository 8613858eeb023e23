"""What the identity endpoint decides, without FastAPI: the principal asked for and the token answer.

`identity.get_token` (the documented FastAPI route) and `hot_paths.serve_identity` (the raw path that
answers well-formed requests before FastAPI has loaded) share these functions.
"""

from __future__ import annotations

import uuid
from typing import Any

from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.errors import ArmError

IDENTITY_PATH = "/msi/token"


def _guid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ArmError(400, "invalid_request", "client_id/object_id/principal_id must be a GUID") from exc


def principal_for(
    client_id: str | None,
    object_id: str | None,
    principal_id: str | None,
    mi_res_id: str | None,
    default: str,
) -> tuple[str, str | None]:
    """The token's (oid, appid): the GUID asked for (appid = oid), a stable GUID for `mi_res_id`, else
    `default`. `client_id` together with `object_id` (or `principal_id`) asks for application `client_id`
    acting on behalf of principal `object_id` (appid != oid), as a compound-identity access policy expects."""
    on_behalf_of = object_id or principal_id
    if client_id and on_behalf_of:
        return _guid(on_behalf_of), _guid(client_id)
    for value in (client_id, object_id, principal_id):
        if value:
            return _guid(value), None
    if mi_res_id:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, mi_res_id.lower())), None
    return default, None


def token_answer(backend: TwinBackend, resource: str, object_id: str, app_id: str | None = None) -> dict[str, Any]:
    """The App Service managed identity answer: a fresh token for `object_id` (as application `app_id`,
    default the principal itself) with audience `resource`."""
    token, expires = backend.tokens.issue(resource, object_id, app_id)
    return {
        "access_token": token,
        "expires_on": str(expires),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": app_id or object_id,
    }
