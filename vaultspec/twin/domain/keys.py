"""Keys: create, import, get, update, list, rotate, rotation policy and the crypto operations.

Verbs follow azure-keyvault-keys (`create_key`, `get_key`, `update_key_properties`, ...). Results
are Key Vault REST shapes (KeyBundle, KeyItem, DeletedKeyBundle) as dicts, ready for JSON.

Rules kept here (Key Vault's): standard vaults hold RSA and EC keys, premium vaults also -HSM keys;
oct keys exist only in Managed HSM (400); an operation missing from `key_ops` is refused with 403
Forbidden / KeyOperationForbidden (the status and codes Key Vault returns); a disabled key refuses
every cryptographic operation (403 Forbidden / KeyDisabled); outside its nbf/exp window a key still
decrypts, unwraps and verifies but refuses encrypt, wrap and sign (403 KeyNotYetValid / KeyExpired),
as Microsoft documents for date-time controlled operations. The private half never leaves this
module: bundles carry the public JWK only. -HSM keys are never exportable. A BYOK import (`key_hsm`)
is unwrapped with the key exchange key it names, after Key Vault's checks (`domain/byok.py`).
"""

from __future__ import annotations

import re
from typing import Any

from vaultspec.twin import crypto
from vaultspec.twin.domain import byok
from vaultspec.twin.domain.objects import (
    ObjectKind,
    VaultRef,
    attributes_in,
    attributes_out,
    check_name,
    new_version,
    now,
    tags_in,
)
from vaultspec.twin.errors import KeyVaultError, bad_parameter, forbidden
from vaultspec.twin.store import Store, VersionRow

KEY_TYPES = ("RSA", "RSA-HSM", "EC", "EC-HSM")
ALL_KEY_OPS = ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export")
DEFAULT_KEY_OPS = {
    "RSA": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
    "EC": ["sign", "verify"],
}
# Operations allowed outside the nbf/exp window (Microsoft: "date-time controlled operations").
_WINDOW_EXEMPT = {"decrypt", "unwrapKey", "verify"}
_DURATION_RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def duration_days(value: Any, field: str) -> int:
    """ISO-8601 durations as Key Vault accepts them in rotation policies (years, months, days)."""
    match = _DURATION_RE.fullmatch(value) if isinstance(value, str) else None
    if not match or value == "P":
        raise bad_parameter(f"{field} must be an ISO-8601 duration such as P90D, P3M or P2Y")
    years, months, days = (int(g or 0) for g in match.groups())
    return years * 365 + months * 30 + days


