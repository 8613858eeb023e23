from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from vaultspec.spec import SpecError, load_spec

HEADER = """\
apiVersion: vaultspec/v1
defaults: {location: westeurope, resourceGroup: rg-kv}
vaults:
"""

APP = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def spec_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write a spec (dedented) to a file and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def problems(spec_file: Callable[[str], Path]) -> Callable[..., list[str]]:
    """Load a spec text and return its problems as `LINE:COL: message` strings ([] when valid)."""

    def run(text: str, known_policies: set[str] | None = None) -> list[str]:
        path = spec_file(text)
        try:
            load_spec(path, known_policies)
        except SpecError as error:
            return [f"{p.line}:{p.col}: {p.message}" for p in error.problems]
        return []

    return run
