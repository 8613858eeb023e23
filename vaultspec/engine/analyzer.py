"""Offline host of the policy pack: the verdicts `pulumi preview --policy-pack policies` would give.

No CLI exists on these machines, so `vaultspec plan` runs the pack here, and it runs it the way the
engine does: through pulumi-policy's own analyzer servicer (the gRPC servicer the CLI talks to),
with real `pulumi.runtime.proto` messages. Dispatch, enforcement levels, the "can't run during
preview" downgrade and the pack's metadata are therefore pulumi-policy's, not re-implemented.
What the engine does around the servicer is mirrored from pulumi/pulumi and named where it is:

- config: `ReconcilePolicyPackConfig` (pkg/resource/analyzer/config.go) — schema defaults, then
  the pack's initial config, then the given config (`all` first, then per policy), validated
  against each policy's JSON schema; the result goes to `Configure`;
- `Analyze` per resource with its inputs, then `AnalyzeStack` with every resource's *outputs*
  (step_generator.go). Without given outputs, the outputs are what pulumi-azure-native returns at
  preview (`PreviewOutputs`): each output name taken from the inputs when present there, unknown
  otherwise (so a Key's `kty` is unknown: it is an input under `properties`);
- verdict URNs: resource diagnostics belong to the analyzed resource; stack diagnostics to the
  URN they name when it is in the stack, else to the root stack (`resolveStackPolicyViolationURN`);
  `remediate` is reported as `mandatory` (the pack has no remediations).

Speed (a plan of ~1,300 resources; `bench/plan_render.py`, `bench/policies_analyze.py`): the
servicer unmarshals a request's Struct into dicts and unknown-checking proxies once for every
enabled policy before calling it, and that is most of the cost. So the host

- routes each resource past the resource policies that cannot judge its type: per group of types,
  a `Configure` that disables the others (`PolicyHost._routes` says why verdicts, their order and
  the pack's input ledger stay exactly as under the engine's single `Configure`);
  `analyze(..., route_by_type=False)` keeps the engine's plain call order, and the tests compare both;
- derives what depends only on the pack once (schema defaults, compiled config validators, the
  initial config); each run's config is still reconciled and validated from scratch;
- pauses Python's cyclic garbage collector during a run (`_collector_paused`).
What stays is pulumi-policy's own work: one unmarshalling per resource and judging policy, and one
of the whole stack per stack policy.

Secret inputs: pass them as the plan shows them (`"[secret]"`); the pack never reads secret values
(a Secret's `properties.value`), and no verdict message contains a property value either way.
Unknown inputs (computed at preview): pass `UNKNOWN`, the engine's wire sentinel.

Waived findings arrive as advisory diagnostics whose message lists them (see
`vaultspec.policies.waivers`); they become verdicts with `waived=True` and the reason. A stack
diagnostic may list several waived or unchecked items: each becomes its own verdict.

Public API:

    analyze(resources, policy_config=None) -> list[Verdict]      # resources: RenderedResource | dict
    policy_host().analyze(resources, config, route_by_type=True)  # the same; False: engine call order
    has_blocking_violation(verdicts) -> bool                      # any unwaived mandatory -> exit 3
    blocking_verdicts(verdicts) -> list[Verdict]
    load_policy_config(path) -> dict                              # --policy-config FILE (JSON)
    PolicyConfigError (.errors: list[str]), RenderedResource, Verdict, UNKNOWN, policy_host()
"""

from __future__ import annotations

import copy
import gc
import importlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
from pydantic import BaseModel, ConfigDict, Field

from vaultspec.policies import pack
from vaultspec.policies.ledger import LEDGER
from vaultspec.policies.waivers import parse_notice
from vaultspec.policies.wire import is_type, same_group, text

