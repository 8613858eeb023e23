"""Byte-exact HTTP/1.1 exchanges with the twin, for requests no HTTP library would send as written."""

from __future__ import annotations

from dataclasses import dataclass

from tests.reliability.twinhttp import read_until_closed, tls_socket
from vaultspec.twin.server import TwinInfo


@dataclass(frozen=True)
class RawResponse:
    status: int  # 0 when the server closed the connection without answering
    head: bytes
    body: bytes


def exchange(info: TwinInfo, request: bytes, sni: str = "localhost", timeout: float = 30.0) -> RawResponse:
    """Send `request` as is over TLS, read until the server closes, return the first response."""
    with tls_socket(info, sni, timeout) as sock:
        sock.sendall(request)
        received = read_until_closed(sock)
    if not received.startswith(b"HTTP/"):
        return RawResponse(0, b"", received)
    head, _, body = received.partition(b"\r\n\r\n")
    return RawResponse(int(head.split(b" ", 2)[1]), head, body)


def request_bytes(
    method: str,
    target: str,
    host: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    close: bool = True,
) -> bytes:
    """A request with Host, Content-Length (when there is a body) and `Connection: close`."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
