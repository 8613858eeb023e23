"""RS256 access tokens: issued by the twin's identity endpoint, validated on every call.

Tokens look like Entra ID v1 access tokens: `iss = https://sts.windows.net/<tenant>/`, `aud` =
the requested resource, `tid`, `oid` (the principal), `appid`, `iat`, `nbf`, `exp`. Validation
pins the algorithm to RS256 (so `none` and `HS*` are refused), checks the signature against the
twin's own key (so a token signed by anyone else is refused), then issuer, audience, tenant and
the time window. A validated token is cached by its string until it expires: the hot path then
costs one dict lookup and a clock read.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from vaultspec.twin.crypto import b64url
from vaultspec.twin.store import write_private_file

SIGNING_KEY_FILE = "token-signing-key.pem"
TOKEN_LIFETIME_S = 3600
_CACHE_LIMIT = 20_000


class InvalidToken(Exception):
    """The bearer token is not acceptable; the message says why (never echoes the token)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, as proven by a validated token."""

    object_id: str
    tenant_id: str
    audience: str
    expires: int
    app_id: str | None = None


def _load_or_create_key(data_dir: Path) -> rsa.RSAPrivateKey:
    path = data_dir / SIGNING_KEY_FILE
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private_file(path, pem)
    # Our own 0600 file, written above from a key pyca generated: the RSA consistency check (~0.1 s,
    # once per process start) would only re-prove that.
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: the token signing key must be RSA")
    return loaded


class TokenAuthority:
    """Issues and validates the twin's JWTs for one tenant."""

    def __init__(self, data_dir: Path, tenant_id: str) -> None:
        self._key = _load_or_create_key(data_dir)
        self._public = self._key.public_key()
        der = self._public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_id = b64url(hashlib.sha256(der).digest()[:16])
        self.tenant_id = tenant_id
        self.issuer = f"https://sts.windows.net/{tenant_id}/"
        self._cache: dict[str, Principal] = {}

    def issue(
        self, audience: str, object_id: str, app_id: str | None = None, lifetime: int = TOKEN_LIFETIME_S
    ) -> tuple[str, int]:
        now = int(time.time())
        exp = now + lifetime
        claims = {
            "iss": self.issuer,
            "aud": audience,
            "tid": self.tenant_id,
            "oid": object_id,
            "sub": object_id,
            "appid": app_id or object_id,
            "idtyp": "app",
            "iat": now,
            "nbf": now - 5,
            "exp": exp,
            "uti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.key_id})
        return token, exp

    def validate(self, token: str, audiences: frozenset[str]) -> Principal:
        """Return the caller for a valid token whose audience is one of `audiences`."""
        now = time.time()
        cached = self._cache.get(token)
        if cached is not None and cached.expires > now:
            if cached.audience not in audiences:
                raise InvalidToken("the token's audience is not valid for this resource")
            return cached
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["RS256"],
                audience=list(audiences),
                issuer=self.issuer,
                options={"require": ["exp", "iat", "nbf", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("the token is not yet valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("the token's audience is not valid for this resource") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("the token's issuer is not trusted") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise InvalidToken("the token's algorithm is not allowed") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("the token's signature is not valid") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("the token is malformed") from exc
        if not isinstance(claims["aud"], str):  # one audience: a list would match several planes at once
            raise InvalidToken("the token's audience is not valid for this resource")
        if claims.get("tid") != self.tenant_id:
            raise InvalidToken("the token was issued for another tenant")
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise InvalidToken("the token has no object id")
        app_id = claims.get("appid")
        principal = Principal(
            oid, claims["tid"], claims["aud"], int(claims["exp"]), app_id if isinstance(app_id, str) else None
        )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = principal
        return principal
