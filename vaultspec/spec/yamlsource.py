"""Safe YAML reading that remembers where every node came from.

PyYAML's constructors lose positions and silently keep the last of duplicate keys, so we
compose the node graph ourselves and convert it to plain Python while indexing each path's
key and value positions. Hostile input (huge files, alias bombs, deep nesting, non-UTF-8
bytes, unknown tags) becomes a `SpecError`, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from vaultspec.spec.errors import Problem, SpecError

MAX_BYTES = 2 * 1024 * 1024
# LibYAML composes ~10x faster when present; both produce the same nodes and marks.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 200_000
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int
    col: int


@dataclass
class SourceMap:
    """Positions of the key and value node at every path of a document."""

    file: str
    values: dict[PathKey, Position] = field(default_factory=dict)
    keys: dict[PathKey, Position] = field(default_factory=dict)

    def value_at(self, path: PathKey) -> Position:
        """Position of the value at `path`, or of its nearest ancestor that exists."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found:
                return found
        return Position(1, 1)

    def key_at(self, path: PathKey) -> Position:
        """Position of the mapping key at `path` (falls back to the value's position)."""
        return self.keys.get(path) or self.value_at(path)


@dataclass
class Document:
    data: Any
    source: SourceMap


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError.single(file, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line, col) from None


def _yaml_problem(exc: yaml.YAMLError, file: str) -> Problem:
    """A PyYAML error as a problem; never quotes the source line (it may hold a secret)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {context}, {problem}" if context else f"invalid YAML: {problem}"
    if mark is None:
        return Problem(file, 1, 1, message)
    return Problem(file, mark.line + 1, mark.column + 1, message)


class _Converter:
    """Turns a composed node graph into plain Python, recording positions and limits."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.source = SourceMap(file)
        self.problems: list[Problem] = []
        self.nodes = 0

    def fail(self, node: Node, message: str) -> None:
        pos = _position(node)
        self.problems.append(Problem(self.source.file, pos.line, pos.col, message))

    def convert(self, node: Node, path: PathKey) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Abort(node, f"document expands to more than {MAX_NODES} nodes (alias expansion?)")
        if len(path) > MAX_DEPTH:
            raise _Abort(node, f"document nests deeper than {MAX_DEPTH} levels")
        self.source.values.setdefault(path, _position(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: Node) -> Any:
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            self.fail(node, f"invalid YAML value: {exc.problem}")
        except (ValueError, TypeError, OverflowError):
            # e.g. a timestamp-shaped scalar with an impossible date: keep the text, let the model judge it
            if isinstance(node, ScalarNode):
                return node.value
        return None

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        try:
            self.loader.flatten_mapping(node)
        except yaml.constructor.ConstructorError as exc:
            self.fail(node, f"invalid YAML merge: {exc.problem}")
            return {}
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, "mapping keys must be plain strings")
                continue
            key = key_node.value
            key_pos = _position(key_node)
            if key in first_seen:
                seen = first_seen[key]
                self.fail(key_node, f"duplicate key '{key}' (first defined at line {seen.line})")
                continue
            first_seen[key] = key_pos
            self.source.keys[(*path, key)] = key_pos
            result[key] = self.convert(value_node, (*path, key))
        return result


class _Abort(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def _reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    before = text[: exc.position]
    line = before.count("\n") + 1
    col = exc.position - (before.rfind("\n") + 1) + 1
    return Problem(file, line, col, f"invalid YAML: unacceptable character #x{exc.character:04x}")


def parse_yaml(text: str, file: str) -> Document:
    """Parse one YAML document into plain data plus its source map, or raise SpecError."""
    try:
        loader = SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise SpecError([_reader_problem(exc, text, file)]) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.reader.ReaderError as exc:
            raise SpecError([_reader_problem(exc, text, file)]) from None
        except yaml.YAMLError as exc:
            raise SpecError([_yaml_problem(exc, file)]) from None
        except RecursionError:
            raise SpecError.single(file, f"document nests deeper than {MAX_DEPTH} levels") from None
        if node is None:
            raise SpecError.single(file, "file is empty: expected a vaultspec/v1 document")
        converter = _Converter(loader, file)
        try:
            data = converter.convert(node, ())
        except _Abort as abort:
            pos = _position(abort.node)
            raise SpecError([Problem(file, pos.line, pos.col, abort.message)]) from None
        except RecursionError:
            raise SpecError.single(file, f"document nests deeper than {MAX_DEPTH} levels") from None
        if converter.problems:
            raise SpecError(converter.problems)
        return Document(data, converter.source)
    finally:
        loader.dispose()


def read_yaml(path: Path) -> Document:
    """Read and parse a spec file with size and encoding limits."""
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SpecError.single(file, f"file is {size} bytes; spec files are limited to {MAX_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError.single(file, f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise SpecError.single(file, f"file is larger than {MAX_BYTES} bytes")
    return parse_yaml(_decode(raw, file), file)
