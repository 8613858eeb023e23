"""The pack: its name, its rules in a fixed order, and the arguments `PolicyPack` is built with.

`__main__.py` builds the pack from `pack_arguments()` (that starts the gRPC server the Pulumi CLI
talks to); the offline analyzer builds pulumi-policy's own analyzer servicer from the same
arguments, so both judge with the same rules, levels and metadata.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from vaultspec.policies.rule import Rule
from vaultspec.policies.rules import access, api_versions, diagnostics, imports, keys, network, secrets, sku, vault

PACK_NAME = "vaultspec-keyvault"
PACK_DISPLAY_NAME = "vaultspec Azure Key Vault guardrails"
PACK_DESCRIPTION = (
    "Azure Key Vault guardrails for azure-native resources: recoverability, network exposure, permission "
    "model and least privilege, key strength and lifecycle, key transfer (BYOK), secret lifecycle, audit "
    "logging, stable API versions. Waive a rule on a resource with the tag waiver:<rule-name> = <reason>."
)
PACK_LEVEL = EnforcementLevel.ADVISORY  # every rule sets its own level; this is only the fallback

RULES: list[Rule] = [
    *vault.RULES,
    *network.RULES,
    *access.RULES,
    *keys.RULES,
    *imports.RULES,
    *secrets.RULES,
    *diagnostics.RULES,
    *sku.RULES,
    *api_versions.RULES,
]
POLICIES: list[Policy] = [rule.policy for rule in RULES]
POLICY_NAMES: frozenset[str] = frozenset(rule.name for rule in RULES)


def pack_arguments() -> dict[str, Any]:
    """Keyword arguments for `pulumi_policy.PolicyPack` (and, offline, for its analyzer servicer)."""
    return {
        "name": PACK_NAME,
        "policies": POLICIES,
        "enforcement_level": PACK_LEVEL,
        "description": PACK_DESCRIPTION,
        "display_name": PACK_DISPLAY_NAME,
        "provider": "azure",
        "tags": ["azure", "keyvault", "security"],
    }
