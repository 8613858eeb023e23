"""How a vaultspec rule becomes a CrossGuard policy: metadata, config defaults, waivers, unknowns.

A rule module writes only the *check*: a generator of finding messages for one resource (or of
findings across the stack). The factories here wrap it so that every rule behaves the same way:

- it records the inputs it was shown in the ledger (for stack rules, see `ledger.py`);
- its parameters come from the policy config, with the schema defaults filled in (the engine
  fills them too; this keeps the rule correct when called outside the engine);
- a finding on a resource tagged `waiver:<rule>`, or on a key, secret or access policy whose vault
  is tagged so (see `ledger.py`), is reported as waived, never as a violation;
- a value not known at preview ends the check as "unchecked" (an advisory note), never a crash;
- messages never contain property values (secrets arrive unwrapped in the analyzer): a check
  names the property path and the configured limit, nothing read from the resource.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from vaultspec.policies.graph import StackView
from vaultspec.policies.ledger import LEDGER
from vaultspec.policies.waivers import NoticeItem, PolicyNotice, waiver_reason

CIS = "CIS Microsoft Azure Foundations Benchmark"
MCSB = "Microsoft cloud security benchmark"


@dataclass(frozen=True)
class Sources:
    """Where a rule comes from: the controls and scanner checks it mirrors."""

    azure_policy: tuple[str, ...] = ()  # built-in policy definition GUIDs
    cis_v3: tuple[str, ...] = ()  # CIS Azure Foundations 3.0.0 control ids
    cis_v2: tuple[str, ...] = ()  # CIS Azure Foundations 2.0.0 control ids
    mcsb: tuple[str, ...] = ()  # Microsoft cloud security benchmark controls
    checkov: tuple[str, ...] = ()
    trivy: tuple[str, ...] = ()
    kics: tuple[str, ...] = ()
    other: tuple[str, ...] = ()  # e.g. PSRule rules, Pulumi compliance-policies

    def tags(self) -> list[str]:
        pairs = [
            ("azure-policy", self.azure_policy),
            ("cis-azure-3.0.0", self.cis_v3),
            ("cis-azure-2.0.0", self.cis_v2),
            ("mcsb", self.mcsb),
            ("checkov", self.checkov),
            ("trivy", self.trivy),
            ("kics", self.kics),
            ("ref", self.other),
        ]
        return ["keyvault", *(f"{prefix}:{item}" for prefix, items in pairs for item in items)]

    def framework(self) -> PolicyComplianceFramework | None:
        if self.cis_v3:
            return PolicyComplianceFramework(name=CIS, version="3.0.0", reference=", ".join(self.cis_v3))
        if self.mcsb:
            return PolicyComplianceFramework(name=MCSB, version="1.0", reference=", ".join(self.mcsb))
        return None

    def summary(self) -> str:
        """One line for the README table."""
        parts = []
        if self.azure_policy:
            parts.append("AzP " + ", ".join(guid.split("-")[0] for guid in self.azure_policy))
        if self.cis_v3 or self.cis_v2:
            parts.append("CIS " + " / ".join(filter(None, (", ".join(self.cis_v2), ", ".join(self.cis_v3)))))
        for label, items in (
            ("MCSB", self.mcsb),
            ("Checkov", self.checkov),
            ("Trivy", self.trivy),
            ("KICS", tuple(item.split("-")[0] for item in self.kics)),
        ):
            if items:
                parts.append(f"{label} " + ", ".join(items))
        parts.extend(self.other)
        return "; ".join(parts) or "—"


@dataclass(frozen=True)
class Subject:
    """The resource a resource rule judges: wire-format inputs and the rule's settings."""

    resource_type: str
    urn: str
    props: Mapping[str, Any]
    settings: Mapping[str, Any]
    now: float  # epoch seconds at evaluation: expiry limits are measured from here


@dataclass(frozen=True)
class StackFinding:
    """A violation found across the stack, on `urn`, waivable by tags on `waiver_sources`."""

    urn: str
    message: str
    waiver_sources: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class StackUnchecked:
    urn: str
    message: str


ResourceCheck = Callable[[Subject], Iterable[str]]
StackCheck = Callable[[StackView, Mapping[str, Any], float], Iterable[StackFinding | StackUnchecked]]


@dataclass(frozen=True)
class Rule:
    """A rule's metadata (for the README table) and the CrossGuard policy built from it."""

    name: str
    description: str
    level: EnforcementLevel
    severity: Severity
    sources: Sources
    parameters: Mapping[str, Mapping[str, Any]]
    kind: str  # "resource" | "stack"
    policy: Policy = field(compare=False)
    applies_to: Callable[[str], bool] | None = field(default=None, compare=False)
    """Resource rules: the resource types the check judges (a pure function of the type token; on any
    other type the rule only records the inputs in the ledger). None for stack rules."""


