"""Reading azure-native wire-format properties (camelCase, as the engine hands them to the pack).

The engine sends a resource's inputs to `Analyze` and its outputs to `AnalyzeStack`; values that
are not known yet (computed at preview) raise `UnknownValueError` when read through
pulumi-policy's proxy. These helpers keep that behaviour: they never swallow an unknown, so a
rule that depends on one ends up as an advisory "cannot check", never as a silent pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

_TOKEN = re.compile(r"^azure-native:(?P<module>[A-Za-z0-9]+)(?:/(?P<version>v[0-9A-Za-z]+))?:(?P<name>\w+)$")

__all__ = [
    "UnknownValueError",
    "api_version_module",
    "dig",
    "is_set",
    "is_type",
    "number",
    "same_group",
    "same_text",
    "sequence",
    "text",
]


def is_type(resource_type: str, modules: str | tuple[str, ...], name: str) -> bool:
    """True for `azure-native:<module>:<name>` in any API version (`<module>/v2024...:<name>`)."""
    match = _TOKEN.match(resource_type)
    if match is None or match["name"] != name:
        return False
    wanted = (modules,) if isinstance(modules, str) else modules
    return match["module"] in wanted


def api_version_module(resource_type: str) -> tuple[str, str] | None:
    """(module, version) of an explicitly versioned azure-native token, else None."""
    match = _TOKEN.match(resource_type)
    if match is None or match["version"] is None:
        return None
    return match["module"], match["version"]


def dig(props: Mapping[str, Any], *path: str | int) -> Any:
    """The value at `path`, or None when any step is absent; unknown values raise."""
    current: Any = props
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, Sequence) or isinstance(current, str) or step >= len(current):
                return None
        elif not isinstance(current, Mapping) or step not in current:
            return None
        current = current[step]
    return current


def is_set(props: Mapping[str, Any], key: str) -> bool:
    """True when `key` carries a value, known or not (an unknown destination is still a destination)."""
    if not isinstance(props, Mapping):
        return False
    try:
        value = props.get(key)
    except UnknownValueError:
        return True
    return value not in (None, "")


def text(value: Any) -> str | None:
    """A string value lower-cased for comparison (Azure enums are case-insensitive), else None."""
    return value.lower() if isinstance(value, str) else None


def same_group(a: str | None, b: str | None) -> bool:
    """Two resource groups (lower-cased, None when not known) that may be the same one."""
    return a is None or b is None or a == b


def same_text(value: Any, expected: str) -> bool:
    return text(value) == expected.lower()


def number(value: Any) -> float | None:
    """Numbers arrive as floats over gRPC; booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def sequence(value: Any) -> Sequence[Any]:
    """A list value, or an empty tuple for anything else (absent, null, wrong type)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return value
    return ()