class KeyService:
    """The key half of a vault's data plane."""

    def __init__(self, store: Store, backup_key: bytes) -> None:
        self.store = store
        self.objects = ObjectKind(store, "key", backup_key)

    # -- shapes --------------------------------------------------------------------------------
    def bundle(self, vault: VaultRef, row: VersionRow) -> dict[str, Any]:
        meta = row.meta
        key = {
            "kid": f"{vault.url}/keys/{row.name}/{row.version}",
            "kty": meta["kty"],
            "key_ops": meta["key_ops"],
        }
        key.update(meta["jwk"])
        out: dict[str, Any] = {"key": key, "attributes": attributes_out(meta["attributes"], vault)}
        if meta.get("tags") is not None:
            out["tags"] = meta["tags"]
        if meta.get("release_policy") is not None:
            out["release_policy"] = meta["release_policy"]
        return out

    def item(self, vault: VaultRef, row: VersionRow) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kid": f"{vault.url}/keys/{row.name}/{row.version}",
            "attributes": attributes_out(row.meta["attributes"], vault),
        }
        if row.meta.get("tags") is not None:
            out["tags"] = row.meta["tags"]
        return out

    # -- create / import -----------------------------------------------------------------------
    def _key_ops(self, raw: Any, base_kty: str) -> list[str]:
        if raw is None:
            return list(DEFAULT_KEY_OPS[base_kty])
        if not isinstance(raw, list) or not all(isinstance(op, str) for op in raw):
            raise bad_parameter("key_ops must be a list of operation names")
        for op in raw:
            if op not in ALL_KEY_OPS:
                raise bad_parameter(f"key_ops value '{op}' is not valid; use {', '.join(ALL_KEY_OPS)}")
        return list(dict.fromkeys(raw))

    def _check_kty(self, vault: VaultRef, kty: str) -> str:
        if kty.lower().startswith("oct"):
            raise bad_parameter(f"Key type {kty} is only supported by Managed HSM, not by key vaults.")
        if kty not in KEY_TYPES:
            raise bad_parameter(f"kty '{kty}' is not valid; use one of {', '.join(KEY_TYPES)}")
        if kty.endswith("-HSM") and not vault.premium:
            raise bad_parameter(f"Key type {kty} needs a premium vault; vault '{vault.name}' is standard.")
        return kty

    def _attributes(self, kty: str, raw: dict[str, Any] | None, release_policy: Any) -> dict[str, Any]:
        attrs = attributes_in(raw)
        attrs.setdefault("exportable", False)
        if attrs["exportable"]:
            if kty.endswith("-HSM"):
                raise bad_parameter("HSM-protected keys are never exportable in the twin.")
            if not release_policy:
                raise bad_parameter("An exportable key must have a release policy.")
        return attrs

    def _store_new_version(
        self,
        vault: VaultRef,
        name: str,
        kty: str,
        private: crypto.PrivateKey,
        key_ops: list[str],
        attributes: dict[str, Any],
        tags: dict[str, str] | None,
        release_policy: Any,
    ) -> VersionRow:
        meta: dict[str, Any] = {
            "kty": kty,
            "key_ops": key_ops,
            "jwk": crypto.public_jwk(private),
            "key_size": crypto.key_size(private),
            "attributes": attributes,
            "tags": tags,
            "release_policy": release_policy,
        }
        return self.store.add_version(vault.name, "key", name, new_version(), meta, crypto.private_to_der(private))

    def create_key(self, vault: VaultRef, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /keys/{name}/create."""
        check_name(name, "key")
        kty = self._check_kty(vault, str(body.get("kty") or ""))
        base = kty.removesuffix("-HSM")
        self.objects.ensure_name_free(vault, name)
        try:
            if base == "RSA":
                if body.get("crv"):
                    raise ValueError("crv is not valid for an RSA key")
                private: crypto.PrivateKey = crypto.generate_rsa(
                    int(body.get("key_size") or 2048), int(body.get("public_exponent") or 65537)
                )
            else:
                if body.get("key_size") not in (None, 256, 384, 521):
                    raise ValueError("key_size is not valid for an EC key; use crv")
                private = crypto.generate_ec(str(body.get("crv") or "P-256"))
        except (ValueError, TypeError) as exc:
            raise bad_parameter(str(exc)) from exc
        key_ops = self._key_ops(body.get("key_ops"), base)
        attrs = self._attributes(kty, body.get("attributes"), body.get("release_policy"))
        row = self._store_new_version(
            vault, name, kty, private, key_ops, attrs, tags_in(body.get("tags")), body.get("release_policy")
        )
        return self.bundle(vault, row)

    def import_key(self, vault: VaultRef, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /keys/{name}: plain material (private JWK members) or a BYOK transfer blob (`key_hsm`)."""
        check_name(name, "key")
        jwk = body.get("key")
        if not isinstance(jwk, dict):
            raise bad_parameter("key (a JSON Web Key) is required")
        if jwk.get("key_hsm") is not None:
            kty = self._check_kty(vault, str(jwk.get("kty") or ""))
            private = self._byok_target(vault, jwk)
        else:
            try:
                private = crypto.import_jwk(jwk)
            except ValueError as exc:
                raise bad_parameter(str(exc)) from exc
            hsm = bool(body.get("Hsm")) or str(jwk.get("kty", "")).upper().endswith("-HSM")
            base = "RSA" if str(jwk.get("kty", "")).upper().startswith("RSA") else "EC"
            kty = self._check_kty(vault, f"{base}-HSM" if hsm else base)
        base = kty.removesuffix("-HSM")
        self.objects.ensure_name_free(vault, name)
        key_ops = self._key_ops(jwk.get("key_ops"), base)
        attrs = self._attributes(kty, body.get("attributes"), body.get("release_policy"))
        row = self._store_new_version(
            vault, name, kty, private, key_ops, attrs, tags_in(body.get("tags")), body.get("release_policy")
        )
        return self.bundle(vault, row)

    def _byok_target(self, vault: VaultRef, jwk: dict[str, Any]) -> crypto.PrivateKey:
        """Unwrap a BYOK transfer blob with the KEK it names, after every check (`domain/byok.py`)."""
        blob = byok.transfer_blob_of(jwk)
        kek_name, kek_version = byok.kek_reference(vault, blob)
        try:
            kek = self.objects.version(vault, kek_name, kek_version)
        except KeyVaultError as error:
            raise byok.kek_missing(blob.header.kid, error) from None
        byok.check_kek(kek, blob.header.kid)
        return byok.unwrap_target(blob, self._private_key(kek), jwk)

    # -- read / update -------------------------------------------------------------------------
    def get_key(self, vault: VaultRef, name: str, version: str = "") -> dict[str, Any]:
        return self.bundle(vault, self.objects.version(vault, name, version))

    def list_keys(self, vault: VaultRef) -> list[dict[str, Any]]:
        return [self.item(vault, row) for row in self.objects.list_active(vault)]

    def list_key_versions(self, vault: VaultRef, name: str) -> list[dict[str, Any]]:
        return [self.item(vault, row) for row in self.objects.list_versions(vault, name)]

    def update_key_properties(self, vault: VaultRef, name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH /keys/{name}/{version}: key_ops, attributes, tags, release_policy."""
        row = self.objects.version(vault, name, version)
        meta = dict(row.meta)
        base = meta["kty"].removesuffix("-HSM")
        if body.get("key_ops") is not None:
            meta["key_ops"] = self._key_ops(body["key_ops"], base)
        if body.get("release_policy") is not None:
            meta["release_policy"] = body["release_policy"]
        attrs = attributes_in(body.get("attributes"), meta["attributes"])
        if attrs.get("exportable") and not meta["attributes"].get("exportable"):
            raise bad_parameter("exportable cannot be turned on after a key is created.")
        meta["attributes"] = attrs
        if "tags" in body and body["tags"] is not None:
            meta["tags"] = tags_in(body["tags"])
        return self.bundle(vault, self.store.update_version_meta(row, meta))

    # -- lifecycle -------------------------------------------------------------------------------
    def delete_key(self, vault: VaultRef, name: str) -> dict[str, Any]:
        return self.objects.with_deletion(vault, *self.objects.delete(vault, name), self.bundle)

    def get_deleted_key(self, vault: VaultRef, name: str) -> dict[str, Any]:
        return self.objects.with_deletion(vault, *self.objects.deleted(vault, name), self.bundle)

    def list_deleted_keys(self, vault: VaultRef) -> list[dict[str, Any]]:
        deleted = self.objects.list_deleted(vault)
        return [self.objects.with_deletion(vault, obj, latest, self.item) for obj, latest in deleted]

    def recover_deleted_key(self, vault: VaultRef, name: str) -> dict[str, Any]:
        return self.bundle(vault, self.objects.recover(vault, name))

    def purge_deleted_key(self, vault: VaultRef, name: str) -> None:
        self.objects.purge(vault, name)

    def backup_key(self, vault: VaultRef, name: str) -> str:
        return self.objects.backup(vault, name)

    def restore_key_backup(self, vault: VaultRef, blob: str) -> dict[str, Any]:
        def premium_only(meta: dict[str, Any]) -> None:
            if meta["kty"].endswith("-HSM") and not vault.premium:
                raise bad_parameter(f"Key type {meta['kty']} needs a premium vault.")

        return self.bundle(vault, self.objects.restore(vault, blob, premium_only))

    # -- rotation ----------------------------------------------------------------------------------
    def rotate_key(self, vault: VaultRef, name: str) -> dict[str, Any]:
        """POST /keys/{name}/rotate: a new version with the same type, size/curve, key_ops and tags."""
        obj = self.objects.active(vault, name)
        latest = self.objects.version(vault, name)
        meta = latest.meta
        base = meta["kty"].removesuffix("-HSM")
        if base == "RSA":
            private: crypto.PrivateKey = crypto.generate_rsa(meta["key_size"])
        else:
            private = crypto.generate_ec(meta["jwk"]["crv"])
        attrs = {"enabled": True, "exportable": meta["attributes"].get("exportable", False)}
        attrs = attributes_in(None, attrs)
        expiry = (obj.policy or {}).get("attributes", {}).get("expiryTime")
        if expiry:
            attrs["exp"] = now() + duration_days(expiry, "expiryTime") * 86400
        row = self._store_new_version(
            vault,
            latest.name,
            meta["kty"],
            private,
            meta["key_ops"],
            attrs,
            meta.get("tags"),
            meta.get("release_policy"),
        )
        return self.bundle(vault, row)

    def get_key_rotation_policy(self, vault: VaultRef, name: str) -> dict[str, Any]:
        obj = self.objects.active(vault, name)
        policy = obj.policy or {
            "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
            "attributes": {},
        }
        return {"id": f"{vault.url}/keys/{obj.name}/rotationpolicy", **policy}

    def update_key_rotation_policy(self, vault: VaultRef, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /keys/{name}/rotationpolicy, validated as Key Vault does."""
        obj = self.objects.active(vault, name)
        if not isinstance(body, dict):
            raise bad_parameter("the rotation policy must be an object")
        attributes = body.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise bad_parameter("attributes must be an object")
        expiry = attributes.get("expiryTime")
        if expiry is not None and duration_days(expiry, "attributes.expiryTime") < 28:
            raise bad_parameter("attributes.expiryTime must be at least 28 days (P28D)")
        actions_in = body.get("lifetimeActions") or []
        if not isinstance(actions_in, list) or len(actions_in) > 2:
            raise bad_parameter("lifetimeActions must be a list of at most 2 actions")
        actions = []
        for index, entry in enumerate(actions_in):
            field = f"lifetimeActions[{index}]"
            entry = entry or {}
            trigger = entry.get("trigger") or {} if isinstance(entry, dict) else None
            action = entry.get("action") or {} if isinstance(entry, dict) else None
            if not isinstance(trigger, dict) or not isinstance(action, dict):
                raise bad_parameter(f"{field} must be an object with trigger and action objects")
            action_type = str(action.get("type") or "")
            if action_type.lower() not in ("rotate", "notify"):
                raise bad_parameter(f"{field}.action.type must be Rotate or Notify")
            after, before = trigger.get("timeAfterCreate"), trigger.get("timeBeforeExpiry")
            if (after is None) == (before is None):
                raise bad_parameter(f"{field}.trigger needs exactly one of timeAfterCreate, timeBeforeExpiry")
            if after is not None and duration_days(after, f"{field}.trigger.timeAfterCreate") < 7:
                raise bad_parameter(f"{field}.trigger.timeAfterCreate must be at least 7 days")
            if before is not None:
                days = duration_days(before, f"{field}.trigger.timeBeforeExpiry")
                if expiry is None:
                    raise bad_parameter(f"{field}.trigger.timeBeforeExpiry needs attributes.expiryTime")
                if days >= duration_days(expiry, "attributes.expiryTime"):
                    raise bad_parameter(f"{field}.trigger.timeBeforeExpiry must be shorter than expiryTime")
            if action_type.lower() == "notify" and before is None:
                raise bad_parameter(f"{field}: a Notify action needs a timeBeforeExpiry trigger")
            clean_trigger = {k: v for k, v in (("timeAfterCreate", after), ("timeBeforeExpiry", before)) if v}
            actions.append({"trigger": clean_trigger, "action": {"type": action_type.capitalize()}})
        stamp = now()
        created = ((obj.policy or {}).get("attributes") or {}).get("created", stamp)
        policy = {
            "lifetimeActions": actions,
            "attributes": {"expiryTime": expiry, "created": created, "updated": stamp},
        }
        self.objects.set_policy(vault, name, policy)
        return {"id": f"{vault.url}/keys/{obj.name}/rotationpolicy", **policy}

    # -- cryptography ------------------------------------------------------------------------------
    def _usable(self, vault: VaultRef, name: str, version: str, op: str) -> tuple[VersionRow, crypto.PrivateKey]:
        row = self.objects.version(vault, name, version)
        meta = row.meta
        if op not in meta["key_ops"]:
            raise forbidden(f"Operation {op} is not permitted on this key.", "KeyOperationForbidden")
        attrs = meta["attributes"]
        if not attrs.get("enabled", True):
            raise forbidden(f"Operation {op} is not allowed on a disabled key.", "KeyDisabled")
        if op not in _WINDOW_EXEMPT:
            stamp = now()
            if attrs.get("nbf") is not None and stamp < attrs["nbf"]:
                raise forbidden(f"Operation {op} is not allowed on a key that is not yet valid.", "KeyNotYetValid")
            if attrs.get("exp") is not None and stamp >= attrs["exp"]:
                raise forbidden(f"Operation {op} is not allowed on an expired key.", "KeyExpired")
        return row, self._private_key(row)

    def _private_key(self, row: VersionRow) -> crypto.PrivateKey:
        """The parsed private key of a version, cached by its sealed payload until the next commit.

        The sealed payload is unique per stored version (random nonce), so a restored or re-created
        key never meets another's cache entry; any commit (a delete or purge is one) empties the cache
        at the next request, so a removed key's parsed material does not linger.
        """
        return self.store.cached(
            ("private-key", row.payload), lambda: crypto.private_from_der(self.store.open_payload(row))
        )

    def _kid(self, vault: VaultRef, row: VersionRow) -> str:
        return f"{vault.url}/keys/{row.name}/{row.version}"

    @staticmethod
    def _bytes(body: dict[str, Any], field: str) -> bytes:
        value = body.get(field)
        if not isinstance(value, str):
            raise bad_parameter(f"{field} is required (base64url)")
        try:
            return crypto.unb64url(value)
        except ValueError as exc:
            raise bad_parameter(f"{field} is not valid base64url") from exc

    @staticmethod
    def _alg(body: dict[str, Any]) -> str:
        alg = body.get("alg")
        if not isinstance(alg, str) or not alg:
            raise bad_parameter("alg is required")
        return alg

    def _run(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ValueError as exc:
            raise bad_parameter(str(exc)) from exc

    def sign(self, vault: VaultRef, name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        alg, digest = self._alg(body), self._bytes(body, "value")
        row, key = self._usable(vault, name, version, "sign")
        signature = self._run(crypto.sign, key, alg, digest)
        return {"kid": self._kid(vault, row), "value": crypto.b64url(signature)}

    def verify(self, vault: VaultRef, name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        alg, digest, signature = self._alg(body), self._bytes(body, "digest"), self._bytes(body, "value")
        _, key = self._usable(vault, name, version, "verify")
        return {"value": bool(self._run(crypto.verify, key, alg, digest, signature))}

    def encrypt(
        self, vault: VaultRef, name: str, version: str, body: dict[str, Any], op: str = "encrypt"
    ) -> dict[str, Any]:
        alg, plaintext = self._alg(body), self._bytes(body, "value")
        row, key = self._usable(vault, name, version, op)
        ciphertext = self._run(crypto.encrypt, key, alg, plaintext)
        return {"kid": self._kid(vault, row), "value": crypto.b64url(ciphertext)}

    def decrypt(
        self, vault: VaultRef, name: str, version: str, body: dict[str, Any], op: str = "decrypt"
    ) -> dict[str, Any]:
        alg, ciphertext = self._alg(body), self._bytes(body, "value")
        row, key = self._usable(vault, name, version, op)
        plaintext = self._run(crypto.decrypt, key, alg, ciphertext)
        return {"kid": self._kid(vault, row), "value": crypto.b64url(plaintext)}

    def wrap_key(self, vault: VaultRef, name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.encrypt(vault, name, version, body, op="wrapKey")

    def unwrap_key(self, vault: VaultRef, name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.decrypt(vault, name, version, body, op="unwrapKey")

    def release_key(self, vault: VaultRef, name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /keys/{name}/{version}/release: needs an attestation service the twin does not have."""
        if not isinstance(body.get("target"), str) or not body["target"]:
            raise bad_parameter("target (an attestation token) is required")
        row = self.objects.version(vault, name, version)
        if not row.meta["attributes"].get("exportable"):
            raise forbidden(f"Key {row.name} is not exportable.", "KeyNotExportable")
        raise KeyVaultError(
            400,
            "BadParameter",
            "The target attestation token could not be verified: the twin has no attestation service.",
        )
