"""The receiving half of BYOK (Import Key with `key_hsm`), checked as Key Vault's HSM checks it.

`key_hsm` is the base64url of a `.byok` file (`vaultspec.byok.transfer`). The service finds the key
exchange key (KEK) by the blob's `header.kid` and unwraps the target key with it. What is checked,
each failure a 400 BadParameter naming the check, before anything is stored:

- the blob is a transfer blob whose `enc` is CKM_RSA_AES_KEY_WRAP;
- the KEK is a key of *this* vault, exists (and is not deleted), is RSA-HSM, its key_ops are exactly
  `["import"]`, it is enabled and inside its nbf/exp window;
- the ciphertext decrypts with the KEK (RSA-OAEP) and passes the RFC 5649 integrity check;
- the unwrapped plaintext is a private key of the declared kty (and curve, when `crv` is given), of a
  size or curve Key Vault offers.

Messages never contain key material or plaintext.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from vaultspec.byok.transfer import (
    TransferBlob,
    TransferBlobError,
    parse_kek_id,
    parse_transfer_blob,
    unwrap_ciphertext,
)
from vaultspec.twin import crypto
from vaultspec.twin.domain.objects import VaultRef, now
from vaultspec.twin.errors import KeyVaultError, bad_parameter
from vaultspec.twin.store import VersionRow

HSM_TYPES = ("RSA-HSM", "EC-HSM")


def transfer_blob_of(jwk: dict[str, Any]) -> TransferBlob:
    """The `.byok` file carried in `key_hsm`, parsed; the declared kty must be an HSM type."""
    kty = str(jwk.get("kty") or "")
    if kty not in HSM_TYPES:
        raise bad_parameter(
            f"A key transfer blob (key_hsm) imports an HSM key: kty must be RSA-HSM or EC-HSM, not {kty!r}."
        )
    value = jwk.get("key_hsm")
    if not isinstance(value, str) or not value:
        raise bad_parameter("key_hsm must be the base64url of a key transfer blob (.byok file).")
    try:
        return parse_transfer_blob(crypto.unb64url(value))
    except (TransferBlobError, ValueError) as error:
        raise bad_parameter(f"key_hsm: {error}") from None


def kek_reference(vault: VaultRef, blob: TransferBlob) -> tuple[str, str]:
    """(name, version or "") of the KEK the blob names, which must be a key of this vault."""
    kek = parse_kek_id(blob.header.kid)
    own = urlsplit(vault.url)
    own_host = (own.hostname or "").lower() + (f":{own.port}" if own.port and own.port != 443 else "")
    if kek.host != own_host:
        raise bad_parameter(
            f"The key exchange key {blob.header.kid} is not a key of vault '{vault.name}': a transfer blob can "
            "only be imported into the vault whose KEK wrapped it."
        )
    return kek.name, kek.version or ""


def check_kek(row: VersionRow, kid: str) -> None:
    """The KEK rules: RSA-HSM, key_ops exactly import, enabled and inside its validity window."""
    meta = row.meta
    if meta["kty"] != "RSA-HSM":
        raise bad_parameter(f"The key exchange key {kid} is {meta['kty']}; a KEK must be an RSA-HSM key.")
    if list(meta["key_ops"]) != ["import"]:
        raise bad_parameter(
            f"The key exchange key {kid} allows {', '.join(meta['key_ops']) or 'no operations'}; "
            "a KEK's key_ops must be exactly ['import']."
        )
    attrs = meta["attributes"]
    if not attrs.get("enabled", True):
        raise bad_parameter(f"The key exchange key {kid} is disabled.")
    stamp = now()
    if attrs.get("nbf") is not None and stamp < attrs["nbf"]:
        raise bad_parameter(f"The key exchange key {kid} is not valid yet (nbf).")
    if attrs.get("exp") is not None and stamp >= attrs["exp"]:
        raise bad_parameter(f"The key exchange key {kid} has expired.")


def unwrap_target(blob: TransferBlob, kek: crypto.PrivateKey, jwk: dict[str, Any]) -> crypto.PrivateKey:
    """The target key inside the blob, checked against the declared kty (and crv)."""
    if not isinstance(kek, rsa.RSAPrivateKey):
        raise bad_parameter("The key exchange key is not an RSA key.")
    try:
        plaintext = unwrap_ciphertext(blob.ciphertext_bytes(), kek)
        key = serialization.load_der_private_key(plaintext, password=None)
    except TransferBlobError as error:
        raise bad_parameter(f"key_hsm: {error}") from None
    except Exception:  # not a DER private key, or of a type pyca does not load
        raise bad_parameter("key_hsm: the unwrapped key is not a PKCS#8 private key.") from None
    declared = str(jwk.get("kty"))
    if declared == "RSA-HSM" and isinstance(key, rsa.RSAPrivateKey):
        if key.key_size not in crypto.RSA_SIZES:
            raise bad_parameter(f"key_hsm: the unwrapped RSA key has {key.key_size} bits; use 2048, 3072 or 4096.")
        return key
    if declared == "EC-HSM" and isinstance(key, ec.EllipticCurvePrivateKey):
        try:
            curve = crypto.curve_name(key)
        except KeyError:
            raise bad_parameter("key_hsm: the unwrapped EC key's curve is not one Key Vault offers.") from None
        if jwk.get("crv") not in (None, curve):
            raise bad_parameter(f"key_hsm: the unwrapped EC key's curve is {curve}, not the declared {jwk.get('crv')}.")
        return key
    raise bad_parameter(
        f"key_hsm: the unwrapped key is not an {declared.removesuffix('-HSM')} private key (kty {declared})."
    )


def kek_missing(kid: str, error: KeyVaultError) -> KeyVaultError:
    """A KEK that is not there is the caller's mistake in the blob: 400, as every BYOK failure."""
    return bad_parameter(f"The key exchange key {kid} was not found in this vault ({error.code}).")
