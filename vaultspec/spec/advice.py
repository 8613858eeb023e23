"""Warnings: a valid spec that Azure accepts, but that will not do what its author most likely means.

Each rule yields `(path, message)` like the cross-field rules (`vaultspec.spec.rules`), pointing at
the node to look at; the loader reports them as `FILE:LINE:COL: warning: ...` and they never make a
file invalid. Three kinds:

- network settings Azure ignores: with `publicAccess: disabled` only private endpoints (and trusted
  services, when `bypass: AzureServices`) reach a vault, so `ipRules` and `subnetIds` admit nothing
  (learn.microsoft.com/azure/key-vault/general/network-security, "Public access disabled");
- deployer rights that leave a later step to fail: pulumi-azure-native deletes keys and secrets
  through the data plane with the deploying identity, so `deployer: smoke` or `none` makes removing
  or replacing one fail with 403 Forbidden (`deployer_rights_gap` says so, for any caller);
- ids that cannot be the author's: Microsoft's own public tenants and the all-zero GUID in a stack
  that is not a dev stack (`vaultspec.catalog.tenants`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from vaultspec.catalog.tenants import ZERO_GUID, public_tenant
from vaultspec.spec.model import Spec, Vault
from vaultspec.spec.rules import Finding

DEV_STACK_PREFIX = "dev"
_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)/", re.IGNORECASE)


def is_dev_stack(stack: str) -> bool:
    """Dev stacks are disposable (the twin, a sandbox): placeholders are fine there."""
    return stack.lower().startswith(DEV_STACK_PREFIX)


def deployer_rights_gap(vault: Vault) -> str | None:
    """What will fail because of the deploying identity's data-plane rights, or None when nothing will.

    For `validate`, and for an engine that wants to stop before deleting a key or secret it cannot.
    """
    if vault.access.deployer == "lifecycle" or not (vault.keys or vault.secrets):
        return None
    if vault.access.deployer == "smoke":
        return (
            "deployer: smoke lets the deploying identity use keys and secrets but not delete or recover them: "
            "removing or replacing a key or secret (and `pulumi destroy` / `vaultspec down`) fails with "
            "403 Forbidden, because pulumi-azure-native deletes them through the data plane, and a soft-deleted "
            "key or secret with a declared name cannot be recovered; use deployer: lifecycle unless another "
            "identity does those"
        )
    return (
        "deployer: none gives the deploying identity no data-plane rights: smoke checks, and removing, replacing "
        "or recovering keys and secrets, fail with 403 Forbidden unless it holds those rights from elsewhere"
    )


def network_findings(vault: Vault) -> Iterator[Finding]:
    network = vault.network
    if network.public_access == "disabled":
        for field, value, what in (
            ("ipRules", network.ip_rules, "IP rules"),
            ("subnetIds", network.subnet_ids, "virtual network rules"),
        ):
            if value:
                yield (
                    ("network", field),
                    f"Azure ignores these {what} while publicAccess is disabled: only private endpoints (and "
                    "trusted services with bypass: AzureServices) reach the vault; remove them, or set "
                    "publicAccess: enabled to use the firewall",
                )
    if network.ignore_missing_vnet_service_endpoint and not network.subnet_ids:
        yield (
            ("network", "ignoreMissingVnetServiceEndpoint"),
            "has no effect without subnetIds",
        )


def _placeholder_ids(spec: Spec) -> Iterator[Finding]:
    """Public tenants and all-zero GUIDs, each reported where it is written."""
    if spec.defaults.tenant_id:
        yield from _tenant(("defaults", "tenantId"), spec.defaults.tenant_id)
    for index, vault in enumerate(spec.vaults):
        at = ("vaults", index)
        if vault.tenant_id and vault.tenant_id != spec.defaults.tenant_id:  # equal: reported at defaults
            yield from _tenant((*at, "tenantId"), vault.tenant_id)
        for grant_index, grant in enumerate(vault.access.grants):
            if grant.principal == ZERO_GUID:
                yield (*at, "access", "grants", grant_index, "principal"), _zero("principal")
        arm_ids = [(("network", "subnetIds", i), subnet) for i, subnet in enumerate(vault.network.subnet_ids)]
        if vault.diagnostics:
            arm_ids.append((("diagnostics", "workspaceId"), vault.diagnostics.workspace_id))
        for path, arm_id in arm_ids:
            match = _SUBSCRIPTION.match(arm_id)
            if match and match[1].lower() == ZERO_GUID:
                yield (*at, *path), _zero("subscription id")


def _tenant(path: tuple[str | int, ...], tenant: str) -> Iterator[Finding]:
    known = public_tenant(tenant)
    if known:
        yield path, f"{tenant} is {known}, not yours: use your tenant id (`az account show --query tenantId`)"
    elif tenant == ZERO_GUID:
        yield path, _zero("tenant id") + " (or leave tenantId out to use the deploying identity's tenant)"


def _zero(what: str) -> str:
    return f"the all-zero GUID is a placeholder, not a {what}: put the real one here"


def spec_warnings(spec: Spec, stack: str) -> Iterator[Finding]:
    """Every warning for a whole document (paths relative to the document); `stack` is its stack name."""
    for index, vault in enumerate(spec.vaults):
        at = ("vaults", index)
        yield from (((*at, *path), message) for path, message in network_findings(vault))
        gap = deployer_rights_gap(vault)
        if gap:
            yield (*at, "access", "deployer"), gap
    if not is_dev_stack(stack):
        yield from _placeholder_ids(spec)
