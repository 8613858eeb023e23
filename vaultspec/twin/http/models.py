"""Request bodies of the data plane and ARM as pydantic models (they shape /openapi.json).

The models check shapes and types, strictly (JSON types as declared: `"enabled": 0` or `"nbf": false`
is a 400, not silently coerced); Key Vault's own rules (sizes, curves, key_ops, 25 KiB...) are
checked by the domain with Key Vault's messages. Unknown fields are accepted, as the service does.
Validation failures become 400 BadParameter (data plane) or an ARM 400, never FastAPI's 422.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, by_alias=True)


class ObjectAttributes(_Body):
    enabled: bool | None = None
    nbf: int | None = Field(None, description="Not before, Unix seconds")
    exp: int | None = Field(None, description="Expires, Unix seconds")
    exportable: bool | None = None


KeyOp = Literal["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export"]


class KeyReleasePolicy(_Body):
    contentType: str | None = None
    immutable: bool | None = None
    data: str | None = Field(None, description="base64url policy document")


class KeyCreateParameters(_Body):
    kty: Literal["RSA", "RSA-HSM", "EC", "EC-HSM", "oct", "oct-HSM"]
    key_size: int | None = None
    public_exponent: int | None = None
    key_ops: list[KeyOp] | None = None
    attributes: ObjectAttributes | None = None
    tags: dict[str, str] | None = None
    crv: Literal["P-256", "P-384", "P-521", "P-256K"] | None = None
    release_policy: KeyReleasePolicy | None = None


class JsonWebKey(_Body):
    kid: str | None = None
    kty: str
    key_ops: list[KeyOp] | None = None
    n: str | None = None
    e: str | None = None
    d: str | None = None
    dp: str | None = None
    dq: str | None = None
    qi: str | None = None
    p: str | None = None
    q: str | None = None
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    key_hsm: str | None = Field(None, description="base64url of a BYOK key transfer blob (.byok file)")


class KeyImportParameters(_Body):
    Hsm: bool | None = None
    key: JsonWebKey
    attributes: ObjectAttributes | None = None
    tags: dict[str, str] | None = None
    release_policy: KeyReleasePolicy | None = None


class KeyUpdateParameters(_Body):
    key_ops: list[KeyOp] | None = None
    attributes: ObjectAttributes | None = None
    tags: dict[str, str] | None = None
    release_policy: KeyReleasePolicy | None = None


class KeyOperationsParameters(_Body):
    alg: str
    value: str = Field(description="base64url")
    iv: str | None = None
    aad: str | None = None
    tag: str | None = None


class KeySignParameters(_Body):
    alg: str
    value: str = Field(description="base64url digest")


class KeyVerifyParameters(_Body):
    alg: str
    digest: str
    value: str = Field(description="base64url signature")


class KeyReleaseParameters(_Body):
    target: str
    nonce: str | None = None
    enc: str | None = None


class RestoreParameters(_Body):
    value: str = Field(description="base64url backup blob")


class LifetimeAction(_Body):
    trigger: dict[str, str]
    action: dict[str, str]


class KeyRotationPolicy(_Body):
    id: str | None = None
    lifetimeActions: list[LifetimeAction] | None = None
    attributes: dict[str, Any] | None = None


class GetRandomBytesRequest(_Body):
    count: int


class SecretSetParameters(_Body):
    value: str
    tags: dict[str, str] | None = None
    contentType: str | None = None
    attributes: ObjectAttributes | None = None


class SecretUpdateParameters(_Body):
    contentType: str | None = None
    attributes: ObjectAttributes | None = None
    tags: dict[str, str] | None = None


# -- ARM ---------------------------------------------------------------------------------------------
class ArmResource(_Body):
    """Any ARM PUT body: `{location?, tags?, properties}`; the domain validates `properties`."""

    location: str | None = None
    tags: dict[str, str] | None = None
    properties: dict[str, Any] | None = None


class VaultAccessPolicyParameters(_Body):
    properties: dict[str, Any]


class CheckNameAvailabilityParameters(_Body):
    name: str
    type: str
