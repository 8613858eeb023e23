"""Comparing property values: what changed between two input maps, and whether a live value is the same.

Paths are the engine's property paths (`properties.attributes.expires`, `accessPolicies[0]`), so a
detailed diff lines up with the program's `replaceOnChanges` and `ignoreChanges`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vaultspec.twin.provider.plumbing import is_unknown


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def changed_paths(old: Any, new: Any, path: str = "") -> dict[str, str]:
    """Every path whose value differs: "add" (new only), "delete" (old only) or "update"."""
    if is_unknown(new):
        return {path: "update"} if path else {}
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        changes: dict[str, str] = {}
        for key in sorted(set(old) | set(new)):
            before, after = old.get(key), new.get(key)
            if before is None and after is None:
                continue
            if before is None:
                changes[_join(path, key)] = "add"
            elif after is None:
                changes[_join(path, key)] = "delete"
            else:
                changes.update(changed_paths(before, after, _join(path, key)))
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        changes = {}
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            changes.update(changed_paths(before, after, f"{path}[{index}]"))
        return changes
    if _scalar_equal(old, new):
        return {}
    return {path: "update"}


def _scalar_equal(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):
        return old is new
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return float(old) == float(new)
    return bool(old == new)


def same_value(declared: Any, live: Any) -> bool:
    """Whether a live ARM value is what was declared, as ARM compares them: strings (enums, locations,
    ids) case-insensitively and without spaces in locations, numbers by value, lists in any order."""
    if isinstance(declared, Mapping):
        return isinstance(live, Mapping) and all(
            same_value(value, live.get(key)) for key, value in declared.items() if value is not None
        )
    if isinstance(declared, list):
        if not isinstance(live, list) or len(live) != len(declared):
            return False
        unmatched = list(live)
        for want in declared:
            match = next((i for i, have in enumerate(unmatched) if same_value(want, have)), None)
            if match is None:
                return False
            unmatched.pop(match)
        return True
    if isinstance(declared, str) and isinstance(live, str):
        return declared.replace(" ", "").lower() == live.replace(" ", "").lower()
    return _scalar_equal(declared, live)


def project(declared: Any, live: Any) -> Any:
    """The live value in the declared value's shape: the declared value itself where the live one is the
    same (so an unchanged resource refreshes to exactly its inputs), the live value where it drifted.
    Keys the declaration leaves out are not reconstructed; write-only values ARM never returns (a
    secret's value) keep their declared value."""
    if live is None:
        return declared
    if isinstance(declared, Mapping) and isinstance(live, Mapping):
        return {key: project(value, live.get(key)) for key, value in declared.items()}
    if same_value(declared, live):
        return declared
    return live
