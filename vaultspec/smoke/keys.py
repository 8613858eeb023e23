"""Checks for one declared key: metadata as declared, every declared operation proven on the vault, drift.

Metadata (one read of the key, shared): `exists`, `type` (-HSM keys must report an HSM kty), `size`
or `curve`, `ops` (exactly as declared), `enabled`, `dates` (expires/notBefore as declared),
`rotation-policy` (reads back as declared).

Operations, each algorithm its own check, fresh random data every time:

- `sign+verify:<alg>` for RS/PS 256/384/512 (RSA) or the curve's ES* (EC): the vault signs; the
  signature is verified locally from the public JWK, then by the vault, which must also reject a
  tampered copy. With only one of the two declared the check proves that one (`sign:` / `verify:`).
- `encrypt+decrypt:<alg>` and `wrapKey+unwrapKey:<alg>` for RSA1_5, RSA-OAEP, RSA-OAEP-256: a round
  trip on the vault, and data encrypted locally with the public JWK must decrypt on the vault.
  Encrypt, verify and wrap are forced to the vault (see `session.py`); the SDK would do them locally.

Drift, `drift:<op>`: one operation the spec does NOT declare is attempted on the vault, which must
refuse it by the key's own rules (403, not an access-control refusal). The operation is the first
undeclared one in `DRIFT_PREFERENCE` (most harmful first: sign, decrypt, unwrapKey, ...); while the
declared validity window is closed, window-exempt operations go first (a refusal for expiry would
prove nothing about key_ops). EC keys declaring sign and verify have nothing left in their own
vocabulary, so they attempt `encrypt`, which Key Vault must refuse for any EC key (403 or 400). RSA
keys declaring all six operations have nothing left to try: `drift` is skipped, and `ops` still
compares key_ops exactly.

A key declared disabled gets `disabled-refuses` instead: its first declared operation must be refused.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from functools import partial

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyVaultKey

from vaultspec.catalog.keys import ops_for_type
from vaultspec.smoke import public_key
from vaultspec.smoke.check import Check, CheckFailed, CheckSkipped, declared_dates, iso, utc_now
from vaultspec.smoke.session import VaultError, VaultSession, b64url
from vaultspec.spec.model import Key
from vaultspec.spec.types import duration_days

DRIFT_PREFERENCE = ("sign", "decrypt", "unwrapKey", "encrypt", "wrapKey", "verify")
WINDOW_EXEMPT = ("decrypt", "unwrapKey", "verify")  # Key Vault allows these outside nbf/exp
PAIRS = (("encrypt", "decrypt"), ("wrapKey", "unwrapKey"))
_PAST = {"encrypt": "encrypted", "decrypt": "decrypted", "wrapKey": "wrapped", "unwrapKey": "unwrapped"}
DATA_BYTES = 32
KEY_RULE_REFUSALS = frozenset({"KeyDisabled", "KeyExpired", "KeyNotYetValid"})


def _kty(key: KeyVaultKey) -> str:
    return str(getattr(key.key_type, "value", key.key_type))


def window_open(spec: Key) -> bool:
    """Whether the declared notBefore/expires window is open now (sign, encrypt, wrap need it)."""
    now = utc_now()
    return (spec.not_before is None or spec.not_before <= now) and (spec.expires is None or spec.expires > now)


def _window_note(spec: Key) -> str:
    return f"outside the declared validity window (notBefore {iso(spec.not_before)}, expires {iso(spec.expires)})"


async def key_for_checks(session: VaultSession, spec: Key) -> KeyVaultKey:
    """The key for dependent checks; its absence is reported once, by `exists`."""
    try:
        return await session.key(spec.name)
    except ResourceNotFoundError:
        raise CheckSkipped("the key does not exist (see 'exists')") from None
    except HttpResponseError as error:
        raise CheckSkipped(f"the key could not be read: {VaultError.of(error)} (see 'exists')") from None


async def check_exists(session: VaultSession, spec: Key) -> str:
    try:
        key = await session.key(spec.name)
    except ResourceNotFoundError:
        raise CheckFailed("not found in the vault (404 KeyNotFound)") from None
    return f"found, current version {key.properties.version}"


async def check_type(session: VaultSession, spec: Key) -> str:
    kty = _kty(await key_for_checks(session, spec))
    if kty == spec.type:
        return f"kty {kty}" + (" (HSM-protected)" if kty.endswith("-HSM") else "")
    if spec.type.endswith("-HSM") and kty == spec.type.removesuffix("-HSM"):
        raise CheckFailed(f"declared {spec.type} but the vault reports kty {kty}: the key is not HSM-protected")
    raise CheckFailed(f"declared {spec.type} but the vault reports kty {kty}")


async def check_size(session: VaultSession, spec: Key) -> str:
    key = await key_for_checks(session, spec)
    if not _kty(key).startswith("RSA"):
        raise CheckFailed(f"declared an RSA key of {spec.effective_size} bits; the vault's key is {_kty(key)}")
    bits = public_key.key_size_bits(key.key)
    if bits != spec.effective_size:
        raise CheckFailed(f"declared {spec.effective_size} bits; the vault's key has {bits}")
    return f"{bits} bits"


async def check_curve(session: VaultSession, spec: Key) -> str:
    key = await key_for_checks(session, spec)
    crv = str(getattr(key.key.crv, "value", key.key.crv)) if key.key.crv else None
    if crv != spec.effective_curve:
        raise CheckFailed(f"declared curve {spec.effective_curve}; the vault's key has {crv or 'no curve'}")
    return f"curve {crv}"


async def check_ops(session: VaultSession, spec: Key) -> str:
    actual = {str(getattr(op, "value", op)) for op in (await key_for_checks(session, spec)).key_operations or []}
    declared = set(spec.ops)
    if actual == declared:
        return f"key_ops exactly as declared: {', '.join(sorted(declared))}"
    problems = []
    if actual - declared:
        problems.append(f"allows more than declared: {', '.join(sorted(actual - declared))}")
    if declared - actual:
        problems.append(f"lacks declared: {', '.join(sorted(declared - actual))}")
    raise CheckFailed("key_ops " + "; ".join(problems))


async def check_enabled(session: VaultSession, spec: Key) -> str:
    enabled = bool((await key_for_checks(session, spec)).properties.enabled)
    if enabled != spec.enabled:
        raise CheckFailed(f"declared enabled={str(spec.enabled).lower()}; the vault says {str(enabled).lower()}")
    return f"enabled={str(enabled).lower()} as declared"


async def check_dates(session: VaultSession, spec: Key) -> str:
    props = (await key_for_checks(session, spec)).properties
    return declared_dates(spec.expires, spec.not_before, props.expires_on, props.not_before)


def _days(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return duration_days(value)
    except ValueError:
        return None


def _same_duration(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    da, db = _days(a), _days(b)
    return da == db if da is not None and db is not None else a.upper() == b.upper()


async def check_rotation_policy(session: VaultSession, spec: Key) -> str:
    """Rotate actions and expiryTime must match exactly; a declared notify must be there.

    Key Vault gives every key a default policy with a Notify action, so an undeclared Notify is accepted.
    """
    await key_for_checks(session, spec)
    policy = await session.keys.get_key_rotation_policy(spec.name)
    actions: list[tuple[str, str, str]] = []
    for action in policy.lifetime_actions or []:
        kind = str(getattr(action.action, "value", action.action)).lower()
        if action.time_after_create:
            actions.append((kind, "timeAfterCreate", action.time_after_create))
        if action.time_before_expiry:
            actions.append((kind, "timeBeforeExpiry", action.time_before_expiry))
    rotates = [a for a in actions if a[0] == "rotate"]
    notifies = [a for a in actions if a[0] == "notify"]
    described = ", ".join(f"{k} {t} {v}" for k, t, v in actions) or "no lifetime actions"
    rotation = spec.rotation
    if rotation is None:
        if rotates:
            raise CheckFailed(f"no rotation declared, but the vault rotates: {described}")
        return f"no rotation declared and none on the vault ({described})"
    expected = [
        ("rotate", trigger, value)
        for trigger, value in (
            ("timeAfterCreate", rotation.rotate_after_create),
            ("timeBeforeExpiry", rotation.rotate_before_expiry),
        )
        if value
    ]
    problems = []
    if len(rotates) != len(expected) or not all(
        any(r[1] == e[1] and _same_duration(r[2], e[2]) for r in rotates) for e in expected
    ):
        wanted = ", ".join(f"rotate {t} {v}" for _, t, v in expected) or "no rotate action"
        problems.append(f"declared {wanted}; the vault has {described}")
    if rotation.notify_before_expiry and not any(
        n[1] == "timeBeforeExpiry" and _same_duration(n[2], rotation.notify_before_expiry) for n in notifies
    ):
        problems.append(f"declared notify timeBeforeExpiry {rotation.notify_before_expiry}; the vault has {described}")
    if not _same_duration(rotation.expiry_time, policy.expires_in):
        declared, actual = rotation.expiry_time or "none", policy.expires_in or "none"
        problems.append(f"declared expiryTime {declared}; the vault has {actual}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"{described}; expiryTime {policy.expires_in or 'none'}"


async def check_signatures(session: VaultSession, spec: Key, alg: str) -> str:
    key = await key_for_checks(session, spec)
    public = public_key.public_key_of(key.key)
    if "sign" not in spec.ops:
        bogus = os.urandom(public_key.signature_length(public))
        if await session.verify(key, alg, public_key.fresh_digest(alg), bogus):
            raise CheckFailed("the vault accepted a random signature")
        return "the vault verified (and rejected) a random signature; sign is not declared, so no valid one exists"
    if not window_open(spec):
        raise CheckSkipped(f"sign not attempted: {_window_note(spec)}")
    digest = public_key.fresh_digest(alg)
    signature = await session.sign(key, alg, digest)
    if not public_key.verify_signature(public, alg, digest, signature):
        raise CheckFailed("the vault's signature does not verify against the public JWK it publishes")
    proofs = ["the vault signed a fresh digest; verified locally from the public JWK"]
    if "verify" in spec.ops:
        if not await session.verify(key, alg, digest, signature):
            raise CheckFailed("the vault rejected its own valid signature")
        tampered = signature[:-1] + bytes([signature[-1] ^ 0x01])
        if await session.verify(key, alg, digest, tampered):
            raise CheckFailed("the vault accepted a tampered signature")
        proofs.append("the vault verified it and rejected a tampered copy")
    return "; ".join(proofs)


async def check_round_trip(session: VaultSession, spec: Key, pair: tuple[str, str], alg: str) -> str:
    forward_op, backward_op = pair
    key = await key_for_checks(session, spec)
    public = public_key.public_key_of(key.key)
    forward = session.encrypt if forward_op == "encrypt" else session.wrap_key
    backward = session.decrypt if backward_op == "decrypt" else session.unwrap_key
    proofs: list[str] = []
    proven = False
    if forward_op in spec.ops:
        if not window_open(spec):
            proofs.append(f"{forward_op} not attempted: {_window_note(spec)}")
        else:
            plaintext = os.urandom(DATA_BYTES)
            ciphertext = await forward(key, alg, plaintext)
            if backward_op in spec.ops:
                if await backward(key, alg, ciphertext) != plaintext:
                    raise CheckFailed(f"the vault's {forward_op}/{backward_op} round trip returned different bytes")
                proofs.append(f"the vault {_PAST[forward_op]} and {_PAST[backward_op]} fresh random data")
                proven = True
            else:
                expected = public_key.signature_length(public)
                if len(ciphertext) != expected:
                    raise CheckFailed(f"the vault's {forward_op} returned {len(ciphertext)} bytes, not {expected}")
                proofs.append(f"the vault {_PAST[forward_op]} fresh random data ({backward_op} is not declared)")
                proven = True
    if backward_op in spec.ops:
        plaintext = os.urandom(DATA_BYTES)
        if await backward(key, alg, public_key.encrypt(public, alg, plaintext)) != plaintext:
            raise CheckFailed(f"data {_PAST[forward_op]} locally with the public JWK came back different")
        proofs.append(f"data {_PAST[forward_op]} locally with the public JWK was {_PAST[backward_op]} by the vault")
        proven = True
    if not proven:
        raise CheckSkipped("; ".join(proofs))
    return "; ".join(proofs)


def drift_operation(spec: Key) -> str | None:
    """The one undeclared operation the drift check attempts (see the module docstring), or None."""
    order = DRIFT_PREFERENCE
    if not window_open(spec):
        order = WINDOW_EXEMPT + tuple(op for op in DRIFT_PREFERENCE if op not in WINDOW_EXEMPT)
    for op in order:
        if op in ops_for_type(spec.type) and op not in spec.ops:
            return op
    return "encrypt" if not spec.is_rsa else None


def operation_body(spec: Key, key: KeyVaultKey, op: str) -> dict[str, str]:
    """A REST body for `op` with fresh random data; decrypt/unwrap get a valid ciphertext from the public JWK."""
    public = public_key.public_key_of(key.key)
    sign_alg = public_key.signing_algorithms(spec.type, spec.effective_curve)[0]
    if op == "sign":
        return {"alg": sign_alg, "value": b64url(public_key.fresh_digest(sign_alg))}
    if op == "verify":
        bogus = os.urandom(public_key.signature_length(public))
        return {"alg": sign_alg, "digest": b64url(public_key.fresh_digest(sign_alg)), "value": b64url(bogus)}
    if op in ("decrypt", "unwrapKey"):
        return {"alg": "RSA-OAEP-256", "value": b64url(public_key.encrypt(public, "RSA-OAEP-256", os.urandom(32)))}
    return {"alg": "RSA-OAEP-256", "value": b64url(os.urandom(DATA_BYTES))}


async def check_drift(session: VaultSession, spec: Key, op: str) -> str:
    key = await key_for_checks(session, spec)
    try:
        await session.remote(key, op, operation_body(spec, key, op))
    except VaultError as refusal:
        if refusal.by_access_control:
            raise CheckFailed(
                f"refused by access control ({refusal}), not by the key: cannot tell whether the key allows {op}"
            ) from None
        if refusal.inner in KEY_RULE_REFUSALS or refusal.code in KEY_RULE_REFUSALS:
            raise CheckSkipped(f"inconclusive: the vault refused {op} for another reason ({refusal})") from None
        if refusal.status == 403 or (refusal.status == 400 and not spec.is_rsa):
            return f"the vault refused {op}, which the spec does not declare ({refusal})"
        raise CheckFailed(f"{op} was not refused by the key's operations: {refusal}") from None
    raise CheckFailed(f"the vault performed {op}, which the spec does not declare (key_ops drift)")


async def check_disabled_refuses(session: VaultSession, spec: Key) -> str:
    key = await key_for_checks(session, spec)
    op = spec.ops[0]
    try:
        await session.remote(key, op, operation_body(spec, key, op))
    except VaultError as refusal:
        if refusal.status == 403 and not refusal.by_access_control:
            return f"the vault refused {op} on the disabled key ({refusal})"
        raise CheckFailed(f"{op} on the disabled key failed, but not as a disabled key: {refusal}") from None
    raise CheckFailed(f"the vault performed {op} with a key declared disabled")


def key_checks(session: VaultSession, spec: Key) -> list[Check]:
    """Every check of one declared key, in report order."""
    obj = f"keys/{spec.name}"

    def check(name: str, fn: Callable[..., Awaitable[str]], *args: object) -> Check:
        return Check(obj, name, partial(fn, session, spec, *args))

    checks = [
        check("exists", check_exists),
        check("type", check_type),
        check("size", check_size) if spec.is_rsa else check("curve", check_curve),
        check("ops", check_ops),
        check("enabled", check_enabled),
        check("dates", check_dates),
        check("rotation-policy", check_rotation_policy),
    ]
    if not spec.enabled:
        return [*checks, check("disabled-refuses", check_disabled_refuses)]
    signing = [op for op in ("sign", "verify") if op in spec.ops]
    if signing:
        for alg in public_key.signing_algorithms(spec.type, spec.effective_curve):
            checks.append(check(f"{'+'.join(signing)}:{alg}", check_signatures, alg))
    for pair in PAIRS:
        declared = [op for op in pair if op in spec.ops]
        if declared:
            for alg in public_key.encryption_algorithms(spec.type):
                checks.append(check(f"{'+'.join(declared)}:{alg}", check_round_trip, pair, alg))
    op = drift_operation(spec)
    if op is None:
        checks.append(Check(obj, "drift", _nothing_undeclared(spec)))
    else:
        checks.append(check(f"drift:{op}", check_drift, op))
    return checks


def _nothing_undeclared(spec: Key) -> Callable[[], Awaitable[str]]:
    async def skip() -> str:
        raise CheckSkipped(
            f"every operation a {spec.type} key supports is declared; nothing undeclared to try "
            "('ops' compares key_ops exactly)"
        )

    return skip
