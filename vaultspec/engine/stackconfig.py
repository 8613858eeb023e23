"""Pulumi stack configuration for offline runs: `Pulumi.<stack>.yaml` exactly as the CLI writes it.

The offline engine renders the same program `pulumi up` runs, so it must see the same config.
Plain values are read as they are; `secure:` values use Pulumi's passphrase secrets provider
format (`encryptionsalt: v1:<salt>:v1:<nonce>:<ciphertext of "pulumi">`, values
`v1:<nonce>:<ciphertext>`, AES-256-GCM under PBKDF2-SHA256 with 1,000,000 iterations), decrypted
with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE — or, for a plan, replaced by a
placeholder so no passphrase is needed. `PULUMI_CONFIG` (JSON, as the engine hands it to
programs) and `PULUMI_CONFIG_SECRET_KEYS` override the file.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

PBKDF2_ITERATIONS = 1_000_000
PASSPHRASE_CHECK = "pulumi"
PLACEHOLDER = "[secret]"


class StackConfigError(Exception):
    """A stack config file that cannot be read or decrypted; the message never holds a secret."""


@dataclass
class StackConfig:
    """Config values keyed `namespace:key`, and which keys are secret."""

    values: dict[str, Any] = field(default_factory=dict)
    secret_keys: set[str] = field(default_factory=set)

    def as_runtime_config(self) -> dict[str, str]:
        """The string map Pulumi's runtime expects (objects and scalars JSON-encoded like the CLI does)."""
        return {key: value if isinstance(value, str) else json.dumps(value) for key, value in self.values.items()}


def _derive_key(passphrase: str, salt: bytes) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=PBKDF2_ITERATIONS)
    return kdf.derive(passphrase.encode())


def encrypt_value(key: bytes, plaintext: str) -> str:
    """`v1:<nonce>:<ciphertext>` as Pulumi's symmetric crypter writes it."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"


def decrypt_value(key: bytes, ciphertext: str) -> str:
    parts = ciphertext.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        raise StackConfigError("a secure config value is not in Pulumi's v1 format")
    try:
        nonce, sealed = base64.b64decode(parts[1]), base64.b64decode(parts[2])
        return AESGCM(key).decrypt(nonce, sealed, None).decode()
    except (InvalidTag, ValueError):
        raise StackConfigError("a secure config value cannot be decrypted with this passphrase") from None


def new_encryption_salt(passphrase: str) -> tuple[str, bytes]:
    """A fresh `encryptionsalt` state and its key (what `pulumi stack init` does for passphrase stacks)."""
    salt = os.urandom(8)
    key = _derive_key(passphrase, salt)
    return f"v1:{base64.b64encode(salt).decode()}:{encrypt_value(key, PASSPHRASE_CHECK)}", key


def key_from_encryption_salt(passphrase: str, state: str) -> bytes:
    """Derive the stack key and prove the passphrase right by decrypting the check value."""
    version, _, rest = state.partition(":")
    salt_b64, _, check = rest.partition(":")
    if version != "v1" or not check:
        raise StackConfigError("encryptionsalt is not in Pulumi's v1 format")
    key = _derive_key(passphrase, base64.b64decode(salt_b64))
    try:
        ok = decrypt_value(key, check) == PASSPHRASE_CHECK
    except StackConfigError:
        ok = False
    if not ok:
        raise StackConfigError("incorrect passphrase for this stack's encryptionsalt")
    return key


def read_passphrase() -> str | None:
    """PULUMI_CONFIG_PASSPHRASE, else the contents of PULUMI_CONFIG_PASSPHRASE_FILE, as the CLI reads them."""
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ:
        return os.environ["PULUMI_CONFIG_PASSPHRASE"]
    path = os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise StackConfigError(f"cannot read PULUMI_CONFIG_PASSPHRASE_FILE: {exc.strerror}") from None
    return None


def project_name(project_dir: Path) -> str:
    """The `name:` of the Pulumi project in `project_dir` (config keys without a namespace take it)."""
    try:
        project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StackConfigError(f"cannot read {project_dir / 'Pulumi.yaml'}: {exc}") from None
    name = project.get("name") if isinstance(project, dict) else None
    if not isinstance(name, str):
        raise StackConfigError(f"{project_dir / 'Pulumi.yaml'} has no project name")
    return name


def read_stack_config(project_dir: Path, stack: str, *, decrypt: bool) -> StackConfig:
    """Config of `stack` in the project at `project_dir`, decrypted when `decrypt` (else placeholders)."""
    namespace = project_name(project_dir)
    path = project_dir / f"Pulumi.{stack}.yaml"
    config = StackConfig()
    if path.exists():
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            raise StackConfigError(f"{path} is not valid YAML") from None
        if not isinstance(document, dict):
            raise StackConfigError(f"{path} must be a mapping")
        _read_entries(config, document, namespace, path, decrypt)
    apply_environment(config)
    return config


def _read_entries(config: StackConfig, document: dict[str, Any], namespace: str, path: Path, decrypt: bool) -> None:
    entries = document.get("config") or {}
    if not isinstance(entries, dict):
        raise StackConfigError(f"{path}: `config` must be a mapping")
    key: bytes | None = None
    for raw_key, value in entries.items():
        name = raw_key if ":" in str(raw_key) else f"{namespace}:{raw_key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config.secret_keys.add(name)
            if not decrypt:
                config.values[name] = PLACEHOLDER
                continue
            if key is None:
                key = _stack_key(document, path)
            try:
                config.values[name] = decrypt_value(key, str(value["secure"]))
            except StackConfigError as exc:
                raise StackConfigError(f"{path}: {name}: {exc}") from None
        else:
            config.values[name] = value


def _stack_key(document: dict[str, Any], path: Path) -> bytes:
    state = document.get("encryptionsalt")
    if not isinstance(state, str):
        provider = document.get("secretsprovider", "the Pulumi Cloud secrets provider")
        raise StackConfigError(
            f"{path}: secure values without `encryptionsalt` use {provider}, which needs the Pulumi CLI; "
            "pass the values in PULUMI_CONFIG instead"
        )
    passphrase = read_passphrase()
    if passphrase is None:
        raise StackConfigError(
            f"{path} holds secure values: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"
        )
    try:
        return key_from_encryption_salt(passphrase, state)
    except StackConfigError as exc:
        raise StackConfigError(f"{path}: {exc}") from None


def apply_environment(config: StackConfig) -> None:
    raw = os.environ.get("PULUMI_CONFIG")
    if raw:
        try:
            overrides = json.loads(raw)
        except json.JSONDecodeError:
            raise StackConfigError("PULUMI_CONFIG is not valid JSON") from None
        if not isinstance(overrides, dict):
            raise StackConfigError("PULUMI_CONFIG must be a JSON object")
        config.values.update(overrides)
    secret_keys = os.environ.get("PULUMI_CONFIG_SECRET_KEYS")
    if secret_keys:
        try:
            config.secret_keys.update(json.loads(secret_keys))
        except (json.JSONDecodeError, TypeError):
            raise StackConfigError("PULUMI_CONFIG_SECRET_KEYS is not a JSON list") from None
