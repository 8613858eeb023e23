"""The audit log: one JSON line per ARM or data-plane call, Key Vault's AuditEvent analogue.

`<data>/audit.jsonl` holds time, principal (object id and app id), caller address, vault,
operation (Key Vault's AuditEvent operationName for the data plane, `METHOD resource-type` for ARM),
object (name or ARM id), result (Success/Failure), HTTP status and error code. Never a request or
response body, hence never a secret value, key material or token.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

AUDIT_FILE = "audit.jsonl"
_FRAGMENTS = 4096
_quote = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]  # C-accelerated, as json.dumps quotes


def _text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


class _Clock:
    """ISO-8601 UTC time with milliseconds; the seconds part is formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def now(self) -> str:
        stamp = time.time()
        second = int(stamp)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int((stamp - second) * 1000):03d}Z"


class AuditLog:
    """Appends one JSON line per call with a single O_APPEND write.

    The line is written before the answer leaves (the HTTP edge calls `record` then), so a client that
    got its answer finds its line in the log; one `write` per line keeps lines whole when several
    worker processes append to the same file. Formatting, not the write (~2 us), was the cost, hence
    the hand-built line (same fields and JSON as before).
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / AUDIT_FILE
        self._lock = threading.Lock()
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._clock = _Clock()
        # JSON fragments of the fields that repeat from call to call (same caller, vault, object...).
        self._heads: dict[tuple[str, str], str] = {}
        self._whos: dict[tuple[str | None, ...], str] = {}

    def record(
        self,
        *,
        plane: str,
        operation: str,
        status: int,
        principal: str | None,
        app_id: str | None,
        caller_ip: str,
        vault: str | None,
        obj: str | None,
        error_code: str | None = None,
        duration_ms: float | None = None,
        request_id: str | None = None,
    ) -> None:
        duration = "null" if duration_ms is None else repr(float(duration_ms))
        head = self._heads.get((plane, operation))
        if head is None:
            head = f'"category":"AuditEvent","plane":{_text(plane)},"operationName":{_text(operation)},'
            if len(self._heads) >= _FRAGMENTS:
                self._heads.clear()
            self._heads[(plane, operation)] = head
        who_key = (error_code, principal, app_id, caller_ip, vault, obj)
        who = self._whos.get(who_key)
        if who is None:
            who = (
                f'"errorCode":{_text(error_code)},"principal":{_text(principal)},"appid":{_text(app_id)},'
                f'"callerIpAddress":{_text(caller_ip)},"vault":{_text(vault)},"object":{_text(obj)},'
            )
            if len(self._whos) >= _FRAGMENTS:
                self._whos.clear()
            self._whos[who_key] = who
        line = (
            f'{{"time":"{self._clock.now()}",{head}"resultType":"{"Success" if status < 400 else "Failure"}",'
            f'"httpStatusCode":{int(status)},{who}"durationMs":{duration},"requestId":{_text(request_id)}}}\n'
        ).encode()
        with self._lock:
            if self._fd is not None:
                os.write(self._fd, line)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
