"""Offline rendering: run the real Pulumi program in-process under mocks and record every resource.

`render(program, ...)` runs any Pulumi program function; `render_spec(path, ...)` runs
`vaultspec.program.run` for a spec file with its stack's config. Each registration reaches a
`RecordingMonitor` (a `MockMonitor` subclass, so it sees what plain mocks hide: parent,
dependencies, property dependencies, protect, replaceOnChanges, deleteBeforeReplace, hooks) and
a pluggable `Backend` that answers with the resource's id and outputs. The default
`AzureMockBackend` answers like Azure (ARM ids, vault URIs, key URIs, generated passwords);
the apply engine plugs in a backend that sends each resource to the twin instead.

Secrets. Inputs keep Pulumi's secretness: a secret value is held in a `Concealed` wrapper
(repr/str "[secret]"), its path is listed in `secret_paths`, and every printable form (pydantic
dumps, `printable()`) shows "[secret]". Only `reveal()` gives the value back, for a backend
that must send it on. Unknown values (a dry run's computed values) are `UNKNOWN`, printed as
"[unknown]".

Isolation of Pulumi's global runtime state. The Python SDK keeps its runtime in module-level
ContextVars (settings: monitor, engine, project, stack, dry run, RPC manager, pending outputs,
callbacks; the root Stack resource; config and secret keys) and runs on the thread's asyncio
event loop. A render therefore runs in its own short-lived thread (a thread starts with an empty
contextvars context and no event loop), where it resets every piece of that state explicitly
(fresh settings object, root resource None, config set to exactly the given values — also
because the SDK's ContextProperty setter may overwrite a ContextVar's *default*), creates a
fresh event loop, and closes the loop and its executor at the end. Nothing leaks into the
caller's thread, and renders can run any number of times in one process, one after another.

Speed. Two harness measures keep a render linear in the number of resources (the program
itself is untouched): (1) after the program returns, the render yields once and waits for the
registration RPCs (the SDK's own end-of-program wait would otherwise find none started yet and
poll every pending Output on each loop turn, which is quadratic); (2) the pure type aliases
pulumi-azure-native attaches to every resource (~20 versioned type tokens, for state migration)
are dropped, because the SDK turns each into a chain of Outputs and there is no prior state
offline; aliases a program declares with a name, parent, stack or project are kept.
`drop_type_aliases=False` renders with them.

Concurrency. Pulumi registers resources from a thread pool, so `Backend.create` is called
concurrently for resources that do not depend on each other; a dependency (explicit or through
an input) is always created before its dependents. Backends must be thread-safe.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets as random_source
import string
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import engine_pb2, resource_pb2
from pulumi.runtime.stack import register_stack_transformation, run_in_stack, wait_for_rpcs
from pydantic import BaseModel, ConfigDict, Field, field_serializer

from vaultspec.engine.stackconfig import StackConfig, apply_environment, project_name, read_stack_config

STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_TEXT = "[secret]"
UNKNOWN_TEXT = "[unknown]"
DEFAULT_PROJECT = "vaultspec"


# ---------------------------------------------------------------------------------------------
# Values: secrets and unknowns that never print


class Concealed:
    """A secret value: prints as "[secret]" everywhere; `reveal()` returns the value."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return SECRET_TEXT

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Concealed) and other.value == self.value

    def __hash__(self) -> int:
        return hash(SECRET_TEXT)


