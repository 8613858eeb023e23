"""The independent half of every crypto check: pyca/cryptography over the public JWK the vault returned.

A signature made by the vault is verified here, and data decrypted by the vault is encrypted here,
so a check passes only when the vault's private key matches the public key it publishes, whatever
the SDK or the vault claims.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from vaultspec.catalog.keys import (
    EC_SIGNING_ALGORITHM_BY_CURVE,
    RSA_ENCRYPTION_ALGORITHMS,
    RSA_SIGNING_ALGORITHMS,
)

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "P-256K": ec.SECP256K1(),
}
_EC_ALG_HASH = {"ES256": "256", "ES256K": "256", "ES384": "384", "ES512": "512"}


def signing_algorithms(key_type: str, curve: str | None) -> tuple[str, ...]:
    """Every signature algorithm Key Vault offers for this key: RS/PS 256/384/512, or the curve's ES*."""
    if key_type.startswith("RSA"):
        return RSA_SIGNING_ALGORITHMS
    return (EC_SIGNING_ALGORITHM_BY_CURVE[curve or "P-256"],)


def encryption_algorithms(key_type: str) -> tuple[str, ...]:
    """RSA1_5, RSA-OAEP, RSA-OAEP-256 for RSA keys (also the wrap algorithms); none for EC keys."""
    return RSA_ENCRYPTION_ALGORITHMS if key_type.startswith("RSA") else ()


def _hash(alg: str) -> hashes.HashAlgorithm:
    suffix = _EC_ALG_HASH.get(alg) or alg[-3:]
    return _HASHES[suffix]()


def digest(alg: str, data: bytes) -> bytes:
    """The digest Key Vault signs for `alg` (it never hashes: callers send digests)."""
    hasher = hashes.Hash(_hash(alg))
    hasher.update(data)
    return hasher.finalize()


def fresh_digest(alg: str) -> bytes:
    return digest(alg, os.urandom(64))


def _int(value: Any) -> int:
    return int.from_bytes(value, "big") if isinstance(value, bytes | bytearray) else int(value)


def public_key_of(jwk: Any) -> PublicKey:
    """The public key of an azure-keyvault-keys `JsonWebKey` (n/e for RSA, crv/x/y for EC)."""
    kty = str(getattr(jwk.kty, "value", jwk.kty))
    if kty.startswith("RSA"):
        return rsa.RSAPublicNumbers(_int(jwk.e), _int(jwk.n)).public_key()
    crv = str(getattr(jwk.crv, "value", jwk.crv))
    if crv not in _CURVES:
        raise ValueError(f"curve {crv!r} is not one Key Vault offers")
    return ec.EllipticCurvePublicNumbers(_int(jwk.x), _int(jwk.y), _CURVES[crv]).public_key()


def key_size_bits(jwk: Any) -> int:
    return _int(jwk.n).bit_length()


def signature_length(public: PublicKey) -> int:
    if isinstance(public, rsa.RSAPublicKey):
        return (public.key_size + 7) // 8
    return 2 * ((public.curve.key_size + 7) // 8)


def _rsa_signature_padding(alg: str) -> padding.AsymmetricPadding:
    if alg.startswith("PS"):
        return padding.PSS(mgf=padding.MGF1(_hash(alg)), salt_length=_hash(alg).digest_size)
    return padding.PKCS1v15()


def verify_signature(public: PublicKey, alg: str, digest_value: bytes, signature: bytes) -> bool:
    """True when `signature` (JWS form: raw r||s for EC) is valid for `digest_value` under `alg`."""
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, digest_value, _rsa_signature_padding(alg), utils.Prehashed(_hash(alg)))
        else:
            half = len(signature) // 2
            r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            der = utils.encode_dss_signature(r, s)
            public.verify(der, digest_value, ec.ECDSA(utils.Prehashed(_hash(alg))))
    except (InvalidSignature, ValueError):
        return False
    return True


def _rsa_encryption_padding(alg: str) -> padding.AsymmetricPadding:
    if alg == "RSA1_5":
        return padding.PKCS1v15()
    algorithm = hashes.SHA1() if alg == "RSA-OAEP" else hashes.SHA256()
    return padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)


def encrypt(public: PublicKey, alg: str, plaintext: bytes) -> bytes:
    """Encrypt (or wrap: the same maths) locally with the published key, for the vault to decrypt."""
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("only RSA keys encrypt")
    return public.encrypt(plaintext, _rsa_encryption_padding(alg))
