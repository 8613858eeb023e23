"""The pack as the Pulumi CLI loads it: names, levels, metadata, entry point, PulumiPolicy.yaml."""

from __future__ import annotations

import importlib
import importlib.metadata
import runpy
import sys
from pathlib import Path

import pytest
import yaml
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import proto

import vaultspec.policies
from vaultspec.engine.analyzer import policy_host
from vaultspec.policies import POLICIES, POLICY_NAMES, RULES, pack_arguments
from vaultspec.policies.table import markdown_table

POLICIES_DIR = Path(vaultspec.policies.__file__).parent

# The issue's table: pipelines and dashboards key on these names and levels.
ISSUE_TABLE = {
    "kv-purge-protection": "mandatory",
    "kv-soft-delete-retention": "mandatory",
    "kv-rbac-authorization": "advisory",
    "kv-public-network-disabled": "advisory",
    "kv-firewall-default-deny": "advisory",
    "kv-diagnostics": "advisory",
    "kv-hsm-requires-premium": "mandatory",
    "kv-access-least-privilege": "mandatory",
    "kv-key-hsm-backed": "advisory",
    "kv-key-allowed-types": "advisory",
    "kv-key-rsa-min-size": "mandatory",
    "kv-key-ec-curves": "advisory",
    "kv-key-expiry": "mandatory",
    "kv-key-rotation": "advisory",
    "kv-secret-expiry": "mandatory",
    "kv-secret-content-type": "advisory",
}
EXTRAS = {
    "kv-soft-delete-enabled": "mandatory",
    "kv-enabled-for-disabled": "advisory",
    "kv-firewall-ip-rules": "mandatory",
    "kv-rbac-least-privilege": "mandatory",
    "kv-key-not-exportable": "advisory",
    "kv-preview-api-version": "mandatory",
}
# Issue 15 (imported keys and BYOK): mandatory by default.
KEY_TRANSFER = {"kv-key-hsm-import-byok": "mandatory", "kv-kek-import-only": "mandatory"}
EXTRAS.update(KEY_TRANSFER)
STACK_POLICIES = {"kv-diagnostics", "kv-hsm-requires-premium", "kv-rbac-least-privilege"}


def _info():
    return policy_host().servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)


def test_every_rule_of_the_issue_exists_with_its_default_level_plus_the_extras():
    assert {rule.name: rule.level.value for rule in RULES} == {**ISSUE_TABLE, **EXTRAS}
    assert frozenset(ISSUE_TABLE) | frozenset(EXTRAS) == POLICY_NAMES
    assert [policy.name for policy in POLICIES] == [rule.name for rule in RULES]


def test_analyzer_info_carries_levels_types_and_compliance_metadata():
    info = _info()
    assert info.name == "vaultspec-keyvault" and info.supportsConfig
    for policy in info.policies:
        expected = {**ISSUE_TABLE, **EXTRAS}[policy.name]
        assert policy.enforcementLevel == (proto.MANDATORY if expected == "mandatory" else proto.ADVISORY)
        kind = proto.POLICY_TYPE_STACK if policy.name in STACK_POLICIES else proto.POLICY_TYPE_RESOURCE
        assert policy.policy_type == kind, policy.name
        assert policy.severity != proto.POLICY_SEVERITY_UNSPECIFIED
        assert policy.displayName and policy.description and policy.remediation_steps
        assert policy.url.startswith("https://")
        assert "keyvault" in policy.tags and len(policy.tags) >= 2, policy.name


def test_rules_mapped_to_cis_name_the_benchmark_as_their_framework():
    frameworks = {policy.name: policy.framework for policy in _info().policies}
    assert frameworks["kv-purge-protection"].name == "CIS Microsoft Azure Foundations Benchmark"
    assert frameworks["kv-purge-protection"].reference == "3.3.5"
    assert frameworks["kv-key-expiry"].reference == "3.3.1, 3.3.2"
    assert "azure-policy:0b60c0b2-2dc2-4e1c-b5c9-abbed971de53" in _tags("kv-purge-protection")
    assert "checkov:CKV_AZURE_41" in _tags("kv-secret-expiry")


def _tags(name: str) -> list[str]:
    return next(list(policy.tags) for policy in _info().policies if policy.name == name)


def test_every_parameter_has_a_typed_schema_with_a_default():
    for rule in RULES:
        for name, schema in rule.parameters.items():
            assert "type" in schema and "default" in schema and schema.get("description"), (rule.name, name)
    schemas = {p.name: json_format.MessageToDict(p.configSchema.properties) for p in _info().policies}
    assert schemas["kv-key-rsa-min-size"]["minimumRSAKeySize"]["enum"] == [2048, 3072, 4096]


def test_main_module_imports_without_serving():
    # PolicyPack() would start a gRPC server and block forever; importing must not.
    importlib.import_module("vaultspec.policies.__main__")
    runpy.run_path(str(POLICIES_DIR / "__main__.py"), run_name="not_main")


def test_main_module_builds_the_pack_when_the_cli_runs_it(monkeypatch):
    built: list[dict] = []
    monkeypatch.setattr("pulumi_policy.PolicyPack", lambda **kwargs: built.append(kwargs))
    runpy.run_path(str(POLICIES_DIR / "__main__.py"), run_name="__main__")  # as `python -m pulumi.policy` does
    assert [kwargs["name"] for kwargs in built] == ["vaultspec-keyvault"]
    assert built[0]["policies"] is pack_arguments()["policies"]


def test_pulumi_policy_yaml_runs_python_in_the_project_virtualenv():
    manifest = yaml.safe_load((POLICIES_DIR / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert manifest["version"] and manifest["description"]
    assert "pulumi-policy>=1.21" in (POLICIES_DIR / "requirements.txt").read_text()


def test_no_module_of_the_pack_shadows_the_standard_library_or_an_installed_package():
    # The CLI runs the pack with policies/ first on sys.path: policies/secrets.py would shadow `secrets`.
    modules = {path.stem for path in POLICIES_DIR.iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()}
    modules -= {"__init__", "__main__"}
    assert not modules & set(sys.stdlib_module_names)
    assert not modules & set(importlib.metadata.packages_distributions())


@pytest.mark.parametrize("readme", [POLICIES_DIR / "README.md", POLICIES_DIR.parent / "README.md"])
def test_readme_rule_tables_are_the_generated_one(readme):
    """`python -m vaultspec.policies.table` regenerates it; both READMEs carry it."""
    assert markdown_table() in readme.read_text()


@pytest.mark.parametrize("name", sorted(ISSUE_TABLE))
def test_readme_mentions_every_rule(name):
    assert f"`{name}`" in (POLICIES_DIR / "README.md").read_text()
