"""The serving path's own pieces: FastAPI loading behind the edge, one write per answer, request ids,
and the audit line written before the answer leaves. In-process ASGI calls on a real backend (real
SQLite, real tokens) in a temporary data dir.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.http.app import create_routers
from vaultspec.twin.http.corked_protocol import _CorkedTransport
from vaultspec.twin.http.deferred_app import DeferredApp
from vaultspec.twin.http.edge import RequestIds, TwinEdge

PORT = 8443
VAULT = "edgekv"
HEADER = "identity-header-secret"
Answer = tuple[int, dict[bytes, bytes], bytes]


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[TwinBackend]:
    twin = TwinBackend(tmp_path, PORT)
    twin.ensure_admin_vault(VAULT)
    try:
        yield twin
    finally:
        twin.close()


async def call(
    app: Any,
    method: str,
    path: str,
    host: str,
    headers: dict[str, str] | None = None,
    query: str = "api-version=7.6",
    observe: Callable[[dict[str, Any]], None] | None = None,
) -> Answer:
    """One in-process ASGI request without a body (the query names an api-version unless given); `observe`
    sees each message as it is sent."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", host.encode()), *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", PORT),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if observe is not None:
            observe(message)
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), content


def _token(backend: TwinBackend) -> str:
    return backend.tokens.issue(backend.data_plane_audience, backend.ids.default_object_id)[0]


