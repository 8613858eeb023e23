"""A check: one named, independent proof about one object, run by the runner as its own task.

A check's coroutine returns the detail of a pass, or raises `CheckFailed` / `CheckSkipped` with the
detail of the verdict. Any other exception fails the check with a one-line description (the runner
shapes it). Details never contain secret values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime


class CheckFailed(Exception):
    """The object does not match the spec, or the vault did something it must not."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CheckSkipped(Exception):
    """The check cannot be decided here (not comparable, prerequisite missing, outside a window)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Check:
    object: str  # keys/<name> | secrets/<name> | grants/<index>
    name: str
    run: Callable[[], Awaitable[str]]
    expects_refusal: bool = False  # 403s are the expected answer: never retried as RBAC propagation


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str:
    """`2028-06-01T00:00:00Z` (the spec's own notation), or `none`."""
    if moment is None:
        return "none"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def same_instant(a: datetime | None, b: datetime | None) -> bool:
    """Equal to the second (Key Vault stores unix seconds), or both absent."""
    if a is None or b is None:
        return a is None and b is None
    return int(a.timestamp()) == int(b.timestamp())


def declared_dates(
    expires: datetime | None,
    not_before: datetime | None,
    expires_on: datetime | None,
    vault_not_before: datetime | None,
) -> str:
    """A key's or secret's expiry and not-before as the vault holds them, against the spec's; raises
    `CheckFailed` naming each that differs."""
    problems = [
        f"{label}: declared {iso(declared)}, vault {iso(actual)}"
        for label, declared, actual in (("expires", expires, expires_on), ("notBefore", not_before, vault_not_before))
        if not same_instant(declared, actual)
    ]
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"expires {iso(expires_on)}, notBefore {iso(vault_not_before)} as declared"
