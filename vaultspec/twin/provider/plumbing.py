"""The provider gRPC protocol, kept apart from what the stand-in providers do.

A `Plugin` is a table of `ResourceType`s (token -> Check/Diff/Create/Read/Update/Delete) and
`functions` (token -> Invoke). `serve()` runs it as a Pulumi provider plugin: it binds 127.0.0.1:0,
prints the port as the first line of stdout (what the engine reads) and answers the engine's calls.

Values cross this boundary as plain Python (`unmarshal`): secrets unwrapped, unknowns as `UNKNOWN`;
what a handler returns is marshalled back with the paths it names as secret (`Outputs.secret_paths`).
A handler raises `ProviderError` for a failure the user must see: its message (which never holds a
secret value) becomes the engine's error for that resource, without a Python traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
from google.protobuf import empty_pb2, struct_pb2
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

UNKNOWN = Computed()
"""A value the engine does not know yet (a preview's computed output)."""


def is_unknown(value: Any) -> bool:
    """Whether `value` is unknown (any `Computed`: copies of UNKNOWN are unknown too)."""
    return isinstance(value, Computed)


class ProviderError(Exception):
    """A failure shown to the user as the resource's error (never holds a secret value)."""


@dataclass
class Outputs:
    """What Create/Read/Update answer: the resource id, its outputs and which output paths are secret."""

    id: str
    properties: dict[str, Any]
    inputs: dict[str, Any] | None = None
    secret_paths: tuple[str, ...] = ()


@dataclass
class DiffResult:
    """Property paths that change, those of them that force a replacement, and delete-before-replace."""

    changes: dict[str, str] = field(default_factory=dict)  # path -> "add" | "update" | "delete"
    replaces: set[str] = field(default_factory=set)
    delete_before_replace: bool = False


@dataclass
class Request:
    """One resource call: its URN, id, and the (plain) values the engine sent."""

    urn: str
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    old_inputs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    preview: bool = False
    random_seed: bytes = b""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


class EngineLog:
    """Messages to the engine about a resource (shown with it, and in the event stream as diagnostics)."""

    def __init__(self) -> None:
        self._stub: Any = None

    def connect(self, address: str | None) -> None:
        if address:
            from pulumi.runtime.proto import engine_pb2_grpc

            self._stub = engine_pb2_grpc.EngineStub(grpc.aio.insecure_channel(address))

    async def info(self, urn: str, message: str) -> None:
        """Best effort: a message the engine cannot take is dropped, never a failure of the operation."""
        if self._stub is None:
            return
        from pulumi.runtime.proto import engine_pb2

        with contextlib.suppress(grpc.RpcError):
            await self._stub.Log(engine_pb2.LogRequest(severity=engine_pb2.INFO, message=message, urn=urn))


ENGINE_LOG = EngineLog()


class ResourceType:
    """The verbs of one resource type; the defaults suit a type with nothing to say about a verb."""

    token: str = ""

    async def check(self, request: Request) -> dict[str, Any]:
        """The inputs to use (defaults applied); raise ProviderError for invalid ones."""
        return request.inputs

    async def diff(self, request: Request) -> DiffResult:
        raise NotImplementedError

    async def create(self, request: Request) -> Outputs:
        raise NotImplementedError

    async def read(self, request: Request) -> Outputs | None:
        """The live resource, or None when it no longer exists."""
        raise NotImplementedError

    async def update(self, request: Request) -> Outputs:
        raise NotImplementedError

    async def delete(self, request: Request) -> None:
        raise NotImplementedError


Function = Callable[[dict[str, Any]], Awaitable[Outputs]]


@dataclass
class Plugin:
    """A provider plugin: its name and version as the engine knows it, its types and functions."""

    name: str
    version: str
    types: Mapping[str, ResourceType]
    functions: Mapping[str, Function] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------
# Values


def unmarshal(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    """A property map as plain Python: secrets unwrapped, unknowns as UNKNOWN, integers as int."""
    if struct is None:
        return {}
    return {key: _plain(value) for key, value in PropertyValue.unmarshal_map(struct).items()}


def _plain(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed) or inner == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: _plain(v) for k, v in inner.items()}
    if isinstance(inner, (list, tuple)):
        return [_plain(v) for v in inner]
    if isinstance(inner, float) and inner.is_integer():
        return int(inner)  # the wire has only doubles; ARM's schemas say integer
    return inner


def marshal(values: Mapping[str, Any], secret_paths: tuple[str, ...] = ()) -> struct_pb2.Struct:
    """Plain Python as a property map (the engine's wire form); values at `secret_paths` are marked secret."""
    struct = struct_pb2.Struct()
    struct.update({k: _wire(v, k, set(secret_paths)) for k, v in values.items()})
    return struct


def _wire(value: Any, path: str, secret: set[str]) -> Any:
    if is_unknown(value):
        wired: Any = rpc.UNKNOWN
    elif isinstance(value, Mapping):
        wired = {k: _wire(v, f"{path}.{k}", secret) for k, v in value.items()}
    elif isinstance(value, (list, tuple)):
        wired = [_wire(v, f"{path}[{i}]", secret) for i, v in enumerate(value)]
    elif value is None or isinstance(value, (bool, str, int, float)):
        wired = value
    else:
        raise TypeError(f"{path}: cannot send a {type(value).__name__} to the engine")
    if path in secret:
        return {rpc._special_sig_key: rpc._special_secret_sig, "value": wired}
    return wired


# ------------------------------------------------------------------------------------------------
# The servicer

_KINDS = {
    ("add", False): provider_pb2.PropertyDiff.ADD,
    ("add", True): provider_pb2.PropertyDiff.ADD_REPLACE,
    ("delete", False): provider_pb2.PropertyDiff.DELETE,
    ("delete", True): provider_pb2.PropertyDiff.DELETE_REPLACE,
    ("update", False): provider_pb2.PropertyDiff.UPDATE,
    ("update", True): provider_pb2.PropertyDiff.UPDATE_REPLACE,
}


def _type_of(urn: str) -> str:
    parts = urn.split("::")
    return parts[-2].rsplit("$", 1)[-1] if len(parts) > 1 else ""


class Servicer(provider_pb2_grpc.ResourceProviderServicer):
    """Dispatches the engine's calls to a `Plugin`, turning ProviderError into a clean gRPC error."""

    def __init__(self, plugin: Plugin) -> None:
        self.plugin = plugin

    def _type(self, urn: str) -> ResourceType:
        token = _type_of(urn)
        handler = self.plugin.types.get(token)
        if handler is None:
            raise ProviderError(
                f"{token}: the twin's stand-in for the {self.plugin.name} provider does not support this resource type "
                f"(it supports {', '.join(sorted(self.plugin.types))})"
            )
        return handler

    async def _guard(self, context: Any, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except ProviderError as error:
            await context.abort(grpc.StatusCode.UNKNOWN, str(error))

    async def GetPluginInfo(self, request: Any, context: Any) -> Any:
        from pulumi.runtime.proto import plugin_pb2

        return plugin_pb2.PluginInfo(version=self.plugin.version)

    async def GetSchema(self, request: Any, context: Any) -> Any:
        return provider_pb2.GetSchemaResponse(schema="")

    async def CheckConfig(self, request: Any, context: Any) -> Any:
        return provider_pb2.CheckResponse(inputs=request.news)

    async def DiffConfig(self, request: Any, context: Any) -> Any:
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    async def Configure(self, request: Any, context: Any) -> Any:
        # What pulumi-azure-native answers: previews supported; secrets arrive unwrapped and the engine puts
        # their secretness back on what the provider returns.
        return provider_pb2.ConfigureResponse(supportsPreview=True)

    async def Cancel(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    async def Invoke(self, request: Any, context: Any) -> Any:
        function = self.plugin.functions.get(request.tok)
        if function is None:
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED,
                f"{request.tok}: the twin's stand-in for the {self.plugin.name} provider does not answer this function",
            )
        result = await self._guard(context, function(unmarshal(request.args)))
        return provider_pb2.InvokeResponse(**{"return": marshal(result.properties, result.secret_paths)})

    async def Check(self, request: Any, context: Any) -> Any:
        async def check() -> Any:
            handler = self._type(request.urn)
            call = Request(
                urn=request.urn,
                inputs=unmarshal(request.news),
                old_inputs=unmarshal(request.olds),
                random_seed=request.randomSeed,
            )
            return provider_pb2.CheckResponse(inputs=marshal(await handler.check(call), _secret_paths(request.news)))

        return await self._guard(context, check())

    async def Diff(self, request: Any, context: Any) -> Any:
        async def diff() -> Any:
            handler = self._type(request.urn)
            result = await handler.diff(_changing(request))
            detailed = {
                path: provider_pb2.PropertyDiff(kind=_KINDS[(kind, path in result.replaces)], inputDiff=True)
                for path, kind in result.changes.items()
            }
            return provider_pb2.DiffResponse(
                changes=provider_pb2.DiffResponse.DIFF_SOME if result.changes else provider_pb2.DiffResponse.DIFF_NONE,
                replaces=sorted(result.replaces),
                diffs=sorted({path.split(".", 1)[0].split("[", 1)[0] for path in result.changes}),
                deleteBeforeReplace=result.delete_before_replace,
                detailedDiff=detailed,
                hasDetailedDiff=True,
            )

        return await self._guard(context, diff())

    async def Create(self, request: Any, context: Any) -> Any:
        async def create() -> Any:
            handler = self._type(request.urn)
            call = Request(urn=request.urn, inputs=unmarshal(request.properties), preview=request.preview)
            result = await handler.create(call)
            return provider_pb2.CreateResponse(id=result.id, properties=marshal(result.properties, result.secret_paths))

        return await self._guard(context, create())

    async def Read(self, request: Any, context: Any) -> Any:
        async def read() -> Any:
            handler = self._type(request.urn)
            call = Request(
                urn=request.urn, id=request.id, inputs=unmarshal(request.inputs), state=unmarshal(request.properties)
            )
            result = await handler.read(call)
            if result is None:
                return provider_pb2.ReadResponse(id="")  # gone: the engine drops it from the state
            return provider_pb2.ReadResponse(
                id=result.id,
                properties=marshal(result.properties, result.secret_paths),
                inputs=marshal(result.inputs or {}, _secret_paths(request.inputs)),
            )

        return await self._guard(context, read())

    async def Update(self, request: Any, context: Any) -> Any:
        async def update() -> Any:
            handler = self._type(request.urn)
            result = await handler.update(_changing(request, preview=request.preview))
            return provider_pb2.UpdateResponse(properties=marshal(result.properties, result.secret_paths))

        return await self._guard(context, update())

    async def Delete(self, request: Any, context: Any) -> Any:
        async def delete() -> Any:
            handler = self._type(request.urn)
            call = Request(
                urn=request.urn,
                id=request.id,
                state=unmarshal(request.properties),
                inputs=unmarshal(request.old_inputs),
            )
            await handler.delete(call)
            return empty_pb2.Empty()

        return await self._guard(context, delete())


def _changing(request: Any, *, preview: bool = False) -> Request:
    """A Diff or Update request: the new inputs against the old inputs and the old state."""
    return Request(
        urn=request.urn,
        id=request.id,
        inputs=unmarshal(request.news),
        old_inputs=unmarshal(request.old_inputs),
        state=unmarshal(request.olds),
        preview=preview,
    )


def _secret_paths(struct: struct_pb2.Struct) -> tuple[str, ...]:
    """Dotted paths of the secret values in a property map (so Check and Read keep them secret)."""
    found: list[str] = []

    def walk(value: PropertyValue, path: str) -> None:
        if value.is_secret:
            found.append(path)
            return
        if isinstance(value.value, Mapping):
            for key, inner in value.value.items():
                walk(inner, f"{path}.{key}")
        elif isinstance(value.value, (list, tuple)):
            for index, inner in enumerate(value.value):
                walk(inner, f"{path}[{index}]")

    for key, value in PropertyValue.unmarshal_map(struct).items():
        walk(value, key)
    return tuple(found)


def serve(plugin: Plugin, argv: list[str]) -> None:
    """Run `plugin` as the engine launches provider plugins: `[flags] <engine address>`; the port on stdout."""
    parser = argparse.ArgumentParser(prog=f"pulumi-resource-{plugin.name}")
    parser.add_argument("engine", nargs="?", help="the engine's address (resource messages go there)")
    known, _ = parser.parse_known_args(argv)

    async def run() -> None:
        ENGINE_LOG.connect(known.engine)
        server = grpc.aio.server()
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(Servicer(plugin), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
