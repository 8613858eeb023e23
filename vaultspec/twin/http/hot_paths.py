"""The two hottest data-plane calls, served without FastAPI's routing and dependency machinery.

`GET /secrets/{name}[/{version}]` and `POST /keys/{name}/{version}/sign` carry most of a workload
(apps reading secrets, signers). `serve_hot_path` answers them straight from the ASGI scope with
the same code the FastAPI routes use for authentication (`auth.authenticate`), authorization
(`auth.authorize`) and the operation (`KeyService.sign`, `SecretService.get_secret`), and the same
error bodies; the FastAPI routes remain the documented (OpenAPI) form. Signing runs in a worker
thread: pyca/cryptography releases the GIL while it signs, so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.types import Receive, Scope, Send

from vaultspec.twin.domain.access import OPERATIONS
from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.errors import KeyVaultError, bad_parameter
from vaultspec.twin.http.auth import VAULT_SUFFIX, Unauthorized, authenticate, authorize, challenge_header

_SECRET_GET = re.compile(r"^/secrets/([0-9A-Za-z-]+)(?:/(?!versions$)([0-9A-Za-z]*))?$")
JSON = b"application/json; charset=utf-8"
Headers = list[tuple[bytes, bytes]]
_SIGN = re.compile(r"^/keys/([0-9A-Za-z-]+)/([0-9A-Za-z]*)/sign$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _vault_name(host: str) -> str | None:
    host = host.lower().rsplit(":", 1)[0]
    if host.endswith(VAULT_SUFFIX) and len(host) > len(VAULT_SUFFIX):
        name = host[: -len(VAULT_SUFFIX)]
        return name if "." not in name else None
    return None


async def _respond(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": payload})


async def _read_json(receive: Receive) -> Any:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    try:
        return json.loads(b"".join(chunks) or b"null")
    except ValueError as exc:
        raise bad_parameter("The request body is not valid JSON.") from exc


async def serve_hot_path(scope: Scope, receive: Receive, send: Send, backend: TwinBackend) -> bool:
    """Answer the request if it is a hot path (True); otherwise leave it to the routers (False)."""
    method, path = scope["method"], scope["path"]
    if method == "GET":
        match = _SECRET_GET.match(path)
        operation = "get_secret"
    elif method == "POST":
        match = _SIGN.match(path)
        operation = "sign"
    else:
        return False
    if match is None:
        return False
    vault = _vault_name(_header(scope, b"host") or "")
    if vault is None:
        return False
    name, version = match.group(1), match.group(2) or ""
    state = scope.setdefault("state", {})
    state.update(plane="data", operation=OPERATIONS[operation].audit_name, vault=vault, object=name)
    try:
        principal = authenticate(backend, _header(scope, b"authorization"))
        state["principal"], state["app_id"] = principal.object_id, principal.app_id
        client = scope.get("client")
        call = authorize(backend, principal, vault, operation, name, client[0] if client else "127.0.0.1")
        if operation == "get_secret":
            result = backend.secrets.get_secret(call.vault, name, version)
        else:
            body = await _read_json(receive)
            if (
                not isinstance(body, dict)
                or not isinstance(body.get("alg"), str)
                or not isinstance(body.get("value"), str)
            ):
                raise bad_parameter("alg and value (base64url digest) are required strings")
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, backend.keys.sign, call.vault, name, version, body)
    except KeyVaultError as error:
        state["error_code"] = error.inner or error.code
        extra = [(b"www-authenticate", challenge_header(backend).encode())] if isinstance(error, Unauthorized) else None
        await _respond(send, error.status, error.body(), extra)
        return True
    await _respond(send, 200, result)
    return True
