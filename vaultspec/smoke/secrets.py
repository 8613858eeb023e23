"""Checks for one declared secret: `exists`, `readable`, `enabled`, `not-expired`, `dates`, `content-type`, `source`.

The value is read once per secret and reduced at once to its SHA-256 digest; the value itself is
never kept, printed, logged or reported. `source` compares digests for `fromEnv` secrets (constant
time); `fromConfig` and `generate` values live only in Pulumi config/state, so the check says they
are not comparable here and is skipped. A secret declared disabled must refuse its value (Key Vault:
403 SecretDisabled); its metadata then comes from the versions listing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretProperties

from vaultspec.smoke.check import Check, CheckFailed, CheckSkipped, declared_dates, iso, utc_now
from vaultspec.smoke.session import VaultError, VaultSession
from vaultspec.spec.model import Secret


@dataclass(frozen=True)
class SecretReading:
    """What one read of a secret leaves behind: metadata and a digest, never the value."""

    properties: SecretProperties | None  # None: the secret does not exist
    digest: bytes | None  # SHA-256 of the value, when the vault gave it
    refusal: VaultError | None  # why the value was not given (e.g. 403 SecretDisabled)


def sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


async def _latest_properties(session: VaultSession, name: str) -> SecretProperties | None:
    latest: SecretProperties | None = None
    async for properties in session.secrets.list_properties_of_secret_versions(name):
        if latest is None or (properties.created_on or 0) > (latest.created_on or 0):  # type: ignore[operator]
            latest = properties
    return latest


async def _read(session: VaultSession, name: str) -> SecretReading:
    try:
        secret = await session.secrets.get_secret(name)
    except ResourceNotFoundError:
        return SecretReading(None, None, None)
    except HttpResponseError as error:
        refusal = VaultError.of(error)
        if refusal.status != 403 or refusal.by_access_control:
            raise refusal from None
        return SecretReading(await _latest_properties(session, name), None, refusal)
    digest = sha256(secret.value) if secret.value is not None else None
    return SecretReading(secret.properties, digest, None)


async def read_secret(session: VaultSession, name: str) -> SecretReading:
    return await session.once(f"secret:{name.lower()}", partial(_read, session, name))


async def _existing(session: VaultSession, spec: Secret) -> SecretReading:
    reading = await read_secret(session, spec.name)
    if reading.properties is None:
        raise CheckSkipped("the secret does not exist (see 'exists')")
    return reading


async def _properties(session: VaultSession, spec: Secret) -> SecretProperties:
    properties = (await _existing(session, spec)).properties
    if properties is None:  # _existing already skipped; this keeps the type narrow
        raise CheckSkipped("the secret does not exist (see 'exists')")
    return properties


async def check_exists(session: VaultSession, spec: Secret) -> str:
    reading = await read_secret(session, spec.name)
    if reading.properties is None:
        raise CheckFailed("not found in the vault (404 SecretNotFound)")
    return f"found, current version {reading.properties.version}"


async def check_readable(session: VaultSession, spec: Secret) -> str:
    reading = await _existing(session, spec)
    if spec.enabled:
        if reading.digest is None:
            raise CheckFailed(f"the value could not be read: {reading.refusal or 'the vault returned no value'}")
        return "the value was read (it is never shown)"
    if reading.digest is not None:
        raise CheckFailed("the value is readable although the secret is declared disabled")
    return f"the vault refused the value of the disabled secret, as declared ({reading.refusal})"


async def check_enabled(session: VaultSession, spec: Secret) -> str:
    enabled = bool((await _properties(session, spec)).enabled)
    if enabled != spec.enabled:
        raise CheckFailed(f"declared enabled={str(spec.enabled).lower()}; the vault says {str(enabled).lower()}")
    return f"enabled={str(enabled).lower()} as declared"


async def check_not_expired(session: VaultSession, spec: Secret) -> str:
    props = await _properties(session, spec)
    now = utc_now()
    if props.expires_on is not None and props.expires_on <= now:
        raise CheckFailed(f"expired at {iso(props.expires_on)}")
    if props.not_before is not None and props.not_before > now:
        raise CheckFailed(f"not valid before {iso(props.not_before)}")
    return f"valid now (expires {iso(props.expires_on)})"


async def check_dates(session: VaultSession, spec: Secret) -> str:
    props = await _properties(session, spec)
    return declared_dates(spec.expires, spec.not_before, props.expires_on, props.not_before)


async def check_content_type(session: VaultSession, spec: Secret) -> str:
    actual = (await _properties(session, spec)).content_type or None
    declared = spec.content_type or None
    if actual != declared:
        raise CheckFailed(f"declared content type {declared or 'none'!r}; the vault has {actual or 'none'!r}")
    return f"content type {declared or 'none'!r} as declared"


async def check_source(session: VaultSession, spec: Secret, environ: Mapping[str, str]) -> str:
    source = spec.value.source
    if source == "fromConfig":
        raise CheckSkipped(
            f"not comparable: fromConfig {spec.value.from_config} lives in the Pulumi stack's encrypted config"
        )
    if source == "generate":
        raise CheckSkipped("not comparable: a generated (or program-supplied) value lives only in the Pulumi state")
    variable = spec.value.from_env or ""
    if variable not in environ:
        raise CheckSkipped(f"not comparable: ${variable} is not set in this process")
    reading = await _existing(session, spec)
    if reading.digest is None:
        raise CheckSkipped("not comparable: the value could not be read (see 'readable')")
    if not hmac.compare_digest(reading.digest, sha256(environ[variable])):
        raise CheckFailed(f"the value's SHA-256 differs from the SHA-256 of ${variable} (values are never shown)")
    return f"the value's SHA-256 equals the SHA-256 of ${variable}"


def secret_checks(session: VaultSession, spec: Secret, environ: Mapping[str, str]) -> list[Check]:
    """Every check of one declared secret, in report order."""
    obj = f"secrets/{spec.name}"

    def check(name: str, fn: Callable[..., Awaitable[str]], *args: object) -> Check:
        return Check(obj, name, partial(fn, session, spec, *args))

    return [
        check("exists", check_exists),
        check("readable", check_readable),
        check("enabled", check_enabled),
        check("not-expired", check_not_expired),
        check("dates", check_dates),
        check("content-type", check_content_type),
        check("source", check_source, environ),
    ]
