"""The Pulumi program: the stack's spec -> one `KeyVault` per vault, plus the stack outputs.

`__main__.py` at the project root only calls `run()`, so `pulumi up`, `vaultspec plan` and
`vaultspec up` all run exactly this code.

- Spec file: config `vaultspec:spec`, else `stacks/<stack>.yaml`; relative paths are resolved
  against the project directory (where Pulumi.yaml is).
- Protection: keys and vaults are protected unless the stack name starts with `dev`; config
  `vaultspec:protect` (true/false) overrides.
- Recovery: config `vaultspec:recoverVaults` (a JSON list of vault names) recovers those soft-deleted
  vaults instead of creating them (`createMode: recover`); `vaultspec up` sets it when it finds one.
- Outputs: `vaults` = {vault: {id, uri, keys: {name: versionless key id},
  secrets: {name: versionless secret id}}} and `spec` = the spec path (relative to the project
  when inside it), which `vaultspec smoke --stack` reads.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from vaultspec.components import KeyVault, ObjectHookFactory, from_spec
from vaultspec.policies import POLICY_NAMES
from vaultspec.spec import SpecError, load_spec

CONFIG_NAMESPACE = "vaultspec"


class SpecInvalid(pulumi.RunError):
    """The stack's spec has problems; `problems` keeps them (FILE:LINE:COL) for callers that list them."""

    def __init__(self, error: SpecError) -> None:
        super().__init__(f"the spec is invalid:\n{error}")
        self.problems = error.problems


def project_dir() -> Path:
    """Where Pulumi.yaml is: the runtime's root directory when it is real, else the working directory."""
    root = pulumi.runtime.get_root_directory()
    if isinstance(root, str) and root and Path(root, "Pulumi.yaml").is_file():
        return Path(root)
    return Path.cwd()


def spec_path(configured: str | None, stack: str, base: Path) -> Path:
    path = Path(configured) if configured else Path("stacks") / f"{stack}.yaml"
    return path if path.is_absolute() else base / path


def protect_resources(configured: bool | None, stack: str) -> bool:
    """Dev stacks are disposable; everything else keeps its keys unless config says otherwise."""
    if configured is not None:
        return configured
    return not stack.lower().startswith("dev")


def run(hooks: ObjectHookFactory | None = None) -> None:
    """Build the stack: every vault of the spec, and the outputs pipelines read."""
    config = pulumi.Config(CONFIG_NAMESPACE)
    stack = pulumi.get_stack()
    base = project_dir()
    path = spec_path(config.get("spec"), stack, base)
    try:
        spec = load_spec(path, frozenset(POLICY_NAMES))  # a misspelt waiver fails here, as in `validate`
    except SpecError as error:
        raise SpecInvalid(error) from None
    protect = protect_resources(config.get_bool("protect"), stack)
    recover = {str(name).lower() for name in config.get_object("recoverVaults") or ()}
    vaults = {}
    for vault in spec.vaults:
        args = from_spec(vault, protect=protect)
        if vault.name.lower() in recover:
            args["recover"] = True
        component = KeyVault(vault.name, args, hooks=hooks)
        vaults[vault.name] = {
            "id": component.vault_id,
            "uri": component.vault_uri,
            "keys": component.key_ids,
            "secrets": component.secret_ids,
        }
    pulumi.export("vaults", vaults)
    pulumi.export("spec", _display_path(path, base))


def _display_path(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())
