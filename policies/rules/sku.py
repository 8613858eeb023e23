"""HSM-protected keys need a premium vault (a stack rule: the key and the vault are two resources)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.catalog.keys import IMPORTED_KEY_TYPE
from vaultspec.policies.graph import StackView
from vaultspec.policies.rule import Rule, Sources, StackFinding, StackUnchecked, stack_rule
from vaultspec.policies.rules.keys import HSM_TYPES
from vaultspec.policies.wire import UnknownValueError, text


def _hsm_requires_premium(
    view: StackView, settings: Mapping[str, Any], now: float
) -> Iterator[StackFinding | StackUnchecked]:
    keys = [*view.of_type("keyvault", "Key"), *(node for node in view.nodes if node.resource_type == IMPORTED_KEY_TYPE)]
    for key in keys:
        try:
            # Inputs carry kty under `properties`; outputs carry it at the top level.
            kty = text(key.read(("properties", "kty"), ("kty",)))
        except UnknownValueError as unknown:
            yield StackUnchecked(key.urn, f"cannot check yet: {unknown.message}")
            continue
        if kty not in HSM_TYPES:
            continue
        vault = view.vault_of(key, "vaultName")
        if vault is None:
            continue  # the vault is not part of this stack: its SKU is not ours to judge
        try:
            sku = text(vault.read(("properties", "sku", "name")))
        except UnknownValueError as unknown:
            yield StackUnchecked(key.urn, f"cannot check yet (vault SKU): {unknown.message}")
            continue
        if sku != "premium":
            yield StackFinding(
                key.urn,
                "is an HSM-backed key (RSA-HSM or EC-HSM) in a vault whose properties.sku.name is not premium: "
                "standard vaults cannot hold HSM-protected keys",
                (key.waiver_source, vault.waiver_source),
            )


RULES: list[Rule] = [
    stack_rule(
        name="kv-hsm-requires-premium",
        display_name="HSM keys only in premium vaults",
        description="HSM-backed keys (RSA-HSM, EC-HSM) must live in premium-SKU vaults.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=Sources(mcsb=("DP-6",), other=("Key Vault service limits: HSM keys need the premium tier",)),
        remediation="Set the vault's properties.sku.name to premium (vaultspec: sku: premium), or use RSA/EC keys.",
        url="https://learn.microsoft.com/azure/key-vault/keys/about-keys#hsm-protected-keys",
        check=_hsm_requires_premium,
    ),
]
