"""What a run of the engine did, read from its event stream: steps, policy verdicts, hooks, errors.

The Automation API hands every `EngineEvent` to `RunLog.on_event` (from its event-log thread). The log
keeps, per resource, the last step the engine took (`create`, `update`, `replace`, `delete`, `same`,
`import`) or its failure, the policy pack's verdicts (waived findings arrive as advisory notices, see
`vaultspec.policies.waivers`), the smoke hooks' results and every warning or error. The engine masks
secrets in events ("[secret]") and none of this keeps inputs or outputs, so nothing here holds a value.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, TextIO

from pulumi.automation import EngineEvent, OpType
from pydantic import BaseModel

from vaultspec.engine.analyzer import Verdict
from vaultspec.policies.waivers import parse_notice

HOOK_PASSED_PREFIX = "smoke of "
RECOVERED_PREFIX = "recovered the soft-deleted"  # what the twin's provider logs on a resource it recovered
HOOK_FAILED_MARK = "hook"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"
    RECOVERED = "recovered"
    IMPORT = "import"
    FAILED = "failed"


COUNTED = (Action.CREATE, Action.UPDATE, Action.DELETE, Action.SAME, Action.RECOVERED, Action.REPLACE)

_ACTIONS = {
    OpType.CREATE: Action.CREATE,
    OpType.UPDATE: Action.UPDATE,
    OpType.DELETE: Action.DELETE,
    OpType.SAME: Action.SAME,
    OpType.REPLACE: Action.REPLACE,
    OpType.CREATE_REPLACEMENT: Action.REPLACE,
    OpType.DELETE_REPLACED: Action.REPLACE,
    OpType.IMPORT: Action.IMPORT,
    OpType.IMPORT_REPLACEMENT: Action.IMPORT,
}


class ResourceChange(BaseModel):
    """What the run did to one resource (never holds a value)."""

    urn: str
    type: str
    name: str
    action: Action
    detail: str = ""


class HookResult(BaseModel):
    """A smoke hook's outcome for one key or secret, as the engine reported it."""

    urn: str
    name: str
    passed: bool
    message: str


class Diagnostic(BaseModel):
    severity: str
    message: str
    urn: str | None = None


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _type(urn: str) -> str:
    return urn.split("::")[2].rsplit("$", 1)[-1] if urn.count("::") >= 3 else ""


