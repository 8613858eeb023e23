"""The hottest calls, served without FastAPI's routing and dependency machinery.

`GET /secrets/{name}[/{version}]` and `POST /keys/{name}/{version}/sign` carry most of a workload
(apps reading secrets, signers). `hot_answer` answers them straight from the ASGI scope with
the same code the FastAPI routes use for authentication (`caller.authenticate`), authorization
(`caller.authorize`) and the operation (`KeyService.sign`, `SecretService.get_secret`), and the same
error bodies; the FastAPI routes remain the documented (OpenAPI) form. `identity_answer` answers
well-formed token requests the same way (anything unusual goes to the FastAPI route, which owns the
error answers), so a fresh twin serves an SDK's challenge, token and secret read before FastAPI
has even loaded.

Signing runs on the event loop when the process has no spare core (one worker per core: a hand-off
to a thread would only add a context switch), else in a worker thread (pyca/cryptography releases
the GIL while it signs, so a single worker process keeps serving while the other cores sign).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope

from vaultspec.twin.domain.access import OPERATIONS
from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.errors import ArmError, KeyVaultError, bad_parameter
from vaultspec.twin.http.caller import Unauthorized, authenticate, authorize, challenge_header, check_api_version
from vaultspec.twin.http.identity_token import IDENTITY_PATH, principal_for, token_answer
from vaultspec.twin.http.json_body import LONE_SURROGATE, loads

_SECRET_GET = re.compile(r"^/secrets/([0-9A-Za-z-]+)(?:/(?!versions$)([0-9A-Za-z]*))?$")
_SIGN = re.compile(r"^/keys/([0-9A-Za-z-]+)/([0-9A-Za-z]*)/sign$")
_JSON = json.JSONEncoder(separators=(",", ":"))
_AUDIT_NAMES = {op: OPERATIONS[op].audit_name for op in ("get_secret", "sign")}
_PRINCIPAL_PARAMS = ("client_id", "object_id", "principal_id", "mi_res_id")


@dataclass(frozen=True, slots=True)
class HotAnswer:
    """A finished JSON answer; the edge adds content-length and the request id and sends it in one go."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


def _answer(status: int, body: dict[str, Any], headers: tuple[tuple[bytes, bytes], ...] = ()) -> HotAnswer:
    return HotAnswer(status, _JSON.encode(body).encode(), headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _read_json(receive: Receive) -> Any:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    try:
        return loads(b"".join(chunks) or b"null")
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting ([[[[...]]]])
        raise bad_parameter(str(exc) if str(exc) == LONE_SURROGATE else "The request body is not valid JSON.") from exc


async def hot_answer(
    scope: Scope, receive: Receive, backend: TwinBackend, vault: str, sign_inline: bool = False
) -> HotAnswer | None:
    """The answer if the request on vault `vault` is a hot path; None leaves it to the routers."""
    method, path = scope["method"], scope["path"]
    if method == "GET":
        match = _SECRET_GET.fullmatch(path)  # fullmatch: `$` would accept a trailing newline
        operation = "get_secret"
    elif method == "POST":
        match = _SIGN.fullmatch(path)
        operation = "sign"
    else:
        return None
    if match is None:
        return None
    name, version = match.group(1), match.group(2) or ""
    state = scope["state"]
    state.update(plane="data", operation=_AUDIT_NAMES[operation], vault=vault, object=name)
    try:
        with backend.store.cache.snapshot():  # read-only from here: one generation check per request
            principal = authenticate(backend, _header(scope, b"authorization"), vault)
            state["principal"], state["app_id"] = principal.object_id, principal.app_id
            check_api_version(scope.get("query_string", b""))
            client = scope.get("client")
            call = authorize(backend, principal, vault, operation, name, client[0] if client else "127.0.0.1")
            if operation == "get_secret":
                return _answer(200, backend.secrets.get_secret(call.vault, name, version))
            body = await _read_json(receive)
            if (
                not isinstance(body, dict)
                or not isinstance(body.get("alg"), str)
                or not isinstance(body.get("value"), str)
            ):
                raise bad_parameter("alg and value (base64url digest) are required strings")
            if sign_inline:
                return _answer(200, backend.keys.sign(call.vault, name, version, body))
            loop = asyncio.get_running_loop()
            return _answer(200, await loop.run_in_executor(None, backend.keys.sign, call.vault, name, version, body))
    except KeyVaultError as error:
        state["error_code"] = error.inner or error.code
        if isinstance(error, Unauthorized):
            challenge = challenge_header(backend, vault).encode()
            return _answer(error.status, error.body(), ((b"www-authenticate", challenge),))
        return _answer(error.status, error.body())


def identity_answer(scope: Scope, backend: TwinBackend, identity_header: str) -> HotAnswer | None:
    """The answer to a well-formed `GET /msi/token`; None leaves anything else to the FastAPI route."""
    if scope["method"] != "GET" or scope["path"] != IDENTITY_PATH:
        return None
    given = _header(scope, b"x-identity-header")
    if given is None or not hmac.compare_digest(given.encode(), identity_header.encode()):
        return None
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if any(len(values) > 1 for values in query.values()):
        return None
    params = {key: values[0] for key, values in query.items()}
    resource = params.get("resource")
    if not resource:
        return None
    try:
        oid, app_id = principal_for(*(params.get(p) for p in _PRINCIPAL_PARAMS), backend.ids.default_object_id)
    except ArmError:
        return None
    scope["state"].update(plane="identity", operation="GetToken", principal=oid, app_id=app_id)
    return _answer(200, token_answer(backend, resource, oid, app_id))
