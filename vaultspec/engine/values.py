"""Values of a render: secrets that never print, unknowns, and the Pulumi wire form of both.

A secret input or output is held in a `Concealed` wrapper (repr/str "[secret]"); every printable
form (`printable()`, pydantic dumps of a rendering) shows "[secret]", and only `reveal()` gives the
value back, for a backend that must send it on. A dry run's computed values are `UNKNOWN`, printed
as "[unknown]". `decode_properties`/`encode_properties` translate to and from the protobuf Structs
the Pulumi SDK sends, keeping secretness (the wire's secret signature) and unknowns both ways.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

SECRET_TEXT = "[secret]"
UNKNOWN_TEXT = "[unknown]"


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
