"""What keys and secrets share: versions, soft delete, recover, purge, backup envelopes, paging.

`ObjectKind` works on one kind ("key" or "secret") in one vault. It enforces Key Vault's
lifecycle rules: a name that is soft-deleted cannot be reused (409 ObjectIsDeletedButRecoverable)
until it is recovered or purged; a deleted object is visible at once under /deleted*; purge is
refused while the vault has purge protection (until the scheduled purge date); deleted objects
past their scheduled purge date disappear on their own. A backup restores only into a vault of the same
subscription and Azure geography (Key Vault's REST reference for Backup Key and Restore Key); anything
else is refused as Key Vault refuses a foreign blob, "Cannot decrypt backup blob." (400 BadParameter).
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vaultspec.twin.domain.geographies import geography
from vaultspec.twin.errors import KeyVaultError, bad_parameter, deleted_not_found, forbidden, not_found
from vaultspec.twin.store import ObjectRow, Sealer, Store, VersionRow

NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
MAX_PAGE = 25
BACKUP_MAGIC = b"VSTB1"


def now() -> int:
    return int(time.time())


def new_version() -> str:
    return uuid.uuid4().hex


def check_name(name: str, kind: str) -> None:
    if not NAME_RE.fullmatch(name or ""):  # fullmatch: `$` would let a trailing newline through
        raise bad_parameter(
            f"The request URI contains an invalid name: {name[:127]!r}. A {kind} name must be 1-127 "
            "characters from 0-9, a-z, A-Z and '-'."
        )


@dataclass(frozen=True)
class VaultRef:
    """What object rules need from a vault (see domain/vaults.py)."""

    name: str
    url: str  # https://NAME.vault.localhost:PORT (no trailing slash)
    retention_days: int
    purge_protection: bool
    premium: bool
    subscription: str = ""  # where a backup may be restored: the same subscription ...
    location: str = ""  # ... and the same Azure geography (`geographies`)

    @property
    def recovery_level(self) -> str:
        level = "Recoverable" if self.retention_days >= 90 else "CustomizedRecoverable"
        return level if self.purge_protection else f"{level}+Purgeable"


def attributes_out(stored: dict[str, Any], vault: VaultRef) -> dict[str, Any]:
    """Stored attributes + the vault-derived recovery fields, null fields dropped."""
    out = {k: v for k, v in stored.items() if v is not None}
    out["recoverableDays"] = vault.retention_days
    out["recoveryLevel"] = vault.recovery_level
    return out


def attributes_in(raw: dict[str, Any] | None, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate settable attributes (enabled, nbf, exp, exportable); read-only ones are ignored."""
    if raw is not None and not isinstance(raw, dict):
        raise bad_parameter("attributes must be an object")
    attrs = dict(current or {"enabled": True})
    for field in ("enabled", "exportable"):
        if raw and raw.get(field) is not None:
            if not isinstance(raw[field], bool):
                raise bad_parameter(f"attributes.{field} must be a boolean")
            attrs[field] = raw[field]
    for field in ("nbf", "exp"):
        if raw and field in raw:
            value = raw[field]
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or (isinstance(value, float) and not math.isfinite(value))  # JSON NaN / Infinity
            ):
                raise bad_parameter(f"attributes.{field} must be a Unix time in seconds")
            attrs[field] = int(value) if value is not None else None
    if attrs.get("nbf") is not None and attrs.get("exp") is not None and attrs["nbf"] > attrs["exp"]:
        raise bad_parameter("attributes.nbf must not be later than attributes.exp")
    stamp = now()
    attrs.setdefault("created", stamp)
    attrs["updated"] = stamp
    return attrs


