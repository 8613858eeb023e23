"""Load spec files: YAML with positions -> typed `Spec`, with every problem reported at once."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from vaultspec.spec.advice import spec_warnings
from vaultspec.spec.errors import Problem, Severity, SpecError
from vaultspec.spec.model import Key, Secret, Spec, Vault, merge_defaults
from vaultspec.spec.rules import Finding, duplicate_names, key_rules, secret_rules, spec_rules, vault_rules
from vaultspec.spec.yamlsource import Document, PathKey, SourceMap, read_yaml

SPEC_SUFFIXES = (".yaml", ".yml")
_MERGED_FIELDS = ("location", "resourceGroup", "tenantId")


@dataclass(frozen=True)
class CheckedSpec:
    """A valid spec and its warnings (`vaultspec.spec.advice`), which never make it invalid."""

    spec: Spec
    warnings: list[Problem]


def check_spec(path: Path | str, known_policies: Iterable[str] | None = None, stack: str | None = None) -> CheckedSpec:
    """Load and validate one spec file with its warnings; raise `SpecError` listing every error.

    `stack` (default: the file's stem, as `stacks/<stack>.yaml`) decides the stack-dependent warnings.
    """
    path = Path(path)
    known = frozenset(known_policies) if known_policies is not None else None
    document = read_yaml(path)
    spec, problems = _validate(document, known)
    if problems or spec is None:
        raise SpecError(problems)
    findings = spec_warnings(spec, stack if stack is not None else path.stem)
    return CheckedSpec(spec, sorted(_findings(findings, document.source, (), "warning")))


def load_spec(path: Path | str, known_policies: Iterable[str] | None = None) -> Spec:
    """Load and validate one spec file; raise `SpecError` listing every problem."""
    return check_spec(path, known_policies).spec


def spec_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand folders into the spec files they hold (sorted), keeping files as given."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def check_specs(paths: Iterable[Path | str], known_policies: Iterable[str] | None = None) -> dict[Path, CheckedSpec]:
    """Load many files, collecting the errors of all of them before raising (with the valid files' warnings)."""
    problems: list[Problem] = []
    checked: dict[Path, CheckedSpec] = {}
    files = spec_files(paths)
    if not files:
        raise SpecError.single(", ".join(str(p) for p in paths) or ".", "no spec files (*.yaml, *.yml) found")
    for file in files:
        try:
            checked[file] = check_spec(file, known_policies)
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems, [w for c in checked.values() for w in c.warnings])
    return checked


def load_specs(paths: Iterable[Path | str], known_policies: Iterable[str] | None = None) -> dict[Path, Spec]:
    """Load many files, collecting the problems of all of them before raising."""
    return {path: checked.spec for path, checked in check_specs(paths, known_policies).items()}


def _validate(document: Document, known: frozenset[str] | None) -> tuple[Spec | None, list[Problem]]:
    source = document.source
    try:
        spec = Spec.model_validate(document.data, context=_context(source))
    except ValidationError as exc:
        problems = list(_dedupe(_pydantic_problems(exc, source, Spec, document.data)))
        return None, problems + list(_rules_for_valid_parts(document, known))
    return spec, list(_findings(spec_rules(spec, known), source, ()))


def _context(source: SourceMap) -> dict[str, Any]:
    """Validation context: files a spec names (BYOK blobs, public keys) are relative to the spec file."""
    return {"spec_dir": Path(source.file).resolve().parent}


def _rules_for_valid_parts(document: Document, known: frozenset[str] | None) -> Iterator[Problem]:
    """Best effort when the document as a whole is invalid, so one typo does not hide the rest: the
    cross-field rules of every vault that is valid on its own, and of every key and secret that is
    valid on its own in a vault that is not; duplicate vault names."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("vaults"), list):
        return
    names = [(index, raw.get("name")) for index, raw in enumerate(data["vaults"]) if isinstance(raw, dict)]
    names = [(index, name) for index, name in names if isinstance(name, str)]
    for position, name in duplicate_names(name for _, name in names):
        yield from _findings(
            [(("name",), f"vault '{name}' is declared twice (names are case-insensitive)")],
            document.source,
            ("vaults", names[position][0]),
        )
    for index, raw in enumerate(data["vaults"]):
        merged = merge_defaults(raw, data.get("defaults"))
        try:
            vault = Vault.model_validate(merged, context=_context(document.source))
        except ValidationError:
            yield from _rules_for_valid_objects(merged, document.source, ("vaults", index))
            continue
        yield from _findings(vault_rules(vault, known), document.source, ("vaults", index))


def _rules_for_valid_objects(raw: Any, source: SourceMap, prefix: PathKey) -> Iterator[Problem]:
    if not isinstance(raw, dict):
        return
    sku = raw.get("sku", "premium")
    sku = sku if sku in ("standard", "premium") else "premium"  # an invalid sku is reported already
    for field, model, rules in (("keys", Key, lambda k: key_rules(k, sku)), ("secrets", Secret, secret_rules)):
        items = raw.get(field)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            try:
                valid = model.model_validate(item, context=_context(source))
            except ValidationError:
                continue
            yield from _findings(rules(valid), source, (*prefix, field, index))


def _findings(
    findings: Iterable[Finding], source: SourceMap, prefix: PathKey, severity: Severity = "error"
) -> Iterator[Problem]:
    for path, message in findings:
        full = (*prefix, *path)
        pos = source.value_at(full)
        yield Problem(source.file, pos.line, pos.col, f"{dotted(full)}: {message}", severity)


def _pydantic_problems(exc: ValidationError, source: SourceMap, model: type[BaseModel], data: Any) -> Iterator[Problem]:
    for error in exc.errors(include_input=False, include_url=False):
        loc: PathKey = tuple(part for part in error["loc"] if isinstance(part, (str, int)))
        loc = _redirect_defaults(loc, source, data)
        if error["type"] == "extra_forbidden":
            pos = source.key_at(loc)
            hint = _suggest(loc, model)
            message = f"{dotted(loc)}: unknown field" + (f" (did you mean '{hint}'?)" if hint else "")
        else:
            pos = source.value_at(loc)
            message = f"{dotted(loc)}: {_message(error)}"
            if error["type"] == "missing" and loc and loc[-1] in _MERGED_FIELDS and loc[0] == "vaults":
                message += " (set it on the vault or in defaults)"
        yield Problem(source.file, pos.line, pos.col, message)


def _message(error: Any) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


def _redirect_defaults(loc: PathKey, source: SourceMap, data: Any) -> PathKey:
    """A bad value merged in from defaults is reported where it is written: in defaults."""
    merged = len(loc) >= 3 and loc[0] == "vaults" and loc[2] in _MERGED_FIELDS and loc[:3] not in source.values
    defaults = data.get("defaults") if isinstance(data, dict) else None
    if merged and isinstance(defaults, dict) and loc[2] in defaults:
        return ("defaults", *loc[2:])
    return loc


def _dedupe(problems: Iterable[Problem]) -> Iterator[Problem]:
    seen: set[tuple[int, int, str]] = set()
    for problem in problems:
        key = (problem.line, problem.col, problem.message)
        if key not in seen:
            seen.add(key)
            yield problem


def _suggest(loc: PathKey, model: type[BaseModel]) -> str | None:
    """Closest field name at the unknown field's level, walking the model along `loc`."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        current = _field_model(current, part)
        if current is None:
            return None
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return None
    names = [f.alias or n for n, f in current.model_fields.items()]
    typed = str(loc[-1])
    same_letters = [n for n in names if _letters(n) == _letters(typed)]
    if same_letters:
        return same_letters[0]
    matches = difflib.get_close_matches(typed, names, n=1, cutoff=0.75)
    return matches[0] if matches else None


def _letters(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _field_model(model: Any, alias: str) -> type[BaseModel] | None:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    for name, info in model.model_fields.items():
        if (info.alias or name) == alias:
            return _inner_model(info.annotation)
    return None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found:
            return found
    return None


def dotted(path: PathKey) -> str:
    """`('vaults', 0, 'keys', 1, 'size')` -> `vaults[0].keys[1].size`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"
