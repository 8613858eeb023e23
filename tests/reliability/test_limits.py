"""Limits: body and header caps, the request read deadline (slowloris), idle timeouts, many idle connections.

These run against their own twin started with short timeouts (read deadline 1 s, keep-alive 2 s;
production defaults: 10 s and 75 s), so slow clients are cut within a test's time. The assertions are
about outcomes (status, closed connection, open descriptors), never about how long something took.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.reliability.rawhttp import request_bytes
from tests.reliability.twinhttp import TwinHttp, read_until_closed, tls_socket
from vaultspec.twin.http.protocol import MAX_HEAD_BYTES
from vaultspec.twin.server import stop, usable_cores
from vaultspec.twin.testing import start_twin, use_identity_of

VAULT = "limitkv"
MAX_BODY_BYTES = 4 * 1024 * 1024  # the documented caps (docs/RELIABILITY.md §6)
MAX_HEADER_BYTES = 32 * 1024


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, twin) -> Iterator[TwinHttp]:  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("limits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAULTSPEC_TWIN_READ_TIMEOUT_S", "1")
        patch.setenv("VAULTSPEC_TWIN_IDLE_TIMEOUT_S", "2")
        info = start_twin(data, vaults=(VAULT,))
    use_identity_of(twin)  # keep this worker's credentials on the session twin
    http = TwinHttp(info, default_vault=VAULT)
    yield http
    http.close()
    stop(data)


def _host(http: TwinHttp) -> str:
    return f"{VAULT}.vault.localhost"


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a twin may serve from worker processes under a supervisor)."""
    tree, index = [pid], 0
    while index < len(tree):
        for task in Path(f"/proc/{tree[index]}/task").iterdir():
            children = (task / "children").read_text().split()
            tree += [int(child) for child in children]
        index += 1
    return tree


def _open_descriptors(pid: int) -> int:
    return sum(len(os.listdir(f"/proc/{member}/fd")) for member in _process_tree(pid))


def _connections(http: TwinHttp, count: int) -> list[ssl.SSLSocket]:
    return [tls_socket(http.info, _host(http), timeout=30) for _ in range(count)]


