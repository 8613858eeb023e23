"""The polite retry policy of the smoke clients, and the per-check ledger of time spent waiting.

It replaces azure-core's retry policy in every SDK client the smoke run builds, so that it can:

- retry 429 after `Retry-After` (also `retry-after-ms` / `x-ms-retry-after-ms`), up to a count;
- retry 403 `ForbiddenByRbac` with exponential backoff until a deadline shared by the whole run:
  role assignments made by the deployment take time to propagate, and Key Vault refuses until then;
- retry connection errors and 500/502/503/504 a few times;
- record every wait on the `WaitLedger` of the check that caused it (a context variable set by the
  runner for each check), so reports say which check waited, how long and why.

A check that expects a refusal (grant checks proving what a principal may NOT do) sets
`WaitLedger.expects_refusal`, and its 403s come back at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy

MAX_RBAC_DELAY_S = 16.0
MAX_THROTTLE_DELAY_S = 60.0
TRANSIENT_RETRIES = 3
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


@dataclass
class WaitLedger:
    """Waits caused by one check; `expects_refusal` turns the RBAC retry off for it."""

    expects_refusal: bool = False
    object: str = ""
    check: str = ""
    throttled: float = 0.0
    rbac: float = 0.0
    transient: float = 0.0
    retries: int = 0

    @property
    def total(self) -> float:
        return self.throttled + self.rbac + self.transient

    def describe(self) -> str:
        """E.g. `waited 12.0 s for RBAC propagation (4 retries)`; empty when nothing waited."""
        parts = []
        if self.rbac:
            parts.append(f"{self.rbac:.1f} s for RBAC propagation")
        if self.throttled:
            parts.append(f"{self.throttled:.1f} s throttled (429 Retry-After)")
        if self.transient:
            parts.append(f"{self.transient:.1f} s on transient errors")
        if not parts:
            return ""
        return f"waited {', '.join(parts)} ({self.retries} retr{'y' if self.retries == 1 else 'ies'})"


CURRENT_LEDGER: ContextVar[WaitLedger | None] = ContextVar("vaultspec_smoke_ledger", default=None)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` (seconds or HTTP date)."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value:
            try:
                return max(float(value) / 1000, 0.0)
            except ValueError:
                pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        moment = email.utils.parsedate_to_datetime(value) if value else None
        return max(moment.timestamp() - time.time(), 0.0) if moment else None


def error_codes(response: Any) -> tuple[str, str]:
    """(code, innererror code) of a Key Vault error body; empty strings when there is none."""
    try:
        error = json.loads(response.text() or "{}").get("error") or {}
    except Exception:  # an unread stream or a non-JSON body: no codes
        return "", ""
    if not isinstance(error, dict):
        return "", ""
    inner = error.get("innererror") or {}
    return str(error.get("code") or ""), str(inner.get("code") or "") if isinstance(inner, dict) else ""


@dataclass(frozen=True)
class RetrySettings:
    """The budgets of one run, shared by every client's policy (the RBAC deadline is run-wide)."""

    rbac_deadline: float  # time.monotonic() value after which 403 ForbiddenByRbac is final
    rbac_backoff: float
    throttle_retries: int
    on_wait: Callable[[str, float], None] | None = None
    clock: Callable[[], float] = time.monotonic


class PoliteRetryPolicy(AsyncHTTPPolicy):
    """429 / RBAC-403 / transient retries with waits booked on the current check's ledger.

    One instance per client: a pipeline links its policies through `policy.next`, so an instance
    shared by two clients would send the first client's requests through the second's credential.
    """

    def __init__(self, settings: RetrySettings) -> None:
        super().__init__()
        self.settings = settings

    async def _wait(self, reason: str, seconds: float) -> None:
        ledger = CURRENT_LEDGER.get()
        if ledger is not None:
            setattr(ledger, reason, getattr(ledger, reason) + seconds)
            ledger.retries += 1
        if self.settings.on_wait is not None:
            self.settings.on_wait(reason, seconds)
        await asyncio.sleep(seconds)

    def _rbac_delay(self, attempt: int) -> float:
        ledger = CURRENT_LEDGER.get()
        if ledger is not None and ledger.expects_refusal:
            return 0.0
        remaining = self.settings.rbac_deadline - self.settings.clock()
        return max(min(self.settings.rbac_backoff * 2**attempt, MAX_RBAC_DELAY_S, remaining), 0.0)

    async def send(self, request: PipelineRequest) -> PipelineResponse:
        throttled = rbac = transient = 0
        while True:
            try:
                response = await self.next.send(request)
            except (ServiceRequestError, ServiceResponseError):
                if transient >= TRANSIENT_RETRIES:
                    raise
                await self._wait("transient", 0.5 * 2**transient)
                transient += 1
                continue
            http = response.http_response
            status = http.status_code
            if status == 429 and throttled < self.settings.throttle_retries:
                delay = retry_after_seconds(http.headers)
                await self._wait("throttled", min(delay if delay is not None else 2.0**throttled, MAX_THROTTLE_DELAY_S))
                throttled += 1
                continue
            if status == 403 and error_codes(http)[1] == "ForbiddenByRbac":
                delay = self._rbac_delay(rbac)
                if delay > 0:
                    await self._wait("rbac", delay)
                    rbac += 1
                    continue
            if status in TRANSIENT_STATUSES and transient < TRANSIENT_RETRIES:
                delay = retry_after_seconds(http.headers)
                await self._wait("transient", min(delay if delay is not None else 0.5 * 2**transient, 30.0))
                transient += 1
                continue
            return response
