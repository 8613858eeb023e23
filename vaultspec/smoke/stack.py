"""Which vaults to smoke for `vaultspec smoke --stack NAME`: the stack's outputs plus its spec.

The Pulumi program exports `vaults` = {vault name: {id, uri, keys: {name: versionless key id},
secrets: {name: secret id}}} and `spec` = the spec file's path (relative to the project). They are
read from `pulumi stack output --json --stack NAME` (no `--show-secrets`: only ids are needed), or
from a file holding that JSON (`--outputs FILE`). Every vault listed is smoked against its spec; a
vault of the spec missing from the outputs, or the reverse, is a usage error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from vaultspec.spec import SpecError, load_spec
from vaultspec.spec.model import Vault

SECRET_PLACEHOLDER = "[secret]"


class OutputsError(Exception):
    """The stack's outputs cannot be read or do not have the shape the program exports."""


class VaultOutput(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    uri: str
    keys: dict[str, str] = {}
    secrets: dict[str, str] = {}


class StackOutputs(BaseModel):
    model_config = ConfigDict(extra="allow")

    vaults: dict[str, VaultOutput]
    spec: str


@dataclass(frozen=True)
class SmokeTarget:
    vault_url: str
    vault: Vault


def outputs_json(stack: str, outputs_file: Path | None) -> tuple[str, str]:
    """(JSON text, where it came from): the file, or `pulumi stack output --json --stack NAME`."""
    if outputs_file is not None:
        try:
            return outputs_file.read_text(encoding="utf-8"), str(outputs_file)
        except OSError as error:
            raise OutputsError(f"{outputs_file}: cannot read the outputs file: {error.strerror}") from None
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError(
            "the pulumi CLI is not on PATH; run `pulumi stack output --json --stack "
            f"{stack} > outputs.json` where it is, and pass --outputs outputs.json"
        )
    command = [pulumi, "stack", "output", "--json", "--stack", stack]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise OutputsError(f"`pulumi stack output --json --stack {stack}` failed: {last}")
    return done.stdout, f"pulumi stack output --stack {stack}"


def parse_outputs(text: str, origin: str) -> StackOutputs:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise OutputsError(f"{origin}: not JSON ({error})") from None
    if isinstance(data, dict) and data.get("vaults") == SECRET_PLACEHOLDER:
        raise OutputsError(
            f"{origin}: the `vaults` output is a secret; export only ids (pulumi.Output.unsecret) so smoke can read it"
        )
    try:
        return StackOutputs.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise OutputsError(f"{origin}: {where}: {first['msg']} (expected `vaults` and `spec` outputs)") from None


def resolve_spec_path(spec: str, origin_file: Path | None) -> Path:
    """The spec path as exported: relative to the working directory, else to the outputs file's folder."""
    path = Path(spec)
    if path.is_absolute() or path.exists() or origin_file is None:
        return path
    beside = origin_file.parent / path
    return beside if beside.exists() else path


def smoke_targets(outputs: StackOutputs, spec_path: Path) -> list[SmokeTarget]:
    """Pair every exported vault with its spec; raises SpecError or OutputsError."""
    spec = load_spec(spec_path)
    declared = {v.name.lower(): v for v in spec.vaults}
    exported = {name.lower(): out for name, out in outputs.vaults.items()}
    missing = sorted(set(declared) - set(exported))
    unknown = sorted(set(exported) - set(declared))
    if unknown:
        raise OutputsError(f"the stack exports vaults its spec {spec_path} does not declare: {', '.join(unknown)}")
    if missing:
        raise OutputsError(f"vaults declared in {spec_path} are missing from the stack outputs: {', '.join(missing)}")
    return [SmokeTarget(exported[name].uri, vault) for name, vault in declared.items()]


def targets_for_stack(stack: str, outputs_file: Path | None, spec_override: Path | None) -> list[SmokeTarget]:
    text, origin = outputs_json(stack, outputs_file)
    outputs = parse_outputs(text, origin)
    spec_path = spec_override or resolve_spec_path(outputs.spec, outputs_file)
    return smoke_targets(outputs, spec_path)


__all__ = ["OutputsError", "SmokeTarget", "SpecError", "StackOutputs", "targets_for_stack"]