def tags_in(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise bad_parameter("tags must be an object of string values")
    if len(raw) > 15:
        raise bad_parameter("at most 15 tags are allowed")
    return raw


def page(items: list[Any], maxresults: int | None, skiptoken: str | None) -> tuple[list[Any], str | None]:
    """Key Vault paging: at most `maxresults` (1..25) per page; the token is an opaque offset."""
    size = MAX_PAGE if maxresults is None else maxresults
    if not 1 <= size <= MAX_PAGE:
        raise bad_parameter("maxresults must be between 1 and 25")
    start = 0
    if skiptoken:
        try:
            start = int(skiptoken)
        except ValueError as exc:
            raise bad_parameter("$skiptoken is not valid") from exc
        if start < 0:
            raise bad_parameter("$skiptoken is not valid")
    chunk = items[start : start + size]
    token = str(start + size) if start + size < len(items) else None
    return chunk, token


class ObjectKind:
    """Lifecycle of one kind of object ("key" or "secret") across vaults."""

    def __init__(self, store: Store, kind: str, backup_key: bytes) -> None:
        self.store = store
        self.kind = kind
        self._backup = Sealer(backup_key)

    def with_deletion(
        self,
        vault: VaultRef,
        obj: ObjectRow,
        latest: VersionRow,
        view: Callable[[VaultRef, VersionRow], dict[str, Any]],
    ) -> dict[str, Any]:
        """`view` of a deleted key's or secret's latest version (a bundle or a list item) with what
        deletion adds: the recovery id and the deletion and purge dates."""
        return {
            **view(vault, latest),
            "recoveryId": f"{vault.url}/deleted{self.kind}s/{latest.name}",
            "deletedDate": int(obj.deleted_at or 0),
            "scheduledPurgeDate": int(obj.purge_at) if obj.purge_at else None,
        }

    # -- lookups -------------------------------------------------------------------------------
    def _object(self, vault: VaultRef, name: str) -> ObjectRow | None:
        row = self.store.get_object(vault.name, self.kind, name)
        if row is not None and row.purge_at is not None and row.purge_at <= time.time():
            self.store.purge_object(vault.name, self.kind, name)
            return None
        return row

    def active(self, vault: VaultRef, name: str) -> ObjectRow:
        row = self._object(vault, name)
        if row is None or row.deleted_at is not None:
            raise not_found(self.kind, name)
        return row

    def version(self, vault: VaultRef, name: str, version: str = "") -> VersionRow:
        """A version of an active object (the latest for ""); cached until the next commit, never mutate it."""
        key = ("version", self.kind, vault.name.lower(), name.lower(), version.lower())
        return self.store.cached(key, lambda: self._version(vault, name, version))

    def _version(self, vault: VaultRef, name: str, version: str) -> VersionRow:
        self.active(vault, name)
        row = self.store.get_version(vault.name, self.kind, name, version)
        if row is None:
            raise not_found(self.kind, name, version)
        return row

    def deleted(self, vault: VaultRef, name: str) -> tuple[ObjectRow, VersionRow]:
        row = self._object(vault, name)
        if row is None or row.deleted_at is None:
            raise deleted_not_found(self.kind, name)
        latest = self.store.get_version(vault.name, self.kind, name)
        assert latest is not None
        return row, latest

    def ensure_name_free(self, vault: VaultRef, name: str) -> None:
        row = self._object(vault, name)
        if row is not None and row.deleted_at is not None:
            label = self.kind.capitalize()
            raise KeyVaultError(
                409,
                "Conflict",
                f"{label} {name} is currently in a deleted but recoverable state, and its name cannot be "
                f"reused; in this state, the {self.kind} can only be recovered or purged.",
                "ObjectIsDeletedButRecoverable",
            )

    def list_active(self, vault: VaultRef) -> list[VersionRow]:
        out = []
        for obj in self.store.list_objects(vault.name, self.kind, deleted=False):
            latest = self.store.get_version(vault.name, self.kind, obj.name)
            if latest is not None:
                out.append(latest)
        return out

    def list_deleted(self, vault: VaultRef) -> list[tuple[ObjectRow, VersionRow]]:
        out = []
        for obj in self.store.list_objects(vault.name, self.kind, deleted=True):
            if obj.purge_at is not None and obj.purge_at <= time.time():
                self.store.purge_object(vault.name, self.kind, obj.name)
                continue
            latest = self.store.get_version(vault.name, self.kind, obj.name)
            if latest is not None:
                out.append((obj, latest))
        return out

    def list_versions(self, vault: VaultRef, name: str) -> list[VersionRow]:
        self.active(vault, name)
        return self.store.list_versions(vault.name, self.kind, name)

    # -- lifecycle -----------------------------------------------------------------------------
    def delete(self, vault: VaultRef, name: str) -> tuple[ObjectRow, VersionRow]:
        obj = self.active(vault, name)
        stamp = now()
        row = ObjectRow(obj.vault, obj.kind, obj.name, stamp, stamp + vault.retention_days * 86400, obj.policy)
        self.store.put_object(row)
        latest = self.store.get_version(vault.name, self.kind, name)
        assert latest is not None
        return row, latest

    def recover(self, vault: VaultRef, name: str) -> VersionRow:
        obj, latest = self.deleted(vault, name)
        self.store.put_object(ObjectRow(obj.vault, obj.kind, obj.name, None, None, obj.policy))
        return latest

    def purge(self, vault: VaultRef, name: str) -> None:
        obj, _ = self.deleted(vault, name)
        if vault.purge_protection:
            raise forbidden(
                f'Operation "purge" is not allowed on {self.kind} {name}: the vault has purge protection '
                "enabled, so it is purged automatically at its scheduled purge date.",
                "PurgeProtectionEnabled",
            )
        self.store.purge_object(vault.name, self.kind, obj.name)

    def set_policy(self, vault: VaultRef, name: str, policy: dict[str, Any]) -> None:
        obj = self.active(vault, name)
        self.store.put_object(ObjectRow(obj.vault, obj.kind, obj.name, None, None, policy))

    # -- backup / restore ----------------------------------------------------------------------
    def backup(self, vault: VaultRef, name: str) -> str:
        """An opaque, encrypted and authenticated blob of every version (base64url)."""
        obj = self.active(vault, name)
        versions = self.store.list_versions(vault.name, self.kind, name)
        document = {
            "kind": self.kind,
            "name": obj.name,
            "origin": {"subscription": vault.subscription, "location": vault.location},
            "policy": obj.policy,
            "versions": [
                {
                    "version": v.version,
                    "meta": v.meta,
                    "payload": base64.b64encode(self.store.open_payload(v)).decode(),
                }
                for v in versions
            ],
        }
        sealed = self._backup.seal(json.dumps(document).encode(), f"vaultspec-twin-backup/{self.kind}")
        return base64.urlsafe_b64encode(BACKUP_MAGIC + sealed).rstrip(b"=").decode()

    def _check_origin(self, vault: VaultRef, origin: dict[str, Any]) -> None:
        why = _origin_refused(vault, origin)
        if why is not None:
            raise bad_parameter(
                f"Cannot decrypt backup blob. Key Vault restores a {self.kind} backup only within the "
                f"subscription and Azure geography it was made in: {why}."
            )

    def restore(
        self, vault: VaultRef, blob: str, check_meta: Callable[[dict[str, Any]], None] | None = None
    ) -> VersionRow:
        """Restore every version of a backup; `check_meta` may refuse a version before anything is written."""
        try:
            raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
            if not raw.startswith(BACKUP_MAGIC):
                raise ValueError("magic")
            document = json.loads(self._backup.open(raw[len(BACKUP_MAGIC) :], f"vaultspec-twin-backup/{self.kind}"))
        except Exception as exc:  # any tampering or foreign blob is the caller's mistake
            raise bad_parameter(f"Backup blob could not be restored: it is not a valid {self.kind} backup.") from exc
        if "origin" in document:  # blobs of twins before origins were recorded restore anywhere
            self._check_origin(vault, document["origin"])
        name = document["name"]
        if self._object(vault, name) is not None:
            raise KeyVaultError(
                409,
                "Conflict",
                f"There was a conflict restoring the {self.kind} '{name}'. Probably the {self.kind} already "
                "exists, is in a deleted state, or is being deleted.",
            )
        if check_meta is not None:
            for item in document["versions"]:
                check_meta(item["meta"])
        last: VersionRow | None = None
        with self.store.transaction():
            for item in document["versions"]:
                last = self.store.add_version(
                    vault.name,
                    self.kind,
                    name,
                    item["version"],
                    item["meta"],
                    base64.b64decode(item["payload"]),
                )
            if document.get("policy"):
                self.store.put_object(ObjectRow(vault.name, self.kind, name, None, None, document["policy"]))
        assert last is not None
        return last


def _origin_refused(vault: VaultRef, origin: dict[str, Any]) -> str | None:
    """Why a backup made in `origin` may not be restored into `vault` (None: it may)."""
    if str(origin.get("subscription", "")).lower() != vault.subscription.lower():
        return "it was made in another subscription"
    source, target = geography(str(origin.get("location", ""))), geography(vault.location)
    if source != target:
        return (
            f"it was made in geography '{source}' ({origin.get('location')}), and vault '{vault.name}' is in "
            f"'{target}' ({vault.location})"
        )
    return None


def backup_key_from_master(master: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"vaultspec-twin-backup-v1").derive(master)
