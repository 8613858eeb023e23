"""Checks of component arguments, each failing with a message that names the input.

The YAML path validates a spec far more thoroughly (`vaultspec.spec`); these checks guard the
plain-Python and other-language paths, where a typo would otherwise reach Azure as a 400.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from vaultspec.spec.rules import WAIVER_TAG_PREFIX


class ComponentArgsError(ValueError):
    """Invalid component arguments; the message names the component and the input path."""


def require(args: Mapping[str, Any], key: str, where: str) -> Any:
    value = args.get(key)
    if value is None:
        raise ComponentArgsError(f"{where}.{key} is required")
    return value


def choice(value: str, allowed: Iterable[str], where: str) -> str:
    """`value` spelled as in `allowed` (case-insensitive match), else an error listing the choices."""
    options = tuple(allowed)
    for option in options:
        if option.lower() == str(value).lower():
            return option
    raise ComponentArgsError(f"{where}: '{value}' is not one of: {', '.join(options)}")


def epoch_seconds(moment: str | None, where: str) -> int | None:
    """ARM's representation of key and secret times: whole seconds since the epoch."""
    if moment is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(moment))
    except ValueError:
        raise ComponentArgsError(f"{where}: '{moment}' is not an RFC 3339 time such as 2028-06-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise ComponentArgsError(f"{where}: '{moment}' needs a time zone (e.g. a trailing Z)")
    return int(parsed.timestamp())


def waiver_tags(exceptions: Iterable[Mapping[str, str]] | None, where: str) -> dict[str, str]:
    """`waiver:<policy>` = reason for each waived policy (the policy pack reads these tags)."""
    tags: dict[str, str] = {}
    for index, item in enumerate(exceptions or ()):
        policy = require(item, "policy", f"{where}[{index}]")
        reason = require(item, "reason", f"{where}[{index}]")
        if len(reason) > 256:
            raise ComponentArgsError(f"{where}[{index}].reason is longer than 256 characters (ARM's tag limit)")
        tags[f"{WAIVER_TAG_PREFIX}{policy}"] = reason
    return tags


def merged_tags(own: Mapping[str, str] | None, waivers: Mapping[str, str]) -> dict[str, str] | None:
    """Own tags plus waiver tags; None when there are none (so no empty `tags` is sent)."""
    tags = {**(own or {}), **waivers}
    return tags or None
