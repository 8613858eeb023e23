"""All cryptography of the twin, on pyca/cryptography only.

- key generation: RSA 2048/3072/4096, EC P-256/P-384/P-521/P-256K;
- JWK import (private parts required) and export (public parts only; never `d`, `p`, `q`, ...);
- sign/verify over a caller-supplied digest (Key Vault never hashes): RS*/PS* (PSS salt length =
  digest length, as Key Vault and the Azure SDK's local verifier use) and ES* as raw JWS `r || s`;
- RSA1_5 / RSA-OAEP (SHA-1) / RSA-OAEP-256 encrypt and decrypt (wrap/unwrap are the same maths).

Every failure a caller can cause raises `ValueError` with a message fit for a 400 BadParameter.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

RSA_SIZES = (2048, 3072, 4096)
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
    "P-256K": ec.SECP256K1,
}
_CURVE_NAMES = {cls.name: crv for crv, cls in CURVES.items()}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
RSA_SIGN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_SIGN_ALGORITHMS = {"ES256": "P-256", "ES256K": "P-256K", "ES384": "P-384", "ES512": "P-521"}
RSA_ENCRYPT_ALGORITHMS = ("RSA1_5", "RSA-OAEP", "RSA-OAEP-256")
# The longest JWK member a supported key has (RSA-4096 `n`/`d`: 512 bytes, +1 for a leading zero).
# Bounding members before any arithmetic keeps a hostile import from pinning the event loop.
MAX_JWK_MEMBER_BYTES = 513


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding; standard base64 characters are tolerated too."""
    if not isinstance(text, str):
        raise ValueError("expected a base64url string")
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("value is not valid base64url") from exc


def _uint(value: int, length: int | None = None) -> bytes:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(size, "big")


def _to_int(jwk: dict[str, Any], field: str) -> int:
    raw = jwk.get(field)
    if not raw:
        raise ValueError(f"JWK field '{field}' is required")
    data = unb64url(raw)
    if len(data) > MAX_JWK_MEMBER_BYTES:
        raise ValueError(f"JWK field '{field}' is longer than any supported key allows")
    return int.from_bytes(data, "big")


# -- generation, serialisation ---------------------------------------------------------------
def generate_rsa(size: int = 2048, public_exponent: int = 65537) -> rsa.RSAPrivateKey:
    if size not in RSA_SIZES:
        raise ValueError(f"key_size {size} is not supported; use one of {', '.join(map(str, RSA_SIZES))}")
    if public_exponent not in (3, 65537):
        raise ValueError("public_exponent must be 65537 (or 3)")
    return rsa.generate_private_key(public_exponent=public_exponent, key_size=size)


def generate_ec(curve: str) -> ec.EllipticCurvePrivateKey:
    if curve not in CURVES:
        raise ValueError(f"crv '{curve}' is not supported; use one of {', '.join(CURVES)}")
    return ec.generate_private_key(CURVES[curve]())


