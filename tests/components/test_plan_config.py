"""`vaultspec plan` reads Pulumi.<stack>.yaml the way the Pulumi CLI writes it, and never decrypts a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from vaultspec.engine.stackconfig import PLACEHOLDER, StackConfigError, read_stack_config

CIPHERTEXT = "v1:Zm9vYmFyYmF6cXV4:Y2lwaGVydGV4dC1vZi10aGUtc2VjcmV0"  # a passphrase-provider value, opaque here


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    for variable in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "PULUMI_CONFIG_PASSPHRASE"):
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    stack = {
        "encryptionsalt": "v1:c2FsdA==:v1:bm9uY2U=:Y2hlY2s=",
        "config": {
            "demo:region": "westeurope",
            "demo:replicas": 3,
            "plainKey": "no namespace",
            "demo:dbPassword": {"secure": CIPHERTEXT},
        },
    }
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    return tmp_path


def test_plans_need_no_passphrase_and_see_placeholders_for_secure_values(project):
    config = read_stack_config(project, "dev")
    assert config.values["demo:dbPassword"] == PLACEHOLDER
    assert config.secret_keys == {"demo:dbPassword"}
    assert CIPHERTEXT not in json.dumps(config.as_runtime_config())


def test_plain_values_keep_their_types_and_take_the_project_namespace(project):
    config = read_stack_config(project, "dev")
    assert config.values["demo:region"] == "westeurope"
    assert config.values["demo:plainKey"] == "no namespace"
    assert config.as_runtime_config()["demo:replicas"] == "3"


def test_pulumi_config_environment_overrides_the_file(project, monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"demo:region": "northeurope", "demo:token": "t"}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["demo:token"]))
    config = read_stack_config(project, "dev")
    assert config.values["demo:region"] == "northeurope"
    assert "demo:token" in config.secret_keys


def test_a_stack_without_a_file_has_empty_config(project):
    assert read_stack_config(project, "prod").values == {}


@pytest.mark.parametrize("text", ["config: [1, 2]\n", "- a list\n", "config: {a: [unclosed\n"])
def test_a_broken_stack_file_is_named_in_the_error(project, text):
    (project / "Pulumi.dev.yaml").write_text(text)
    with pytest.raises(StackConfigError, match=r"Pulumi\.dev\.yaml"):
        read_stack_config(project, "dev")
