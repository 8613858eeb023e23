"""What `vaultspec up` made, per spec file: the offline engine's equivalent of a Pulumi checkpoint.

One JSON file per spec under `<data>/state/`, written atomically and durably (temp file, fsync,
rename, fsync of the folder) so a crash leaves either the old or the new state. Secret values
never appear in it: input fingerprints are HMACs under a per-data-dir key, and the only secret
payload (generated passwords, which must stay stable across runs) is AES-GCM encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field

STATE_VERSION = 1


class ResourceRecord(BaseModel):
    """One resource `up` created or adopted."""

    urn: str
    type: str
    name: str
    id: str
    sequence: int = Field(description="Creation order; deletes run in reverse.")
    fingerprint: str = Field(description="HMAC of the inputs last applied (secret values included, never stored).")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Inputs with secret values redacted.")
    outputs: dict[str, Any] = Field(default_factory=dict, description="Outputs with secret values redacted.")
    protect: bool = False
    sealed: dict[str, str] = Field(default_factory=dict, description="Encrypted secret outputs (generated values).")


class StackState(BaseModel):
    version: int = STATE_VERSION
    spec: str
    stack: str
    resources: dict[str, ResourceRecord] = Field(default_factory=dict)

    def next_sequence(self) -> int:
        return max((r.sequence for r in self.resources.values()), default=0) + 1

    def in_delete_order(self) -> list[ResourceRecord]:
        return sorted(self.resources.values(), key=lambda r: r.sequence, reverse=True)


class StateStore:
    """Reads and writes stack states under `<data>/state`, with the key that seals their secrets."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "state"
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._key = self._load_key()

    def _load_key(self) -> bytes:
        path = self.folder / "state.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(32))
                handle.flush()
                os.fsync(handle.fileno())
        return path.read_bytes()

    def path_for(self, spec_path: Path) -> Path:
        resolved = str(spec_path.resolve())
        digest = hashlib.sha256(resolved.encode()).hexdigest()[:16]
        return self.folder / f"{spec_path.stem}-{digest}.json"

    def load(self, spec_path: Path, stack: str) -> StackState:
        path = self.path_for(spec_path)
        if not path.exists():
            return StackState(spec=str(spec_path.resolve()), stack=stack)
        return StackState.model_validate_json(path.read_text())

    def save(self, spec_path: Path, state: StackState) -> None:
        path = self.path_for(spec_path)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(state.model_dump_json(indent=2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def delete(self, spec_path: Path) -> None:
        self.path_for(spec_path).unlink(missing_ok=True)

    def fingerprint(self, value: Any) -> str:
        """A keyed digest of `value` (canonical JSON): equal inputs, equal fingerprints; no value recoverable."""
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._key).encrypt(nonce, plaintext.encode(), context.encode())
        return base64.b64encode(nonce + sealed).decode()

    def unseal(self, token: str, context: str) -> str | None:
        """The sealed value, or None when it was sealed under another key or context (never raises)."""
        try:
            raw = base64.b64decode(token)
            return AESGCM(self._key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError):
            return None
