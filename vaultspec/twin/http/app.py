"""The twin's routers: one FastAPI app for every plane, chosen by Host and path.

- `NAME.vault.localhost[:PORT]` -> the Key Vault data plane of vault NAME (`keys`, `secrets` routers);
- `localhost[:PORT]` / `127.0.0.1` -> ARM (`arm_cloud`: metadata, subscriptions, tenants;
  `arm_vaults`, `arm_managed_hsms`, `arm_records`), the identity endpoint and `/openapi.json` (the
  fuzzing target).

`edge.TwinEdge` wraps these routers (limits, request ids, audit line, hot paths). Errors become Key
Vault or ARM error bodies; request validation failures are 400, never 422, and a data-plane request
without a valid token is 401 with the challenge even when its body is malformed.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.errors import ArmError, KeyVaultError
from vaultspec.twin.http import arm_cloud, arm_managed_hsms, arm_records, arm_vaults, identity, keys, secrets
from vaultspec.twin.http.arm_paths import arm_path_exists
from vaultspec.twin.http.auth import Unauthorized, challenge_header, data_plane_principal, vault_name_of
from vaultspec.twin.http.edge import MAX_BODY_BYTES, MAX_HEADER_BYTES, TwinEdge
from vaultspec.twin.http.json_body import BodyRejected, StrictJsonRoute
from vaultspec.twin.http.responses import arm_error_response, json_response, kv_error_response

__all__ = ["MAX_BODY_BYTES", "MAX_HEADER_BYTES", "create_app", "create_routers"]

log = logging.getLogger("vaultspec.twin")

# Errors Starlette/FastAPI raise before a route runs: (Key Vault code, ARM code, message).
_PRE_ROUTE_ERRORS = {
    400: ("BadParameter", "InvalidRequestContent", "The request body could not be parsed as JSON."),
    413: ("RequestEntityTooLarge", "RequestEntityTooLarge", "The request body is too large."),
}


def _is_data_plane(request: Request) -> bool:
    return vault_name_of(request) is not None


def _kv_error(request: Request, error: KeyVaultError) -> Response:
    request.state.error_code = error.inner or error.code
    headers = (
        {"WWW-Authenticate": challenge_header(request.app.state.backend, vault_name_of(request))}
        if isinstance(error, Unauthorized)
        else None
    )
    return kv_error_response(error, headers)


def _detail(exc: StarletteHTTPException, default: str) -> str:
    """Our own message for a body `json_body` refused, else the generic one."""
    return str(exc.detail) if isinstance(exc, BodyRejected) else default


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is not valid."


def create_app(backend: TwinBackend, identity_header: str) -> ASGIApp:
    """The whole twin as one ASGI app (FastAPI routers wrapped in `TwinEdge`)."""
    return TwinEdge(create_routers(backend, identity_header), backend, identity_header)


def create_routers(backend: TwinBackend, identity_header: str) -> FastAPI:
    """The FastAPI app with every router and the error handlers (no edge layer)."""
    app = FastAPI(
        title="vaultspec twin",
        version="1",
        description="A local Azure Key Vault: data plane, ARM subset and identity endpoint.",
        redirect_slashes=False,
    )
    app.state.backend = backend
    app.state.identity_header = identity_header
    for module in (identity, keys, secrets, arm_cloud, arm_vaults, arm_managed_hsms, arm_records):
        app.include_router(module.router)
    lax = [r.path for r in app.routes if isinstance(r, APIRoute) and not isinstance(r, StrictJsonRoute)]
    if lax:  # every body goes through json_body.loads (no lone surrogates reach the domain)
        raise TypeError(f"routes must be StrictJsonRoute: {lax}")
    unresolved = [
        r.path
        for r in app.routes
        if isinstance(r, APIRoute)
        and ("{subscriptionId}" in r.path or "{scope" in r.path)
        and arm_path_exists not in {d.call for d in r.dependant.dependencies}
    ]
    if unresolved:  # a route naming a subscription or scope must resolve it exactly (or 400/404) first
        raise TypeError(f"ARM routes must depend on arm_path_exists: {unresolved}")

    def openapi() -> dict[str, Any]:
        """FastAPI's document without its 422 responses: the twin answers 400 instead."""
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(KeyVaultError)
    async def on_kv_error(request: Request, exc: KeyVaultError) -> Response:
        if not _is_data_plane(request):
            request.state.error_code = exc.code
            return arm_error_response(ArmError(exc.status, exc.code, exc.message))
        return _kv_error(request, exc)

    @app.exception_handler(ArmError)
    async def on_arm_error(request: Request, exc: ArmError) -> Response:
        request.state.error_code = exc.code
        if exc.status == 401:  # ARM's challenge, as Azure sends it with every 401
            challenge = (
                f'Bearer authorization_uri="https://login.windows.net/{backend.ids.tenant_id}", '
                'error="invalid_token", error_description="The access token is missing or invalid."'
            )
            return arm_error_response(exc, {"WWW-Authenticate": challenge})
        return arm_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        message = _validation_message(exc)
        if _is_data_plane(request):
            try:  # the challenge comes before any verdict on the body
                data_plane_principal(request)
            except KeyVaultError as auth_error:
                return _kv_error(request, auth_error)
            return _kv_error(request, KeyVaultError(400, "BadParameter", message))
        request.state.error_code = "InvalidRequestContent"
        return arm_error_response(ArmError(400, "InvalidRequestContent", message))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_data_plane(request):
            try:
                data_plane_principal(request)
            except KeyVaultError as auth_error:
                return _kv_error(request, auth_error)
            if exc.status_code in _PRE_ROUTE_ERRORS:
                code, _, message = _PRE_ROUTE_ERRORS[exc.status_code]
                return _kv_error(request, KeyVaultError(exc.status_code, code, _detail(exc, message)))
            code = "NotFound" if exc.status_code == 404 else "BadParameter"
            return _kv_error(
                request,
                KeyVaultError(
                    exc.status_code,
                    code,
                    f"The request URI or method is not supported: {request.method} {request.url.path}",
                ),
            )
        if exc.status_code in _PRE_ROUTE_ERRORS:
            _, code, message = _PRE_ROUTE_ERRORS[exc.status_code]
            request.state.error_code = code
            return arm_error_response(ArmError(exc.status_code, code, _detail(exc, message)))
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "BadRequest")
        return arm_error_response(ArmError(exc.status_code, code, f"No route for {request.method} {request.url.path}"))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("internal error in %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return json_response({"error": {"code": "InternalError", "message": "The twin hit an internal error."}}, 500)

    return app
