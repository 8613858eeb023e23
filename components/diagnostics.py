"""Operations around a vault: audit logs and metrics to Log Analytics, and a management lock.

Diagnostic settings live in pulumi-azure-native 3.x's `monitor` module
(`azure-native:monitor:DiagnosticSetting`; 2.x called it `insights`). The setting sends the
`audit` category group (Key Vault's AuditEvent log: who did what to which key or secret) and
`AllMetrics`. That is what Azure Policy's Key Vault logging audit (cf820ca0, "Resource logs in
Key Vault should be enabled": any enabled log, no storage retention required for a workspace)
and CIS "logging for Azure Key Vault" look for, and what the built-in
"Enable logging by category group" policies deploy. `allLogs` would add only the
AzurePolicyEvaluationDetails category (noise for this purpose), and listing both groups would
ship AuditEvent twice.

Log Analytics destination: `logAnalyticsDestinationType: Dedicated` by default, so the audit logs
land in the resource-specific table `AZKVAuditLogs` rather than the legacy shared `AzureDiagnostics`
table. Azure Monitor recommends resource-specific mode for any new diagnostic setting ("Send Azure
resource log data": easier queries, discoverable schemas, lower latency, table-level RBAC, and every
service will eventually move to it), and the Azure Verified Module for Key Vault defaults to it too.
`AzureDiagnostics` remains a choice for teams whose queries read that table; ARM expresses it by
omitting the property (its only other value is null).

The lock is created last (it depends on every other child): a ReadOnly lock blocks ARM writes
under the vault, including key and secret creation and role assignments at vault scope.
"""

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import authorization, monitor

from vaultspec.components.args import DiagnosticsArgs
from vaultspec.components.validation import choice, require

DEFAULT_SETTING_NAME = "vaultspec-audit"
LOG_CATEGORY_GROUP = "audit"
METRIC_CATEGORY = "AllMetrics"
LOCK_LEVELS = ("CanNotDelete", "ReadOnly")
DESTINATION_TYPES = ("Dedicated", "AzureDiagnostics")
DEFAULT_DESTINATION_TYPE = "Dedicated"


def create_diagnostics(
    diagnostics: DiagnosticsArgs,
    *,
    resource_name: str,
    vault_id: pulumi.Output[str],
    parent: pulumi.Resource,
    where: str,
) -> monitor.DiagnosticSetting:
    destination = choice(
        diagnostics.get("log_analytics_destination_type") or DEFAULT_DESTINATION_TYPE,
        DESTINATION_TYPES,
        f"{where}.log_analytics_destination_type",
    )
    return monitor.DiagnosticSetting(
        resource_name,
        name=diagnostics.get("name") or DEFAULT_SETTING_NAME,
        resource_uri=vault_id,
        workspace_id=require(diagnostics, "workspace_id", where),
        log_analytics_destination_type="Dedicated" if destination == "Dedicated" else None,
        logs=[{"category_group": LOG_CATEGORY_GROUP, "enabled": True}],
        metrics=[{"category": METRIC_CATEGORY, "enabled": True}],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def create_lock(
    level: str,
    *,
    resource_name: str,
    vault_id: pulumi.Output[str],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
    where: str,
) -> authorization.ManagementLockByScope:
    level = choice(level, LOCK_LEVELS, where)
    return authorization.ManagementLockByScope(
        resource_name,
        lock_name=f"vaultspec-{level.lower()}",
        level=level,
        scope=vault_id,
        notes="Managed by vaultspec: remove `lock` from the vault's spec before deleting the vault.",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
