"""Checks for imported keys and key exchange keys (KEKs), on top of every check of a declared key.

Imported keys (`import:`):

- `public-key`: the vault's public key is exactly the declared one: `import.publicKey` (PEM), or the
  public half of `fromEnv` material (read from the environment, never reported). Skipped when neither
  is at hand (`fromConfig` material lives in Pulumi config only).
- `declared-key:<alg>`: the vault's *private* key is the declared one: a signature the vault makes
  verifies with the local public key, or (keys that unwrap or decrypt but do not sign) data wrapped
  locally with the local public key is unwrapped by the vault. A vault that publishes the right
  public key but holds another private key fails here.
- `hsm-protected` (BYOK only): the vault reports an -HSM key type: the key arrived by BYOK and lives
  in the HSM.
- `not-exportable`: the vault's key carries no private JWK members, is not exportable and has no
  release policy.

KEKs (`ops: [import]`), `kek-only-import`: key_ops are exactly `[import]` and the vault refuses every
other operation on it (sign, decrypt, unwrapKey, encrypt, wrapKey, verify), by the key's own rules.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from pathlib import Path

from azure.keyvault.keys import KeyVaultKey

from vaultspec.byok.material import KeyMaterialError, PublicKey, load_private_key, load_public_key, thumbprint
from vaultspec.smoke import public_key
from vaultspec.smoke.check import Check, CheckFailed, CheckSkipped
from vaultspec.smoke.keys import key_for_checks, operation_body, window_open
from vaultspec.smoke.session import VaultError, VaultSession
from vaultspec.spec.model import Key

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")
KEK_REFUSED_OPS = ("sign", "decrypt", "unwrapKey", "encrypt", "wrapKey", "verify")


def declared_public_key(spec: Key, environ: Mapping[str, str]) -> PublicKey | None:
    """The public key the spec fixes for an imported key, or None when none is at hand here."""
    source = spec.import_
    if source is None:
        return None
    try:
        if source.public_key is not None:
            return load_public_key(Path(source.public_key).read_bytes())
        if source.from_env is not None and environ.get(source.from_env):
            return load_private_key(environ[source.from_env]).public_key()
    except OSError as error:
        raise CheckFailed(f"the declared public key cannot be read: {error.strerror or type(error).__name__}") from None
    except KeyMaterialError as error:
        raise CheckFailed(f"the declared key cannot be read: {error}") from None
    return None


def _public_or_skip(spec: Key, environ: Mapping[str, str]) -> PublicKey:
    declared = declared_public_key(spec, environ)
    if declared is None:
        assert spec.import_ is not None
        raise CheckSkipped(
            f"nothing to compare with: no import.publicKey, and {spec.import_.source} material is not readable here"
        )
    return declared


def vault_public_key(key: KeyVaultKey) -> PublicKey:
    return public_key.public_key_of(key.key)


async def check_public_key(session: VaultSession, spec: Key, environ: Mapping[str, str]) -> str:
    declared = _public_or_skip(spec, environ)
    live = vault_public_key(await key_for_checks(session, spec))
    if thumbprint(live) != thumbprint(declared):
        raise CheckFailed(
            f"the vault's public key (thumbprint {thumbprint(live)}) is not the declared one ({thumbprint(declared)})"
        )
    return f"the vault's public key is the declared one (thumbprint {thumbprint(declared)})"


async def check_declared_key(session: VaultSession, spec: Key, environ: Mapping[str, str], alg: str) -> str:
    declared = _public_or_skip(spec, environ)
    key = await key_for_checks(session, spec)
    if not window_open(spec) and "sign" in spec.ops:
        raise CheckSkipped("outside the declared validity window: the vault may not sign")
    if "sign" in spec.ops:
        digest = public_key.fresh_digest(alg)
        signature = await session.sign(key, alg, digest)
        if not public_key.verify_signature(declared, alg, digest, signature):
            raise CheckFailed(
                "the vault's signature does not verify with the declared public key: it signs with another key"
            )
        return "the vault signed a fresh digest; it verifies with the declared (local) public key"
    plaintext = os.urandom(32)
    unwrap = session.unwrap_key if "unwrapKey" in spec.ops else session.decrypt
    if await unwrap(key, alg, public_key.encrypt(declared, alg, plaintext)) != plaintext:
        raise CheckFailed("data wrapped with the declared public key did not come back: the vault holds another key")
    return "data wrapped locally with the declared public key was unwrapped by the vault"


async def check_hsm_protected(session: VaultSession, spec: Key) -> str:
    key = await key_for_checks(session, spec)
    kty = str(getattr(key.key_type, "value", key.key_type))
    if not kty.endswith("-HSM"):
        raise CheckFailed(f"imported by BYOK but the vault reports kty {kty}: the key is not HSM-protected")
    return f"kty {kty}: the BYOK key lives in the vault's HSM"


async def check_not_exportable(session: VaultSession, spec: Key) -> str:
    key = await key_for_checks(session, spec)
    leaked = [name for name in PRIVATE_MEMBERS if getattr(key.key, name, None)]
    if leaked:
        raise CheckFailed(f"the vault returned private key members ({', '.join(leaked)})")
    if key.properties.exportable:
        raise CheckFailed("the key is exportable: its private half can leave the vault")
    if key.properties.release_policy is not None:
        raise CheckFailed("the key has a release policy: it can be released outside the vault")
    return "no private members returned, not exportable, no release policy"


async def check_kek_only_imports(session: VaultSession, spec: Key) -> str:
    key = await key_for_checks(session, spec)
    ops = [str(getattr(op, "value", op)) for op in key.key_operations or []]
    if ops != ["import"]:
        raise CheckFailed(f"a key exchange key's key_ops must be exactly [import]; the vault has {ops}")
    refused: list[str] = []
    for op in KEK_REFUSED_OPS:
        try:
            await session.remote(key, op, operation_body(spec, key, op))
        except VaultError as refusal:
            if refusal.by_access_control:
                raise CheckFailed(f"{op} was refused by access control ({refusal}), not by the key") from None
            if refusal.status not in (400, 403):
                raise CheckFailed(f"{op} failed, but not as a refusal: {refusal}") from None
            refused.append(op)
            continue
        raise CheckFailed(f"the vault performed {op} with a key exchange key")
    return f"key_ops [import]; the vault refused {', '.join(refused)}"


def _declared_key_algorithm(spec: Key) -> str | None:
    if "sign" in spec.ops:
        return public_key.signing_algorithms(spec.type, spec.effective_curve)[0]
    if spec.is_rsa and ("unwrapKey" in spec.ops or "decrypt" in spec.ops):
        return "RSA-OAEP-256"
    return None


def transfer_checks(session: VaultSession, spec: Key, environ: Mapping[str, str]) -> list[Check]:
    """The checks of an imported key or a KEK (none for other keys), in report order."""
    obj = f"keys/{spec.name}"

    def check(name: str, fn: Callable[..., Awaitable[str]], *args: object) -> Check:
        return Check(obj, name, partial(fn, session, spec, *args))

    if spec.is_kek:
        return [Check(obj, "kek-only-import", partial(check_kek_only_imports, session, spec), expects_refusal=True)]
    if spec.import_ is None:
        return []
    checks = [check("public-key", check_public_key, environ)]
    alg = _declared_key_algorithm(spec)
    if alg is not None and spec.enabled:
        checks.append(check(f"declared-key:{alg}", check_declared_key, environ, alg))
    if spec.import_.source == "byok":
        checks.append(check("hsm-protected", check_hsm_protected))
    checks.append(check("not-exportable", check_not_exportable))
    return checks
