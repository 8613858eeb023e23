"""The rule table of policies/README.md, generated from the rules themselves (a test keeps it in sync).

Print it with `python -m vaultspec.policies.table`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from vaultspec.policies.pack import RULES
from vaultspec.policies.rule import Rule

HEADER = (
    "| name | what | parameters (default) | default level | severity | sources | remediation |\n"
    "|---|---|---|---|---|---|---|"
)


def _parameters(rule: Rule) -> str:
    if not rule.parameters:
        return "—"
    return "<br>".join(_parameter(name, schema) for name, schema in rule.parameters.items())


def _parameter(name: str, schema: Mapping[str, Any]) -> str:
    default = schema.get("default")
    if isinstance(default, list) and len(default) > 4:
        return f"`{name}`: {schema.get('description', '')}"
    return f"`{name}` = `{json.dumps(default, separators=(',', ':'))}`"


def _row(rule: Rule) -> str:
    what = rule.description + (" *(stack policy)*" if rule.kind == "stack" else "")
    cells = [
        f"`{rule.name}`",
        what,
        _parameters(rule),
        rule.level.value,
        rule.severity.value,
        rule.sources.summary(),
        str(getattr(rule.policy, "remediation_steps", "") or "—"),
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def markdown_table(rules: Iterable[Rule] = RULES) -> str:
    return "\n".join([HEADER, *(_row(rule) for rule in rules)])


if __name__ == "__main__":
    print(markdown_table())
