"""The twin's outer ASGI layer: limits, path normalisation, request ids, the audit line, hot paths.

Plain ASGI (cheaper than Starlette's BaseHTTPMiddleware), in front of every request:

- body (413) and header (431) size limits; more than one `Host` header, or none in HTTP/1.1, is 400
  (RFC 9112 §3.2: the plane and vault are chosen by Host, so an ambiguous one must not be routed at all);
- `//` collapsed (the SDK's empty version in `/keys/{name}//sign`), ARM segment casing normalised
  (ARM paths are case-insensitive);
- `x-ms-request-id` on every answer;
- one audit line per call, written before the answer's last body chunk leaves, so a client holding
  its answer finds the line in the log;
- the hottest calls (`hot_paths`: secret GET, sign, identity token) answered here; everything else
  goes to the routers (the FastAPI app, which may still be loading: see `deferred_app`).

Nothing here imports FastAPI.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.http.caller import vault_name_from_host
from vaultspec.twin.http.hot_paths import HotAnswer, hot_answer, identity_answer

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
        "managedHSMs",
        "deletedManagedHSMs",
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
_JSON_TYPE = (b"content-type", b"application/json; charset=utf-8")
_TOO_LARGE = b'{"error":{"code":"RequestEntityTooLarge","message":"The request body is too large."}}'
_HEADERS_TOO_LARGE = b'{"error":{"code":"RequestHeaderFieldsTooLarge","message":"Request headers are too large."}}'
_BAD_HOST = b'{"error":{"code":"BadRequest","message":"An HTTP/1.1 request needs exactly one Host header."}}'


def _canonical_arm_path(path: str) -> str:
    return "/".join(_CANONICAL.get(segment.lower(), segment) for segment in path.split("/"))


class RequestIds:
    """GUID-shaped request ids: a random per-process prefix and a counter (uuid4() costs ~3 us a call)."""

    def __init__(self) -> None:
        seed = uuid.uuid4().hex
        self._prefix = f"{seed[:8]}-{seed[8:12]}-{seed[12:16]}-{seed[16:20]}-"
        self._counter = itertools.count(int(seed[20:], 16))

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


class _TooLarge(StarletteHTTPException):
    """The body passed MAX_BODY_BYTES while being read (no or a lying Content-Length).

    An HTTPException, so that FastAPI's body parsing re-raises it as it is instead of turning it into
    "There was an error parsing the body" (400)."""

    def __init__(self) -> None:
        super().__init__(413, "The request body is too large.")


class TwinEdge:
    """Limits, path normalisation, request ids, the audit line and the hot paths, as raw ASGI."""

    def __init__(
        self, app: ASGIApp, backend: TwinBackend, identity_header: str | None = None, sign_inline: bool = False
    ) -> None:
        self.app = app
        self.backend = backend
        self.identity_header = identity_header  # None: token requests all go to the routers
        self.sign_inline = sign_inline  # see hot_paths: True when each worker process has one core
        self._request_id = RequestIds()
        self._hosts: dict[bytes, tuple[str | None, bool]] = {}  # Host header -> (vault name, is a vault host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        header_bytes = 0
        host = b""
        hosts = 0
        length = None
        for key, value in scope["headers"]:
            header_bytes += len(key) + len(value)
            if key == b"host":
                host = value
                hosts += 1
            elif key == b"content-length":
                length = value
        if header_bytes > MAX_HEADER_BYTES:
            await _plain(send, 431, _HEADERS_TOO_LARGE)
            return
        if hosts > 1 or (hosts == 0 and scope.get("http_version") != "1.0"):
            await _plain(send, 400, _BAD_HOST)
            return
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _plain(send, 413, _TOO_LARGE)
            return
        path = scope["path"]
        if "//" in path:
            path = _SLASHES.sub("/", path)
        known = self._hosts.get(host)
        if known is None:
            host_text = host.decode("latin-1").lower()
            known = (vault_name_from_host(host_text), ".vault.localhost" in host_text)
            if len(self._hosts) >= 1024:
                self._hosts.clear()
            self._hosts[host] = known
        vault, is_vault = known
        if not is_vault:
            lowered = path.lower()
            if lowered.startswith(("/subscriptions", "/providers")) or "/providers/" in lowered:
                path = _canonical_arm_path(path)
        if path != scope["path"]:
            scope = dict(scope, path=path, raw_path=path.encode())
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = self._request_id()
        id_header = (b"x-ms-request-id", request_id.encode())
        status = 500
        audited = False
        seen = 0

        def audit() -> None:
            nonlocal audited
            if audited:
                return
            audited = True
            if not (state.get("operation") or status >= 400):
                return
            client = scope.get("client")
            self.backend.audit.record(
                plane=state.get("plane", "data" if is_vault else "arm"),
                operation=state.get("operation") or f"{scope['method']} {path}",
                status=status,
                principal=state.get("principal"),
                app_id=state.get("app_id"),
                caller_ip=client[0] if client else "",
                vault=state.get("vault"),
                obj=state.get("object"),
                error_code=state.get("error_code"),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                request_id=request_id,
            )

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_BODY_BYTES:
                    raise _TooLarge()
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            elif kind == "http.response.body" and not message.get("more_body"):
                audit()
            await send(message)

        try:
            answer: HotAnswer | None = None
            if vault is not None:
                answer = await hot_answer(scope, limited_receive, self.backend, vault, self.sign_inline)
            elif self.identity_header is not None:
                answer = identity_answer(scope, self.backend, self.identity_header)
            if answer is None:
                await self.app(scope, limited_receive, send_with_id)
            else:
                status = answer.status
                audit()
                length_header = (b"content-length", str(len(answer.body)).encode())
                headers = [_JSON_TYPE, length_header, id_header, *answer.headers]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": answer.body})
        except _TooLarge:
            status = 413
            await _plain(send, 413, _TOO_LARGE)
        finally:
            audit()


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
