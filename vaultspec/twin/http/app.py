"""The twin's ASGI application: one FastAPI app for every plane, chosen by Host and path.

- `NAME.vault.localhost[:PORT]` -> the Key Vault data plane of vault NAME (`keys`, `secrets` routers);
- `localhost[:PORT]` / `127.0.0.1` -> ARM (`arm_vaults`, `arm_records`), the identity endpoint and
  `/openapi.json` (the fuzzing target).

Around the routers, one plain ASGI layer (cheaper than Starlette's BaseHTTPMiddleware) enforces
body (413) and header (431) size limits, collapses `//` (the SDK's empty version in
`/keys/{name}//sign`), normalises ARM segment casing (ARM paths are case-insensitive), stamps
`x-ms-request-id`, appends one audit line per call, and hands the two hottest calls (secret GET,
sign) to `hot_paths` before FastAPI sees them. Errors become Key Vault or ARM error bodies;
request validation failures are 400, never 422, and a data-plane request without a valid token is
401 with the challenge even when its body is malformed.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.errors import ArmError, KeyVaultError
from vaultspec.twin.http import arm_records, arm_vaults, identity, keys, secrets
from vaultspec.twin.http.auth import Unauthorized, challenge_header, data_plane_principal, vault_name_of
from vaultspec.twin.http.hot_paths import serve_hot_path
from vaultspec.twin.http.responses import arm_error_response, json_response, kv_error_response

log = logging.getLogger("vaultspec.twin")

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_HEADER_BYTES = 32 * 1024
_CANONICAL = {
    s.lower(): s
    for s in [
        "subscriptions",
        "resourceGroups",
        "providers",
        "Microsoft.KeyVault",
        "Microsoft.Authorization",
        "Microsoft.Insights",
        "Microsoft.Resources",
        "vaults",
        "accessPolicies",
        "deletedVaults",
        "checkNameAvailability",
        "roleAssignments",
        "roleDefinitions",
        "locks",
        "diagnosticSettings",
        "locations",
        "keys",
        "secrets",
        "versions",
        "purge",
        "resources",
    ]
}
_SLASHES = re.compile(r"/{2,}")


def _canonical_arm_path(path: str) -> str:
    return "/".join(_CANONICAL.get(segment.lower(), segment) for segment in path.split("/"))


class _TooLarge(Exception):
    pass


class TwinEdge:
    """Limits, path normalisation, request ids and the audit line, as a raw ASGI wrapper."""

    def __init__(self, app: ASGIApp, backend: TwinBackend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        header_bytes = sum(len(k) + len(v) for k, v in scope["headers"])
        if header_bytes > MAX_HEADER_BYTES:
            await _plain(
                send,
                431,
                b'{"error":{"code":"RequestHeaderFieldsTooLarge","message":"Request headers are too large."}}',
            )
            return
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _plain(
                send,
                413,
                b'{"error":{"code":"RequestEntityTooLarge","message":"The request body is too large."}}',
            )
            return
        path = scope["path"]
        if "//" in path:
            path = _SLASHES.sub("/", path)
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1").lower()
        is_vault = ".vault.localhost" in host
        if not is_vault and (
            path.lower().startswith(("/subscriptions", "/providers")) or "/providers/" in path.lower()
        ):
            path = _canonical_arm_path(path)
        if path != scope["path"]:
            scope = dict(scope, path=path, raw_path=path.encode())
        state: dict[str, Any] = scope.setdefault("state", {})
        status_holder = [500]
        seen = [0]

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > MAX_BODY_BYTES:
                    raise _TooLarge()
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-ms-request-id", request_id.encode())]
            await send(message)

        try:
            if not (is_vault and await serve_hot_path(scope, limited_receive, send_with_id, self.backend)):
                await self.app(scope, limited_receive, send_with_id)
        except _TooLarge:
            status_holder[0] = 413
            await _plain(
                send,
                413,
                b'{"error":{"code":"RequestEntityTooLarge","message":"The request body is too large."}}',
            )
        finally:
            if state.get("operation") or status_holder[0] >= 400:
                client = scope.get("client")
                self.backend.audit.record(
                    plane=state.get("plane", "data" if is_vault else "arm"),
                    operation=state.get("operation") or f"{scope['method']} {path}",
                    status=status_holder[0],
                    principal=state.get("principal"),
                    app_id=state.get("app_id"),
                    caller_ip=client[0] if client else "",
                    vault=state.get("vault"),
                    obj=state.get("object"),
                    error_code=state.get("error_code"),
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    request_id=request_id,
                )


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _is_data_plane(request: Request) -> bool:
    return vault_name_of(request) is not None


def _kv_error(request: Request, error: KeyVaultError) -> Response:
    request.state.error_code = error.inner or error.code
    headers = (
        {"WWW-Authenticate": challenge_header(request.app.state.backend)} if isinstance(error, Unauthorized) else None
    )
    return kv_error_response(error, headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is not valid."


def create_app(backend: TwinBackend, identity_header: str) -> ASGIApp:
    """The whole twin as one ASGI app (FastAPI routers wrapped in `TwinEdge`)."""
    app = FastAPI(
        title="vaultspec twin",
        version="1",
        description="A local Azure Key Vault: data plane, ARM subset and identity endpoint.",
        redirect_slashes=False,
    )
    app.state.backend = backend
    app.state.identity_header = identity_header
    for module in (identity, keys, secrets, arm_vaults, arm_records):
        app.include_router(module.router)

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
            code = "NotFound" if exc.status_code == 404 else "BadParameter"
            return _kv_error(
                request,
                KeyVaultError(
                    exc.status_code,
                    code,
                    f"The request URI or method is not supported: {request.method} {request.url.path}",
                ),
            )
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "BadRequest")
        return arm_error_response(ArmError(exc.status_code, code, f"No route for {request.method} {request.url.path}"))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("internal error in %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return json_response({"error": {"code": "InternalError", "message": "The twin hit an internal error."}}, 500)

    return TwinEdge(app, backend)
