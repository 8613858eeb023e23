"""The audit log: one JSON line per ARM or data-plane call, Key Vault's AuditEvent analogue.

`<data>/audit.jsonl` holds time, principal (object id and app id), caller address, vault,
operation (Key Vault's AuditEvent operationName for the data plane, `METHOD resource-type` for ARM),
object (name or ARM id), result (Success/Failure), HTTP status and error code. Never a request or
response body, hence never a secret value, key material or token.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

AUDIT_FILE = "audit.jsonl"


class AuditLog:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / AUDIT_FILE
        self._lock = threading.Lock()
        self._file = self.path.open("a", encoding="utf-8", buffering=1)

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
        event: dict[str, Any] = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "category": "AuditEvent",
            "plane": plane,
            "operationName": operation,
            "resultType": "Success" if status < 400 else "Failure",
            "httpStatusCode": status,
            "errorCode": error_code,
            "principal": principal,
            "appid": app_id,
            "callerIpAddress": caller_ip,
            "vault": vault,
            "object": obj,
            "durationMs": duration_ms,
            "requestId": request_id,
        }
        line = json.dumps(event, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)

    def close(self) -> None:
        with self._lock:
            self._file.close()
