"""`vaultspec validate` and `vaultspec schema`: the contracts pipelines and editors rely on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vaultspec.cli import app
from vaultspec.spec.schema import spec_schema

runner = CliRunner()
ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def test_every_stack_in_the_repository_is_valid(repo_root: Path):
    result = runner.invoke(app, ["validate", str(repo_root / "stacks")])
    assert result.exit_code == 0, result.output
    assert "stacks/dev.yaml" in result.output and "stacks/prod.example.yaml" in result.output


def test_the_readme_spec_example_is_valid(repo_root: Path, tmp_path: Path):
    readme = (repo_root / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if "apiVersion: vaultspec/v1" in b]
    example = tmp_path / "readme.yaml"
    example.write_text(block)
    result = runner.invoke(app, ["validate", str(example)])
    assert result.exit_code == 0, result.output


def test_validate_defaults_to_the_stacks_folder(repo_root: Path, monkeypatch):
    monkeypatch.chdir(repo_root)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output


def test_invalid_files_exit_2_with_file_line_col_on_stderr(spec_file):
    good = spec_file(
        "apiVersion: vaultspec/v1\nvaults:\n  - {name: ok-kv, location: westeurope, resourceGroup: rg, "
        "access: {model: rbac}}\n",
        name="good.yaml",
    )
    bad = spec_file("apiVersion: vaultspec/v1\nvaults:\n  - name: x\n", name="bad.yaml")
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines, result.output
    for line in lines:
        match = ERROR_LINE.match(line)
        assert match, line
        assert match["file"] == str(bad)
    assert any("vaults[0].name" in line and ":3:11:" in line for line in lines)


def test_all_problems_of_all_files_are_reported_at_once(spec_file):
    first = spec_file("apiVersion: vaultspec/v1\nvaults:\n  - name: x\n", name="a.yaml")
    second = spec_file("apiVersion: nope\n", name="b.yaml")
    result = runner.invoke(app, ["validate", str(first), str(second)])
    assert result.exit_code == 2
    files = {ERROR_LINE.match(line)["file"] for line in result.stderr.strip().splitlines()}
    assert files == {str(first), str(second)}


def test_a_folder_without_specs_is_an_error(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no spec files" in result.stderr


def test_validate_never_prints_a_traceback_for_binary_garbage(tmp_path):
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    result = subprocess.run(
        [sys.executable, "-m", "vaultspec", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert ERROR_LINE.match(result.stderr.strip().splitlines()[0])


def test_schema_is_json_schema_2020_12_with_descriptions():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    vault = schema["$defs"]["Vault"]
    assert vault["additionalProperties"] is False
    assert set(schema["properties"]) == {"apiVersion", "defaults", "vaults"}
    undescribed = [
        f"{name}.{field}"
        for name, definition in [("Spec", schema), *schema["$defs"].items()]
        for field, prop in definition.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert undescribed == []


def test_committed_schema_is_in_sync_with_the_model(repo_root: Path):
    committed = json.loads((repo_root / "schema" / "vaultspec.schema.json").read_text())
    assert committed == spec_schema(), "run `make schema` and commit schema/vaultspec.schema.json"


@pytest.mark.parametrize("stack", ["dev.yaml", "prod.example.yaml"])
def test_stack_files_point_editors_at_the_schema(repo_root: Path, stack: str):
    first_line = (repo_root / "stacks" / stack).read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../schema/vaultspec.schema.json"


def test_the_schema_accepts_the_stacks(repo_root: Path):
    """The committed stacks validate against the JSON Schema too (what editors check)."""
    import yaml
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(spec_schema())
    for stack in (repo_root / "stacks").glob("*.yaml"):
        document = yaml.safe_load(stack.read_text())
        document = json.loads(json.dumps(document, default=lambda v: v.isoformat().replace("+00:00", "Z")))
        errors = sorted(validator.iter_errors(document), key=lambda e: e.path)
        assert not errors, f"{stack}: {errors[0].message}"
