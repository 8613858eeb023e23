"""The twin's HTTP/1.1 connection protocol: uvicorn's httptools protocol with a deadline and a head budget.

uvicorn arms a timer only between requests (the keep-alive timeout). Without more, a client that
connects and never finishes a request head (slowloris), trickles a body, or streams an endless
header line holds a connection, and the parser's buffer, for as long as it likes. This protocol adds:

- a read deadline: from connection (or from the first byte of each request) until the request is
  fully received, `READ_TIMEOUT_S`; when it passes, an unfinished head gets `408` and the
  connection closes; an unfinished body just closes (the handler is already running);
- a head budget: more than `MAX_HEAD_BYTES` of request line + headers gets `431` and a close,
  checked as bytes arrive, before the parser has buffered more than one extra read;
- the keep-alive timeout after a request answered before its body was read: uvicorn cancels its idle
  timer as the rest of the body arrives and never arms it again, so such a connection stayed open for as
  long as the client liked; it is armed again once the body is in.

Tests shorten the deadline with `VAULTSPEC_TWIN_READ_TIMEOUT_S`; the keep-alive timeout between
requests is uvicorn's, set in `vaultspec.twin.server` (`VAULTSPEC_TWIN_IDLE_TIMEOUT_S`).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vaultspec.twin.http.corked_protocol import CorkedWrites
from vaultspec.twin.http.lingering_close import LingeringClose

READ_TIMEOUT_S = float(os.environ.get("VAULTSPEC_TWIN_READ_TIMEOUT_S", "10"))
MAX_HEAD_BYTES = 64 * 1024  # request line + headers; the ASGI edge refuses > 32 KiB of headers with 431 itself


def _plain_response(status: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class RequestReadLimits:
    """Protocol mixin: read deadline + head budget (see the module docstring). Composes with other
    mixins over uvicorn's protocol: `class P(OtherMixin, RequestReadLimits, HttpToolsProtocol)`."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any
    pipeline: Any
    timeout_keep_alive: float
    timeout_keep_alive_task: asyncio.TimerHandle | None
    timeout_keep_alive_handler: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_head = True
        self._head_bytes = 0

    # -- connection -----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        super().data_received(data)  # type: ignore[misc]
        if self._reading_head and not self.transport.is_closing():
            # The head is still incomplete after this read, so every byte of it was head.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(b"431 Request Header Fields Too Large")

    # -- parser callbacks -------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()  # type: ignore[misc]
        self._reading_head = True
        self._head_bytes = 0
        self._arm_deadline()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()  # type: ignore[misc]

    def on_message_complete(self) -> None:
        self._cancel_deadline()
        super().on_message_complete()  # type: ignore[misc]
        cycle = self.cycle
        if cycle is not None and cycle.response_complete and not self.transport.is_closing():
            # Answered before its body was read (a 413, a 401): uvicorn armed its keep-alive timer when the
            # answer went out, and cancelled it as the body kept coming; idle from now on, so arm it again.
            self._rearm_keep_alive()

    def _rearm_keep_alive(self) -> None:
        if self.timeout_keep_alive_task is None and not self.pipeline:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    # -- deadline ---------------------------------------------------------------------------------
    def _arm_deadline(self) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(READ_TIMEOUT_S, self._on_deadline)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self._refuse(b"408 Request Timeout")

    def _refuse(self, status: bytes) -> None:
        """Answer `status` when no response is under way (else only close), then close."""
        self._cancel_deadline()
        if self._reading_head and (self.cycle is None or self.cycle.response_complete):
            self.transport.write(_plain_response(status))
        # at once, without a lingering close: connection_lost tells a running handler the client is gone
        getattr(self.transport, "close_now", self.transport.close)()


class TwinHttpProtocol(CorkedWrites, LingeringClose, RequestReadLimits, HttpToolsProtocol):
    """What `vaultspec.twin.server` serves with: httptools parsing, corked writes, a lingering close (clients
    read an answer sent before their body was), the read limits."""