def private_to_der(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def private_from_der(der: bytes) -> PrivateKey:
    """Load a private key the twin stored itself.

    Only for DER that `private_to_der` produced from a key pyca generated or validated at import
    (`import_jwk`), read back through AES-GCM (so it is exactly what was written). That is why the
    RSA consistency check, which costs ~0.1 s per load, is skipped here and only here.
    """
    key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("unsupported stored key type")
    return key


def curve_name(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    return _CURVE_NAMES[key.curve.name]


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, str]:
    """The public half as JWK members (`n`/`e` or `crv`/`x`/`y`), exactly as Key Vault returns them."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else key
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"n": b64url(_uint(numbers.n)), "e": b64url(_uint(numbers.e))}
    numbers = public.public_numbers()
    size = (public.curve.key_size + 7) // 8
    return {
        "crv": curve_name(public),
        "x": b64url(_uint(numbers.x, size)),
        "y": b64url(_uint(numbers.y, size)),
    }


def key_size(key: PrivateKey) -> int:
    return key.key_size if isinstance(key, rsa.RSAPrivateKey) else key.curve.key_size


def import_jwk(jwk: dict[str, Any]) -> PrivateKey:
    """Build a private key from a JWK with its private members (Key Vault import needs them)."""
    kty = str(jwk.get("kty", "")).upper().removesuffix("-HSM")
    if kty == "RSA":
        # p and q are required: recovering them from (n, e, d) costs the caller nothing and the twin an
        # unbounded number of modular exponentiations for a crafted d.
        n, e, d = _to_int(jwk, "n"), _to_int(jwk, "e"), _to_int(jwk, "d")
        p, q = _to_int(jwk, "p"), _to_int(jwk, "q")
        given = {f: _to_int(jwk, f) for f in ("dp", "dq", "qi") if jwk.get(f)}
        try:  # p = 1 makes dp's modulus 0, p = q has no inverse: arithmetic errors are the caller's too
            dp = given.get("dp") or rsa.rsa_crt_dmp1(d, p)
            dq = given.get("dq") or rsa.rsa_crt_dmq1(d, q)
            qi = given.get("qi") or rsa.rsa_crt_iqmp(p, q)
            key = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n)).private_key()
        except (ValueError, ArithmeticError) as exc:
            raise ValueError("the RSA JWK is not a consistent private key") from exc
        if key.key_size not in RSA_SIZES:
            raise ValueError(f"RSA key size {key.key_size} is not supported")
        return key
    if kty == "EC":
        crv = jwk.get("crv")
        if crv not in CURVES:
            raise ValueError(f"JWK 'crv' must be one of {', '.join(CURVES)}")
        d = _to_int(jwk, "d")
        try:
            key = ec.derive_private_key(d, CURVES[crv]())
        except ValueError as exc:
            raise ValueError("the EC JWK private scalar is invalid") from exc
        if jwk.get("x") and jwk.get("y"):
            expected = public_jwk(key)
            if (unb64url(jwk["x"]).lstrip(b"\0"), unb64url(jwk["y"]).lstrip(b"\0")) != (
                unb64url(expected["x"]).lstrip(b"\0"),
                unb64url(expected["y"]).lstrip(b"\0"),
            ):
                raise ValueError("the EC JWK public point does not match its private scalar")
        return key
    if kty in ("OCT",):
        raise ValueError("symmetric (oct) keys are only available in Managed HSM")
    raise ValueError("JWK 'kty' must be RSA, RSA-HSM, EC or EC-HSM")


# -- sign / verify -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _SignScheme:
    hash_cls: type[hashes.HashAlgorithm]
    pss: bool


def _rsa_scheme(alg: str) -> _SignScheme:
    if alg not in RSA_SIGN_ALGORITHMS:
        raise ValueError(f"algorithm '{alg}' is not valid for an RSA key")
    return _SignScheme(_HASHES[alg[2:]], alg.startswith("PS"))


def _rsa_padding(scheme: _SignScheme) -> padding.AsymmetricPadding:
    if scheme.pss:
        return padding.PSS(mgf=padding.MGF1(scheme.hash_cls()), salt_length=scheme.hash_cls.digest_size)
    return padding.PKCS1v15()


def _check_digest(digest: bytes, hash_cls: type[hashes.HashAlgorithm], alg: str) -> None:
    if len(digest) != hash_cls.digest_size:
        raise ValueError(f"digest length {len(digest)} does not match algorithm {alg} ({hash_cls.digest_size})")


def _ec_hash(alg: str, key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> type[hashes.HashAlgorithm]:
    if alg not in EC_SIGN_ALGORITHMS:
        raise ValueError(f"algorithm '{alg}' is not valid for an EC key")
    if EC_SIGN_ALGORITHMS[alg] != curve_name(key):
        raise ValueError(f"algorithm '{alg}' does not match the key's curve {curve_name(key)}")
    return _HASHES[alg[2:5]]


def sign(key: PrivateKey, alg: str, digest: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        scheme = _rsa_scheme(alg)
        _check_digest(digest, scheme.hash_cls, alg)
        return key.sign(digest, _rsa_padding(scheme), utils.Prehashed(scheme.hash_cls()))
    hash_cls = _ec_hash(alg, key)
    _check_digest(digest, hash_cls, alg)
    r, s = utils.decode_dss_signature(key.sign(digest, ec.ECDSA(utils.Prehashed(hash_cls()))))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def verify(key: PrivateKey | PublicKey, alg: str, digest: bytes, signature: bytes) -> bool:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else key
    try:
        if isinstance(public, rsa.RSAPublicKey):
            scheme = _rsa_scheme(alg)
            _check_digest(digest, scheme.hash_cls, alg)
            public.verify(signature, digest, _rsa_padding(scheme), utils.Prehashed(scheme.hash_cls()))
            return True
        hash_cls = _ec_hash(alg, public)
        _check_digest(digest, hash_cls, alg)
        size = (public.curve.key_size + 7) // 8
        if len(signature) != 2 * size:
            return False
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        public.verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hash_cls())))
        return True
    except InvalidSignature:
        return False


# -- encrypt / decrypt (also wrap / unwrap) ----------------------------------------------------
def _rsa_encryption_padding(alg: str) -> padding.AsymmetricPadding:
    if alg == "RSA1_5":
        return padding.PKCS1v15()
    if alg == "RSA-OAEP":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    if alg == "RSA-OAEP-256":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    raise ValueError(f"algorithm '{alg}' is not supported; use one of {', '.join(RSA_ENCRYPT_ALGORITHMS)}")


def encrypt(key: PrivateKey | PublicKey, alg: str, plaintext: bytes) -> bytes:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else key
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("encrypt, decrypt, wrapKey and unwrapKey need an RSA key")
    pad = _rsa_encryption_padding(alg)
    try:
        return public.encrypt(plaintext, pad)
    except ValueError as exc:
        raise ValueError(f"plaintext is too long for {alg} with a {public.key_size}-bit key") from exc


def decrypt(key: PrivateKey, alg: str, ciphertext: bytes) -> bytes:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("encrypt, decrypt, wrapKey and unwrapKey need an RSA key")
    pad = _rsa_encryption_padding(alg)
    try:
        return key.decrypt(ciphertext, pad)
    except ValueError as exc:
        raise ValueError("the ciphertext could not be decrypted with this key and algorithm") from exc
