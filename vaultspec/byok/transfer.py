"""The BYOK key transfer blob (a `.byok` file), as Key Vault's "Bring your own key specification" defines it.

The blob is JSON: `{"schema_version": "1.0.0", "header": {"kid", "alg": "dir", "enc":
"CKM_RSA_AES_KEY_WRAP"}, "ciphertext", "generator"}`. `kid` is the full key id (with version) of the
key exchange key (KEK) the target key was wrapped for; `ciphertext` is the base64url of PKCS#11
`CKM_RSA_AES_KEY_WRAP` over the target key's PKCS#8 DER:

1. a fresh 256-bit AES key, encrypted with the KEK's public key (RSA-OAEP, SHA-1, MGF1-SHA-1);
2. the target key's PKCS#8 DER, wrapped with that AES key (AES Key Wrap with Padding, RFC 5649);
3. ciphertext = (1) || (2).

`wrap_target_key` is what an HSM vendor's BYOK tool does (for keys held in software: such a key was
never HSM-born); `unwrap_ciphertext` is the receiving HSM's half, used by the twin. Neither ever puts
key material or plaintext into an error message.
"""

from __future__ import annotations

import base64
import json
import os
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = "1.0.0"
ALGORITHM = "dir"
ENCRYPTION = "CKM_RSA_AES_KEY_WRAP"
AES_KEY_BYTES = 32
KEK_SIZES = (2048, 3072, 4096)
MAX_BLOB_BYTES = 64 * 1024  # an RSA-4096 target wrapped for an RSA-4096 KEK is under 4 KiB

_OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


class TransferBlobError(ValueError):
    """A blob that cannot be read, built or unwrapped; the message names what, never any key material."""


class TransferHeader(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    kid: str = Field(min_length=1, description="Full key id of the KEK, with its version.")
    alg: str = Field(ALGORITHM, description="Always 'dir'.")
    enc: str = Field(description="Always CKM_RSA_AES_KEY_WRAP.")


class TransferBlob(BaseModel):
    """The parsed `.byok` file."""

    model_config = ConfigDict(extra="allow", frozen=True)

    schema_version: str = Field(min_length=1)
    header: TransferHeader
    ciphertext: str = Field(min_length=1, description="base64url of the encrypted AES key || the wrapped target key.")
    generator: str | None = Field(None, description="The tool that made the blob, and its source HSM.")

    def ciphertext_bytes(self) -> bytes:
        return b64url_decode(self.ciphertext, "ciphertext")


class KekId(BaseModel):
    """A KEK's key id split into what identifies it: the vault host, the key name and its version."""

    model_config = ConfigDict(frozen=True)

    host: str
    name: str
    version: str | None

    @property
    def vault_name(self) -> str:
        """The vault's name: the first label of the host (`<vault>.vault.azure.net`)."""
        return self.host.split(".", 1)[0]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, field: str) -> bytes:
    """base64url with or without padding (standard base64 characters tolerated, as the service does)."""
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (ValueError, TypeError):
        raise TransferBlobError(f"{field} is not valid base64url") from None


def parse_kek_id(kid: str) -> KekId:
    """`https://<vault host>/keys/<name>[/<version>]` -> its parts; anything else is an error."""
    parts = urlsplit(kid)
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme != "https" or not parts.hostname or len(segments) not in (2, 3) or segments[0] != "keys":
        raise TransferBlobError(
            "header.kid is not a Key Vault key id (https://<vault>.vault.azure.net/keys/<name>/<version>)"
        )
    host = parts.hostname.lower() + (f":{parts.port}" if parts.port and parts.port != 443 else "")
    return KekId(host=host, name=segments[1], version=segments[2] if len(segments) == 3 else None)


def parse_transfer_blob(data: bytes | str) -> TransferBlob:
    """Read a `.byok` file's bytes; checks the structure and the wrapping mechanism, not the crypto."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_BLOB_BYTES:
        raise TransferBlobError(f"the transfer blob is larger than {MAX_BLOB_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise TransferBlobError("the transfer blob is not JSON (a .byok file from an HSM vendor's BYOK tool)") from None
    if not isinstance(document, dict):
        raise TransferBlobError("the transfer blob is not a JSON object")
    try:
        blob = TransferBlob.model_validate(document)
    except ValidationError as error:
        first = error.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise TransferBlobError(f"the transfer blob's {where}: {first['msg']}") from None
    if blob.header.enc != ENCRYPTION:
        raise TransferBlobError(
            f"header.enc is {blob.header.enc!r}; Key Vault accepts only {ENCRYPTION} "
            "(RSA-OAEP + AES key wrap with padding)"
        )
    parse_kek_id(blob.header.kid)
    return blob


def private_key_der(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    """The target key's plaintext for wrapping: PKCS#8 DER (RSA: RFC 3447 inside; EC: RFC 5915 inside)."""
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def wrap_target_key(
    target: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    kek_public: rsa.RSAPublicKey,
    kek_id: str,
    generator: str,
) -> bytes:
    """The `.byok` file's bytes: `target` wrapped for the KEK (CKM_RSA_AES_KEY_WRAP), with the KEK's id."""
    if not isinstance(kek_public, rsa.RSAPublicKey) or kek_public.key_size not in KEK_SIZES:
        raise TransferBlobError("the KEK must be an RSA key of 2048, 3072 or 4096 bits (an RSA-HSM key in the vault)")
    parse_kek_id(kek_id)
    aes_key = os.urandom(AES_KEY_BYTES)
    encrypted_key = kek_public.encrypt(aes_key, _OAEP_SHA1)
    wrapped = keywrap.aes_key_wrap_with_padding(aes_key, private_key_der(target))
    document = {
        "schema_version": SCHEMA_VERSION,
        "header": {"kid": kek_id, "alg": ALGORITHM, "enc": ENCRYPTION},
        "ciphertext": b64url(encrypted_key + wrapped),
        "generator": generator,
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def unwrap_ciphertext(ciphertext: bytes, kek_private: rsa.RSAPrivateKey) -> bytes:
    """The target key's PKCS#8 DER from a blob's ciphertext, with the KEK's private key (the HSM's half)."""
    modulus_bytes = (kek_private.key_size + 7) // 8
    if len(ciphertext) <= modulus_bytes:
        raise TransferBlobError(
            f"the ciphertext is too short: it must hold a {modulus_bytes}-byte RSA-OAEP block and the wrapped key"
        )
    try:
        aes_key = kek_private.decrypt(ciphertext[:modulus_bytes], _OAEP_SHA1)
    except ValueError:
        raise TransferBlobError(
            "the wrapped AES key does not decrypt with this KEK (RSA-OAEP, SHA-1): the blob was wrapped for another key"
        ) from None
    if len(aes_key) != AES_KEY_BYTES:
        raise TransferBlobError(f"the wrapped AES key is {len(aes_key) * 8} bits; BYOK uses a 256-bit AES key")
    try:
        return keywrap.aes_key_unwrap_with_padding(aes_key, ciphertext[modulus_bytes:])
    except keywrap.InvalidUnwrap:
        raise TransferBlobError(
            "the wrapped key fails the AES key wrap integrity check (RFC 5649): the ciphertext was altered"
        ) from None
