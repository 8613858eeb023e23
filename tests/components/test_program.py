"""The Pulumi program: which spec it reads, what it protects, and what it exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from vaultspec import program
from vaultspec.engine.render import RenderError, render
from vaultspec.engine.stackconfig import StackConfig

from .conftest import HEADER, KEY_VAULT, ROOT


def test_spec_path_defaults_to_the_stacks_file_and_resolves_against_the_project(tmp_path: Path):
    assert program.spec_path(None, "dev", tmp_path) == tmp_path / "stacks" / "dev.yaml"
    assert program.spec_path("specs/x.yaml", "dev", tmp_path) == tmp_path / "specs" / "x.yaml"
    assert program.spec_path("/abs/x.yaml", "dev", tmp_path) == Path("/abs/x.yaml")


@pytest.mark.parametrize(
    ("configured", "stack", "protected"),
    [(None, "dev", False), (None, "Dev-2", False), (None, "prod", True), (True, "dev", True), (False, "prod", False)],
)
def test_protection_is_off_only_for_dev_stacks_unless_configured(configured, stack: str, protected: bool):
    assert program.protect_resources(configured, stack) is protected


def test_program_reads_stacks_stack_yaml_relative_to_the_project(project: Path):
    (project / "stacks").mkdir()
    (project / "stacks" / "qa.yaml").write_text(HEADER + "  - {name: qa-kv, access: {model: rbac}}\n")
    rendering = render(program.run, stack="qa", root_directory=project)
    assert [r.name for r in rendering.of_type(KEY_VAULT)] == ["qa-kv"]
    assert rendering.stack_outputs["spec"] == "stacks/qa.yaml"


def test_config_names_another_spec_file(project: Path):
    (project / "specs").mkdir()
    (project / "specs" / "team.yaml").write_text(HEADER + "  - {name: team-kv, access: {model: rbac}}\n")
    config = StackConfig(values={"vaultspec:spec": "specs/team.yaml"})
    rendering = render(program.run, stack="qa", config=config, root_directory=project)
    assert [r.name for r in rendering.of_type(KEY_VAULT)] == ["team-kv"]


def test_an_invalid_or_missing_spec_fails_with_its_problems(project: Path):
    with pytest.raises(RenderError, match=r"the spec is invalid:\n.*stacks/none\.yaml:1:1: cannot read file"):
        render(program.run, stack="none", root_directory=project)


def test_the_project_declares_its_typed_spec_config_and_entry_point():
    import yaml

    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "vaultspec"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert project["config"]["vaultspec:spec"] == {
        "type": "string",
        "default": "",  # optional for every stack: empty means stacks/<stack>.yaml
        "description": "Spec file of this stack, relative to this folder (empty, the default, means "
        "stacks/<stack>.yaml).",
    }
    entry = (ROOT / "__main__.py").read_text()
    assert "from vaultspec.program import run" in entry and "run(hooks=SmokeHookFactory())" in entry
    text = (ROOT / "Pulumi.prod.yaml").read_text()
    assert "secure:" not in text and "pulumi config set --secret dbPassword" in text
    assert "/Pulumi.dev.yaml" in (ROOT / ".gitignore").read_text().splitlines()  # machine-local (its salt)
