"""RFC 6761 §6.3 name resolution for our own processes: every `*.localhost` name is loopback.

glibc resolves plain `localhost` from /etc/hosts but not `kv1.vault.localhost`, so the twin's
per-vault hosts would need /etc/hosts lines. Our own processes (CLI, tests, smoke, engine) call
`install()` instead: it wraps `socket.getaddrinfo` once, idempotently, so any name ending in
`.localhost` resolves to 127.0.0.1 without asking DNS. Unmodified third-party programs use the lines from
`vaultspec twin hosts NAME...` instead.
"""

from __future__ import annotations

import socket
from typing import Any

_MARK = "_vaultspec_localhost_wrapper"
LOOPBACK = "127.0.0.1"  # the twin listens here; no DNS query ever leaves the machine


def is_localhost_name(host: str | bytes | None) -> bool:
    """True for `localhost` and any name under it (case-insensitive, trailing dot allowed)."""
    if host is None:
        return False
    name = host.decode("ascii", "ignore") if isinstance(host, bytes) else host
    name = name.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def install() -> None:
    """Make `*.localhost` resolve to loopback in this process (safe to call many times)."""
    current = socket.getaddrinfo
    if getattr(current, _MARK, False):
        return
    original = current

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list:
        if is_localhost_name(host) and host not in ("localhost", b"localhost"):
            host = LOOPBACK
        return original(host, port, *args, **kwargs)

    setattr(getaddrinfo, _MARK, True)
    socket.getaddrinfo = getaddrinfo
