"""One deployment of a spec to the twin with the Pulumi engine: preview, policy gate, update, or destroy.

`deploy()` is what `vaultspec up` runs, in this order:

1. the stack's config: `--config`/`--secret` settings, and `vaultspec:recoverVaults`, the spec's vaults
   that are soft-deleted now (a read-only ARM check), which the program creates with `createMode:
   recover` (keys and secrets need nothing: the provider recovers a soft-deleted name when its PUT
   answers 409, as azure-native does);
2. a preview with the policy pack (and a refresh): a mandatory violation, a secret whose source (config,
   environment) is not set, or a change that would replace a key (Key Vault keeps a deleted key's name,
   so the "new" key would be the old one recovered) stops here, before any write;
3. `pulumi up --refresh` with the policy pack enforced by the engine and the smoke hooks firing inside it
   (skipped when the preview found nothing to change: the update would change nothing either); when a
   vault was recovered, a second refresh-and-update converges it onto the spec (a recovered vault comes
   back as it was deleted);
4. the stack outputs, for `vaultspec smoke`.

`destroy()` is `vaultspec down`: protected resources are refused before the engine runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.automation import OpType

from vaultspec.components.secrets import UNKNOWN_IN_PREVIEW
from vaultspec.engine.events import Action, ResourceChange, RunLog
from vaultspec.engine.workspace import ConfigSetting, TwinWorkspace, WorkspaceError
from vaultspec.spec.model import Spec

RECOVER_KEY = "vaultspec:recoverVaults"
KEY_TYPE = "azure-native:keyvault:Key"
POLICY_PACK = Path(__file__).resolve().parents[2] / "policies"
Listener = Callable[[str, str, str], None]


@dataclass
class Deployment:
    """What a deployment did: per-resource changes, verdicts, hook results, errors, stack outputs."""

    changes: list[ResourceChange] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    verdicts: list[Any] = field(default_factory=list)
    hooks: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    blocked: bool = False  # stopped by the preview gate (policy or an unsafe replacement): nothing written
    missing: list[str] = field(default_factory=list)  # secret sources the preview could not read: nothing written

    @property
    def succeeded(self) -> bool:
        return not self.errors and not self.blocked


def soft_deleted_vaults(workspace: TwinWorkspace, spec: Spec) -> list[str]:
    """The spec's vaults that do not exist but are soft-deleted in their location (ARM reads only)."""
    from vaultspec.twin.provider.twin_access import Twin

    info = workspace.twin
    arm = Twin(info).arm
    found = []
    try:
        for vault in spec.vaults:
            base = f"/subscriptions/{info.subscription_id}"
            live = arm.get(
                f"{base}/resourceGroups/{vault.resource_group}/providers/Microsoft.KeyVault/vaults/{vault.name}",
                "2024-11-01",
            )
            location = vault.location.replace(" ", "").lower()
            deleted = arm.get(
                f"{base}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vault.name}", "2024-11-01"
            )
            if live is None and deleted is not None:
                found.append(vault.name)
    finally:
        arm.close()
    return found


def _command_errors(error: auto.CommandError, log: RunLog) -> list[str]:
    errors = log.errors()
    if errors:
        return errors
    lines = [line.strip() for line in str(error).splitlines() if line.strip().startswith("error:")]
    return lines[-1:] or ["the Pulumi CLI failed (no message)"]