def evaluation_time() -> float:
    """Now, in epoch seconds: expiry limits are measured from here (tests pin it)."""
    return time.time()


def _defaults(parameters: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {key: schema["default"] for key, schema in parameters.items() if "default" in schema}


def _settings(defaults: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's parameters: the given config over the schema defaults."""
    return {**defaults, **dict(config)}


def resource_rule(
    *,
    name: str,
    display_name: str,
    description: str,
    level: EnforcementLevel,
    severity: Severity,
    sources: Sources,
    remediation: str,
    url: str,
    applies_to: Callable[[str], bool],
    check: ResourceCheck,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
) -> Rule:
    parameters = dict(parameters or {})
    defaults = _defaults(parameters)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        LEDGER.record(args.urn, args.props, args.resource_type)
        if not applies_to(args.resource_type):
            return
        subject = Subject(
            args.resource_type, args.urn, args.props, _settings(defaults, args.get_config()), evaluation_time()
        )
        findings: list[str] = []
        items: list[NoticeItem] = []
        try:
            findings.extend(check(subject))
        except UnknownValueError as unknown:
            items.append(NoticeItem("unchecked", args.urn, _unchecked_text(unknown)))
        if findings:
            try:
                reason = waiver_reason(args.props, name) or vault_waiver(args.props, name)
            except UnknownValueError:
                unknown = "the tags (waivers) of the resource or its vault are not known yet"
                items.append(NoticeItem("unchecked", args.urn, unknown))
                reason = None
                findings = []
            if reason is not None:
                items[:0] = [NoticeItem("waived", args.urn, message, reason) for message in findings]
            else:
                for message in findings:
                    report(message, None)
        if items:
            raise PolicyNotice(items)

    policy = ResourceValidationPolicy(
        validate=validate,
        **_metadata(name, display_name, description, level, severity, sources, remediation, url, parameters),
    )
    return Rule(name, description, level, severity, sources, parameters, "resource", policy, applies_to)


def stack_rule(
    *,
    name: str,
    display_name: str,
    description: str,
    level: EnforcementLevel,
    severity: Severity,
    sources: Sources,
    remediation: str,
    url: str,
    check: StackCheck,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
) -> Rule:
    parameters = dict(parameters or {})
    defaults = _defaults(parameters)

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        view = StackView(args.resources, LEDGER)
        items: list[NoticeItem] = []
        try:
            outcomes = list(check(view, _settings(defaults, args.get_config()), evaluation_time()))
        except UnknownValueError as unknown:
            outcomes = [StackUnchecked("", _unchecked_text(unknown))]
        for outcome in outcomes:
            if isinstance(outcome, StackUnchecked):
                items.append(NoticeItem("unchecked", outcome.urn, outcome.message))
                continue
            reason, unknown_tags = _stack_waiver(outcome.waiver_sources, name)
            if reason is not None:
                items.append(NoticeItem("waived", outcome.urn, outcome.message, reason))
            elif unknown_tags:
                items.append(NoticeItem("unchecked", outcome.urn, "the tags (waivers) are not known yet"))
            else:
                report(outcome.message, outcome.urn)
        if items:
            raise PolicyNotice(items)

    policy = StackValidationPolicy(
        validate=validate,
        **_metadata(name, display_name, description, level, severity, sources, remediation, url, parameters),
    )
    return Rule(name, description, level, severity, sources, parameters, "stack", policy)


def _metadata(
    name: str,
    display_name: str,
    description: str,
    level: EnforcementLevel,
    severity: Severity,
    sources: Sources,
    remediation: str,
    url: str,
    parameters: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """What a resource and a stack policy both carry besides `validate`: identity, level, config
    schema and compliance metadata."""
    return {
        "name": name,
        "description": description,
        "enforcement_level": level,
        "config_schema": PolicyConfigSchema(properties=dict(parameters)) if parameters else None,
        "display_name": display_name,
        "severity": severity,
        "framework": sources.framework(),
        "tags": sources.tags(),
        "remediation_steps": remediation,
        "url": url,
    }


def vault_waiver(props: Mapping[str, Any], name: str) -> str | None:
    """The reason of a `waiver:<name>` tag on the vault a key, secret or access policy belongs to,
    when the ledger holds that vault (`ledger.py`)."""
    vault = LEDGER.vault_of(props)
    return waiver_reason(vault, name) if vault is not None else None


def _stack_waiver(sources: Iterable[Mapping[str, Any]], name: str) -> tuple[str | None, bool]:
    unknown = False
    for props in sources:
        try:
            reason = waiver_reason(props, name)
        except UnknownValueError:
            unknown = True
            continue
        if reason is not None:
            return reason, False
    return None, unknown


def _unchecked_text(unknown: UnknownValueError) -> str:
    return f"cannot check yet: {unknown.message}"
