"""`run_smoke`: plan every check of one vault, run them with bounded concurrency, report in spec order.

Before the checks, one probe asks whether the vault lets this machine in at all (`reach.py`): when the
network refuses it, the report holds one failed finding (`vault` / `reachable`) saying why and what to
do, and every planned check is skipped under it, instead of each check failing with the same 403.

Each check is its own task, at most `options.concurrency` at a time, with its own `WaitLedger`
(context variable) so the retry policy books 429 / RBAC-403 waits on the check that caused them;
the wait is appended to the check's detail. Checks of one key or secret share a single read of it.
One aiohttp session serves every client of the run (see `session.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from vaultspec import localhost
from vaultspec.smoke.check import Check, CheckFailed, CheckSkipped
from vaultspec.smoke.grants import default_principal_credential, grant_checks
from vaultspec.smoke.keys import key_checks
from vaultspec.smoke.options import SmokeEvent, SmokeOptions
from vaultspec.smoke.reach import REACH_CHECK, REACH_OBJECT, Unreachable, probe
from vaultspec.smoke.results import CheckResult, SmokeReport
from vaultspec.smoke.retry import CURRENT_LEDGER, RetrySettings, WaitLedger
from vaultspec.smoke.secrets import secret_checks
from vaultspec.smoke.session import SharedTransport, VaultError, VaultSession
from vaultspec.smoke.transfer import transfer_checks
from vaultspec.spec.model import Vault

MAX_DETAIL = 500


def describe_error(error: BaseException) -> str:
    """One line for a report: the Key Vault status and codes, or the error's type and first line."""
    if isinstance(error, VaultError):
        return str(error)
    if isinstance(error, HttpResponseError) and error.status_code and error.status_code != 401:
        return str(VaultError.of(error))
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, ClientAuthenticationError):
        return f"authentication failed: {text}"
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return f"cannot reach the vault: {text}"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def plan_checks(
    vault: Vault,
    deployer: VaultSession,
    options: SmokeOptions,
    principal_session: Callable[[str], VaultSession],
) -> list[Check]:
    """Every check of the vault in report order: keys, secrets, then (optionally) grants."""
    environ = options.environ if options.environ is not None else os.environ
    checks: list[Check] = []
    for key in vault.keys:
        checks += key_checks(deployer, key) + transfer_checks(deployer, key, environ)
    for secret in vault.secrets:
        checks += secret_checks(deployer, secret, environ)
    if options.only is not None:
        wanted = {name.lower() for name in options.only}
        checks = [c for c in checks if c.object.lower() in wanted]
    if options.check_grants and options.only is None:
        for index, grant in enumerate(vault.access.grants):
            checks += grant_checks(index, grant, vault, deployer, principal_session(grant.principal))
    return checks


async def _run_one(check: Check, gate: asyncio.Semaphore, emit: Callable[[SmokeEvent], None]) -> CheckResult:
    async with gate:
        ledger = WaitLedger(expects_refusal=check.expects_refusal, object=check.object, check=check.name)
        token = CURRENT_LEDGER.set(ledger)
        emit(SmokeEvent("started", check.object, check.name))
        started = time.perf_counter()
        try:
            status, detail = "passed", await check.run()
        except CheckFailed as verdict:
            status, detail = "failed", verdict.detail
        except CheckSkipped as verdict:
            status, detail = "skipped", verdict.detail
        except asyncio.CancelledError:
            raise
        except Exception as error:  # one broken check must not stop the run
            status, detail = "failed", describe_error(error)
        finally:
            CURRENT_LEDGER.reset(token)
        elapsed = time.perf_counter() - started
        waited = ledger.describe()
        if waited:
            detail = f"{detail}; {waited}"
        result = CheckResult(
            object=check.object,
            check=check.name,
            status=status,  # type: ignore[arg-type]
            detail=detail[:MAX_DETAIL],
            ms=round(elapsed * 1000),
            waited=round(ledger.total, 3),
        )
        emit(SmokeEvent("finished", check.object, check.name, status=status))
        return result


