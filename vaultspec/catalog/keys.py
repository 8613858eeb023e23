"""Key types, sizes, curves, operations and algorithms that Key Vault (vaults, not Managed HSM) offers."""

from __future__ import annotations

RSA_TYPES = ("RSA", "RSA-HSM")
EC_TYPES = ("EC", "EC-HSM")
KEY_TYPES = RSA_TYPES + EC_TYPES
HSM_TYPES = ("RSA-HSM", "EC-HSM")

RSA_SIZES = (2048, 3072, 4096)
EC_CURVES = ("P-256", "P-384", "P-521", "P-256K")

RSA_OPS = ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey")
KEK_OPS = ("import",)  # a key exchange key (BYOK): RSA-HSM, generated in the vault, for nothing but import
KEK_TYPE = "RSA-HSM"
EC_OPS = ("sign", "verify")
KEY_OPS = RSA_OPS

RSA_SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
RSA_ENCRYPTION_ALGORITHMS = ("RSA1_5", "RSA-OAEP", "RSA-OAEP-256")
EC_SIGNING_ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "P-256K": "ES256K"}


# Keys imported through the data plane are vaultspec's own Pulumi resource (a Python dynamic resource).
IMPORTED_KEY_MODULE = "vaultspec"
IMPORTED_KEY_NAME = "ImportedKey"
IMPORTED_KEY_TYPE = f"pulumi-python:dynamic/{IMPORTED_KEY_MODULE}:{IMPORTED_KEY_NAME}"


def ops_for_type(key_type: str) -> tuple[str, ...]:
    """Operations a key of this type can support."""
    return EC_OPS if key_type in EC_TYPES else RSA_OPS
