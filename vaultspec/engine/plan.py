"""`vaultspec plan PATH [--json] [--policy-config FILE]`: the real program rendered offline, then policy.

Renders `vaultspec.program.run` for the spec (a dry run under mocks with realistic Azure
outputs, see `vaultspec.engine.render`), runs the policy pack over the resources, and prints a
table (default) or JSON:

    {"resources": [{"urn", "type", "name", "parent", "inputs"}],
     "violations": [{"policy", "level", "urn", "message"}]}

`parent` is the parent's URN (null for top-level resources); inputs use azure-native's wire
names (camelCase) and every secret input prints as "[secret]".

Config of the rendered program: `Pulumi.<stack>.yaml` next to the project's Pulumi.yaml (the
stack is the spec file's stem: stacks/dev.yaml -> dev); plain values as they are, `secure:`
values as secret placeholders (no passphrase needed); the `PULUMI_CONFIG` environment variable
(a JSON object of `namespace:key` -> value, as the Pulumi CLI hands config to programs)
overrides the file. A secret the spec reads from config or the environment that is missing is a
warning and an unknown value, as in a Pulumi preview of this program.

Exit codes: 0 ok; 2 spec, config or program error; 3 a mandatory policy is violated (unwaived).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from vaultspec.catalog.roles import find_role
from vaultspec.engine.stackconfig import StackConfigError

if TYPE_CHECKING:  # renderer and analyzer import Pulumi (~1 s): only `vaultspec plan` pays for them
    from vaultspec.engine.analyzer import Verdict
    from vaultspec.engine.recording import RenderedResource, Rendering

EXIT_SPEC_ERROR = 2
EXIT_POLICY_VIOLATION = 3


def policy_inputs(value: Any, unknown: str) -> Any:
    """Inputs as the policy engine sees them at preview: secrets as "[secret]", unknowns as its sentinel."""
    from vaultspec.engine.values import UNKNOWN, Concealed  # imported once per call, not once per value

    return _policy_value(value, unknown, Concealed, UNKNOWN)


def _policy_value(value: Any, unknown: str, concealed: type, marker: object) -> Any:
    if isinstance(value, concealed):
        return "[secret]"
    if value is marker:
        return unknown
    if isinstance(value, dict):
        return {k: _policy_value(v, unknown, concealed, marker) for k, v in value.items()}
    if isinstance(value, list):
        return [_policy_value(v, unknown, concealed, marker) for v in value]
    return value


def policy_subjects(resources: Sequence[RenderedResource]) -> list[dict[str, Any]]:
    """Rendered resources as the offline analyzer takes them (inputs as the engine shows them at preview)."""
    from vaultspec.engine.analyzer import UNKNOWN

    return [
        {
            "type": r.type,
            "name": r.name,
            "urn": r.urn,
            "parent": r.parent,
            "inputs": policy_inputs(r.inputs, UNKNOWN),
            "dependencies": r.dependencies,
            "property_dependencies": r.property_dependencies,
        }
        for r in resources
    ]


def evaluate_policies(resources: Sequence[RenderedResource], policy_config: Path | None) -> list[Verdict]:
    """The vaultspec policy pack's verdicts on rendered resources (pulumi-policy's own analyzer,
    in-process: `vaultspec.engine.analyzer`). Raises `PolicyConfigError` for a bad config file."""
    from vaultspec.engine import analyzer

    config = analyzer.load_policy_config(policy_config) if policy_config is not None else None
    return analyzer.analyze(policy_subjects(resources), config)


def run_plan(path: Path, policy_config: Path | None = None) -> tuple[Rendering, list[Verdict]]:
    """Render the program for `path` (a dry run) and evaluate the policy pack on the result.

    Raises `RenderError` (a `SpecInvalid` cause carries the spec's problems), `StackConfigError`
    or `PolicyConfigError`.
    """
    from vaultspec.engine.render import render_spec

    rendering = render_spec(path)
    return rendering, evaluate_policies(rendering.resources, policy_config)


def plan_document(rendering: Rendering, violations: Sequence[Verdict]) -> dict[str, Any]:
    """The `--json` contract (DESIGN.md), secrets as "[secret]"."""
    from vaultspec.engine.values import printable

    stack_urn = rendering.stack_urn
    return {
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": None if r.parent in (None, stack_urn) else r.parent,
                "inputs": printable(r.inputs),
            }
            for r in rendering.resources
        ],
        "violations": [v.model_dump() for v in violations],
    }


def _kind(token: str) -> str:
    """The type's last segment (`azure-native:keyvault:Vault` -> `Vault`); the JSON has full tokens."""
    return token.rsplit(":", 1)[-1]


def _get(values: dict[str, Any], path: str) -> Any:
    current: Any = values
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_fmt(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _date(value: Any) -> str:
    if isinstance(value, int):
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d")
    return str(value)


def _role(value: Any) -> str:
    guid = str(value).rsplit("/", 1)[-1]
    role = find_role(guid)
    return role.name if role else guid


def _last_segment(value: Any) -> str:
    return str(value).rsplit("/", 1)[-1]


SUMMARY_FIELDS: dict[str, tuple[tuple[str, str, Callable[[Any], str]], ...]] = {
    "azure-native:keyvault:Vault": (
        ("sku", "properties.sku.name", _fmt),
        ("rbac", "properties.enableRbacAuthorization", _fmt),
        ("publicNetworkAccess", "properties.publicNetworkAccess", _fmt),
        ("firewall", "properties.networkAcls.defaultAction", _fmt),
        ("bypass", "properties.networkAcls.bypass", _fmt),
        ("softDeleteDays", "properties.softDeleteRetentionInDays", _fmt),
        ("purgeProtection", "properties.enablePurgeProtection", _fmt),
    ),
    "azure-native:keyvault:Key": (
        ("kty", "properties.kty", _fmt),
        ("size", "properties.keySize", _fmt),
        ("curve", "properties.curveName", _fmt),
        ("ops", "properties.keyOps", _fmt),
        ("expires", "properties.attributes.expires", _date),
    ),
    "azure-native:keyvault:Secret": (
        ("value", "properties.value", _fmt),
        ("contentType", "properties.contentType", _fmt),
        ("expires", "properties.attributes.expires", _date),
    ),
    "azure-native:authorization:RoleAssignment": (
        ("role", "roleDefinitionId", _role),
        ("principal", "principalId", _fmt),
        ("type", "principalType", _fmt),
    ),
    "azure-native:monitor:DiagnosticSetting": (("workspace", "workspaceId", _last_segment),),
    "azure-native:authorization:ManagementLockByScope": (("level", "level", _fmt),),
    "random:index/randomPassword:RandomPassword": (("length", "length", _fmt), ("special", "special", _fmt)),
}


def summary(resource: RenderedResource) -> str:
    """The inputs that matter for review, one line; secrets as [secret]."""
    inputs = resource.printable_inputs()
    fields = SUMMARY_FIELDS.get(resource.type)
    if fields is None:
        fields = tuple((k, k, _fmt) for k, v in inputs.items() if not isinstance(v, (dict, list)))[:4]
    parts = [f"{label}={show(value)}" for label, path, show in fields if (value := _get(inputs, path)) is not None]
    if resource.type == "azure-native:keyvault:Vault":
        policies = _get(inputs, "properties.accessPolicies")
        if policies is not None:
            parts.append(f"accessPolicies={len(policies)}")
    return " ".join(parts)


def plan_table(rendering: Rendering) -> Table:
    """One row per resource; names shown relative to their parent's (`payments-kv/keys/a` -> `keys/a`)."""
    names = {r.urn: r.name for r in rendering.resources}
    table = Table(title=f"vaultspec plan: stack {rendering.stack} ({len(rendering.resources)} resources)", expand=True)
    table.add_column("type", no_wrap=True)
    table.add_column("name", overflow="fold", ratio=3)
    table.add_column("parent", overflow="fold", ratio=2)
    table.add_column("inputs", overflow="fold", ratio=4)
    for index, resource in enumerate(rendering.resources):
        parent = names.get(resource.parent or "", "")
        if index and not parent:
            table.add_section()
        name = resource.name
        if parent and name.startswith(f"{parent}/"):
            name = name[len(parent) + 1 :]
        table.add_row(Text(_kind(resource.type)), Text(name), Text(parent), Text(summary(resource)))
    return table


def violations_table(violations: Sequence[Verdict]) -> Table:
    table = Table(title="policy verdicts", expand=True)
    for column in ("policy", "level", "resource", "message"):
        table.add_column(column, overflow="fold")
    for v in violations:
        level = f"{v.level} (waived: {v.reason})" if v.waived else v.level
        table.add_row(Text(v.policy), Text(level), Text(v.urn.rsplit("::", 1)[-1]), Text(v.message))
    return table


def policy_summary(violations: Sequence[Verdict]) -> Text:
    waived = sum(v.waived for v in violations)
    blocking = sum(v.level == "mandatory" and not v.waived for v in violations)
    others = len(violations) - waived - blocking
    if not violations:
        return Text("policy: every rule passed")
    return Text(f"policy: {blocking} blocking (mandatory), {others} advisory, {waived} waived")


def spec_notes(path: Path) -> list[str]:
    """What the spec itself tells before anything is applied: its warnings (`FILE:LINE:COL: warning: ...`)
    and the vaults smoke will not reach from outside their network (`note: ...`)."""
    from vaultspec.smoke.reach import before_apply
    from vaultspec.spec import check_spec

    checked = check_spec(path)
    notes = [str(warning) for warning in checked.warnings]
    notes += [f"note: {verdict.note(name)}" for name, verdict in before_apply(checked.spec).items()]
    return notes


def plan_command(
    path: Annotated[Path, typer.Argument(help="The stack's spec file (stacks/<stack>.yaml).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    policy_config: Annotated[
        Path | None, typer.Option("--policy-config", help="Policy pack configuration (JSON).")
    ] = None,
) -> None:
    """Render the Pulumi program offline for a spec and check it against the policy pack."""
    from vaultspec.engine.analyzer import PolicyConfigError, blocking_verdicts
    from vaultspec.engine.render import RenderError
    from vaultspec.program import SpecInvalid

    if policy_config is not None and not policy_config.is_file():
        typer.echo(f"{policy_config}: no such policy config file", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR)
    try:
        rendering, violations = run_plan(path, policy_config)
    except RenderError as error:
        if isinstance(error.__cause__, SpecInvalid):  # the program's own spec check: FILE:LINE:COL lines
            for problem in error.__cause__.problems:
                typer.echo(str(problem), err=True)
        else:
            typer.echo(f"{path}: {error}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    except StackConfigError as error:
        typer.echo(f"{path}: {error}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    except PolicyConfigError as error:
        for line in error.errors:
            typer.echo(f"{policy_config}: {line}", err=True)
        raise typer.Exit(EXIT_SPEC_ERROR) from None
    for warning in rendering.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for line in spec_notes(path):
        typer.echo(line, err=True)
    if json_output:
        typer.echo(json.dumps(plan_document(rendering, violations), indent=2, sort_keys=True))
    else:
        console = Console(highlight=False)
        console.print(plan_table(rendering))
        if violations:
            console.print(violations_table(violations))
        console.print(policy_summary(violations))
    if blocking_verdicts(violations):
        raise typer.Exit(EXIT_POLICY_VIOLATION)
