"""Time limits shared by key and secret rules: expiry dates and ISO 8601 durations.

`expires` is epoch seconds (as ARM and pulumi-azure-native carry it). A maximum validity is
measured from the time of evaluation, so a plan run today judges the dates as they stand today;
an object whose expiry has already passed is reported too (it would be unusable).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from vaultspec.policies.wire import number

DAY = 86_400.0
_DURATION = TypeAdapter(timedelta)

MAXIMUM_VALIDITY_PARAMETER = {
    "maximumValidityInDays": {
        "type": "integer",
        "minimum": 1,
        "default": 365,
        "description": "Longest accepted time from evaluation to expiry, in days.",
    }
}


def expiry_findings(where: str, expires: Any, maximum_days: int, now: float) -> Iterator[str]:
    """Findings for an `attributes.expires` value judged at `now` (epoch seconds)."""
    moment = number(expires)
    if moment is None:
        yield f"{where} is not set: the object never expires"
        return
    if moment <= now:
        yield f"{where} is in the past: the object is already expired"
    elif moment - now > maximum_days * DAY:
        yield f"{where} is more than {maximum_days} days after evaluation time"


def duration_days(value: Any) -> float | None:
    """Days in an ISO 8601 duration such as P90D, P1Y or P3M (a year is 365 days, a month 30), else None."""
    if not isinstance(value, str) or not value.strip().upper().startswith("P"):
        return None
    try:
        return _DURATION.validate_python(value.strip()).total_seconds() / DAY
    except ValidationError:
        return None
