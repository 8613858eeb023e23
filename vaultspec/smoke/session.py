"""One identity's view of one vault: the official async SDK clients, sharing one connection pool.

Every client (KeyClient, SecretClient, one CryptographyClient per key) sends through the same
aiohttp session and the same `PoliteRetryPolicy`. The session's TLS context is built once: azure-core
would build a new SSLContext per request for a CA-bundle path, and aiohttp keys its connection pool by
that context, which would cost a TLS handshake per request.

Public-key operations (encrypt, verify, wrapKey) are sent with `KeyClient.send_request`, because the
SDK's CryptographyClient performs them locally with the public key and never asks the vault;
private-key operations (sign, decrypt, unwrapKey) go through the CryptographyClient, which always
sends them. Either way the request passes the SDK's own pipeline (challenge auth, retry policy).
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest import HttpRequest
from azure.keyvault.keys import KeyVaultKey
from azure.keyvault.keys.aio import KeyClient
from azure.keyvault.keys.crypto import EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from azure.keyvault.keys.crypto.aio import CryptographyClient
from azure.keyvault.secrets.aio import SecretClient

from vaultspec.smoke.retry import PoliteRetryPolicy, RetrySettings

T = TypeVar("T")
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
CONNECTION_TIMEOUT_S = 15
READ_TIMEOUT_S = 60
ACCESS_CONTROL_CODES = frozenset(
    {"ForbiddenByRbac", "ForbiddenByPolicy", "ForbiddenByFirewall", "ForbiddenByConnection"}
)

# REST path segment of each operation on /keys/{name}/{version}/<segment>.
_SEGMENTS = {
    "encrypt": "encrypt",
    "decrypt": "decrypt",
    "wrapKey": "wrapkey",
    "unwrapKey": "unwrapkey",
    "sign": "sign",
    "verify": "verify",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class VaultError(Exception):
    """A Key Vault error response, reduced to what reports show: status, code, inner code, message."""

    status: int
    code: str
    inner: str
    message: str

    def __str__(self) -> str:
        codes = "/".join(c for c in (self.code, self.inner) if c)
        return f"{self.status} {codes}: {self.message}".strip()

    @property
    def by_access_control(self) -> bool:
        """Refused by RBAC, an access policy or the network rules (not by the key itself)."""
        return self.status == 403 and (self.inner in ACCESS_CONTROL_CODES or self.code in ACCESS_CONTROL_CODES)

    @classmethod
    def of(cls, error: HttpResponseError) -> VaultError:
        body = error.error
        code = str(getattr(body, "code", "") or "")
        inner_body = getattr(body, "innererror", None) or {}
        inner = str(inner_body.get("code", "") if isinstance(inner_body, dict) else "")
        message = str(getattr(body, "message", "") or error.reason or "")
        return cls(int(error.status_code or 0), code, inner, message[:300])


def tls_context(connection_verify: str | bool | None) -> ssl.SSLContext | bool:
    if connection_verify is False:
        return False
    if isinstance(connection_verify, str):
        return ssl.create_default_context(cafile=connection_verify)
    return ssl.create_default_context()


def proxies_configured() -> bool:
    """Honour HTTP(S)_PROXY when set; otherwise skip aiohttp's env trust, which reads ~/.netrc in a
    worker thread on every request (bearer tokens never come from netrc)."""
    return any(os.environ.get(name) for name in _PROXY_VARIABLES)


class SharedTransport:
    """One aiohttp session (TLS context, connection pool) for every client of a run."""

    def __init__(self, connection_verify: str | bool | None, limit: int) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls_context(connection_verify), limit=limit),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=proxies_configured(),
        )

    def transport(self) -> AioHttpTransport:
        return AioHttpTransport(
            session=self.session,
            session_owner=False,
            connection_timeout=CONNECTION_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
        )

    async def close(self) -> None:
        await self.session.close()


class VaultSession:
    """The SDK clients of one vault for one credential, with the key bundles fetched once per key."""

    def __init__(self, vault_url: str, credential: Any, retry: RetrySettings, shared: SharedTransport) -> None:
        self.vault_url = vault_url.rstrip("/")
        self.credential = credential
        self._retry = retry
        self._shared = shared
        self.keys = KeyClient(self.vault_url, credential, **self._client_kwargs())
        self.secrets = SecretClient(self.vault_url, credential, **self._client_kwargs())
        self._shared_reads: dict[str, asyncio.Future[Any]] = {}
        self._crypto: dict[str, CryptographyClient] = {}

    def _client_kwargs(self) -> dict[str, Any]:
        return {"retry_policy": PoliteRetryPolicy(self._retry), "transport": self._shared.transport()}

    async def once(self, label: str, read: Callable[[], Awaitable[T]]) -> T:
        """`read()` performed once per label; concurrent and later callers share its result or error."""
        future = self._shared_reads.get(label)
        if future is None:
            future = asyncio.ensure_future(read())
            self._shared_reads[label] = future
        return await asyncio.shield(future)

    async def key(self, name: str) -> KeyVaultKey:
        """The latest version of key `name`, fetched once for every check of that key."""
        return await self.once(f"key:{name.lower()}", lambda: self.keys.get_key(name))

    async def key_or_none(self, name: str) -> KeyVaultKey | None:
        try:
            return await self.key(name)
        except ResourceNotFoundError:
            return None

    def crypto(self, key: KeyVaultKey) -> CryptographyClient:
        client = self._crypto.get(key.id)
        if client is None:
            client = CryptographyClient(key, self.credential, **self._client_kwargs())
            self._crypto[key.id] = client
        return client

    async def remote(self, key: KeyVaultKey, op: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST an operation to the vault itself (never performed locally); raise `VaultError` on refusal."""
        version = key.properties.version or ""
        request = HttpRequest("POST", f"/keys/{key.name}/{version}/{_SEGMENTS[op]}", json=body)
        response = await self.keys.send_request(request)
        try:
            response.raise_for_status()
        except HttpResponseError as error:
            raise vault_error_of_response(response, error) from None
        return response.json()

    # The vault-side operations, one verb each; results are raw bytes / booleans.
    async def sign(self, key: KeyVaultKey, alg: str, digest: bytes) -> bytes:
        with vault_errors():
            return (await self.crypto(key).sign(SignatureAlgorithm(alg), digest)).signature

    async def verify(self, key: KeyVaultKey, alg: str, digest: bytes, signature: bytes) -> bool:
        body = {"alg": alg, "digest": b64url(digest), "value": b64url(signature)}
        return bool((await self.remote(key, "verify", body)).get("value"))

    async def encrypt(self, key: KeyVaultKey, alg: str, plaintext: bytes) -> bytes:
        return unb64url((await self.remote(key, "encrypt", {"alg": alg, "value": b64url(plaintext)}))["value"])

    async def decrypt(self, key: KeyVaultKey, alg: str, ciphertext: bytes) -> bytes:
        with vault_errors():
            return (await self.crypto(key).decrypt(EncryptionAlgorithm(alg), ciphertext)).plaintext

    async def wrap_key(self, key: KeyVaultKey, alg: str, plaintext: bytes) -> bytes:
        return unb64url((await self.remote(key, "wrapKey", {"alg": alg, "value": b64url(plaintext)}))["value"])

    async def unwrap_key(self, key: KeyVaultKey, alg: str, wrapped: bytes) -> bytes:
        with vault_errors():
            return (await self.crypto(key).unwrap_key(KeyWrapAlgorithm(alg), wrapped)).key

    async def close(self) -> None:
        for future in self._shared_reads.values():
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved: no "exception never retrieved" warnings
        clients = [self.keys, self.secrets, *self._crypto.values()]
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)


@contextmanager
def vault_errors() -> Iterator[None]:
    """Turn the SDK's HttpResponseError into a `VaultError` (status and codes, no response object)."""
    try:
        yield
    except HttpResponseError as error:
        raise VaultError.of(error) from None


def vault_error_of_response(response: Any, error: HttpResponseError) -> VaultError:
    try:
        body = response.json().get("error") or {}
    except Exception:  # not JSON: status only
        body = {}
    inner = body.get("innererror") or {}
    return VaultError(
        int(response.status_code),
        str(body.get("code") or ""),
        str(inner.get("code") or "") if isinstance(inner, dict) else "",
        str(body.get("message") or error.reason or "")[:300],
    )
