"""Key material outside the vault: private keys (PEM or JWK) to import, public keys (PEM) to compare.

Every parser raises `KeyMaterialError` with a message that says what is wrong (the format, the key
type, the size), never any part of the material. Thumbprints are RFC 7638 JWK thumbprints (SHA-256)
of the *public* key: they identify a key without revealing anything about its private half, so they
can be shown, stored and compared freely.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

RSA_SIZES = (2048, 3072, 4096)
CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "P-256K": ec.SECP256K1(),
}
_CURVE_BY_OID_NAME = {curve.name: name for name, curve in CURVES.items()}
MAX_MATERIAL_CHARS = 16 * 1024  # an RSA-4096 private key in PEM or JWK is about 3.3 KiB


class KeyMaterialError(ValueError):
    """Key material that cannot be used; the message never contains the material."""


@dataclass(frozen=True)
class KeyShape:
    """What a key is, in the spec's words: `RSA` with a size, or `EC` with a curve."""

    family: str  # "RSA" | "EC"
    size: int | None = None
    curve: str | None = None

    def __str__(self) -> str:
        return f"RSA {self.size}-bit" if self.family == "RSA" else f"EC {self.curve}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_int(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return _b64url(value.to_bytes(size, "big"))


def _int(jwk: dict[str, Any], member: str) -> int:
    raw = jwk.get(member)
    if not isinstance(raw, str) or not raw:
        raise KeyMaterialError(f"the JWK has no '{member}' member (a private JWK is needed)")
    try:
        return int.from_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), "big")
    except (ValueError, TypeError):
        raise KeyMaterialError(f"the JWK member '{member}' is not base64url") from None


