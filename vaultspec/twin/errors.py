"""Errors shaped like the real services' (moto's `exceptions.py`).

Data plane: `{"error":{"code","message","innererror":{"code"}}}` with the status Key Vault uses.
ARM: `{"error":{"code","message","target","details":[]}}`. Messages never carry secret values,
key material or tokens: callers build them from names and ids only.
"""

from __future__ import annotations

from typing import Any


class KeyVaultError(Exception):
    """A data-plane failure: HTTP status + Key Vault error code (+ optional inner code)."""

    def __init__(self, status: int, code: str, message: str, inner: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner = inner

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner:
            error["innererror"] = {"code": self.inner}
        return {"error": error}


def bad_parameter(message: str) -> KeyVaultError:
    return KeyVaultError(400, "BadParameter", message)


def key_not_found(name: str, version: str = "") -> KeyVaultError:
    ident = f"{name}/{version}" if version else name
    return KeyVaultError(
        404,
        "KeyNotFound",
        f"A key with (name/id) {ident} was not found in this key vault. If you recently deleted this "
        "key you may be able to recover it using the correct recovery command.",
    )


def secret_not_found(name: str, version: str = "") -> KeyVaultError:
    ident = f"{name}/{version}" if version else name
    return KeyVaultError(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {ident} was not found in this key vault. If you recently deleted "
        "this secret you may be able to recover it using the correct recovery command.",
    )


def not_found(kind: str, name: str, version: str = "") -> KeyVaultError:
    return key_not_found(name, version) if kind == "key" else secret_not_found(name, version)


def deleted_not_found(kind: str, name: str) -> KeyVaultError:
    label = "Key" if kind == "key" else "Secret"
    return KeyVaultError(404, f"{label}NotFound", f"Deleted {kind} not found: {name}")


def forbidden(message: str, inner: str) -> KeyVaultError:
    return KeyVaultError(403, "Forbidden", message, inner)


class ArmError(Exception):
    """A control-plane failure with ARM's error body."""

    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "target": self.target, "details": []}}


def arm_bad_request(message: str, target: str | None = None, code: str = "BadRequest") -> ArmError:
    return ArmError(400, code, message, target)


def arm_not_found(resource_type: str, name: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' was not found.",
        name,
    )
