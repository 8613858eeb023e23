"""vaultspec's CrossGuard policy pack for Azure Key Vault (`pulumi preview --policy-pack policies`).

Rules judge raw azure-native wire-format resources, so the pack also guards programs that never
used vaultspec. See README.md in this folder for the rule table, waivers and the offline host.
"""

from vaultspec.policies.pack import PACK_NAME, POLICIES, POLICY_NAMES, RULES, pack_arguments
from vaultspec.policies.waivers import WAIVER_TAG_PREFIX

__all__ = ["PACK_NAME", "POLICIES", "POLICY_NAMES", "RULES", "WAIVER_TAG_PREFIX", "pack_arguments"]
