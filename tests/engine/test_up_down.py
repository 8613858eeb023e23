"""`vaultspec up` / `down` end to end on a real twin: apply, idempotency, updates, deletes, drift, recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from vaultspec.twin.server import TwinInfo, start_background, stop
from vaultspec.twin.testing import key_client, secret_client, start_twin

CANARY_ENV = "canary-env-5c1d8e0f"
CANARY_CONFIG = "canary-config-9a4b7e21"
APP = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
WORKSPACE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
    "/providers/Microsoft.OperationalInsights/workspaces/law"
)


def soon(days: int) -> str:
    """An absolute expiry inside the policy pack's 365-day limit, computed when the test runs."""
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT00:00:00Z")


def spec_text(
    vault: str,
    *,
    content_type: str = "text/plain",
    with_generated: bool = True,
    purge: bool = True,
    waivers: tuple[str, ...] = (),
) -> str:
    generated = (
        f"""
      - name: session
        value: {{generate: {{length: 40}}}}
        contentType: application/octet-stream
        expires: {soon(200)}"""
        if with_generated
        else ""
    )
    return f"""\
apiVersion: vaultspec/v1
defaults: {{location: westeurope, resourceGroup: rg-e2e}}
vaults:
  - name: {vault}
    softDelete: {{retentionDays: 90, purgeProtection: {str(purge).lower()}}}
    network: {{publicAccess: enabled, defaultAction: Deny, bypass: None, ipRules: [127.0.0.1/32]}}
    access:
      model: rbac
      deployer: lifecycle
      grants:
        - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Crypto User, scope: keys/signing}}
    keys:
      - name: signing
        type: EC-HSM
        curve: P-256
        ops: [sign, verify]
        expires: {soon(300)}
        rotation: {{rotateAfterCreate: P90D, expiryTime: P1Y}}
    secrets:
      - name: api-token
        value: {{fromEnv: E2E_API_TOKEN}}
        contentType: {content_type}
        expires: {soon(200)}
      - name: db-password
        value: {{fromConfig: dbPassword}}
        contentType: text/plain
        expires: {soon(200)}{generated}
    diagnostics:
      workspaceId: {WORKSPACE}
    exceptions:
      - {{policy: kv-public-network-disabled, reason: the twin has no private endpoints}}
      - {{policy: kv-firewall-ip-rules, reason: the twin sees every caller on loopback}}
""" + "".join(f"      - {{policy: {policy}, reason: added after the first deployment}}\n" for policy in waivers)


class Run:
    """One `vaultspec` invocation: exit code, streams and the JSON report."""

    def __init__(self, completed: subprocess.CompletedProcess[str], report: dict[str, Any] | None) -> None:
        self.code = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.report = report or {}

    @property
    def changes(self) -> dict[str, int]:
        return self.report.get("changes", {})


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinInfo]:
    data = tmp_path_factory.mktemp("e2e") / "twin"
    info = start_twin(data)
    yield info
    stop(data)


@pytest.fixture
def vaultspec(twin: TwinInfo, tmp_path: Path) -> Callable[..., Run]:
    outputs: list[str] = []

    def run(*args: str, spec: Path) -> Run:
        report = tmp_path / f"report-{len(outputs)}.json"
        env = {
            **os.environ,
            "E2E_API_TOKEN": CANARY_ENV,
            "PULUMI_CONFIG": json.dumps({"vaultspec:dbPassword": CANARY_CONFIG}),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(["vaultspec:dbPassword"]),
            "COLUMNS": "200",
        }
        command = [sys.executable, "-m", "vaultspec", *args, str(spec), "--data", twin.data_dir, "--json", str(report)]
        completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
        outputs.append(completed.stdout + completed.stderr)
        return Run(completed, json.loads(report.read_text()) if report.exists() else None)

    run.outputs = outputs  # type: ignore[attr-defined]
    return run


def write(tmp_path: Path, text: str, name: str = "e2e.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_up_applies_smokes_and_a_second_up_changes_nothing(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-idem-kv"))
    first = vaultspec("up", spec=spec)
    assert first.code == 0, first.output
    assert first.changes["create"] >= 8 and first.report["passed"] is True
    assert first.report["smoke"]["passed"] is True
    second = vaultspec("up", spec=spec)
    assert second.code == 0, second.output
    assert second.changes == {"create": 0, "update": 0, "delete": 0, "same": first.changes["create"], "recovered": 0}
    assert "no changes" in second.output