def test_hot_paths_answer_while_the_routers_are_still_loading(backend: TwinBackend) -> None:
    release = threading.Event()

    def build() -> Any:
        assert release.wait(60), "the test never released the build"
        return create_routers(backend, HEADER)

    routers = DeferredApp(build)
    edge = TwinEdge(routers, backend, HEADER)
    vault_host = f"{VAULT}.vault.localhost:{PORT}"

    async def scenario() -> None:
        routers.start()
        resource = f"https://vault.localhost:{PORT}"
        status, _, body = await call(
            edge,
            "GET",
            "/msi/token",
            f"localhost:{PORT}",
            {"X-IDENTITY-HEADER": HEADER},
            f"api-version=2019-08-01&resource={resource}",
        )
        assert status == 200
        auth = {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
        status, headers, _ = await call(edge, "GET", "/secrets/absent", vault_host)
        assert status == 401 and headers[b"www-authenticate"].startswith(b"Bearer authorization=")
        status, _, body = await call(edge, "GET", "/secrets/absent", vault_host, auth)
        assert status == 404 and json.loads(body)["error"]["code"] == "SecretNotFound"
        listing = asyncio.create_task(call(edge, "GET", "/secrets", vault_host, auth, "api-version=7.6"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not listing.done()  # the list route needs FastAPI, which is still loading
        release.set()
        status, _, body = await asyncio.wait_for(listing, 60)
        assert status == 200 and json.loads(body)["value"] == []

    asyncio.run(scenario())


def test_malformed_token_requests_are_left_to_the_identity_route(backend: TwinBackend) -> None:
    edge = TwinEdge(create_routers(backend, HEADER), backend, HEADER)
    host = f"localhost:{PORT}"

    async def scenario() -> None:
        wrong = await call(edge, "GET", "/msi/token", host, {"X-IDENTITY-HEADER": "nope"}, "resource=x")
        assert wrong[0] == 401 and json.loads(wrong[2])["error"] == "unauthorized"
        bad_principal = await call(
            edge, "GET", "/msi/token", host, {"X-IDENTITY-HEADER": HEADER}, "resource=x&client_id=not-a-guid"
        )
        assert bad_principal[0] == 400
        missing = await call(edge, "GET", "/msi/token", host, {"X-IDENTITY-HEADER": HEADER}, "api-version=2019-08-01")
        assert missing[0] == 400

    asyncio.run(scenario())


def test_audit_line_is_in_the_log_before_the_answer_leaves(backend: TwinBackend) -> None:
    edge = TwinEdge(create_routers(backend, HEADER), backend, HEADER)
    log = Path(backend.data_dir) / "audit.jsonl"
    seen_at_body: list[list[str]] = []

    def observe(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            seen_at_body.append(log.read_text().splitlines() if log.exists() else [])

    auth = {"Authorization": f"Bearer {_token(backend)}"}
    host = f"{VAULT}.vault.localhost:{PORT}"
    asyncio.run(call(edge, "GET", "/secrets/absent", host, auth, "api-version=7.6", observe))  # hot path
    asyncio.run(call(edge, "GET", "/secrets", host, auth, "api-version=7.6", observe))  # FastAPI route
    hot, routed = seen_at_body
    assert json.loads(hot[-1])["operationName"] == "SecretGet"
    assert json.loads(routed[-1])["operationName"] == "SecretList"


def test_request_ids_are_unique_guids() -> None:
    ids = RequestIds()
    issued = [ids() for _ in range(5000)]
    assert len(set(issued)) == len(issued)
    assert all(str(uuid.UUID(value)) == value for value in issued)
    assert RequestIds()()[:24] != issued[0][:24]  # another process (another generator) has its own prefix


class _RecordingTransport:
    """Stands in for uvloop's TLS transport: records what reaches it."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


def test_corked_transport_sends_head_and_body_as_one_write() -> None:
    async def scenario() -> list[bytes]:
        real = _RecordingTransport()
        corked = _CorkedTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert real.writes == []  # held for its body
        corked.write(b"{}")
        assert corked.get_extra_info("peername") == ("127.0.0.1", 1)
        return real.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\n\r\n{}"]


def test_corked_transport_flushes_a_lone_write_within_the_loop_iteration() -> None:
    async def scenario() -> list[bytes]:
        real = _RecordingTransport()
        corked = _CorkedTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await asyncio.sleep(0)
        return real.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_corked_transport_flushes_before_closing() -> None:
    async def scenario() -> _RecordingTransport:
        real = _RecordingTransport()
        corked = _CorkedTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"last words")
        corked.close()
        return real

    real = asyncio.run(scenario())
    assert real.writes == [b"last words"] and real.closed


def test_audit_lines_are_json_with_every_field_quoted(tmp_path: Path) -> None:
    from vaultspec.twin.domain.audit import AuditLog

    log = AuditLog(tmp_path)
    tricky = 'quote " backslash \\ newline \n nul \x00 euro \u20ac'
    calls = [
        {"plane": "data", "operation": "SecretGet", "status": 200, "principal": "p", "app_id": None},
        {"plane": "arm", "operation": tricky, "status": 403, "principal": tricky, "app_id": tricky},
        {"plane": "data", "operation": "SecretGet", "status": 200, "principal": "p", "app_id": None},  # repeated
    ]
    for index, call in enumerate(calls):
        log.record(
            **call,  # type: ignore[arg-type]
            caller_ip="127.0.0.1",
            vault=None if index == 1 else "kv",
            obj=tricky if index == 1 else "name",
            error_code="ForbiddenByRbac" if index == 1 else None,
            duration_ms=None if index == 1 else 1.25,
            request_id=f"id-{index}",
        )
    log.close()
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [e["requestId"] for e in events] == ["id-0", "id-1", "id-2"]
    assert events[1]["operationName"] == tricky and events[1]["principal"] == tricky and events[1]["object"] == tricky
    assert events[1]["resultType"] == "Failure" and events[1]["errorCode"] == "ForbiddenByRbac"
    assert events[1]["vault"] is None and events[1]["durationMs"] is None and events[1]["appid"] == tricky
    assert events[0]["resultType"] == "Success" and events[0]["durationMs"] == 1.25 and events[0]["appid"] is None
    assert {k: v for k, v in events[2].items() if k not in ("time", "requestId")} == {
        k: v for k, v in events[0].items() if k not in ("time", "requestId")
    }
    assert all(e["time"].endswith("Z") and len(e["time"]) == len("2026-01-01T00:00:00.000Z") for e in events)