UNKNOWN = UNKNOWN_STRING_VALUE
Level = Literal["advisory", "mandatory", "remediate", "disabled"]
LEVELS: tuple[Level, ...] = ("advisory", "mandatory", "remediate", "disabled")
_TO_PROTO = {
    "advisory": proto.ADVISORY,
    "mandatory": proto.MANDATORY,
    "remediate": proto.REMEDIATE,
    "disabled": proto.DISABLED,
}
_FROM_PROTO: dict[int, Level] = {value: name for name, value in _TO_PROTO.items()}  # type: ignore[misc]
_PREVIEW_PREFIX = re.compile(r"^can't run policy '[^']*' from policy pack '[^']*' during preview: ", re.DOTALL)
_AZURE_NATIVE = re.compile(r"^azure-native:(?P<module>[A-Za-z0-9]+)(?:/(?P<version>v[0-9A-Za-z]+))?:(?P<name>\w+)$")
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
_RUN_LOCK = threading.Lock()


class RenderedResource(BaseModel):
    """One registered resource, as the plan renders it (wire-format camelCase inputs)."""

    model_config = ConfigDict(extra="ignore")

    type: str
    name: str
    urn: str
    parent: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] | None = Field(
        None, description="Outputs to judge stack rules on; default: what azure-native returns at preview."
    )
    dependencies: list[str] = Field(default_factory=list)
    property_dependencies: dict[str, list[str]] = Field(default_factory=dict)


class Verdict(BaseModel):
    """One policy result, as `vaultspec plan --json` prints it."""

    policy: str
    level: Level
    urn: str
    message: str
    waived: bool = False
    reason: str | None = None

    @property
    def blocking(self) -> bool:
        """An unwaived mandatory violation: it fails the run (exit 3)."""
        return self.level == "mandatory" and not self.waived


class PolicyConfigError(ValueError):
    """The policy-pack config is invalid; `errors` are `<policy>: <message>` lines, as the CLI prints."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid policy pack config:\n" + "\n".join(self.errors))


@dataclass
class PolicyConfigEntry:
    """One entry of a policy-pack config: an enforcement level and/or properties."""

    level: Level | None = None
    properties: dict[str, Any] | None = None


def blocking_verdicts(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [verdict for verdict in verdicts if verdict.blocking]


def has_blocking_violation(verdicts: Iterable[Verdict]) -> bool:
    """True when any unwaived mandatory violation exists (`vaultspec plan` exits 3)."""
    return any(verdict.blocking for verdict in verdicts)


def load_policy_config(path: Path | str) -> dict[str, Any]:
    """Read a `--policy-pack-config` JSON file; errors name the file (PolicyConfigError)."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8") or "{}")
    except OSError as error:
        raise PolicyConfigError([f"{file}: cannot read: {error.strerror or error}"]) from None
    except json.JSONDecodeError as error:
        raise PolicyConfigError([f"{file}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}"]) from None
    if not isinstance(data, dict):
        raise PolicyConfigError([f"{file}: the policy config must be a JSON object"])
    return data


def parse_policy_config(config: Mapping[str, Any] | None) -> dict[str, PolicyConfigEntry]:
    """Pulumi's policy-pack-config format: `{"all": level, "<policy>": level | {enforcementLevel?, ...}}`."""
    result: dict[str, PolicyConfigEntry] = {}
    errors: list[str] = []
    for key, value in (config or {}).items():
        if key == "environments":
            errors.append("environments: Pulumi ESC environments cannot be resolved offline")
            continue
        if isinstance(value, str):
            if value not in LEVELS:
                errors.append(f'parsing enforcement level for "{key}": "{value}" is not a valid enforcement level')
                continue
            result[key] = PolicyConfigEntry(level=value)  # type: ignore[arg-type]
        elif isinstance(value, Mapping):
            properties = dict(value)
            level = properties.pop("enforcementLevel", None)
            if level is not None and level not in LEVELS:
                errors.append(f'parsing enforcement level for "{key}": {json.dumps(level)} is not a valid level')
                continue
            if level is None and not properties:
                continue
            result[key] = PolicyConfigEntry(level=level, properties=properties or None)
        else:
            errors.append(f'parsing "{key}": {json.dumps(value)} is not a valid value; must be a string or object')
    if errors:
        raise PolicyConfigError(errors)
    return result


