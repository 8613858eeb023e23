"""What a render records, and the Pulumi monitor and engine that record it.

Each registration reaches a `RecordingMonitor` (a `MockMonitor` subclass, so it sees what plain
mocks hide: parent, dependencies, property dependencies, protect, replaceOnChanges,
deleteBeforeReplace, hooks) and a pluggable `Backend` that answers with the resource's id and
outputs. Inputs keep Pulumi's secretness (`Concealed`, their paths in `secret_paths`).

Concurrency. Pulumi registers resources from a thread pool, so `Backend.create` is called
concurrently for resources that do not depend on each other; a dependency (explicit or through
an input) is always created before its dependents. Backends must be thread-safe.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import engine_pb2, resource_pb2
from pydantic import BaseModel, ConfigDict, Field, field_serializer

from vaultspec.engine.values import UNKNOWN, Concealed, decode_properties, encode_properties, printable, reveal

STACK_TYPE = "pulumi:pulumi:Stack"


class RecordedOptions(BaseModel):
    """The resource options the engine would act on."""

    protect: bool | None = None
    delete_before_replace: bool = False
    replace_on_changes: list[str] = Field(default_factory=list)
    ignore_changes: list[str] = Field(default_factory=list)
    additional_secret_outputs: list[str] = Field(default_factory=list)
    retain_on_delete: bool | None = None
    provider: str | None = None
    hooks: dict[str, list[str]] = Field(default_factory=dict, description="Hook names bound per event.")


class RenderedResource(BaseModel):
    """One registered resource: inputs in azure-native wire names (camelCase), secrets concealed."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    urn: str
    type: str
    name: str
    parent: str | None = Field(description="Parent URN (the root stack's for top-level resources).")
    custom: bool
    id: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    secret_paths: list[str] = Field(default_factory=list, description="Input paths holding secret values.")
    dependencies: list[str] = Field(default_factory=list)
    property_dependencies: dict[str, list[str]] = Field(default_factory=dict)
    options: RecordedOptions = Field(default_factory=RecordedOptions)
    outputs: dict[str, Any] = Field(default_factory=dict, description="Backend outputs (components: registered).")

    @field_serializer("inputs", "outputs")
    def _mask(self, value: dict[str, Any]) -> Any:
        return printable(value)

    def printable_inputs(self) -> dict[str, Any]:
        return printable(self.inputs)

    def revealed_inputs(self) -> dict[str, Any]:
        """Inputs with secret values in clear: for a backend that must send them on. Never print."""
        return reveal(self.inputs)


class LogMessage(BaseModel):
    severity: str
    message: str
    urn: str | None = None


class Rendering(BaseModel):
    """Everything one run of a program registered, in a deterministic order."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    project: str
    stack: str
    preview: bool
    stack_urn: str | None = None
    resources: list[RenderedResource] = Field(default_factory=list)
    stack_outputs: dict[str, Any] = Field(default_factory=dict)
    messages: list[LogMessage] = Field(default_factory=list)

    @field_serializer("stack_outputs")
    def _mask(self, value: dict[str, Any]) -> Any:
        return printable(value)

    def resource(self, urn: str) -> RenderedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def find(self, type_: str, name: str) -> RenderedResource:
        for resource in self.resources:
            if resource.type == type_ and resource.name == name:
                return resource
        raise KeyError(f"{type_} {name}")

    def of_type(self, type_: str) -> list[RenderedResource]:
        return [r for r in self.resources if r.type == type_]

    @property
    def warnings(self) -> list[str]:
        return [m.message for m in self.messages if m.severity == "warning"]


class Backend(Protocol):
    """Answers registrations and function calls (thread-safe: called from Pulumi's thread pool)."""

    def create(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        """The new custom resource's id and outputs (wire names; wrap secret outputs in Concealed)."""
        ...

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        """A provider function's result (wire names)."""
        ...


def _from_stock(value: Any) -> Any:
    """Stock-deserialized properties (secrets as `{sig: secret, value: v}`, lifted to the enclosing
    object) in this module's representation (`Concealed`, `UNKNOWN`)."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return Concealed(_from_stock(value.get("value")))
        return {k: _from_stock(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_stock(v) for v in value]
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    return value


class BackendMocks(pulumi.runtime.Mocks):
    """A `Backend` as plain `pulumi.runtime.Mocks` (for `set_mocks` users and the benchmark's baseline)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = _from_stock(args.inputs)
        resource = RenderedResource(
            urn="", type=args.typ, name=args.name, parent=None, custom=bool(args.custom), inputs=inputs
        )
        id_, outputs = self.backend.create(resource) if args.custom else ("", {})
        return id_, reveal(outputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        return self.backend.call(args.token, args.args), None


# ---------------------------------------------------------------------------------------------
# The recording monitor and engine


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that records each registration fully and delegates answers to a backend."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(BackendMocks(backend))
        self.backend = backend
        self.recorded: dict[str, RenderedResource] = {}
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the real engine makes them: the parent's qualified type, the root stack's omitted."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        inputs, secret_paths = decode_properties(request.object)
        resource = RenderedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=bool(request.custom),
            inputs=inputs,
            secret_paths=secret_paths,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items() if v.urns},
            options=_options(request),
        )
        id_, outputs = self.backend.create(resource) if request.custom else ("", {})
        resource.id = id_ or None
        resource.outputs = outputs
        with self._lock:
            self.recorded[urn] = resource
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, reveal(outputs))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=encode_properties(outputs))

    def RegisterResourceOutputs(self, request: Any) -> Any:
        outputs, _ = decode_properties(request.outputs)
        with self._lock:
            if request.urn == self.stack_urn:
                self.stack_outputs = outputs
            elif request.urn in self.recorded:
                self.recorded[request.urn].outputs = outputs
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request: Any) -> Any:
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        args, _ = decode_properties(request.args)
        result = self.backend.call(request.tok, reveal(args))
        return resource_pb2.ResourceInvokeResponse(**{"return": encode_properties(result)})


