"""Offline runs read Pulumi.<stack>.yaml the way the Pulumi CLI does, passphrase secrets included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from vaultspec.engine.stackconfig import (
    PLACEHOLDER,
    StackConfigError,
    encrypt_value,
    new_encryption_salt,
    read_stack_config,
)

CANARY = "canary-stackconfig-31f9"


@pytest.fixture(scope="module")
def salted() -> tuple[str, bytes]:
    return new_encryption_salt("correct horse")


@pytest.fixture
def project(tmp_path: Path, salted, monkeypatch) -> Path:
    for variable in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(variable, raising=False)
    state, key = salted
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    stack = {
        "encryptionsalt": state,
        "config": {
            "demo:region": "westeurope",
            "demo:replicas": 3,
            "plainKey": "no namespace",
            "demo:dbPassword": {"secure": encrypt_value(key, CANARY)},
        },
    }
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    return tmp_path


def test_secure_values_decrypt_with_the_stack_passphrase(project, monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "correct horse")
    config = read_stack_config(project, "dev", decrypt=True)
    assert config.values["demo:dbPassword"] == CANARY
    assert config.secret_keys == {"demo:dbPassword"}
    assert config.values["demo:region"] == "westeurope"
    assert config.values["demo:plainKey"] == "no namespace"
    assert config.as_runtime_config()["demo:replicas"] == "3"


def test_the_passphrase_can_come_from_a_file(project, monkeypatch, tmp_path):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    phrase = tmp_path / "phrase"
    phrase.write_text("correct horse\n")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(phrase))
    assert read_stack_config(project, "dev", decrypt=True).values["demo:dbPassword"] == CANARY


def test_a_wrong_passphrase_is_refused_without_leaking_the_value(project, monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "wrong")
    with pytest.raises(StackConfigError) as caught:
        read_stack_config(project, "dev", decrypt=True)
    assert "incorrect passphrase" in str(caught.value)
    assert CANARY not in str(caught.value)


def test_a_missing_passphrase_names_the_variables(project, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    with pytest.raises(StackConfigError, match="PULUMI_CONFIG_PASSPHRASE"):
        read_stack_config(project, "dev", decrypt=True)


def test_plans_need_no_passphrase_and_see_placeholders(project, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    config = read_stack_config(project, "dev", decrypt=False)
    assert config.values["demo:dbPassword"] == PLACEHOLDER
    assert "demo:dbPassword" in config.secret_keys


def test_pulumi_config_environment_overrides_the_file(project, monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"demo:region": "northeurope", "demo:token": "t"}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["demo:token"]))
    config = read_stack_config(project, "dev", decrypt=False)
    assert config.values["demo:region"] == "northeurope"
    assert "demo:token" in config.secret_keys


def test_a_stack_without_a_file_has_empty_config(project):
    assert read_stack_config(project, "prod", decrypt=True).values == {}