def plain_event(value: Any) -> Any:
    """An engine event as plain JSON data (the shape the CLI's event log has, in the SDK's names)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain_event(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_event(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: plain_event(v) for k, v in vars(value).items() if v is not None}
    return value


class RunLog:
    """Collects one engine run; thread-safe, and `listener` sees each step as it starts and ends.

    With `record`, every event is also appended to that file as one JSON line (`vaultspec up --event-log`):
    the engine's own stream, in which it has already masked every secret as "[secret]".
    """

    def __init__(self, listener: Callable[[str, str, str], None] | None = None, record: Path | None = None) -> None:
        self._record: TextIO | None = record.open("a", encoding="utf-8") if record else None
        self.changes: dict[str, ResourceChange] = {}
        self.verdicts: list[Verdict] = []
        self.hooks: list[HookResult] = []
        self.diagnostics: list[Diagnostic] = []
        self.listener = listener  # (phase: started|done|failed, action, urn)
        self._recovered: dict[str, str] = {}  # urn -> what the provider said it recovered
        self.changed_paths: dict[str, list[str]] = {}  # urn -> the property paths its step changes
        self._lock = threading.Lock()

    # -- feeding ----------------------------------------------------------------------------------

    def close(self) -> None:
        if self._record is not None:
            self._record.close()

    def on_event(self, event: EngineEvent) -> None:
        with self._lock:
            if self._record is not None:
                self._record.write(json.dumps(plain_event(event)) + "\n")
            if event.resource_pre_event is not None:
                self._step(event.resource_pre_event.metadata, "started")
            elif event.res_outputs_event is not None:
                self._step(event.res_outputs_event.metadata, "done")
            elif event.res_op_failed_event is not None:
                self._failed(event.res_op_failed_event.metadata)
            elif event.diagnostic_event is not None:
                self._diagnostic(event.diagnostic_event)
            elif event.policy_event is not None:
                self._policy(event.policy_event)

    def _step(self, metadata: Any, phase: str) -> None:
        action = _ACTIONS.get(metadata.op)
        state = metadata.new or metadata.old
        if action is None or state is None or not state.custom or _type(metadata.urn).startswith("pulumi:"):
            return  # refresh/read steps, components (nothing in Azure), the stack and default providers
        current = self.changes.get(metadata.urn)
        if current is not None and current.action == Action.FAILED:
            return
        if current is not None and action == Action.SAME:
            return  # changed in an earlier pass of this run (or started), unchanged since
        detail = self._recovered.get(metadata.urn, "")
        if detail and action in (Action.CREATE, Action.UPDATE, Action.SAME):
            action = Action.RECOVERED
        self.changes[metadata.urn] = ResourceChange(
            urn=metadata.urn, type=metadata.type, name=_name(metadata.urn), action=action, detail=detail
        )
        changed = sorted((metadata.detailed_diff or {}).keys()) or sorted(metadata.diffs or [])
        if changed:
            self.changed_paths[metadata.urn] = changed
        if self.listener is not None:
            self.listener(phase, action.value, metadata.urn)

    def _failed(self, metadata: Any) -> None:
        if _type(metadata.urn).startswith("pulumi:"):
            return
        detail = next((d.message for d in reversed(self.diagnostics) if d.urn == metadata.urn), "")
        self.changes[metadata.urn] = ResourceChange(
            urn=metadata.urn, type=metadata.type, name=_name(metadata.urn), action=Action.FAILED, detail=detail
        )
        if self.listener is not None:
            self.listener("failed", Action.FAILED.value, metadata.urn)

    def _diagnostic(self, event: Any) -> None:
        if event.severity in ("debug", "info#err") or event.ephemeral:
            return
        message = event.message.strip()
        if message.startswith("using pulumi-resource-") and "from $PATH" in message:
            return  # the engine noting the twin's stand-in plugins, which vaultspec put there on purpose
        urn = event.urn or None
        if urn and message.startswith(RECOVERED_PREFIX):
            self._recovered[urn] = message
            if urn in self.changes and self.changes[urn].action != Action.FAILED:
                self.changes[urn].action, self.changes[urn].detail = Action.RECOVERED, message
        if urn and message.startswith(HOOK_PASSED_PREFIX):
            self.hooks.append(HookResult(urn=urn, name=_name(urn), passed=True, message=message))
        elif urn and event.severity == "error" and HOOK_FAILED_MARK in message and "smoke" in message:
            self.hooks.append(HookResult(urn=urn, name=_name(urn), passed=False, message=message))
        self.diagnostics.append(Diagnostic(severity=event.severity, message=message, urn=urn))
        if urn in self.changes and event.severity == "error":
            self.changes[urn].detail = message

    def _policy(self, event: Any) -> None:
        level = event.enforcement_level.lower()
        urn = event.resource_urn or ""
        notices = parse_notice(event.message)
        if notices:
            for item in notices:
                if item.kind == "waived":
                    self.verdicts.append(
                        Verdict(
                            policy=event.policy_name,
                            level="advisory",
                            urn=item.urn or urn,
                            message=item.message,
                            waived=True,
                            reason=item.reason,
                        )
                    )
            return
        if level not in ("advisory", "mandatory", "remediate"):
            return
        message = event.message.strip()
        self.verdicts.append(Verdict(policy=event.policy_name, level=level, urn=urn, message=message))

    # -- reading ------------------------------------------------------------------------------------

    def errors(self) -> list[str]:
        return [d.message for d in self.diagnostics if d.severity == "error"]

    def warnings(self) -> list[str]:
        return [d.message for d in self.diagnostics if d.severity == "warning"]

    def counts(self) -> dict[str, int]:
        counted = Counter(change.action for change in self.changes.values())
        return {action.value: counted.get(action, 0) for action in COUNTED}