def deploy(
    workspace: TwinWorkspace,
    spec: Spec,
    settings: list[ConfigSetting],
    *,
    policy_config: Path | None = None,
    refresh: bool = True,
    listener: Listener | None = None,
    on_output: Callable[[str], None] | None = None,
    event_log: Path | None = None,
) -> Deployment:
    """Preview, gate, update (see the module docstring); never raises for a failed run (see `.errors`)."""
    stack = workspace.stack()
    recover = soft_deleted_vaults(workspace, spec)
    workspace.set_config(stack, [*settings, ConfigSetting(RECOVER_KEY, json.dumps(recover), secret=False)])
    packs = [str(POLICY_PACK)]
    pack_configs = [str(policy_config.resolve())] if policy_config else None
    result = Deployment()
    gate = RunLog(record=event_log)
    try:
        preview = stack.preview(
            policy_packs=packs,
            policy_pack_configs=pack_configs,
            refresh=refresh,
            on_event=gate.on_event,
            on_output=on_output,
        )
    except auto.CommandError as error:
        result.verdicts = gate.verdicts
        result.blocked = any(v.blocking for v in gate.verdicts)
        result.errors = [] if result.blocked else _command_errors(error, gate)
        return result
    finally:
        gate.close()
    result.verdicts = gate.verdicts
    result.missing = [w.removesuffix(UNKNOWN_IN_PREVIEW) for w in gate.warnings() if w.endswith(UNKNOWN_IN_PREVIEW)]
    if result.missing:
        result.blocked = True
        result.errors = list(result.missing)
        return result
    replaced_keys = [c for c in gate.changes.values() if c.type == KEY_TYPE and c.action == Action.REPLACE]
    if replaced_keys:
        result.blocked = True
        result.errors = [_key_replacement_refusal(c, gate.changed_paths.get(c.urn, [])) for c in replaced_keys]
        return result
    if not recover and {getattr(op, "value", op) for op in preview.change_summary} <= {OpType.SAME.value}:
        # The engine's preview (refreshed) found nothing to do: the update would change nothing either.
        result.changes, result.counts = list(gate.changes.values()), gate.counts()
        result.outputs = {name: value.value for name, value in stack.outputs().items() if not value.secret}
        return result
    log = RunLog(listener, record=event_log)
    passes = 2 if recover else 1
    try:
        for _ in range(passes):
            stack.up(
                policy_packs=packs,
                policy_pack_configs=pack_configs,
                refresh=refresh,
                on_event=log.on_event,
                on_output=on_output,
                show_secrets=False,
            )
    except auto.CommandError as error:
        result.errors = _command_errors(error, log)
    finally:
        log.close()
        workspace.set_config(stack, [ConfigSetting(RECOVER_KEY, "[]", secret=False)])
    result.changes = list(log.changes.values())
    result.counts = log.counts()
    result.verdicts = log.verdicts or result.verdicts
    result.hooks = log.hooks
    result.warnings = log.warnings()
    if not result.errors:
        result.outputs = {name: value.value for name, value in stack.outputs().items() if not value.secret}
    return result


def _key_replacement_refusal(change: ResourceChange, paths: list[str]) -> str:
    differs = ", ".join(paths) or "its properties"
    return (
        f"key {change.name}: {differs} differs from the spec (a spec change, or a change made outside Pulumi, such as "
        "disabling it through the data plane), and ARM cannot change an existing key. Pulumi would replace it, but "
        "Key Vault keeps a deleted key's name (soft delete), so the replacement would recover the old key instead "
        "of creating a new one. Nothing was applied: rename the key in the spec for a new one, or put the old one "
        "back as the spec declares it through the data plane"
    )


def protected_resources(stack: auto.Stack) -> list[str]:
    """`Type name` of every protected resource in the stack's state."""
    deployment = stack.export_stack().deployment or {}
    protected = []
    for resource in deployment.get("resources") or []:
        if resource.get("protect"):
            urn = str(resource.get("urn", ""))
            protected.append(f"{resource.get('type', '').rsplit(':', 1)[-1]} {urn.rsplit('::', 1)[-1]}")
    return sorted(protected)


def destroy(workspace: TwinWorkspace, *, listener: Listener | None = None, event_log: Path | None = None) -> Deployment:
    """Delete everything the stack holds, newest first, as the engine orders it."""
    stack = workspace.stack()
    result = Deployment()
    protected = protected_resources(stack)
    if protected:
        result.blocked = True
        result.errors = [
            f"refusing to delete protected resources ({', '.join(protected)}); set config vaultspec:protect=false "
            "for this stack and run `vaultspec up` first (Pulumi refuses to delete protected resources too)"
        ]
        return result
    log = RunLog(listener, record=event_log)
    try:
        stack.destroy(on_event=log.on_event, show_secrets=False)
    except auto.CommandError as error:
        result.errors = _command_errors(error, log)
    finally:
        log.close()
    result.changes = list(log.changes.values())
    result.counts = log.counts()
    return result


__all__ = ["Deployment", "WorkspaceError", "deploy", "destroy"]