def shape_of(key: PrivateKey | PublicKey) -> KeyShape:
    """RSA and its size, or EC and its curve; other key types are an error."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return KeyShape("RSA", size=key.key_size)
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        curve = _CURVE_BY_OID_NAME.get(key.curve.name)
        if curve is None:
            raise KeyMaterialError(f"the EC key's curve is not one Key Vault offers ({', '.join(CURVES)})")
        return KeyShape("EC", curve=curve)
    raise KeyMaterialError("the key is neither RSA nor EC (Key Vault imports RSA and EC keys)")


def _supported(key: Any) -> PrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyMaterialError("the private key is neither RSA nor EC (Key Vault imports RSA and EC keys)")
    shape = shape_of(key)
    if shape.family == "RSA" and shape.size not in RSA_SIZES:
        raise KeyMaterialError(f"the RSA key has {shape.size} bits; Key Vault takes 2048, 3072 or 4096")
    return key


def _from_jwk(jwk: dict[str, Any]) -> PrivateKey:
    kty = str(jwk.get("kty", "")).upper().removesuffix("-HSM")
    try:
        if kty == "RSA":
            n, e, d, p, q = (_int(jwk, m) for m in ("n", "e", "d", "p", "q"))
            numbers = rsa.RSAPrivateNumbers(
                p,
                q,
                d,
                rsa.rsa_crt_dmp1(d, p),
                rsa.rsa_crt_dmq1(d, q),
                rsa.rsa_crt_iqmp(p, q),
                rsa.RSAPublicNumbers(e, n),
            )
            return numbers.private_key()
        if kty == "EC":
            curve = CURVES.get(str(jwk.get("crv")))
            if curve is None:
                raise KeyMaterialError(f"the JWK's crv is not one of {', '.join(CURVES)}")
            key = ec.derive_private_key(_int(jwk, "d"), curve)
            if "x" in jwk and public_jwk(key)["x"] != jwk["x"].rstrip("="):
                raise KeyMaterialError("the EC JWK's public point does not match its private scalar")
            return key
    except (ValueError, ArithmeticError) as error:
        if isinstance(error, KeyMaterialError):
            raise
        raise KeyMaterialError(f"the {kty} JWK is not a consistent private key") from None
    raise KeyMaterialError("the JWK's kty must be RSA or EC")


def load_private_key(text: str) -> PrivateKey:
    """A private key from PEM (PKCS#8, PKCS#1 or SEC1; unencrypted) or from a private JWK (JSON)."""
    if not isinstance(text, str) or not text.strip():
        raise KeyMaterialError("the key material is empty")
    if len(text) > MAX_MATERIAL_CHARS:
        raise KeyMaterialError(f"the key material is longer than {MAX_MATERIAL_CHARS} characters")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            jwk = json.loads(stripped)
        except ValueError:
            raise KeyMaterialError("the key material starts like a JWK but is not JSON") from None
        if not isinstance(jwk, dict):
            raise KeyMaterialError("the JWK is not a JSON object")
        return _supported(_from_jwk(jwk))
    if "-----BEGIN" not in stripped:
        raise KeyMaterialError("the key material is neither PEM (-----BEGIN PRIVATE KEY-----) nor a JWK (JSON)")
    if "ENCRYPTED" in stripped.split("-----", 2)[1]:
        raise KeyMaterialError("the PEM private key is encrypted; give it unencrypted (it stays a Pulumi secret)")
    try:
        key = serialization.load_pem_private_key(stripped.encode(), password=None)
    except (ValueError, TypeError):
        raise KeyMaterialError("the PEM is not an unencrypted private key (PKCS#8, PKCS#1 or SEC1)") from None
    except Exception:  # cryptography raises UnsupportedAlgorithm for other key types
        raise KeyMaterialError("the PEM private key is of a type Key Vault does not import") from None
    return _supported(key)


def load_public_key(text: str | bytes) -> PublicKey:
    """A public key from PEM (SubjectPublicKeyInfo, as `az keyvault key download` writes it)."""
    data = text.encode() if isinstance(text, str) else text
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise KeyMaterialError("not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    except Exception:
        raise KeyMaterialError("the PEM public key is of a type Key Vault does not hold") from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise KeyMaterialError("the public key is neither RSA nor EC")
    shape_of(key)
    return key


def public_pem(key: PrivateKey | PublicKey) -> str:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, str]:
    """The public JWK members (RFC 7517/7518): `kty` with `n`/`e`, or `crv`/`x`/`y`."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else key
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "n": _b64url_int(numbers.n), "e": _b64url_int(numbers.e)}
    point = public.public_numbers()
    size = (public.curve.key_size + 7) // 8
    curve = shape_of(public).curve or ""
    return {"kty": "EC", "crv": curve, "x": _b64url_int(point.x, size), "y": _b64url_int(point.y, size)}


def private_jwk_members(key: PrivateKey) -> dict[str, str]:
    """Every JWK member Key Vault's Import Key needs (public and private). Never print or log these."""
    members = public_jwk(key)
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        members.update(
            d=_b64url_int(numbers.d),
            p=_b64url_int(numbers.p),
            q=_b64url_int(numbers.q),
            dp=_b64url_int(numbers.dmp1),
            dq=_b64url_int(numbers.dmq1),
            qi=_b64url_int(numbers.iqmp),
        )
    else:
        size = (key.curve.key_size + 7) // 8
        members["d"] = _b64url_int(key.private_numbers().private_value, size)
    return members


def thumbprint(key: PrivateKey | PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key."""
    jwk = public_jwk(key)
    required = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def jwk_thumbprint(members: dict[str, Any]) -> str | None:
    """The RFC 7638 thumbprint of a public JWK as a vault returns it (bytes or base64url members); None if
    it is not an RSA or EC key."""

    def text(value: Any) -> str:
        return _b64url(value) if isinstance(value, bytes | bytearray) else str(value).rstrip("=")

    kty = str(members.get("kty") or "").upper().removesuffix("-HSM")
    if kty == "RSA":
        n = members.get("n")
        e = members.get("e")
        if n is None or e is None:
            return None
        numbers = rsa.RSAPublicNumbers(_int({"e": text(e)}, "e"), _int({"n": text(n)}, "n"))
        return thumbprint(numbers.public_key())
    if kty == "EC":
        curve = CURVES.get(str(members.get("crv")))
        if curve is None or members.get("x") is None or members.get("y") is None:
            return None
        x, y = _int({"x": text(members["x"])}, "x"), _int({"y": text(members["y"])}, "y")
        return thumbprint(ec.EllipticCurvePublicNumbers(x, y, curve).public_key())
    return None
