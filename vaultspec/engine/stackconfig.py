"""Pulumi stack configuration for `vaultspec plan`: `Pulumi.<stack>.yaml` as the CLI writes it, never decrypted.

A plan renders the program offline without the Pulumi CLI, so it reads the stack's config file itself:
plain values as they are, `secure:` values as a placeholder (a plan never needs a secret's value, and
decrypting is the engine's job: `vaultspec up` and `pulumi up` hand secrets to the program themselves).
`PULUMI_CONFIG` (JSON, as the engine hands config to programs) and `PULUMI_CONFIG_SECRET_KEYS`
override the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER = "[secret]"


class StackConfigError(Exception):
    """A stack config file that cannot be read; the message never holds a secret."""


@dataclass
class StackConfig:
    """Config values keyed `namespace:key`, and which keys are secret."""

    values: dict[str, Any] = field(default_factory=dict)
    secret_keys: set[str] = field(default_factory=set)

    def as_runtime_config(self) -> dict[str, str]:
        """The string map Pulumi's runtime expects (objects and scalars JSON-encoded like the CLI does)."""
        return {key: value if isinstance(value, str) else json.dumps(value) for key, value in self.values.items()}


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


def read_stack_config(project_dir: Path, stack: str) -> StackConfig:
    """Config of `stack` in the project at `project_dir`, secure values as placeholders."""
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
        entries = document.get("config") or {}
        if not isinstance(entries, dict):
            raise StackConfigError(f"{path}: `config` must be a mapping")
        for raw_key, value in entries.items():
            name = raw_key if ":" in str(raw_key) else f"{namespace}:{raw_key}"
            if isinstance(value, dict) and set(value) == {"secure"}:
                config.secret_keys.add(name)
                config.values[name] = PLACEHOLDER
            else:
                config.values[name] = value
    apply_environment(config)
    return config


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