def _options(request: Any) -> RecordedOptions:
    hooks = {
        event: list(getattr(request.hooks, event))
        for event in ("before_create", "after_create", "before_update", "after_update", "before_delete", "after_delete")
        if getattr(request.hooks, event)
    }
    return RecordedOptions(
        protect=request.protect if request.HasField("protect") else None,
        delete_before_replace=bool(request.deleteBeforeReplace),
        replace_on_changes=list(request.replaceOnChanges),
        ignore_changes=list(request.ignoreChanges),
        additional_secret_outputs=list(request.additionalSecretOutputs),
        retain_on_delete=request.retainOnDelete if request.HasField("retainOnDelete") else None,
        provider=request.provider or None,
        hooks=hooks,
    )


_SEVERITY = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}


class RecordingEngine(pulumi_mocks.MockEngine):
    """Keeps the program's log messages (pulumi.log.info/warn/error) for the caller instead of printing them."""

    def __init__(self) -> None:
        super().__init__(None)
        self.messages: list[LogMessage] = []

    def Log(self, request: Any) -> None:
        if request.severity == engine_pb2.DEBUG:
            return  # the SDK's own chatter (one line per registration)
        severity = _SEVERITY.get(request.severity, "info")
        self.messages.append(LogMessage(severity=severity, message=request.message, urn=request.urn or None))


TYPE_ORDER = (
    "vaultspec:index:KeyVault",
    "vaultspec:index:VaultKey",
    "vaultspec:index:VaultSecret",
    "azure-native:keyvault:Vault",
    "azure-native:authorization:RoleAssignment",
    "azure-native:keyvault:Key",
    "random:index/randomPassword:RandomPassword",
    "azure-native:keyvault:Secret",
    "azure-native:monitor:DiagnosticSetting",
    "azure-native:authorization:ManagementLockByScope",
)


def ordered(resources: list[RenderedResource]) -> list[RenderedResource]:
    """Registration order varies between runs (a thread pool registers); this order does not:
    by top-level ancestor, then depth, then a type order that follows the flow, then name."""
    by_urn = {r.urn: r for r in resources}

    def lineage(resource: RenderedResource) -> list[RenderedResource]:
        chain = [resource]
        while chain[-1].parent in by_urn:
            chain.append(by_urn[chain[-1].parent])
        return chain

    def key(resource: RenderedResource) -> tuple[Any, ...]:
        chain = lineage(resource)
        rank = TYPE_ORDER.index(resource.type) if resource.type in TYPE_ORDER else len(TYPE_ORDER)
        return (chain[-1].name, chain[-1].type, len(chain), rank, resource.type, resource.name)

    return sorted(resources, key=key)
