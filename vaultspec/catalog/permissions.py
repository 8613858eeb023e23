"""Access-policy permission names, spelled as ARM returns them (lookups are case-insensitive)."""

from __future__ import annotations

KEY_PERMISSIONS: tuple[str, ...] = (
    "all",
    "encrypt",
    "decrypt",
    "wrapKey",
    "unwrapKey",
    "sign",
    "verify",
    "get",
    "list",
    "create",
    "update",
    "import",
    "delete",
    "backup",
    "restore",
    "recover",
    "purge",
    "release",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
)

SECRET_PERMISSIONS: tuple[str, ...] = (
    "all",
    "get",
    "list",
    "set",
    "delete",
    "backup",
    "restore",
    "recover",
    "purge",
)

CERTIFICATE_PERMISSIONS: tuple[str, ...] = (
    "all",
    "get",
    "list",
    "delete",
    "create",
    "import",
    "update",
    "managecontacts",
    "getissuers",
    "listissuers",
    "setissuers",
    "deleteissuers",
    "manageissuers",
    "recover",
    "purge",
    "backup",
    "restore",
)

STORAGE_PERMISSIONS: tuple[str, ...] = (
    "all",
    "get",
    "list",
    "delete",
    "set",
    "update",
    "regeneratekey",
    "recover",
    "purge",
    "backup",
    "restore",
    "setsas",
    "listsas",
    "getsas",
    "deletesas",
)


def canonical(permission: str, allowed: tuple[str, ...]) -> str | None:
    """The canonical spelling of `permission`, or None when it is not a known permission."""
    lowered = permission.lower()
    return next((name for name in allowed if name.lower() == lowered), None)
