"""Key transfer: imported keys (vaultspec's `ImportedKey`) and key exchange keys (KEKs, any Key with `import`).

An imported key's inputs mirror azure-native's Key (`properties.kty`, `properties.keyOps`, ...) and
add `import.source`: `byok` (a key transfer blob, unwrapped inside the vault's HSM) or `material`
(private key material sent to the vault). The material itself is a secret input these rules never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from vaultspec.catalog.keys import IMPORTED_KEY_TYPE, KEK_OPS, KEK_TYPE
from vaultspec.policies.rule import Rule, Sources, Subject, resource_rule
from vaultspec.policies.rules.keys import HSM_TYPES, is_key
from vaultspec.policies.wire import dig, sequence, text

BYOK_SPECIFICATION = "https://learn.microsoft.com/azure/key-vault/keys/byok-specification"


def is_imported_key(resource_type: str) -> bool:
    return resource_type == IMPORTED_KEY_TYPE


def _hsm_by_byok(subject: Subject) -> Iterator[str]:
    kty = text(dig(subject.props, "properties", "kty"))
    if kty not in HSM_TYPES:
        return
    source = text(dig(subject.props, "import", "source"))
    if source != "byok":
        yield (
            "properties.kty is an HSM type but import.source is not byok: the private key was sent to the vault as "
            "plaintext material, so it existed outside an HSM; transfer it as a BYOK blob wrapped for the vault's "
            "key exchange key"
        )


def _kek_import_only(subject: Subject) -> Iterator[str]:
    ops: list[Any] = list(sequence(dig(subject.props, "properties", "keyOps")))
    if not any(text(op) == "import" for op in ops):
        return
    if [text(op) for op in ops] != list(KEK_OPS):
        yield (
            "properties.keyOps allows import together with other operations: a key exchange key must do nothing "
            "but import (Key Vault refuses BYOK with any other KEK)"
        )
    if text(dig(subject.props, "properties", "kty")) != KEK_TYPE.lower():
        yield f"properties.kty is not {KEK_TYPE}: a key exchange key must be an HSM-protected RSA key"


RULES: list[Rule] = [
    resource_rule(
        name="kv-key-hsm-import-byok",
        display_name="HSM keys arrive by BYOK",
        description=(
            "HSM-protected keys (RSA-HSM, EC-HSM) that are imported must arrive by BYOK (a key transfer blob), "
            "never as plaintext private key material."
        ),
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=Sources(
            mcsb=("DP-6",),
            other=("Key Vault BYOK specification: the key never exists outside an HSM in plain text",),
        ),
        remediation=(
            "Generate the key in your HSM and transfer it with the vendor's BYOK tool (vaultspec: "
            "import: {byok: FILE, kek: KEK}), or declare a software key type (RSA, EC) for software-held material."
        ),
        url=BYOK_SPECIFICATION,
        applies_to=is_imported_key,
        check=_hsm_by_byok,
    ),
    resource_rule(
        name="kv-kek-import-only",
        display_name="Key exchange keys only import",
        description="Key exchange keys (keys allowed to import) must be RSA-HSM keys whose only operation is import.",
        level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        sources=Sources(mcsb=("DP-6",), other=("Key Vault BYOK specification: KEK properties",)),
        remediation=(
            "Give the key exchange key exactly properties.keyOps [import] and properties.kty RSA-HSM (vaultspec: "
            "type: RSA-HSM, ops: [import]); use separate keys for anything else."
        ),
        url=BYOK_SPECIFICATION,
        applies_to=is_key,
        check=_kek_import_only,
    ),
]