def test_a_spec_edit_updates_only_what_changed(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-edit-kv"))
    assert vaultspec("up", spec=spec).code == 0
    spec.write_text(spec_text("e2e-edit-kv", content_type="application/json"))
    edited = vaultspec("up", spec=spec)
    assert edited.code == 0, edited.output
    assert edited.changes["update"] == 1 and edited.changes["create"] == 0
    (updated,) = [r for r in edited.report["resources"] if r["action"] == "update"]
    assert updated["name"] == "e2e-edit-kv/secrets/api-token"
    with secret_client(twin, "e2e-edit-kv") as secrets:
        assert secrets.get_secret("api-token").properties.content_type == "application/json"


def test_a_resource_removed_from_the_spec_is_deleted(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-remove-kv"))
    assert vaultspec("up", spec=spec).code == 0
    spec.write_text(spec_text("e2e-remove-kv", with_generated=False))
    removed = vaultspec("up", spec=spec)
    assert removed.code == 0, removed.output
    deleted = sorted(r["name"] for r in removed.report["resources"] if r["action"] == "delete")
    assert deleted == ["e2e-remove-kv/secrets/session", "e2e-remove-kv/secrets/session"]  # password + secret
    with secret_client(twin, "e2e-remove-kv") as secrets, pytest.raises(ResourceNotFoundError):
        secrets.get_secret("session")


def test_a_key_deleted_behind_the_tools_back_is_recovered(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-drift-kv"))
    assert vaultspec("up", spec=spec).code == 0
    with key_client(twin, "e2e-drift-kv") as keys:
        original = keys.get_key("signing")
        keys.begin_delete_key("signing").wait()
    drift = vaultspec("up", spec=spec)
    assert drift.code == 0, drift.output
    (recovered,) = [r for r in drift.report["resources"] if r["action"] == "recovered"]
    assert recovered["name"] == "e2e-drift-kv/keys/signing"
    with key_client(twin, "e2e-drift-kv") as keys:
        assert keys.get_key("signing").id == original.id  # the same key material came back, not a new key


def test_a_secret_deleted_behind_the_tools_back_is_recovered(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-sdrift-kv"))
    assert vaultspec("up", spec=spec).code == 0
    with secret_client(twin, "e2e-sdrift-kv") as secrets:
        secrets.begin_delete_secret("api-token").wait()
    drift = vaultspec("up", spec=spec)
    assert drift.code == 0, drift.output
    assert drift.changes["recovered"] == 1 and drift.changes["create"] == 0
    (recovered,) = [r for r in drift.report["resources"] if r["action"] == "recovered"]
    assert recovered["name"] == "e2e-sdrift-kv/secrets/api-token"
    with secret_client(twin, "e2e-sdrift-kv") as secrets:
        assert secrets.get_secret("api-token").value == CANARY_ENV


def test_a_waiver_added_after_deployment_updates_the_vault_and_never_touches_its_keys(twin, vaultspec, tmp_path):
    """A key's tags cannot change in place; waivers live on the vault, so adding one replaces nothing."""
    spec = write(tmp_path, spec_text("e2e-waive-kv"), name="staging.yaml")  # a protected stack
    assert vaultspec("up", spec=spec).code == 0
    with key_client(twin, "e2e-waive-kv") as keys:
        original = keys.get_key("signing").id
    spec.write_text(spec_text("e2e-waive-kv", waivers=("kv-key-expiry", "kv-secret-expiry")))
    waived = vaultspec("up", spec=spec)
    assert waived.code == 0, waived.output
    changed = {(r["name"], r["action"]) for r in waived.report["resources"] if r["action"] != "same"}
    assert changed == {("e2e-waive-kv", "update")}
    with key_client(twin, "e2e-waive-kv") as keys:
        assert keys.get_key("signing").id == original


def test_down_refuses_protected_resources_outside_dev_stacks(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-protect-kv"), name="staging.yaml")
    assert vaultspec("up", spec=spec).code == 0
    refused = vaultspec("down", spec=spec)
    assert refused.code == 1
    assert "refusing to delete protected resources (Key e2e-protect-kv/keys/signing, Vault e2e-protect-kv)" in (
        refused.output
    )
    assert refused.changes == {"create": 0, "update": 0, "delete": 0, "same": 0, "recovered": 0}
    with key_client(twin, "e2e-protect-kv") as keys:
        assert keys.get_key("signing").properties.enabled


def test_down_removes_exactly_what_up_made_and_a_new_up_recovers_the_vault(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-down-kv"), name="dev-down.yaml")  # dev stacks are not protected
    made = vaultspec("up", spec=spec)
    assert made.code == 0
    down = vaultspec("down", spec=spec)
    assert down.code == 0, down.output
    assert down.changes["delete"] == made.changes["create"]
    with key_client(twin, "e2e-down-kv") as keys, pytest.raises(ResourceNotFoundError):
        keys.get_key("signing")
    again = vaultspec("up", spec=spec)
    assert again.code == 0, again.output
    recovered = {r["name"] for r in again.report["resources"] if r["action"] == "recovered"}
    assert "e2e-down-kv" in recovered  # the soft-deleted vault (purge protection) came back


def test_a_mandatory_violation_stops_before_the_twin_is_touched(tmp_path, vaultspec, twin):
    spec = write(tmp_path, spec_text("e2e-unsafe-kv", purge=False))
    blocked = vaultspec("up", spec=spec)
    assert blocked.code == 3, blocked.output
    assert "kv-purge-protection" in blocked.output
    assert "nothing was applied" in blocked.output
    assert blocked.report["changes"] == {}
    with key_client(twin, "e2e-unsafe-kv") as keys, pytest.raises(ResourceNotFoundError):
        keys.get_key("signing")  # the vault does not exist


def test_a_twin_that_is_not_running_is_started_in_the_background(tmp_path):
    data = tmp_path / "fresh-twin"
    spec = write(tmp_path, spec_text("e2e-fresh-kv"))
    env = {
        **os.environ,
        "E2E_API_TOKEN": CANARY_ENV,
        "PULUMI_CONFIG": json.dumps({"vaultspec:dbPassword": CANARY_CONFIG}),
    }
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "vaultspec", "up", str(spec), "--data", str(data), "--no-smoke"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert "starting the twin in the background" in completed.stdout
        assert (data / "twin.json").exists()
    finally:
        stop(data)


def test_secret_values_never_appear_in_output_reports_or_state(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-canary-kv"), name="dev-canary.yaml")
    runs = [vaultspec("up", spec=spec), vaultspec("up", spec=spec), vaultspec("down", spec=spec)]
    assert [r.code for r in runs] == [0, 0, 0]
    texts = list(vaultspec.outputs)  # type: ignore[attr-defined]
    texts += [p.read_text() for p in tmp_path.glob("report-*.json")]
    state_dir = Path(twin.data_dir) / "state"
    texts += [p.read_text(errors="replace") for p in state_dir.iterdir() if p.is_file()]
    for text in texts:
        assert CANARY_ENV not in text
        assert CANARY_CONFIG not in text


def test_start_background_is_reused_by_up(twin, tmp_path):
    """The module's twin serves the data dir, so `up` must reuse it rather than start another."""
    again = start_background(twin.data_dir)
    assert again.port == twin.port and again.pid == twin.pid


def test_the_dev_stack_deploys_smokes_clean_and_redeploys_with_no_changes(repo_root, tmp_path):
    """What `make up` runs on a fresh clone (with its own data dir and generated dev secrets)."""
    data = tmp_path / "dev-twin"
    env = {
        **os.environ,
        "VAULTSPEC_DEV_PARTNER_TOKEN": CANARY_ENV,
        "PULUMI_CONFIG": json.dumps({"vaultspec:dbPassword": CANARY_CONFIG}),
        "COLUMNS": "200",
    }
    command = [sys.executable, "-m", "vaultspec", "up", "stacks/dev.yaml", "--data", str(data)]
    try:
        runs = []
        for _ in range(2):
            report = tmp_path / f"dev-{len(runs)}.json"
            completed = subprocess.run(
                [*command, "--json", str(report)],
                cwd=repo_root,
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
                check=False,
            )
            assert completed.returncode == 0, completed.stdout + completed.stderr
            runs.append((completed, json.loads(report.read_text())))
    finally:
        stop(data)
    (first, first_report), (second, second_report) = runs
    assert first_report["changes"]["create"] == 21
    assert first_report["smoke"]["passed"] is True
    vaults = {v["vault"] for v in first_report["smoke"]["vaults"]}
    assert vaults == {"payments-dev-kv", "ledger-dev-kv"}
    assert second_report["changes"]["same"] == 21 and second_report["changes"]["create"] == 0
    assert "up ok: no changes (21 unchanged)" in second.stdout
    for text in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert CANARY_ENV not in text and CANARY_CONFIG not in text


def test_a_vault_changed_behind_the_tools_back_is_put_back(twin, vaultspec, tmp_path):
    from azure.mgmt.keyvault.models import VaultPatchParameters, VaultPatchProperties

    from vaultspec.twin.testing import mgmt_client

    spec = write(tmp_path, spec_text("e2e-vdrift-kv"))
    assert vaultspec("up", spec=spec).code == 0
    with mgmt_client(twin) as arm:
        patch = VaultPatchParameters(properties=VaultPatchProperties(public_network_access="Disabled"))
        arm.vaults.update("rg-e2e", "e2e-vdrift-kv", patch)
    repaired = vaultspec("up", spec=spec)
    assert repaired.code == 0, repaired.output  # smoke passes again: public access is back on
    (updated,) = [r for r in repaired.report["resources"] if r["action"] == "update"]
    assert (updated["type"], updated["name"]) == ("azure-native:keyvault:Vault", "e2e-vdrift-kv")
    with mgmt_client(twin) as arm:
        assert arm.vaults.get("rg-e2e", "e2e-vdrift-kv").properties.public_network_access.lower() == "enabled"


def test_a_key_change_that_azure_cannot_apply_is_refused_with_advice(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-keychange-kv"), name="dev-keychange.yaml")
    assert vaultspec("up", spec=spec).code == 0
    spec.write_text(spec_text("e2e-keychange-kv").replace("curve: P-256", "curve: P-384"))
    refused = vaultspec("up", spec=spec)
    assert refused.code == 1
    assert "this change replaces the key" in refused.output and "rename it in the spec" in refused.output
    with key_client(twin, "e2e-keychange-kv") as keys:
        assert keys.get_key("signing").key.crv == "P-256"  # nothing was deleted or half-replaced
