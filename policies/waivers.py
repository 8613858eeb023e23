"""Policy waivers, and the one channel that reports them through a real `pulumi preview/up`.

A waiver is a resource tag `waiver:<policy-name>` whose value is the reason (<= 256 chars, ARM's
tag value limit). vaultspec writes a vault's waivers on the vault only, and they cover the vault's
keys, secrets and access policies too (the pack finds a key's vault by its literal `vaultName`
and resource group, `ledger.py`). Not on the keys themselves: Azure cannot change a key's tags
through ARM (the key PUT is create-if-not-exist and rejects different tags), so a waiver added
or removed later would force replacing the key and its material. Any Pulumi program can write the
tag by hand, on a vault or on any resource. A rule that finds a violation on a waived resource
does not report the violation; it reports the finding as *waived*, with the reason.

How a waived finding reaches the user (investigated against pulumi-policy 1.21 and the engine):

- `args.not_applicable(reason)` puts a `PolicyNotApplicable{policy_name, reason}` in the
  `AnalyzeResponse`. The engine only uses it to leave the policy out of the "passed" list of the
  per-resource policy summary event (`pkg/resource/analyzer/summary.go`); the reason is dropped
  and nothing is printed. A waiver sent that way would be silently lost, so it is not used.
- `report_violation(...)` is bound to the policy's configured level: a waived mandatory finding
  would still fail the run.
- A separate "waivers" policy would inherit `all: mandatory` from a pack config and fail the run.
- When a validation raises pulumi-policy's `UnknownValueError`, the analyzer servicer emits an
  ADVISORY diagnostic for that policy whatever its configured level, carrying the exception's
  `message` ("can't run policy '<name>' ... during preview: <message>"). The engine prints it as
  an advisory violation on the resource (stack policies: on the stack) and never fails the run.

So a waived finding is raised as `PolicyNotice`, a subclass of `UnknownValueError` whose
message lists the waived findings (and any parts that could not be checked at preview), one
per line, as `waived {json}` / `unchecked {json}`. People read it in the CLI output; the offline
analyzer (`vaultspec.engine.analyzer`) parses it back with `parse_notice` into verdicts marked
`waived` with their reason. A waiver on a rule that finds nothing produces no output at all.
A waiver tag with an empty reason is ignored (the violation stays), so no waiver is anonymous.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pulumi_policy.proxy import UnknownValueError

from vaultspec.spec.rules import WAIVER_TAG_PREFIX  # the spec writes the tags this pack reads

MAX_REASON_LENGTH = 256


@dataclass(frozen=True)
class NoticeItem:
    """One line of a notice: a waived finding, or a check that could not run at preview."""

    kind: Literal["waived", "unchecked"]
    urn: str
    message: str
    reason: str | None = None

    def line(self) -> str:
        body: dict[str, str] = {"urn": self.urn, "message": self.message}
        if self.reason is not None:
            body["reason"] = self.reason
        return f"{self.kind} {json.dumps(body, ensure_ascii=False)}"


class PolicyNotice(UnknownValueError):
    """Raised by a rule to report waived findings and unchecked parts as one advisory diagnostic."""

    def __init__(self, items: Sequence[NoticeItem]) -> None:
        Exception.__init__(self)
        self.items = tuple(items)
        self.unknown_type_sentinel = ""
        self.props: list[str] = []
        self.message = notice_message(self.items)


def notice_message(items: Iterable[NoticeItem]) -> str:
    items = list(items)
    waived = sum(1 for item in items if item.kind == "waived")
    unchecked = len(items) - waived
    summary = f"{waived} finding(s) waived, {unchecked} check(s) not possible yet"
    return "\n".join([summary, *(item.line() for item in items)])


def parse_notice(message: str) -> list[NoticeItem]:
    """The items of a notice found anywhere in a diagnostic message; [] if it carries none."""
    items: list[NoticeItem] = []
    for line in message.splitlines():
        kind, _, body = line.partition(" ")
        if kind not in ("waived", "unchecked") or not body.startswith("{"):
            continue
        try:
            fields = json.loads(body)
        except json.JSONDecodeError:
            continue
        if not isinstance(fields, dict):
            continue
        reason = fields.get("reason")
        items.append(
            NoticeItem(
                kind=kind,  # type: ignore[arg-type]
                urn=str(fields.get("urn", "")),
                message=str(fields.get("message", "")),
                reason=str(reason) if reason is not None else None,
            )
        )
    return items


def waiver_reason(props: Mapping[str, Any], policy_name: str) -> str | None:
    """The reason of the resource's `waiver:<policy_name>` tag, or None.

    Tag names are case-insensitive in ARM, so is the lookup. An empty reason is no waiver.
    Raises `UnknownValueError` when the tags are not known yet (computed at preview).
    """
    tags = props.get("tags") if isinstance(props, Mapping) else None
    if not isinstance(tags, Mapping):
        return None
    wanted = f"{WAIVER_TAG_PREFIX}{policy_name}".lower()
    for name in tags:
        if isinstance(name, str) and name.lower() == wanted:
            value = tags[name]
            if isinstance(value, str) and value.strip():
                return value.strip()[:MAX_REASON_LENGTH]
            return None
    return None
