"""The committed package schema is what the component provider serves; a change not regenerated fails here."""

from __future__ import annotations

from typing import Any

import pytest

from vaultspec.components.args import KeyArgs
from vaultspec.engine.toolchain import PulumiCli
from vaultspec.sdks.provider import served_schema
from vaultspec.sdks.schema import REGENERATE, committed_schema, drift_message, inferred_schema


def test_committed_schema_is_what_the_components_infer():
    assert drift_message(committed_schema(), inferred_schema(), "the components") is None


def test_committed_schema_is_what_the_provider_serves_through_the_pulumi_cli(cli: PulumiCli):
    """`pulumi package get-schema ./components`: the Python host installs components/venv, runs the plugin
    (RunPlugin) and the CLI asks it GetSchema, offline. Also pins `inferred_schema`'s reshaping to the CLI's."""
    served = served_schema(cli)
    assert drift_message(committed_schema(), served, "pulumi package get-schema ./components") is None
    assert {"vaultspec:index:KeyVault", "vaultspec:index:VaultKey", "vaultspec:index:VaultSecret"} == set(
        served["resources"]
    )


def test_a_new_component_argument_not_regenerated_fails_the_check(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(KeyArgs.__annotations__, "release_policy", str)
    message = drift_message(committed_schema(), inferred_schema(), "the components")
    assert message is not None
    assert "/types/vaultspec:index:KeyArgs/properties/releasePolicy: new, not in the committed schema" in message
    assert REGENERATE in message


def test_a_removed_output_not_regenerated_fails_the_check():
    current: dict[str, Any] = inferred_schema()
    del current["resources"]["vaultspec:index:KeyVault"]["properties"]["secretIds"]
    message = drift_message(committed_schema(), current, "the components")
    assert message is not None
    assert "/resources/vaultspec:index:KeyVault/properties/secretIds: in the committed schema, gone" in message