async def run_checks(checks: list[Check], concurrency: int, emit: Callable[[SmokeEvent], None]) -> list[CheckResult]:
    """Run checks at most `concurrency` at a time; results in the order of `checks`."""
    emit(SmokeEvent("planned", total=len(checks)))
    gate = asyncio.Semaphore(concurrency)
    return list(await asyncio.gather(*(_run_one(c, gate, emit) for c in checks)))


def unreachable_results(
    verdict: Unreachable, checks: list[Check], emit: Callable[[SmokeEvent], None]
) -> list[CheckResult]:
    """One failed finding for the unreachable vault, then every planned check skipped under it."""
    emit(SmokeEvent("planned", total=len(checks) + 1))
    finding = CheckResult(
        object=REACH_OBJECT, check=REACH_CHECK, status="failed", detail=str(verdict)[:MAX_DETAIL], ms=0
    )
    skipped = f"not run: the vault is unreachable from here (see {REACH_OBJECT} {REACH_CHECK})"
    results = [
        finding,
        *(CheckResult(object=c.object, check=c.name, status="skipped", detail=skipped, ms=0) for c in checks),
    ]
    for result in results:
        emit(SmokeEvent("finished", result.object, result.check, status=result.status))
    return results


def _is_localhost(url: str) -> bool:
    return localhost.is_localhost_name(urlsplit(url).hostname)


async def run_smoke(
    vault_url: str, vault_spec: Vault, credential: Any = None, options: SmokeOptions | None = None
) -> SmokeReport:
    """Smoke-test one live vault against its spec.

    `credential` is an async token credential (azure.identity.aio); None builds a
    `DefaultAzureCredential` for the run and closes it afterwards. Never raises for a failing check:
    failures are in the report (`report.passed`).
    """
    options = options or SmokeOptions()
    if _is_localhost(vault_url):
        localhost.install()
    emit = _emitter(options)
    own_credential = credential is None
    if own_credential:
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
    retry = RetrySettings(
        rbac_deadline=time.monotonic() + options.rbac_wait,
        rbac_backoff=options.rbac_backoff,
        throttle_retries=options.throttle_retries,
        on_wait=lambda reason, seconds: _emit_wait(emit, reason, seconds),
    )
    shared = SharedTransport(options.connection_verify, limit=max(2 * options.concurrency, 16))
    deployer = VaultSession(vault_url, credential, retry, shared)
    principals: dict[str, VaultSession] = {}
    make_credential = options.principal_credential or default_principal_credential(options.connection_verify)

    def principal_session(principal: str) -> VaultSession:
        if principal not in principals:
            principals[principal] = VaultSession(vault_url, make_credential(principal), retry, shared)
        return principals[principal]

    try:
        checks = plan_checks(vault_spec, deployer, options, principal_session)
        verdict = await probe(deployer, vault_spec.network, twin=_is_localhost(vault_url)) if checks else None
        if verdict is None:
            results = await run_checks(checks, options.concurrency, emit)
        else:
            results = unreachable_results(verdict, checks, emit)
    finally:
        await _close(deployer, *principals.values())
        for session in principals.values():
            await _close_credential(session.credential)
        if own_credential:
            await _close_credential(credential)
        await shared.close()
    return SmokeReport.of(vault_spec.name, results)


def run_smoke_sync(
    vault_url: str, vault_spec: Vault, credential: Any = None, options: SmokeOptions | None = None
) -> SmokeReport:
    """`run_smoke` for synchronous callers (its own event loop; pass an async credential or None)."""
    return asyncio.run(run_smoke(vault_url, vault_spec, credential, options))


def _emitter(options: SmokeOptions) -> Callable[[SmokeEvent], None]:
    callback = options.on_event

    def emit(event: SmokeEvent) -> None:
        if callback is not None:
            callback(event)

    return emit


def _emit_wait(emit: Callable[[SmokeEvent], None], reason: str, seconds: float) -> None:
    ledger = CURRENT_LEDGER.get()
    emit(
        SmokeEvent(
            "waiting",
            ledger.object if ledger else "",
            ledger.check if ledger else "",
            reason=reason,
            seconds=seconds,
        )
    )


async def _close(*sessions: VaultSession) -> None:
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


async def _close_credential(credential: Any) -> None:
    close: Callable[[], Awaitable[None]] | None = getattr(credential, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):  # closing is best effort
            await close()
