"""A lingering close: answer, then read and discard what the client is still sending before closing.

The twin answers some requests before reading their bodies (413 for a body over the cap, 401 before a
body is looked at, 400 for a broken one) and closes the connection. Closing a TCP socket with unread
bytes in its receive buffer sends a reset, and a reset makes the client's kernel drop the answer it has
not read yet: the client, still sending its body, sees "connection reset" instead of the 413 (the
probes saw it under CPU load). Production servers linger instead (nginx `lingering_close`, Apache's
lingering close): the answer goes out, then the connection is read and drained until the client has
sent everything, and only then closed, so the close is a clean FIN after the answer.

Bounded so a client cannot hold a connection open this way: the drain stops at the end of the declared
body (Content-Length), after `LINGER_IDLE_S` without data (chunked bodies, or a client that waits for a
`100 Continue` it will not get), after `LINGER_TOTAL_S`, or past `LINGER_MAX_BYTES`. A connection closed
for a read deadline (`protocol.RequestReadLimits`) closes at once (`close_now`).
"""

from __future__ import annotations

import asyncio
from typing import Any

LINGER_IDLE_S = 1.0
LINGER_TOTAL_S = 10.0
LINGER_MAX_BYTES = 64 * 1024 * 1024


class _LingeringTransport:
    """What uvicorn holds as its transport: `close()` lingers while the request body is still arriving."""

    def __init__(self, transport: asyncio.Transport, protocol: LingeringClose) -> None:
        self._transport = transport
        self._protocol = protocol

    def close(self) -> None:
        if self._protocol.body_still_arriving() and not self._transport.is_closing():
            self._protocol.start_lingering()
        else:
            self.close_now()

    def close_now(self) -> None:
        self._protocol.stop_lingering()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class LingeringClose:
    """Protocol mixin over uvicorn's httptools protocol (see the module docstring). Put it after
    `CorkedWrites` and before the protocol class: `class P(CorkedWrites, LingeringClose, ..., HttpToolsProtocol)`."""

    loop: asyncio.AbstractEventLoop
    headers: list[tuple[bytes, bytes]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inner: asyncio.Transport | None = None
        self._body_pending = False
        self._body_left: int | None = None  # bytes of the declared body not received yet (None: chunked)
        self.lingering = False
        self._discarded = 0
        self._idle: asyncio.TimerHandle | None = None
        self._total: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._inner = transport
        super().connection_made(_LingeringTransport(transport, self))  # type: ignore[misc, arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_lingering()
        super().connection_lost(exc)  # type: ignore[misc]

    # -- what the request still owes -----------------------------------------------------------
    def on_headers_complete(self) -> None:
        length = next((v for k, v in self.headers if k == b"content-length"), None)
        chunked = any(k == b"transfer-encoding" and b"chunked" in v.lower() for k, v in self.headers)
        self._body_left = int(length) if length is not None and length.isdigit() and not chunked else None
        self._body_pending = chunked or bool(self._body_left)
        super().on_headers_complete()  # type: ignore[misc]

    def on_body(self, body: bytes) -> None:
        if self._body_left is not None:
            self._body_left -= len(body)
        super().on_body(body)  # type: ignore[misc]

    def on_message_complete(self) -> None:
        self._body_pending = False
        super().on_message_complete()  # type: ignore[misc]

    def body_still_arriving(self) -> bool:
        return self._body_pending

    # -- lingering -------------------------------------------------------------------------------
    def start_lingering(self) -> None:
        """The answer is written; drain the rest of the request before closing."""
        assert self._inner is not None
        self.lingering = True
        flush = getattr(self._inner, "flush", None)
        if flush is not None:
            flush()
        self._inner.resume_reading()  # uvicorn may have paused reading (flow control)
        self._total = self.loop.call_later(LINGER_TOTAL_S, self._close)
        self._rearm_idle()

    def stop_lingering(self) -> None:
        self.lingering = False
        for timer in (self._idle, self._total):
            if timer is not None:
                timer.cancel()
        self._idle = self._total = None

    def _rearm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = self.loop.call_later(LINGER_IDLE_S, self._close)

    def _close(self) -> None:
        self.stop_lingering()
        if self._inner is not None and not self._inner.is_closing():
            self._inner.close()

    def data_received(self, data: bytes) -> None:
        if not self.lingering:
            super().data_received(data)  # type: ignore[misc]
            return
        self._discarded += len(data)
        if self._body_left is not None:
            self._body_left -= len(data)
        if (self._body_left is not None and self._body_left <= 0) or self._discarded > LINGER_MAX_BYTES:
            self._close()  # everything declared is in (or too much arrived): the close is clean now
        else:
            self._rearm_idle()
