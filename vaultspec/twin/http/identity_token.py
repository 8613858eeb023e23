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


def principal_for(
    client_id: str | None,
    object_id: str | None,
    principal_id: str | None,
    mi_res_id: str | None,
    default: str,
) -> str:
    """The object id the token is for: the GUID asked for, a stable GUID for `mi_res_id`, else `default`."""
    for value in (client_id, object_id, principal_id):
        if value:
            try:
                return str(uuid.UUID(value))
            except ValueError as exc:
                raise ArmError(400, "invalid_request", "client_id/object_id/principal_id must be a GUID") from exc
    if mi_res_id:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, mi_res_id.lower()))
    return default


def token_answer(backend: TwinBackend, resource: str, object_id: str) -> dict[str, Any]:
    """The App Service managed identity answer: a fresh token for `object_id` with audience `resource`."""
    token, expires = backend.tokens.issue(resource, object_id)
    return {
        "access_token": token,
        "expires_on": str(expires),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": object_id,
    }
