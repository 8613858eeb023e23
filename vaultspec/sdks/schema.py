"""The package schema of the component library: what the component provider serves, and the committed copy.

`components/schema.json` is the schema `pulumi package get-schema ./components` prints: the
language-neutral API of `KeyVault`, `VaultKey` and `VaultSecret`, inferred by Pulumi's analyzer
from the components' annotations. It is committed (reviewed like any API change) and the TypeScript
and Go SDKs are generated from it. A change to the components' arguments or outputs that is not
followed by `make schema` fails the tests, naming each place the schemas differ.

`inferred_schema()` runs the same analyzer in-process (what the provider's GetSchema answers), then
shapes it as the CLI prints it: the CLI decodes the provider's answer into its Go PackageSpec and
encodes it again, which drops descriptions of array items and map values (a Go TypeSpec has none),
always writes `config` and omits empty `dependencies`. A test checks this against the real CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPONENTS_DIR = REPO_ROOT / "components"
SCHEMA_PATH = COMPONENTS_DIR / "schema.json"
TYPE_SPEC_KEYS = frozenset({"type", "$ref", "additionalProperties", "items", "oneOf", "discriminator", "plain"})
REGENERATE = "run `make schema` and commit components/schema.json (the SDKs are generated from it)"


def inferred_schema() -> dict[str, Any]:
    """The schema the component provider serves, as `pulumi package get-schema ./components` prints it."""
    from vaultspec.components.__main__ import ComponentHost

    return as_cli_prints(json.loads(ComponentHost().schema))


def as_cli_prints(schema: dict[str, Any]) -> dict[str, Any]:
    """A provider's schema after the CLI's round trip through its Go PackageSpec (see the module docstring)."""
    shaped = _type_specs(schema)
    shaped.setdefault("config", {})
    if not shaped.get("dependencies"):
        shaped.pop("dependencies", None)
    return shaped


def _type_specs(value: Any, *, type_spec: bool = False) -> Any:
    if isinstance(value, list):
        return [_type_specs(item, type_spec=type_spec) for item in value]
    if not isinstance(value, dict):
        return value
    kept = {k: v for k, v in value.items() if not type_spec or k in TYPE_SPEC_KEYS}
    return {k: _type_specs(v, type_spec=k in ("items", "additionalProperties")) for k, v in kept.items()}


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def committed_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_schema(path: Path = SCHEMA_PATH) -> bool:
    """Rewrite the committed schema from the components; True when it changed."""
    text = schema_text(inferred_schema())
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def drift(committed: Any, current: Any, where: str = "") -> list[str]:
    """Every place (a `/`-separated path) where the committed schema differs from the current one."""
    if isinstance(committed, dict) and isinstance(current, dict):
        found: list[str] = []
        for key in sorted(set(committed) | set(current)):
            place = f"{where}/{key}"
            if key not in committed:
                found.append(f"{place}: new, not in the committed schema")
            elif key not in current:
                found.append(f"{place}: in the committed schema, gone from the components")
            else:
                found.extend(drift(committed[key], current[key], place))
        return found
    if committed != current:
        return [f"{where or '/'}: {json.dumps(committed)[:80]} -> {json.dumps(current)[:80]}"]
    return []


def drift_message(committed: dict[str, Any], current: dict[str, Any], source: str) -> str | None:
    """None when equal, else what differs and how to fix it."""
    places = drift(committed, current)
    if not places:
        return None
    shown = "\n  ".join(places[:20]) + (f"\n  ... and {len(places) - 20} more" if len(places) > 20 else "")
    return f"components/schema.json is not what {source} serves:\n  {shown}\n{REGENERATE}"
