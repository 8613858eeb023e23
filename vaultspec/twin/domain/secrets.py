"""Secrets: set, get, update, list (never values), versions, delete/recover/purge, backup/restore.

Verbs follow azure-keyvault-secrets. Values are at most 25 KiB (Key Vault's limit; 400 beyond).
A disabled secret refuses `get` (403 Forbidden / SecretDisabled). Microsoft documents that `get`
works outside a secret's nbf/exp window ("date-time controlled operations": for testing and
recovery), so the twin returns such values too; list operations never carry values.
"""

from __future__ import annotations

from typing import Any

from vaultspec.twin.domain.objects import (
    ObjectKind,
    VaultRef,
    attributes_in,
    attributes_out,
    check_name,
    new_version,
    tags_in,
)
from vaultspec.twin.errors import bad_parameter, forbidden
from vaultspec.twin.store import Store, VersionRow

MAX_SECRET_BYTES = 25 * 1024


class SecretService:
    """The secret half of a vault's data plane."""

    def __init__(self, store: Store, backup_key: bytes) -> None:
        self.store = store
        self.objects = ObjectKind(store, "secret", backup_key)

    def _properties(self, vault: VaultRef, row: VersionRow) -> dict[str, Any]:
        meta = row.meta
        out: dict[str, Any] = {
            "id": f"{vault.url}/secrets/{row.name}/{row.version}",
            "attributes": attributes_out(meta["attributes"], vault),
        }
        if meta.get("contentType") is not None:
            out["contentType"] = meta["contentType"]
        if meta.get("tags") is not None:
            out["tags"] = meta["tags"]
        return out

    def set_secret(self, vault: VaultRef, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /secrets/{name}: a new version."""
        check_name(name, "secret")
        value = body.get("value")
        if not isinstance(value, str):
            raise bad_parameter("value is required and must be a string")
        if len(value.encode("utf-8")) > MAX_SECRET_BYTES:
            raise bad_parameter("The secret value exceeds the maximum allowed size of 25 KiB.")
        content_type = body.get("contentType")
        if content_type is not None and not isinstance(content_type, str):
            raise bad_parameter("contentType must be a string")
        self.objects.ensure_name_free(vault, name)
        attrs = attributes_in(body.get("attributes"))
        attrs.pop("exportable", None)
        meta = {"contentType": content_type, "attributes": attrs, "tags": tags_in(body.get("tags"))}
        row = self.store.add_version(vault.name, "secret", name, new_version(), meta, value.encode("utf-8"))
        return {"value": value, **self._properties(vault, row)}

    def get_secret(self, vault: VaultRef, name: str, version: str = "") -> dict[str, Any]:
        """GET /secrets/{name}/{version}: the value (refused while disabled)."""
        row = self.objects.version(vault, name, version)
        if not row.meta["attributes"].get("enabled", True):
            raise forbidden("Operation get is not allowed on a disabled secret.", "SecretDisabled")
        return {"value": self.store.open_payload(row).decode("utf-8"), **self._properties(vault, row)}

    def update_secret_properties(
        self, vault: VaultRef, name: str, version: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        row = self.objects.version(vault, name, version)
        meta = dict(row.meta)
        if "contentType" in body and body["contentType"] is not None:
            if not isinstance(body["contentType"], str):
                raise bad_parameter("contentType must be a string")
            meta["contentType"] = body["contentType"]
        attrs = attributes_in(body.get("attributes"), meta["attributes"])
        attrs.pop("exportable", None)
        meta["attributes"] = attrs
        if body.get("tags") is not None:
            meta["tags"] = tags_in(body["tags"])
        return self._properties(vault, self.store.update_version_meta(row, meta))

    def list_secrets(self, vault: VaultRef) -> list[dict[str, Any]]:
        return [self._properties(vault, row) for row in self.objects.list_active(vault)]

    def list_secret_versions(self, vault: VaultRef, name: str) -> list[dict[str, Any]]:
        return [self._properties(vault, row) for row in self.objects.list_versions(vault, name)]

    def delete_secret(self, vault: VaultRef, name: str) -> dict[str, Any]:
        return self.objects.with_deletion(vault, *self.objects.delete(vault, name), self._properties)

    def get_deleted_secret(self, vault: VaultRef, name: str) -> dict[str, Any]:
        return self.objects.with_deletion(vault, *self.objects.deleted(vault, name), self._properties)

    def list_deleted_secrets(self, vault: VaultRef) -> list[dict[str, Any]]:
        deleted = self.objects.list_deleted(vault)
        return [self.objects.with_deletion(vault, obj, latest, self._properties) for obj, latest in deleted]

    def recover_deleted_secret(self, vault: VaultRef, name: str) -> dict[str, Any]:
        return self._properties(vault, self.objects.recover(vault, name))

    def purge_deleted_secret(self, vault: VaultRef, name: str) -> None:
        self.objects.purge(vault, name)

    def backup_secret(self, vault: VaultRef, name: str) -> str:
        return self.objects.backup(vault, name)

    def restore_secret_backup(self, vault: VaultRef, blob: str) -> dict[str, Any]:
        return self._properties(vault, self.objects.restore(vault, blob))