def _integral(value: Any) -> Any:
    """Struct numbers are floats; give integral ones back as ints (JSON Schema `integer`, messages)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def _struct(values: Mapping[str, Any], what: str) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    try:
        message.update(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{what}: inputs are not JSON-like values ({error})") from None
    return message


@cache
def _output_names(resource_type: str) -> tuple[str, ...] | None:
    """Output property names of an azure-native resource class, from the installed SDK; else None."""
    match = _AZURE_NATIVE.match(resource_type)
    if match is None:
        return None
    module = f"pulumi_azure_native.{match['module']}" + (f".{match['version']}" if match["version"] else "")
    try:
        cls = getattr(importlib.import_module(module), match["name"], None)
    except ImportError:
        return None
    if not isinstance(cls, type):
        return None
    names = (
        getattr(member.fget, "_pulumi_name", None) for member in vars(cls).values() if isinstance(member, property)
    )
    return tuple(name for name in names if isinstance(name, str))


def preview_outputs(resource: RenderedResource) -> dict[str, Any]:
    """The outputs the engine hands `AnalyzeStack` for this resource (see module docstring)."""
    if resource.outputs is not None:
        return resource.outputs
    names = _output_names(resource.type)
    if names is None:
        return resource.inputs
    return {name: resource.inputs.get(name, UNKNOWN) for name in names}


def root_stack_urn(resources: Sequence[RenderedResource]) -> str:
    """The stack resource's URN (where stack-level verdicts go), derived from any URN when absent."""
    for resource in resources:
        if resource.type == ROOT_STACK_TYPE and not resource.parent:
            return resource.urn
    for resource in resources:
        parts = resource.urn.split("::")
        if len(parts) >= 4 and parts[0].startswith("urn:pulumi:"):
            stack, project = parts[0].removeprefix("urn:pulumi:"), parts[1]
            return f"urn:pulumi:{stack}::{project}::{ROOT_STACK_TYPE}::{project}-{stack}"
    return ""