class _Unknown:
    """A value not known on a dry run (Pulumi's computed value)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return UNKNOWN_TEXT

    __str__ = __repr__


UNKNOWN = _Unknown()


def printable(value: Any) -> Any:
    """`value` with secrets as "[secret]" and unknowns as "[unknown]": safe to print or serialize."""
    if isinstance(value, Concealed):
        return SECRET_TEXT
    if value is UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v) for v in value]
    return value


def reveal(value: Any) -> Any:
    """`value` with secrets unwrapped (unknowns become None): only for sending on, never printing."""
    if isinstance(value, Concealed):
        return reveal(value.value)
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _decode(value: Any, path: str, secret_paths: list[str]) -> Any:
    """A protobuf Struct/ListValue/scalar as Python, secrets wrapped and their paths recorded."""
    if isinstance(value, struct_pb2.Struct):
        if rpc._special_sig_key in value and value[rpc._special_sig_key] == rpc._special_secret_sig:
            secret_paths.append(path)  # the wire signature of a secret
            return Concealed(_decode(value["value"], path, []))
        prefix = f"{path}." if path else ""
        return {k: _decode(v, f"{prefix}{k}", secret_paths) for k, v in value.items()}
    if isinstance(value, struct_pb2.ListValue):
        return [_decode(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf has only doubles; ARM and the SDK's types say integer
    if value == rpc.UNKNOWN:
        return UNKNOWN
    return value


def decode_properties(struct: struct_pb2.Struct) -> tuple[dict[str, Any], list[str]]:
    """Properties of a request as Python (wire names), and the paths of their secret values."""
    secret_paths: list[str] = []
    decoded = _decode(struct, "", secret_paths)
    return decoded, secret_paths


def _wire(value: Any) -> Any:
    if isinstance(value, Concealed):
        return {rpc._special_sig_key: rpc._special_secret_sig, "value": _wire(value.value)}
    if value is UNKNOWN:
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    return value


def encode_properties(values: Mapping[str, Any]) -> struct_pb2.Struct:
    """Outputs for the SDK: secrets keep their secretness, unknowns stay unknown."""
    struct = struct_pb2.Struct()
    struct.update(_wire(dict(values)))
    return struct


# ---------------------------------------------------------------------------------------------
# What a render records


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


# ---------------------------------------------------------------------------------------------
# Backends


class Backend(Protocol):
    """Answers registrations and function calls (thread-safe: called from Pulumi's thread pool)."""

    def create(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        """The new custom resource's id and outputs (wire names; wrap secret outputs in Concealed)."""
        ...

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        """A provider function's result (wire names)."""
        ...


@dataclass(frozen=True)
class AzureIdentity:
    """What `azure-native:authorization:getClientConfig` answers: the deploying identity."""

    tenant_id: str = "11111111-1111-1111-1111-111111111111"
    subscription_id: str = "22222222-2222-2222-2222-222222222222"
    object_id: str = "33333333-3333-3333-3333-333333333333"
    client_id: str = "44444444-4444-4444-4444-444444444444"


class UnsupportedCall(Exception):
    """A provider function the offline backend cannot answer."""


_VERSION_NAMESPACE = uuid.UUID("0b8c6f2a-43f1-5e0d-9a7b-6c5d4e3f2a1b")
PASSWORD_SPECIALS = "!@#$%&*()-_=+[]{}<>:?"


class AzureMockBackend:
    """Answers like Azure Resource Manager would, without any network: ids, URIs, generated values."""

    def __init__(self, identity: AzureIdentity | None = None) -> None:
        self.identity = identity or AzureIdentity()

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": self.identity.client_id,
                "objectId": self.identity.object_id,
                "subscriptionId": self.identity.subscription_id,
                "tenantId": self.identity.tenant_id,
            }
        raise UnsupportedCall(f"offline rendering cannot answer the function {token}")

    def create(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        handler = self._handlers.get(resource.type)
        if handler is None:
            return f"{resource.name}-id", dict(resource.inputs)
        return handler(self, resource.inputs)

    def vault_id(self, resource_group: str, vault: str) -> str:
        return (
            f"/subscriptions/{self.identity.subscription_id}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.KeyVault/vaults/{vault}"
        )

    def _vault(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        name = plain["vaultName"]
        extra = {"vaultUri": f"https://{name}.vault.azure.net/", "provisioningState": "Succeeded"}
        if "accessPolicies" not in (plain.get("properties") or {}):
            extra["accessPolicies"] = []  # what Azure holds after the provider's create
        outputs = {
            "name": name,
            "type": "Microsoft.KeyVault/vaults",
            "location": inputs.get("location"),
            "tags": inputs.get("tags", {}),
            "properties": _extend(inputs.get("properties"), extra),
            "azureApiVersion": "2024-11-01",
        }
        return self.vault_id(plain["resourceGroupName"], name), outputs

    def _key(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        vault, name = plain["vaultName"], plain["keyName"]
        key_id = f"{self.vault_id(plain['resourceGroupName'], vault)}/keys/{name}"
        uri = f"https://{vault}.vault.azure.net/keys/{name}"
        properties = plain.get("properties") or {}
        concealed = isinstance(inputs.get("properties"), Concealed)
        flattened = {k: Concealed(v) if concealed else v for k, v in properties.items() if k != "attributes"}
        outputs = {
            "name": name,
            "type": "Microsoft.KeyVault/vaults/keys",
            "tags": inputs.get("tags", {}),
            "keyUri": uri,
            "keyUriWithVersion": f"{uri}/{uuid.uuid5(_VERSION_NAMESPACE, key_id).hex}",
            **flattened,
            "attributes": {**properties.get("attributes", {}), "recoveryLevel": "Recoverable"},
            "azureApiVersion": "2024-11-01",
        }
        return key_id, outputs

    def _secret(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        vault, name = plain["vaultName"], plain["secretName"]
        secret_id = f"{self.vault_id(plain['resourceGroupName'], vault)}/secrets/{name}"
        uri = f"https://{vault}.vault.azure.net/secrets/{name}"
        # ARM never returns a secret's value; nothing else in a secret's properties is sensitive.
        properties = {k: v for k, v in (plain.get("properties") or {}).items() if k != "value"}
        properties.update(secretUri=uri, secretUriWithVersion=f"{uri}/{uuid.uuid5(_VERSION_NAMESPACE, secret_id).hex}")
        outputs = {
            "name": name,
            "type": "Microsoft.KeyVault/vaults/secrets",
            "tags": inputs.get("tags", {}),
            "properties": properties,
            "azureApiVersion": "2024-11-01",
        }
        return secret_id, outputs

    def _role_assignment(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        name = plain.get("roleAssignmentName") or str(uuid.uuid4())
        outputs = {**inputs, "name": name, "type": "Microsoft.Authorization/roleAssignments"}
        return f"{plain['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}", outputs

    def _diagnostic_setting(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        name = plain.get("name", "default")
        outputs = {**inputs, "type": "Microsoft.Insights/diagnosticSettings"}
        return f"{plain['resourceUri']}/providers/Microsoft.Insights/diagnosticSettings/{name}", outputs

    def _lock(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        name = plain.get("lockName", "lock")
        outputs = {**inputs, "name": name, "type": "Microsoft.Authorization/locks"}
        return f"{plain['scope']}/providers/Microsoft.Authorization/locks/{name}", outputs

    def _random_password(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        alphabet = string.ascii_letters + string.digits + (PASSWORD_SPECIALS if plain.get("special", True) else "")
        value = "".join(random_source.choice(alphabet) for _ in range(int(plain.get("length", 32))))
        return "none", {**inputs, "result": Concealed(value)}

    _handlers: dict[str, Callable[[AzureMockBackend, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
        "azure-native:keyvault:Vault": _vault,
        "azure-native:keyvault:Key": _key,
        "azure-native:keyvault:Secret": _secret,
        "azure-native:authorization:RoleAssignment": _role_assignment,
        "azure-native:monitor:DiagnosticSetting": _diagnostic_setting,
        "azure-native:authorization:ManagementLockByScope": _lock,
        "random:index/randomPassword:RandomPassword": _random_password,
    }


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


def _extend(value: Any, extra: dict[str, Any]) -> Any:
    """A dict (possibly concealed as a whole) with `extra` keys added, its secretness kept."""
    if isinstance(value, Concealed):
        return Concealed({**(reveal(value) or {}), **extra})
    return {**(value or {}), **extra}


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


# ---------------------------------------------------------------------------------------------
# Running a program


class RenderError(Exception):
    """The program failed; the message is the program's own (it never holds secret values)."""


def render(
    program: Callable[[], None],
    *,
    project: str = DEFAULT_PROJECT,
    stack: str = "dev",
    config: StackConfig | None = None,
    preview: bool = True,
    backend: Backend | None = None,
    root_directory: Path | None = None,
    organization: str = "organization",
    drop_type_aliases: bool = True,
) -> Rendering:
    """Run `program` as Pulumi would (dry run when `preview`) and return what it registered."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["rendering"] = _render_here(
                _settled(program, drop_type_aliases),
                project,
                stack,
                config or StackConfig(),
                preview,
                backend or AzureMockBackend(),
                root_directory,
                organization,
            )
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=work, name=f"vaultspec-render-{stack}", daemon=True)
    thread.start()
    thread.join()
    error = outcome.get("error")
    if error is not None:
        if isinstance(error, (RenderError, KeyboardInterrupt)):
            raise error
        raise RenderError(str(error) or type(error).__name__) from error
    return outcome["rendering"]


def _without_type_aliases(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """Drop aliases that only name another type (SDK version aliases); keep any a program declared."""
    aliases = args.opts.aliases
    if not aliases:
        return None
    kept = [a for a in aliases if not _is_type_alias(a)]
    if len(kept) == len(aliases):
        return None
    opts = args.opts._copy()
    opts.aliases = kept or None
    return pulumi.ResourceTransformationResult(args.props, opts)


def _is_type_alias(alias: Any) -> bool:
    if not isinstance(alias, pulumi.Alias):
        return False
    others = (alias.name, alias.parent, alias.stack, alias.project)
    return alias.type_ is not ... and all(value is ... for value in others)


def _settled(program: Callable[[], Any], drop_type_aliases: bool) -> Callable[[], Any]:
    """`program`, then one loop turn (the registration RPCs start) and a wait for them (see Speed)."""

    async def run() -> None:
        if drop_type_aliases:
            register_stack_transformation(_without_type_aliases)
        result = program()
        if inspect.isawaitable(result):
            await result
        await asyncio.sleep(0)
        await wait_for_rpcs(await_all_outstanding_tasks=False)

    return run


def _render_here(
    program: Callable[[], Any],
    project: str,
    stack: str,
    config: StackConfig,
    preview: bool,
    backend: Backend,
    root_directory: Path | None,
    organization: str,
) -> Rendering:
    monitor = RecordingMonitor(backend)
    engine = RecordingEngine()
    pulumi_settings.ROOT.set(None)
    pulumi_config.set_all_config(config.as_runtime_config(), sorted(config.secret_keys))
    settings = pulumi_mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=engine,
        project=project,
        stack=stack,
        dry_run=preview,
        organization=organization,
        root_directory=str(root_directory) if root_directory else None,
        callbacks=None,
        outputs=set(),
        lock=threading.Lock(),
        package_refs={},
        base_providers_by_ref={},
        parallel=None,
        legacy_apply_enabled=False,
    )
    pulumi_settings.configure(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(program))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
    return Rendering(
        project=project,
        stack=stack,
        preview=preview,
        stack_urn=monitor.stack_urn,
        resources=ordered(list(monitor.recorded.values())),
        stack_outputs=monitor.stack_outputs,
        messages=engine.messages,
    )


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


# ---------------------------------------------------------------------------------------------
# Rendering the vaultspec program for a spec file


def find_project_dir(spec_path: Path) -> Path | None:
    """The nearest folder holding Pulumi.yaml: above the spec file, else the working directory."""
    for folder in [*Path(spec_path).resolve().parents, Path.cwd()]:
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return None


def stack_config_for(project_dir: Path | None, stack: str, *, decrypt: bool) -> StackConfig:
    """`Pulumi.<stack>.yaml` next to Pulumi.yaml (secure values as placeholders unless `decrypt`),
    overridden by the `PULUMI_CONFIG` JSON environment variable, as the CLI hands config over."""
    if project_dir is not None:
        return read_stack_config(project_dir, stack, decrypt=decrypt)
    config = StackConfig()
    apply_environment(config)
    return config


def render_spec(
    spec_path: Path | str,
    *,
    preview: bool = True,
    backend: Backend | None = None,
    stack: str | None = None,
    project_dir: Path | None = None,
    decrypt_config: bool = False,
    hooks: Any = None,
    drop_type_aliases: bool = True,
) -> Rendering:
    """Render `vaultspec.program.run` for one spec file.

    The stack name is the spec file's stem (stacks/dev.yaml -> dev) unless given; config comes
    from `stack_config_for`, with `vaultspec:spec` set to this file.
    """
    from vaultspec import program

    path = Path(spec_path).resolve()
    stack = stack or path.stem
    project_dir = project_dir or find_project_dir(path)
    project = project_name(project_dir) if project_dir is not None else DEFAULT_PROJECT
    config = stack_config_for(project_dir, stack, decrypt=decrypt_config)
    config.values[f"{program.CONFIG_NAMESPACE}:spec"] = str(path)
    return render(
        lambda: program.run(hooks),
        project=project,
        stack=stack,
        config=config,
        preview=preview,
        backend=backend,
        root_directory=project_dir,
        drop_type_aliases=drop_type_aliases,
    )


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, leaf) pairs of a nested value, paths as in `secret_paths`."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, value
