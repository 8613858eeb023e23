"""`vaultspec plan PATH [--json] [--policy-config FILE]`: the DESIGN.md contract and exit codes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vaultspec.cli import app
from vaultspec.engine import plan as plan_module
from vaultspec.engine.analyzer import Verdict
from vaultspec.engine.recording import Rendering
from vaultspec.engine.values import walk

from .conftest import KEY_VAULT, SECRET, STACKS

runner = CliRunner()
ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def blocking(document: dict) -> list[dict]:
    return [v for v in document["violations"] if v["level"] == "mandatory" and not v["waived"]]


@pytest.fixture(scope="module")
def dev_plan() -> dict:
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("PULUMI_CONFIG", "VAULTSPEC_DEV_PARTNER_TOKEN"):
            patch.delenv(variable, raising=False)
        result = runner.invoke(app, ["plan", str(STACKS / "dev.yaml"), "--json"])
    document = json.loads(result.stdout)
    assert result.exit_code == (3 if blocking(document) else 0), result.stderr
    return document


def test_plan_json_has_exactly_the_contract_fields(dev_plan: dict):
    assert set(dev_plan) == {"resources", "violations"}
    for resource in dev_plan["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "inputs"}
        assert isinstance(resource["inputs"], dict)
    assert dev_plan["violations"], "the dev stack waives several policies: the pack must report them"
    for violation in dev_plan["violations"]:
        assert set(violation) == {"policy", "level", "urn", "message", "waived", "reason"}


def test_waivers_in_the_spec_come_back_as_waived_verdicts_with_the_reason(dev_plan: dict):
    waived = {(v["policy"], v["urn"].rsplit("::", 1)[-1]): v["reason"] for v in dev_plan["violations"] if v["waived"]}
    assert waived[("kv-public-network-disabled", "payments-dev-kv")] == (
        "The twin has no private endpoints; the firewall admits loopback only."
    )
    assert ("kv-rbac-authorization", "ledger-dev-kv") in waived


def test_the_production_example_passes_every_guardrail(monkeypatch):
    # expiry rules measure from now; the example's dates were chosen for 2026-11-28 (tests/policies)
    monkeypatch.setattr("vaultspec.policies.rule.evaluation_time", lambda: 1795824000.0)
    result = runner.invoke(app, ["plan", str(STACKS / "prod.example.yaml"), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["violations"] == []


def test_plan_says_before_applying_what_the_spec_already_tells(monkeypatch):
    monkeypatch.setattr("vaultspec.policies.rule.evaluation_time", lambda: 1795824000.0)
    result = runner.invoke(app, ["plan", str(STACKS / "prod.example.yaml"), "--json"])
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert notes == [
        "note: smoke will not reach payments-prod-kv from outside its network: network.publicAccess is disabled, "
        "so only its private endpoints (and trusted Azure services) reach it; run smoke from inside the vault's "
        "virtual network (e.g. a pipeline agent with a route to its private endpoint), or set "
        "network.publicAccess: enabled with the smoke runner's address in network.ipRules"
    ]
    warning = next(line for line in result.stderr.splitlines() if ": warning: " in line)
    match = ERROR_LINE.match(warning)
    assert match and match["file"].endswith("prod.example.yaml") and "defaults.tenantId" in match["message"]
    assert json.loads(result.stdout)["violations"] == []  # notes and warnings never touch the JSON contract


def test_plan_json_lists_the_rendered_graph_with_parent_urns(dev_plan: dict, dev_rendering: Rendering):
    assert [(r["type"], r["name"]) for r in dev_plan["resources"]] == [
        (r.type, r.name) for r in dev_rendering.resources
    ]
    by_urn = {r["urn"]: r for r in dev_plan["resources"]}
    for resource in dev_plan["resources"]:
        if resource["type"] == KEY_VAULT:
            assert resource["parent"] is None
        else:
            assert by_urn[resource["parent"]]["type"] == KEY_VAULT


def test_every_secret_input_prints_as_the_secret_marker(dev_plan: dict, dev_rendering: Rendering):
    printed = {r["urn"]: r["inputs"] for r in dev_plan["resources"]}
    secret_paths = [(r.urn, p) for r in dev_rendering.resources for p in r.secret_paths]
    assert len(secret_paths) == 2  # the dev stack's two generated secrets; the other two are unknown offline
    for urn, path in secret_paths:
        assert dict(walk(printed[urn]))[path] == "[secret]"
    for resource in dev_plan["resources"]:
        if resource["type"] == SECRET:
            assert resource["inputs"]["properties"]["value"] in ("[secret]", "[unknown]")


def test_plan_inputs_use_azure_native_wire_names(dev_plan: dict):
    vault = next(r for r in dev_plan["resources"] if r["type"] == "azure-native:keyvault:Vault")
    assert {"vaultName", "resourceGroupName", "properties"} <= set(vault["inputs"])
    assert "enableRbacAuthorization" in vault["inputs"]["properties"]
    assert "softDeleteRetentionInDays" in vault["inputs"]["properties"]


def test_plan_table_shows_types_names_parents_secrets_masked_and_verdicts():
    result = runner.invoke(app, ["plan", str(STACKS / "dev.yaml")], env={"COLUMNS": "200"})
    assert result.exit_code in (0, 3), result.output
    for text in ("KeyVault", "RoleAssignment", "keys/signing", "payments-dev-kv", "value=[secret]", "kty=RSA-HSM"):
        assert text in result.stdout
    assert "policy verdicts" in result.stdout and "waived" in result.stdout
    assert re.search(r"policy: \d+ blocking \(mandatory\), \d+ advisory, \d+ waived", result.stdout)
    assert "warning: vault 'payments-dev-kv': secret 'db-password'" in result.stderr


def test_an_invalid_spec_exits_2_with_file_line_col(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: vaultspec/v1\nvaults:\n  - name: x\n")
    result = runner.invoke(app, ["plan", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines and all(ERROR_LINE.match(line) for line in lines), result.stderr
    assert result.stdout == ""


def test_a_waiver_naming_an_unknown_policy_fails_the_program_not_just_validate(tmp_path: Path):
    """The program checks waiver names itself, so `pulumi up` never ships a misspelt (silently void) waiver."""
    spec = tmp_path / "typo.yaml"
    dev = (STACKS / "dev.yaml").read_text()
    spec.write_text(dev.replace("policy: kv-secret-expiry", "policy: kv-secret-expiri", 1))
    result = runner.invoke(app, ["plan", str(spec)])
    assert result.exit_code == 2, result.output
    (line,) = [line for line in result.stderr.splitlines() if "kv-secret-expiri" in line]
    match = ERROR_LINE.match(line)
    assert match and "unknown policy" in match["message"]
    number = int(match["line"])
    assert "kv-secret-expiri" in spec.read_text().splitlines()[number - 1]


def test_an_unreadable_stack_config_exits_2_naming_the_file(write_spec: Callable[..., Path], project: Path):
    path = write_spec("- name: alpha-kv\n  access: {model: rbac}\n")
    (project / "Pulumi.dev.yaml").write_text("config: [not, a, mapping\n")
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert "Pulumi.dev.yaml is not valid YAML" in result.stderr


def test_a_missing_policy_config_exits_2():
    result = runner.invoke(app, ["plan", str(STACKS / "dev.yaml"), "--policy-config", "/nonexistent/policy.json"])
    assert result.exit_code == 2
    assert "no such policy config file" in result.stderr


def test_an_invalid_policy_config_exits_2_naming_the_problem(tmp_path: Path):
    config = tmp_path / "policy.json"
    config.write_text('{"all": "severe"}')
    result = runner.invoke(app, ["plan", str(STACKS / "prod.example.yaml"), "--policy-config", str(config)])
    assert result.exit_code == 2
    assert '"severe" is not a valid enforcement level' in result.stderr


def test_policy_config_can_make_every_rule_mandatory(tmp_path: Path):
    # dev.yaml without its kv-rbac-authorization waiver: an advisory finding, which `all: mandatory` makes blocking
    waiver = (
        "      - policy: kv-rbac-authorization\n"
        "        reason: Shows the access-policy model side by side with RBAC for teams still migrating.\n"
    )
    text = (STACKS / "dev.yaml").read_text()
    assert waiver in text
    spec = tmp_path / "dev.yaml"
    spec.write_text(text.replace(waiver, ""))
    advisory = runner.invoke(app, ["plan", str(spec), "--json"])
    assert advisory.exit_code == 0
    config = tmp_path / "policy.json"
    config.write_text('{"all": "mandatory"}')
    result = runner.invoke(app, ["plan", str(spec), "--json", "--policy-config", str(config)])
    document = json.loads(result.stdout)
    assert result.exit_code == 3
    unwaived = [v for v in document["violations"] if not v["waived"]]
    assert [v["policy"] for v in unwaived] == ["kv-rbac-authorization"]
    assert all(v["level"] == "mandatory" for v in unwaived)
    assert any(v["waived"] for v in document["violations"])  # a waiver holds whatever the level


def test_policies_see_secrets_as_the_secret_marker(dev_rendering: Rendering, monkeypatch):
    from vaultspec.engine import analyzer

    seen: list[dict] = []
    monkeypatch.setattr(analyzer, "analyze", lambda subjects, config: seen.extend(subjects) or [])
    plan_module.evaluate_policies(dev_rendering.resources, None)
    secrets = [s for s in seen if s["type"] == SECRET]
    from vaultspec.engine.analyzer import UNKNOWN

    assert secrets and all(s["inputs"]["properties"]["value"] in ("[secret]", UNKNOWN) for s in secrets)
    assert sum(s["inputs"]["properties"]["value"] == "[secret]" for s in secrets) == 2  # the generated ones
    assert {s["urn"] for s in seen} == {r.urn for r in dev_rendering.resources}


@pytest.mark.parametrize(
    ("level", "waived", "exit_code"),
    [("mandatory", False, 3), ("mandatory", True, 0), ("advisory", False, 0)],
)
def test_exit_3_only_for_an_unwaived_mandatory_violation(monkeypatch, level: str, waived: bool, exit_code: int):
    violation = Verdict(
        policy="kv-example",
        level=level,
        urn="urn:pulumi:dev::vaultspec::x::y",
        message="m",
        waived=waived,
        reason="r" if waived else None,
    )
    monkeypatch.setattr(plan_module, "evaluate_policies", lambda resources, config: [violation])
    result = runner.invoke(app, ["plan", str(STACKS / "dev.yaml"), "--json"])
    assert result.exit_code == exit_code, result.output
    assert json.loads(result.stdout)["violations"] == [
        {
            "policy": "kv-example",
            "level": level,
            "urn": "urn:pulumi:dev::vaultspec::x::y",
            "message": "m",
            "waived": waived,
            "reason": "r" if waived else None,
        }
    ]