class PolicyHost:
    """pulumi-policy's analyzer servicer for the vaultspec pack, built once and reused (thread-safe).

    What depends only on the pack (its `AnalyzerInfo`, each policy's schema defaults and compiled
    config validator, the initial config) is derived once here; everything that depends on the
    given config is derived again on every run."""

    def __init__(self) -> None:
        arguments = pack.pack_arguments()
        # PolicyPack() builds the same servicer, with the version it always reports ("0.0.1"; the
        # CLI shows PulumiPolicy.yaml's), and then serves it; here it is called in-process.
        self._servicer = _PolicyAnalyzerServicer(
            arguments["name"],
            "0.0.1",
            arguments["policies"],
            arguments["enforcement_level"],
            arguments.get("initial_config"),
            arguments.get("description"),
            arguments.get("display_name"),
            None,
            arguments.get("provider"),
            arguments.get("tags"),
            None,
        )
        self.info: proto.AnalyzerInfo = self._servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)
        self._policies = {policy.name: policy for policy in self.info.policies}
        self._levels: dict[str, Level] = {
            policy.name: _FROM_PROTO[policy.enforcementLevel] for policy in self.info.policies
        }
        self._defaults: dict[str, dict[str, Any]] = {}
        self._validators: dict[str, Any] = {}
        for policy in self.info.policies:
            properties = _integral(json_format.MessageToDict(policy.configSchema.properties))
            defaults = {key: prop["default"] for key, prop in properties.items() if "default" in prop}
            self._defaults[policy.name] = defaults
            if policy.HasField("configSchema"):
                schema: dict[str, Any] = {"type": "object"}
                if properties:
                    schema["properties"] = properties
                if policy.configSchema.required:
                    schema["required"] = list(policy.configSchema.required)
                self._validators[policy.name] = jsonschema_rs.validator_for(schema)
        self._initial = {
            key: PolicyConfigEntry(
                _FROM_PROTO[value.enforcementLevel],  # the CLI reads an unset level as advisory too
                _integral(json_format.MessageToDict(value.properties)) or None,
            )
            for key, value in self.info.initialConfig.items()
        }
        rules = {rule.name: rule for rule in pack.RULES}
        self._resource_policies = tuple(
            policy.name for policy in self.info.policies if policy.policy_type == proto.PolicyType.POLICY_TYPE_RESOURCE
        )
        self._applies: dict[str, Callable[[str], bool]] = {}
        for name in self._resource_policies:
            rule = rules.get(name)
            self._applies[name] = rule.applies_to if rule is not None and rule.applies_to else _every_type

    @property
    def servicer(self) -> _PolicyAnalyzerServicer:
        """The pulumi-policy servicer this host drives (what `PolicyPack` would serve to the CLI)."""
        return self._servicer

    def reconcile(self, config: Mapping[str, Any] | None) -> dict[str, PolicyConfigEntry]:
        """The config the CLI would send to `Configure` (ReconcilePolicyPackConfig)."""
        # Deep copies: a run's config (and whoever reads it) must not share a list with the host's.
        result = {
            name: PolicyConfigEntry(level, copy.deepcopy(self._defaults[name]) or None)
            for name, level in self._levels.items()
        }
        _apply(result, copy.deepcopy(self._initial))
        _apply(result, parse_policy_config(config))
        errors = [*self._validate(result)]
        for key, entry in result.items():
            if entry.level is None:
                errors.append(f'{key}: no enforcement level (unknown policy "{key}" configured without one)')
        if errors:
            raise PolicyConfigError(errors)
        return result

    def _validate(self, config: Mapping[str, PolicyConfigEntry]) -> Iterable[str]:
        for name, validator in self._validators.items():
            instance = config[name].properties or {} if name in config else {}
            for error in validator.iter_errors(instance):
                where = "/".join(str(step) for step in error.instance_path)
                yield f"{name}: {where + ': ' if where else ''}{error.message}"

    def analyze(
        self,
        resources: Sequence[RenderedResource | Mapping[str, Any]],
        config: Mapping[str, Any] | None = None,
        *,
        route_by_type: bool = True,
    ) -> list[Verdict]:
        """Run the pack on a rendered stack; verdicts in resource order, then stack verdicts.

        `route_by_type=False` calls the servicer exactly as the engine does (one `Configure`, then
        `Analyze` for every resource in order); the default routes each resource past the resource
        policies that cannot judge its type (`_routes`), with the same verdicts."""
        with _collector_paused():
            return self._analyze(resources, config, route_by_type)

    def _analyze(
        self, resources: Sequence[RenderedResource | Mapping[str, Any]], config: Mapping[str, Any] | None, route: bool
    ) -> list[Verdict]:
        rendered = [
            item if isinstance(item, RenderedResource) else RenderedResource.model_validate(item) for item in resources
        ]
        reconciled = self.reconcile(config)
        configs = {
            key: proto.PolicyConfig(
                enforcementLevel=_TO_PROTO[entry.level or "advisory"],
                properties=_struct(entry.properties or {}, f"policy config {key}"),
            )
            for key, entry in reconciled.items()
        }
        full = proto.ConfigureAnalyzerRequest(policyConfig=configs)
        requests = [self._analyze_request(resource) for resource in rendered]
        stack = proto.AnalyzeStackRequest(resources=[self._stack_resource(resource) for resource in rendered])
        if route and _vaults_lead(rendered):
            routes = self._routes(rendered, reconciled, configs)
        else:
            routes = [(full, list(range(len(rendered))))]
        by_resource: list[list[Verdict]] = [[] for _ in rendered]
        with _RUN_LOCK:  # one run at a time: Configure is servicer state, the ledger is process-wide
            LEDGER.clear()
            try:
                for configure, indices in routes:
                    self._servicer.Configure(configure, None)
                    for index in indices:
                        response = self._servicer.Analyze(requests[index], None)
                        by_resource[index] = _verdicts(response, lambda urn, r=rendered[index].urn: r)
                if routes[-1][0] is not full:
                    self._servicer.Configure(full, None)
                stack_response = self._servicer.AnalyzeStack(stack, None)
            finally:
                LEDGER.clear()
        urns = {resource.urn for resource in rendered}
        root = root_stack_urn(rendered)
        verdicts = [verdict for group in by_resource for verdict in group]
        verdicts.extend(_verdicts(stack_response, lambda urn: urn if urn in urns else root))
        return verdicts

    def _routes(
        self,
        rendered: Sequence[RenderedResource],
        reconciled: Mapping[str, PolicyConfigEntry],
        configs: Mapping[str, proto.PolicyConfig],
    ) -> list[tuple[proto.ConfigureAnalyzerRequest, list[int]]]:
        """Resources grouped by the resource policies that can judge their type, each group with a
        `Configure` request that leaves only those enabled.

        The servicer unmarshals a resource's properties once for every enabled resource policy, before
        calling it; most of the pack's rules judge one type and return at once on any other (`Rule.
        applies_to`, a pure function of the type token). Disabling, for a resource, exactly the
        policies that would return without a finding leaves every diagnostic, its order and its level
        as under one `Configure`; only the calls that find nothing are saved. The one effect such a
        call has is recording the inputs in the pack's ledger (stack rules read them), which any
        enabled resource policy does for every resource it is shown: a type no enabled policy judges
        keeps the first enabled one, so the ledger holds the same resources as under the engine.

        Resource rules read one thing from the ledger: the vault whose waivers cover a key, secret or
        access policy (`policies/ledger.py`). The groups that hold vaults go first, and routing is
        used only when every vault a resource may look up precedes that resource (`_vaults_lead`; so
        it is in every vaultspec rendering), so each lookup finds what it finds in the engine's order."""
        enabled = [name for name in self._resource_policies if reconciled[name].level != "disabled"]
        judges_of: dict[str, frozenset[str]] = {}
        groups: dict[frozenset[str], list[int]] = {}
        for index, resource in enumerate(rendered):
            judges = judges_of.get(resource.type)
            if judges is None:
                judges = frozenset(name for name in enabled if self._applies[name](resource.type)) or frozenset(
                    enabled[:1]
                )
                judges_of[resource.type] = judges
            groups.setdefault(judges, []).append(index)
        off = proto.PolicyConfig(enforcementLevel=proto.DISABLED)
        resource_policies = frozenset(self._resource_policies)
        return [
            (
                proto.ConfigureAnalyzerRequest(
                    policyConfig={
                        key: off if key in resource_policies and key not in judges else config
                        for key, config in configs.items()
                    }
                ),
                indices,
            )
            for judges, indices in sorted(groups.items(), key=lambda group: not _holds_vault(rendered, group[1]))
        ]

    @staticmethod
    def _options(resource: RenderedResource) -> proto.AnalyzerResourceOptions:
        return proto.AnalyzerResourceOptions(parent=resource.parent or "")

    def _analyze_request(self, resource: RenderedResource) -> proto.AnalyzeRequest:
        return proto.AnalyzeRequest(
            urn=resource.urn,
            type=resource.type,
            name=resource.name,
            properties=_struct(resource.inputs, resource.urn),
            options=self._options(resource),
        )

    def _stack_resource(self, resource: RenderedResource) -> proto.AnalyzerResource:
        return proto.AnalyzerResource(
            urn=resource.urn,
            type=resource.type,
            name=resource.name,
            properties=_struct(preview_outputs(resource), resource.urn),
            options=self._options(resource),
            parent=resource.parent or "",
            dependencies=resource.dependencies,
            propertyDependencies={
                key: proto.AnalyzerPropertyDependencies(urns=urns)
                for key, urns in resource.property_dependencies.items()
            },
        )


