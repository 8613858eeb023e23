"""The vault: `azure-native:keyvault:Vault` with every security-relevant property explicit.

Never rely on provider or API defaults for security: soft delete and its retention, the RBAC
flag, public network access, the firewall and the three `enabledFor*` flags are always sent.
Two deliberate omissions:

- `enablePurgeProtection` is sent only when true: the API rejects `false` (the property only
  accepts turning protection on, and it is irreversible), so "off" is expressed by omission.
- `createMode: recover` only when asked (`recover`): a soft-deleted vault of the same name is recovered
  instead of failing with 409; the property is ignored on later runs (`ignore_changes`).
- `accessPolicies` is sent only for access-policy vaults. RBAC vaults ignore access policies,
  and an inline `[]` would be recorded in state and re-sent on every update, wiping any policy
  added out of band (iac-anchors §3 gotcha 1; AVM Bicep and Azure/bicep#9981 show the symptom).
  The API requires the property on create; pulumi-azure-native fills in `[]` on create only,
  without recording it (pulumi-azure-native PR #2951), which is exactly the behaviour wanted.
"""

from typing import Any

import pulumi
from pulumi_azure_native import keyvault

from vaultspec.components.args import KeyVaultArgs
from vaultspec.components.validation import ComponentArgsError, choice

SKUS = ("standard", "premium")
PUBLIC_ACCESS = ("enabled", "disabled")
NETWORK_ACTIONS = ("Allow", "Deny")
BYPASS = ("None", "AzureServices")
ENABLED_FOR = {
    "deployment": "enabled_for_deployment",
    "diskEncryption": "enabled_for_disk_encryption",
    "templateDeployment": "enabled_for_template_deployment",
}
DEFAULT_RETENTION_DAYS = 90
CREATE_MODE = "properties.createMode"


def network_acls(args: KeyVaultArgs, where: str) -> dict[str, Any]:
    """`NetworkRuleSetArgs`. Subnet rules always send `ignoreMissingVnetServiceEndpoint` (default false:
    ARM refuses a subnet without the Microsoft.KeyVault service endpoint instead of saving a rule that
    admits nothing); the spec's `network.ignoreMissingVnetServiceEndpoint` says otherwise."""
    network = args.get("network") or {}
    ignore_missing = bool(network.get("ignore_missing_vnet_service_endpoint", False))
    return {
        "bypass": choice(network.get("bypass") or "None", BYPASS, f"{where}.network.bypass"),
        "default_action": choice(
            network.get("default_action") or "Deny", NETWORK_ACTIONS, f"{where}.network.default_action"
        ),
        "ip_rules": [{"value": rule} for rule in network.get("ip_rules") or ()],
        "virtual_network_rules": [
            {"id": subnet, "ignore_missing_vnet_service_endpoint": ignore_missing}
            for subnet in network.get("subnet_ids") or ()
        ],
    }


def vault_properties(
    args: KeyVaultArgs,
    *,
    tenant_id: pulumi.Input[str],
    rbac: bool,
    access_policies: pulumi.Input[list[dict[str, Any]]] | None,
    where: str,
) -> dict[str, Any]:
    """`VaultPropertiesArgs` (snake_case, as the SDK takes them), validated."""
    soft_delete = args.get("soft_delete") or {}
    retention = int(soft_delete.get("retention_days") or DEFAULT_RETENTION_DAYS)
    if not 7 <= retention <= 90:
        raise ComponentArgsError(f"{where}.soft_delete.retention_days: {retention} is outside 7-90")
    network = args.get("network") or {}
    properties: dict[str, Any] = {
        "sku": {"family": keyvault.SkuFamily.A, "name": choice(args.get("sku") or "premium", SKUS, f"{where}.sku")},
        "tenant_id": tenant_id,
        "enable_soft_delete": True,
        "soft_delete_retention_in_days": retention,
        "enable_rbac_authorization": rbac,
        "public_network_access": choice(
            network.get("public_access") or "disabled", PUBLIC_ACCESS, f"{where}.network.public_access"
        ),
        "network_acls": network_acls(args, where),
    }
    enabled_for = [choice(item, ENABLED_FOR, f"{where}.enabled_for") for item in args.get("enabled_for") or ()]
    for flag, field in ENABLED_FOR.items():
        properties[field] = flag in enabled_for
    if soft_delete.get("purge_protection", True):
        properties["enable_purge_protection"] = True
    if access_policies is not None:
        properties["access_policies"] = access_policies
    if args.get("recover"):
        properties["create_mode"] = keyvault.CreateMode.RECOVER
    return properties


def create_vault(
    args: KeyVaultArgs,
    *,
    resource_name: str,
    vault_name: str,
    properties: dict[str, Any],
    tags: dict[str, str] | None,
    parent: pulumi.Resource,
    protect: bool,
) -> keyvault.Vault:
    return keyvault.Vault(
        resource_name,
        vault_name=vault_name,
        resource_group_name=args["resource_group_name"],
        location=args["location"],
        properties=properties,
        tags=tags,
        # createMode matters only when the vault is created (recovering a soft-deleted one); later runs
        # that stop asking for a recovery must not show a change.
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, ignore_changes=[CREATE_MODE]),
    )


def vault_uri(vault: keyvault.Vault) -> pulumi.Output[str]:
    return vault.properties.apply(lambda p: p.vault_uri if p else None)
