"""JSON Schema (2020-12) of a spec file, for editors (yaml-language-server) and other tools."""

from __future__ import annotations

import json
from typing import Any

from vaultspec.spec.model import Spec

SCHEMA_ID = "https://vaultspec.dev/schema/vaultspec.schema.json"


def spec_schema() -> dict[str, Any]:
    """The schema as a dict; pydantic emits 2020-12 keywords ($defs, prefixItems)."""
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    vault = schema["$defs"]["Vault"]
    # defaults.location / defaults.resourceGroup may supply these, so editors must not demand them
    vault["required"] = [name for name in vault["required"] if name not in ("location", "resourceGroup")]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def spec_schema_text() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=False) + "\n"