@contextmanager
def _both_cores_busy() -> Iterator[None]:
    """A busy loop on every usable core, for as long as the block runs (ended by pid)."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
        for _ in range(max(usable_cores(), 2))
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def test_a_body_one_byte_over_the_cap_is_413_and_at_the_cap_is_read(limited: TwinHttp) -> None:
    """The client reads the 413 every time, while it is still sending its body and with every core busy:
    the twin drains the rest of the body before it closes (a lingering close), so the close is no reset
    that would drop the answer (the probes saw resets under CPU load). 50 times in a row, each on a new
    connection, as a plain client (requests) sends: the whole body, then reads."""
    over_cap = b"x" * (MAX_BODY_BYTES + 1)
    with _both_cores_busy():
        for attempt in range(50):
            over = limited.vault("PUT", "/secrets/cap", vault=VAULT, data=over_cap)
            assert over.status_code == 413, f"attempt {attempt}: {over.status_code}"
            assert over.json()["error"]["code"] == "RequestEntityTooLarge"
    at_cap = b'{"value": "' + b"x" * (MAX_BODY_BYTES - 13) + b'"}'
    assert len(at_cap) == MAX_BODY_BYTES
    read = limited.vault("PUT", "/secrets/cap", vault=VAULT, data=at_cap, headers={"Content-Type": "application/json"})
    assert read.status_code == 400 and "25 KiB" in read.json()["error"]["message"]  # read, then Key Vault's own limit


def _clean_end(sock: ssl.SSLSocket) -> bool:
    """Read to the end of the connection: True for a clean close (EOF), False for a reset."""
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, ssl.SSLError):
        return False
    return True


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_the_rest_of_a_refused_body_is_drained_and_the_close_is_clean(limited: TwinHttp, framing: str) -> None:
    """A client that reads the 413 before it has sent all its body can still send the rest, and then the
    connection ends with a clean close, not a reset (a lingering close; without it the twin closed with
    unread bytes and the client's kernel got a reset)."""
    host = f"{_host(limited)}:{limited.info.port}"
    headers = {"Authorization": f"Bearer {limited.data_token()}", "Content-Type": "application/json"}
    if framing == "content-length":
        head = request_bytes("PUT", "/secrets/drain?api-version=7.6", host, headers, close=False)
        head = head[:-2] + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
        first, rest = b"x" * 65536, [b"x" * (MAX_BODY_BYTES + 1 - 65536)]
    else:
        head = request_bytes("PUT", "/secrets/drain?api-version=7.6", host, headers, close=False)
        head = head[:-2] + b"Transfer-Encoding: chunked\r\n\r\n"
        chunk = b"%x\r\n%s\r\n" % (1024 * 1024, b"x" * 1024 * 1024)
        first, rest = chunk * 5, [chunk] * 3 + [b"0\r\n\r\n"]  # the twin refuses past 4 MiB
    with tls_socket(limited.info, _host(limited)) as sock:
        sock.sendall(head + first)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
        for part in rest:  # the twin is still reading: nothing here may fail
            sock.sendall(part)
        assert _clean_end(sock)
    assert limited.serves_normally()


def test_headers_over_the_cap_are_431_and_an_endless_head_is_cut_early(limited: TwinHttp) -> None:
    big = limited.vault("GET", "/secrets", vault=VAULT, headers={"X-Pad": "a" * (MAX_HEADER_BYTES + 1)})
    assert big.status_code == 431
    host = f"{_host(limited)}:{limited.info.port}"
    with tls_socket(limited.info, _host(limited)) as sock:
        sock.sendall(f"GET /secrets HTTP/1.1\r\nHost: {host}\r\nX-Endless: ".encode())
        try:  # keep sending one header line that never ends; the server must answer and close
            for _ in range(64):
                sock.sendall(b"a" * (MAX_HEAD_BYTES // 16))
        except OSError:
            pass
        assert read_until_closed(sock).startswith(b"HTTP/1.1 431")
    assert limited.serves_normally()


def test_a_connection_that_never_sends_a_request_gets_408_and_is_closed(limited: TwinHttp) -> None:
    with tls_socket(limited.info, _host(limited)) as sock:
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")


def test_a_slowloris_head_gets_408_and_is_closed(limited: TwinHttp) -> None:
    with tls_socket(limited.info, _host(limited)) as sock:
        sock.sendall(b"GET /secrets?api-version=7.6 HTTP/1.1\r\nHost: limitkv.vault.localhost\r\nX-Slow: a")
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")
    assert limited.serves_normally()


def test_a_trickled_body_is_cut_off(limited: TwinHttp) -> None:
    headers = {"Authorization": f"Bearer {limited.data_token()}", "Content-Type": "application/json"}
    head = request_bytes("PUT", "/secrets/slow?api-version=7.6", f"{_host(limited)}:{limited.info.port}", headers)
    head = head.replace(b"Connection: close\r\n", b"Content-Length: 1000\r\n")
    with tls_socket(limited.info, _host(limited)) as sock:
        sock.sendall(head + b'{"value": "')
        assert b"200 OK" not in read_until_closed(sock)  # closed without storing a half-sent secret
    assert limited.vault("GET", "/secrets/slow", vault=VAULT).status_code == 404
    assert limited.serves_normally()


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(limited: TwinHttp) -> None:
    host = f"{_host(limited)}:{limited.info.port}"
    with tls_socket(limited.info, _host(limited)) as sock:
        sock.sendall(request_bytes("GET", "/secrets?api-version=7.6", host, close=False))
        received = read_until_closed(sock)  # the 401, then silence until the server closes the connection
    assert received.startswith(b"HTTP/1.1 401") and received.count(b"HTTP/1.1") == 1


def test_hundreds_of_idle_connections_neither_block_service_nor_outlive_the_deadline(limited: TwinHttp) -> None:
    pid = limited.info.pid
    before = _open_descriptors(pid)
    idle = _connections(limited, 300)
    try:
        assert _open_descriptors(pid) >= before + 250  # the server really holds them...
        assert limited.serves_normally()  # ...and still serves everyone else
        for sock in idle:
            assert read_until_closed(sock).startswith(b"HTTP/1.1 408")
    finally:
        for sock in idle:
            sock.close()
    assert limited.serves_normally()
    assert _open_descriptors(pid) <= before + 10  # every idle connection was released


def test_plain_http_on_the_https_port_is_dropped(limited: TwinHttp) -> None:
    with socket.create_connection(("127.0.0.1", limited.info.port), timeout=30) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            received = raw.recv(1024)
        except ConnectionError:
            received = b""
    assert not received.startswith(b"HTTP/1.1 2")  # plain HTTP never reaches the application
    assert limited.serves_normally()
    assert Path(limited.info.data_dir, "twin.log").read_text(errors="replace").count("Traceback") == 0
