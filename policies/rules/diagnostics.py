"""Audit logging: every vault in the stack sends its audit logs somewhere (a stack rule).

A vault's diagnostic setting is an `azure-native:monitor:DiagnosticSetting` (the 2.x token
`azure-native:insights:DiagnosticSetting` is accepted too) whose `resourceUri` is the vault. Its
id is computed, so the setting is tied to the vault through its links (see `graph.py`).

Which Log Analytics table the logs land in does not matter here: resource-specific tables
(`logAnalyticsDestinationType: Dedicated`, table AZKVAuditLogs, what vaultspec sends) and the
legacy shared AzureDiagnostics table (the property absent or `AzureDiagnostics`) both keep the trail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.policies.graph import Node, StackView
from vaultspec.policies.rule import Rule, Sources, StackFinding, StackUnchecked, stack_rule
from vaultspec.policies.wire import UnknownValueError, dig, is_set, sequence, text

DIAGNOSTIC_MODULES = ("monitor", "insights")
DESTINATIONS = ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")


def _sends_audit_logs(setting: Node, categories: set[str], groups: set[str]) -> bool:
    props = setting.inputs if setting.inputs is not None else setting.outputs  # same shape either way
    if not any(is_set(props, destination) for destination in DESTINATIONS):
        return False
    logs = sequence(dig(props, "logs"))
    for index in range(len(logs)):
        if dig(logs, index, "enabled") is not True:
            continue
        if text(dig(logs, index, "category")) in categories or text(dig(logs, index, "categoryGroup")) in groups:
            return True
    return False


def _diagnostics(view: StackView, settings: Mapping[str, Any], now: float) -> Iterator[StackFinding | StackUnchecked]:
    categories = {item.lower() for item in settings["acceptedCategories"]}
    groups = {item.lower() for item in settings["acceptedCategoryGroups"]}
    by_vault: dict[str, list[Node]] = {}
    for setting in view.of_type(DIAGNOSTIC_MODULES, "DiagnosticSetting"):
        vault = view.vault_of(setting, "resourceUri")
        if vault is not None:
            by_vault.setdefault(vault.urn, []).append(setting)
    for vault in view.vaults():
        candidates = by_vault.get(vault.urn, [])
        unknown: UnknownValueError | None = None
        for setting in candidates:
            try:
                if _sends_audit_logs(setting, categories, groups):
                    break
            except UnknownValueError as error:
                unknown = error
        else:
            if unknown is not None:
                yield StackUnchecked(vault.urn, f"cannot check yet: {unknown.message}")
            elif candidates:
                yield StackFinding(
                    vault.urn,
                    "the vault's diagnostic settings enable no audit log category (AuditEvent, or the audit / "
                    "allLogs group) together with a destination",
                    (vault.waiver_source,),
                )
            else:
                yield StackFinding(
                    vault.urn,
                    "no diagnostic setting sends this vault's audit logs to a Log Analytics workspace, storage "
                    "account or event hub: reads and changes of keys and secrets leave no trace",
                    (vault.waiver_source,),
                )


RULES: list[Rule] = [
    stack_rule(
        name="kv-diagnostics",
        display_name="Key Vault audit logs",
        description="Each key vault should have a diagnostic setting that sends its audit logs to a destination.",
        level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        sources=Sources(
            azure_policy=("cf820ca0-f99e-4f3e-84fb-66e913812d21",),
            cis_v2=("5.1.5",),
            cis_v3=("6.1.4",),
            mcsb=("LT-3", "DP-8"),
            kics=("38c71c00-c177-4cd7-8d36-cd1007cdb190",),
            other=("PSRule Azure.KeyVault.Logs",),
        ),
        remediation=(
            "Add an azure-native:monitor:DiagnosticSetting with resourceUri = the vault's id, a logs entry "
            "{categoryGroup: audit, enabled: true} and a workspaceId (vaultspec: diagnostics.workspaceId)."
        ),
        url="https://learn.microsoft.com/azure/key-vault/general/logging",
        check=_diagnostics,
        parameters={
            "acceptedCategories": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["AuditEvent"],
                "description": "Log categories that count as audit logs.",
            },
            "acceptedCategoryGroups": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["audit", "allLogs"],
                "description": "Log category groups that count as audit logs.",
            },
        },
    ),
]
