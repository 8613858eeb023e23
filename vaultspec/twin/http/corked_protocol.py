"""uvicorn's httptools protocol with one TLS record and one `send` per response instead of two.

uvicorn writes a response's status line and headers as soon as the app starts the response, then
the body: over TLS that is two records, two encryptions and two socket writes (each a full trip
through the loopback TCP stack). The protocol here gives uvicorn a transport that holds a write
until the next one (and then sends both as one) or until the current event-loop iteration ends,
whichever comes first, so a head and its body leave together and nothing waits longer than the
loop's current batch of callbacks. Everything else is delegated to the real transport.
"""

from __future__ import annotations

import asyncio
from typing import Any


class _CorkedTransport:
    """Delegates to a real transport; `write` holds at most one chunk until the next write or tick."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
            return
        self._held = None
        self._transport.write(held + data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CorkedWrites:
    """Protocol mixin: hands the protocol a `_CorkedTransport`. Put it before the uvicorn protocol class
    (`class P(CorkedWrites, HttpToolsProtocol)`), so other mixins' `connection_made` see the corked one."""

    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(_CorkedTransport(transport, self.loop))  # type: ignore[misc, arg-type]