def _is_vault(resource: RenderedResource) -> bool:
    return is_type(resource.type, "keyvault", "Vault")


def _holds_vault(rendered: Sequence[RenderedResource], indices: Sequence[int]) -> bool:
    return any(_is_vault(rendered[index]) for index in indices)


def _vaults_lead(rendered: Sequence[RenderedResource]) -> bool:
    """Every vault a resource may look up (same literal name; same resource group when both are
    known) comes before that resource, so each lookup finds the same vault in either call order."""
    identities = [
        (index, text(resource.inputs.get("vaultName")), text(resource.inputs.get("resourceGroupName")))
        for index, resource in enumerate(rendered)
    ]
    vaults = [identity for identity in identities if identity[1] is not None and _is_vault(rendered[identity[0]])]
    for index, name, group in identities:
        if name is None or _is_vault(rendered[index]):
            continue
        for vault_index, vault_name, vault_group in vaults:
            if vault_index > index and vault_name == name and same_group(vault_group, group):
                return False
    return True


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one run, as it was before afterwards.

    A run allocates some 10^5 short-lived containers (the servicer unmarshals a request into fresh
    dicts and proxies once per policy), which keep triggering collections that traverse the heap of
    the rendered program and of Pulumi's and azure-native's modules: about a fifth of the run's time.
    Those containers hold no cycles; reference counting frees them as each call returns."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _every_type(resource_type: str) -> bool:
    """Applicability of a resource policy that does not declare its types: it may judge any."""
    return True


