"""Warnings: valid specs that will not do what their author means, reported at the node, never fatal."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.spec.conftest import APP, HEADER
from tests.spec.test_validation_rules import at, vault
from vaultspec.catalog.tenants import WELL_KNOWN_TENANTS
from vaultspec.cli import app
from vaultspec.spec import check_spec
from vaultspec.spec.model import Access

WARNING_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): warning: (?P<message>.+)$")
SUBNET = (
    "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers"
    "/Microsoft.Network/virtualNetworks/vnet/subnets/apps"
)
OBJECTS = "keys: [{name: k1, type: RSA-HSM, ops: [sign]}]"


@pytest.fixture
def warnings(spec_file: Callable[..., Path]) -> Callable[..., list[str]]:
    """A valid spec's warnings as `LINE:COL: message` (the file is `<stack>.yaml`)."""

    def run(text: str, stack: str = "prod") -> list[str]:
        checked = check_spec(spec_file(text, name=f"{stack}.yaml"))
        assert all(w.severity == "warning" for w in checked.warnings)
        return [f"{w.line}:{w.col}: {w.message}" for w in checked.warnings]

    return run


# -- network settings Azure ignores -------------------------------------------------------------------
def test_firewall_rules_under_disabled_public_access_are_flagged_where_written(warnings):
    text = vault(f"network: {{publicAccess: disabled, ipRules: [203.0.113.7], subnetIds: [{SUBNET}]}}\n{_rbac()}")
    found = warnings(text)
    assert found == [
        f"{at(text, '[203.0.113.7]')}: vaults[0].network.ipRules: Azure ignores these IP rules while publicAccess "
        "is disabled: only private endpoints (and trusted services with bypass: AzureServices) reach the vault; "
        "remove them, or set publicAccess: enabled to use the firewall",
        f"{at(text, f'[{SUBNET}]')}: vaults[0].network.subnetIds: Azure ignores these virtual network rules while "
        "publicAccess is disabled: only private endpoints (and trusted services with bypass: AzureServices) reach "
        "the vault; remove them, or set publicAccess: enabled to use the firewall",
    ]


def test_firewall_rules_with_public_access_enabled_are_fine(warnings):
    assert warnings(vault(f"network: {{publicAccess: enabled, ipRules: [203.0.113.7]}}\n{_rbac()}")) == []


def test_the_service_endpoint_choice_without_subnets_has_no_effect(warnings):
    text = vault(f"network: {{publicAccess: enabled, ignoreMissingVnetServiceEndpoint: true}}\n{_rbac()}")
    assert warnings(text) == [
        f"{at(text, 'true')}: vaults[0].network.ignoreMissingVnetServiceEndpoint: has no effect without subnetIds"
    ]


# -- deployer rights ------------------------------------------------------------------------------------
def test_the_default_deployer_can_delete_and_recover():
    assert Access(model="rbac").deployer == "lifecycle"


@pytest.mark.parametrize(
    ("deployer", "expected"),
    [
        ("lifecycle", None),
        ("smoke", "removing or replacing a key or secret (and `pulumi destroy` / `vaultspec down`) fails with 403"),
        ("none", "smoke checks, and removing, replacing or recovering keys and secrets, fail with 403 Forbidden"),
    ],
)
def test_a_deployer_that_cannot_delete_is_warned_about(warnings, deployer: str, expected: str | None):
    text = vault(f"access: {{model: rbac, deployer: {deployer}}}\n{OBJECTS}")
    found = warnings(text)
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(f"{at(text, deployer)}: vaults[0].access.deployer: ")
        assert expected in found[0]


def test_a_smoke_deployer_of_a_vault_without_keys_or_secrets_has_nothing_to_delete(warnings):
    assert warnings(vault("access: {model: rbac, deployer: smoke}")) == []


# -- ids that cannot be the author's ---------------------------------------------------------------------
@pytest.mark.parametrize("tenant", sorted(WELL_KNOWN_TENANTS))
def test_a_public_microsoft_tenant_is_flagged_in_a_non_dev_stack(warnings, tenant: str):
    text = HEADER.replace("resourceGroup: rg-kv}", f"resourceGroup: rg-kv, tenantId: {tenant}}}") + _vault_entry()
    found = warnings(text)
    assert found == [
        f"{at(text, tenant)}: defaults.tenantId: {tenant} is {WELL_KNOWN_TENANTS[tenant]}, not yours: "
        "use your tenant id (`az account show --query tenantId`)"
    ]
    assert warnings(text, stack="dev-eu") == []  # dev stacks may hold anything


def test_all_zero_ids_are_flagged_in_a_non_dev_stack(warnings):
    zero = "00000000-0000-0000-0000-000000000000"
    workspace = f"/subscriptions/{zero}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law"
    text = vault(
        f"""
tenantId: {zero}
access:
  model: rbac
  grants:
    - {{principal: {zero}, principalType: User, role: Key Vault Reader}}
diagnostics: {{workspaceId: {workspace}}}
"""
    )
    found = warnings(text)
    assert [f.split(": ", 2)[1] for f in found] == [
        "vaults[0].tenantId",
        "vaults[0].access.grants[0].principal",
        "vaults[0].diagnostics.workspaceId",
    ]
    assert all("the all-zero GUID is a placeholder" in f for f in found)
    assert warnings(text, stack="dev") == []


def test_the_production_example_uses_a_placeholder_tenant_that_validate_flags(repo_root: Path):
    example = repo_root / "stacks" / "prod.example.yaml"
    text = example.read_text()
    tenant = re.search(r"tenantId: (\S+)", text)[1]
    assert tenant not in WELL_KNOWN_TENANTS and set(tenant) <= {"0", "-"}
    (warning,) = check_spec(example).warnings
    assert warning.message.startswith("defaults.tenantId: the all-zero GUID is a placeholder")


# -- the CLI contract ---------------------------------------------------------------------------------------
def test_validate_prints_warnings_as_file_line_col_and_still_exits_0(spec_file):
    text = vault(f"network: {{publicAccess: disabled, ipRules: [203.0.113.7]}}\n{_rbac()}")
    path = spec_file(text, name="prod.yaml")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.strip().splitlines()
    match = WARNING_LINE.match(line)
    assert match and match["file"] == str(path)
    assert f"{match['line']}:{match['col']}" == at(text, "[203.0.113.7]")
    assert "ok" in result.stdout and "1 warning" in result.stdout


def test_warnings_of_valid_files_are_printed_next_to_the_errors_of_invalid_ones(spec_file):
    good = spec_file(vault(f"access: {{model: rbac, deployer: smoke}}\n{OBJECTS}"), name="good.yaml")
    bad = spec_file("apiVersion: vaultspec/v1\nvaults:\n  - name: x\n", name="bad.yaml")
    result = CliRunner().invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"{good}:") and ": warning: " in line for line in lines)
    assert any(line.startswith(f"{bad}:") and ": warning: " not in line for line in lines)


def _rbac() -> str:
    return "access: {model: rbac}"


def _vault_entry() -> str:
    grant = f"{{principal: {APP}, principalType: User, role: Key Vault Reader}}"
    return f"  - name: payments-kv\n    access: {{model: rbac, grants: [{grant}]}}\n"