def _apply(result: dict[str, PolicyConfigEntry], given: Mapping[str, PolicyConfigEntry]) -> None:
    """`applyConfig` of config.go: `all` sets every level, then each entry overrides its policy."""
    everything = given.get("all")
    if everything is not None and everything.level is not None:
        for entry in result.values():
            entry.level = everything.level
    for name, entry in given.items():
        current = result.get(name, PolicyConfigEntry())
        level = entry.level if entry.level is not None else current.level
        properties = current.properties
        if entry.properties:
            properties = {**(properties or {}), **entry.properties}
        result[name] = PolicyConfigEntry(level, properties)


def _verdicts(response: proto.AnalyzeResponse, place: Any) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for diagnostic in response.diagnostics:
        level = _FROM_PROTO[diagnostic.enforcementLevel]
        if level == "remediate":
            level = "mandatory"
        message = diagnostic.message
        if _PREVIEW_PREFIX.match(message):
            items = parse_notice(message)
            if items:
                verdicts.extend(
                    Verdict(
                        policy=diagnostic.policyName,
                        level="advisory",
                        urn=place(item.urn or diagnostic.urn),
                        message=item.message,
                        waived=item.kind == "waived",
                        reason=item.reason,
                    )
                    for item in items
                )
                continue
            message = "cannot check yet: " + _PREVIEW_PREFIX.sub("", message)
        elif diagnostic.description and message.startswith(diagnostic.description + "\n"):
            message = message[len(diagnostic.description) + 1 :]
        verdicts.append(Verdict(policy=diagnostic.policyName, level=level, urn=place(diagnostic.urn), message=message))
    return verdicts


_HOST: PolicyHost | None = None
_HOST_LOCK = threading.Lock()


def policy_host() -> PolicyHost:
    """The process-wide host (built on first use: importing the SDK classes and the pack once)."""
    global _HOST
    with _HOST_LOCK:
        if _HOST is None:
            _HOST = PolicyHost()
        return _HOST


def analyze(
    resources: Sequence[RenderedResource | Mapping[str, Any]], policy_config: Mapping[str, Any] | None = None
) -> list[Verdict]:
    """The verdicts of the vaultspec pack on `resources` under `policy_config` (Pulumi's format).

    Raises PolicyConfigError for an invalid config, ValueError for inputs that are not JSON-like."""
    return policy_host().analyze(resources, policy_config)
