"""`vaultspec up` / `down` on the real Pulumi engine against a real twin: apply, idempotency, updates,
deletes, drift, recovery, the policy pack and the smoke hooks under the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError

from vaultspec.engine.workspace import ConfigSetting, TwinWorkspace
from vaultspec.twin.server import TwinInfo, stop
from vaultspec.twin.testing import key_client, mgmt_client, secret_client

from .conftest import CANARY_CONFIG, CANARY_ENV, engine_env, spec_text, write


def workspace_of(twin: TwinInfo, spec: Path, stack: str) -> TwinWorkspace:
    return TwinWorkspace(spec_path=spec, stack_name=stack, data_dir=Path(twin.data_dir), twin=twin)


def arm_writes(twin: TwinInfo) -> list[dict]:
    """ARM calls that change something (the twin's audit log)."""
    lines = (Path(twin.data_dir) / "audit.jsonl").read_text().splitlines()
    calls = [json.loads(line) for line in lines]
    return [c for c in calls if c["plane"] == "arm" and c["operationName"].split(" ")[0] in ("PUT", "PATCH", "DELETE")]


def test_up_applies_smokes_in_hooks_and_a_rerun_is_a_no_op(twin, vaultspec, tmp_path, monkeypatch):
    spec = write(tmp_path, spec_text("e2e-idem-kv", enabled_for="deployment"), "e2e-idem.yaml")
    first = vaultspec("up", spec=spec)
    assert first.code == 0, first.output
    custom = 10  # vault, 3 role assignments, key, 3 secrets, password, diagnostic setting
    assert first.changes["create"] == custom and first.report["passed"] is True
    assert first.report["smoke"]["passed"] is True
    hooks = {h["name"]: h["passed"] for h in first.report["hooks"]}
    assert hooks == {
        "e2e-idem-kv/keys/signing": True,
        "e2e-idem-kv/secrets/api-token": True,
        "e2e-idem-kv/secrets/db-password": True,
        "e2e-idem-kv/secrets/session": True,
    }
    waived = {v["policy"]: v["reason"] for v in first.report["violations"] if v["waived"]}
    assert waived == {
        "kv-public-network-disabled": "the twin has no private endpoints",
        "kv-firewall-ip-rules": "the twin sees every caller on loopback",
    }
    advisory = {v["policy"] for v in first.report["violations"] if v["level"] == "advisory" and not v["waived"]}
    assert advisory == {"kv-enabled-for-disabled"}
    assert "kv-enabled-for-disabled" in first.output
    second = vaultspec("up", spec=spec)
    assert second.code == 0, second.output
    assert second.changes == {"create": 0, "update": 0, "delete": 0, "same": custom, "recovered": 0, "replace": 0}
    assert second.report["hooks"] == []  # hooks run only on create/update
    assert "no changes" in second.output
    for name, value in engine_env().items():
        monkeypatch.setenv(name, value)
    workspace_of(twin, spec, "e2e-idem").stack().preview(expect_no_changes=True, refresh=True)


def test_a_spec_edit_updates_only_what_changed_and_its_hook_runs(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-edit-kv"), "e2e-edit.yaml")
    assert vaultspec("up", spec=spec).code == 0
    spec.write_text(spec_text("e2e-edit-kv", content_type="application/json"))
    edited = vaultspec("up", spec=spec)
    assert edited.code == 0, edited.output
    assert edited.actions("update") == ["e2e-edit-kv/secrets/api-token"] and edited.changes["create"] == 0
    assert [h["name"] for h in edited.report["hooks"]] == ["e2e-edit-kv/secrets/api-token"]
    with secret_client(twin, "e2e-edit-kv") as secrets:
        assert secrets.get_secret("api-token").properties.content_type == "application/json"


def test_a_resource_removed_from_the_spec_is_deleted(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-remove-kv"), "e2e-remove.yaml")
    assert vaultspec("up", spec=spec).code == 0
    spec.write_text(spec_text("e2e-remove-kv", with_generated=False))
    removed = vaultspec("up", spec=spec)
    assert removed.code == 0, removed.output
    assert removed.actions("delete") == ["e2e-remove-kv/secrets/session", "e2e-remove-kv/secrets/session"]
    with secret_client(twin, "e2e-remove-kv") as secrets, pytest.raises(ResourceNotFoundError):
        secrets.get_secret("session")


def test_a_key_deleted_behind_the_tools_back_is_recovered(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-drift-kv"), "e2e-drift.yaml")
    assert vaultspec("up", spec=spec).code == 0
    with key_client(twin, "e2e-drift-kv") as keys:
        original = keys.get_key("signing")
        keys.begin_delete_key("signing").wait()
    drift = vaultspec("up", spec=spec)
    assert drift.code == 0, drift.output
    assert drift.actions("recovered") == ["e2e-drift-kv/keys/signing"]
    with key_client(twin, "e2e-drift-kv") as keys:
        assert keys.get_key("signing").id == original.id  # the same key material came back, not a new key


def test_a_secret_deleted_behind_the_tools_back_is_recovered(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-sdrift-kv"), "e2e-sdrift.yaml")
    assert vaultspec("up", spec=spec).code == 0
    with secret_client(twin, "e2e-sdrift-kv") as secrets:
        secrets.begin_delete_secret("api-token").wait()
    drift = vaultspec("up", spec=spec)
    assert drift.code == 0, drift.output
    assert drift.changes["recovered"] == 1 and drift.changes["create"] == 0
    assert drift.actions("recovered") == ["e2e-sdrift-kv/secrets/api-token"]
    with secret_client(twin, "e2e-sdrift-kv") as secrets:
        assert secrets.get_secret("api-token").value == CANARY_ENV


def test_refresh_sees_a_vault_changed_behind_the_tools_back_and_up_puts_it_back(twin, vaultspec, tmp_path, monkeypatch):
    from azure.mgmt.keyvault.models import VaultPatchParameters, VaultPatchProperties

    spec = write(tmp_path, spec_text("e2e-vdrift-kv"), "e2e-vdrift.yaml")
    assert vaultspec("up", spec=spec).code == 0
    with mgmt_client(twin) as arm:
        patch = VaultPatchParameters(properties=VaultPatchProperties(public_network_access="Disabled"))
        arm.vaults.update("rg-e2e", "e2e-vdrift-kv", patch)
    for name, value in engine_env().items():
        monkeypatch.setenv(name, value)
    refreshed = workspace_of(twin, spec, "e2e-vdrift").stack().refresh(show_secrets=False)
    assert refreshed.summary.resource_changes.get("update") == 1  # the engine saw the vault drift
    repaired = vaultspec("up", spec=spec)
    assert repaired.code == 0, repaired.output  # smoke passes again: public access is back on
    assert repaired.actions("update") == ["e2e-vdrift-kv"]
    with mgmt_client(twin) as arm:
        assert arm.vaults.get("rg-e2e", "e2e-vdrift-kv").properties.public_network_access.lower() == "enabled"


def test_a_waiver_added_after_deployment_updates_the_vault_and_never_touches_its_keys(twin, vaultspec, tmp_path):
    """A key's tags cannot change in place; waivers live on the vault, so adding one replaces nothing."""
    spec = write(tmp_path, spec_text("e2e-waive-kv"), "staging.yaml")  # a protected stack
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
    spec = write(tmp_path, spec_text("e2e-protect-kv"), "prod-like.yaml")
    assert vaultspec("up", spec=spec).code == 0
    refused = vaultspec("down", spec=spec)
    assert refused.code == 1
    assert "refusing to delete protected resources (Key e2e-protect-kv/keys/signing, Vault e2e-protect-kv)" in (
        " ".join(refused.output.split())
    )
    assert refused.report["resources"] == []
    with key_client(twin, "e2e-protect-kv") as keys:
        assert keys.get_key("signing").properties.enabled


def test_down_removes_everything_and_a_later_up_recovers_the_soft_deleted_objects(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-down-kv"), "dev-down.yaml")  # dev stacks are not protected
    made = vaultspec("up", spec=spec)
    assert made.code == 0
    down = vaultspec("down", spec=spec)
    assert down.code == 0, down.output
    assert down.changes["delete"] == made.changes["create"]
    with key_client(twin, "e2e-down-kv") as keys, pytest.raises(ResourceNotFoundError):
        keys.get_key("signing")
    again = vaultspec("up", spec=spec)
    assert again.code == 0, again.output
    recovered = set(again.actions("recovered"))
    assert {"e2e-down-kv", "e2e-down-kv/keys/signing", "e2e-down-kv/secrets/api-token"} <= recovered
    assert again.report["smoke"]["passed"] is True
    assert vaultspec("up", spec=spec).changes["same"] == made.changes["create"]  # converged, nothing pending


def test_a_mandatory_violation_stops_up_before_any_arm_write(tmp_path, vaultspec, twin):
    spec = write(tmp_path, spec_text("e2e-unsafe-kv", purge=False), "e2e-unsafe.yaml")
    writes_before = len(arm_writes(twin))
    blocked = vaultspec("up", spec=spec)
    assert blocked.code == 3, blocked.output
    assert "kv-purge-protection" in blocked.output and "nothing was applied" in blocked.output
    assert any(v["policy"] == "kv-purge-protection" and v["level"] == "mandatory" for v in blocked.report["violations"])
    assert len(arm_writes(twin)) == writes_before
    with key_client(twin, "e2e-unsafe-kv") as keys, pytest.raises(ResourceNotFoundError):
        keys.get_key("signing")  # the vault does not exist


def test_a_key_that_differs_from_the_spec_is_refused_before_any_write(twin, vaultspec, tmp_path):
    """ARM cannot change a key and a replacement would recover the old one: sabotage is named, not 'repaired'."""
    spec = write(tmp_path, spec_text("e2e-keyfix-kv"), "dev-keyfix.yaml")
    assert vaultspec("up", spec=spec).code == 0
    with key_client(twin, "e2e-keyfix-kv") as keys:
        keys.update_key_properties("signing", enabled=False)  # sabotage through the data plane
    writes_before = len(arm_writes(twin))
    refused = vaultspec("up", spec=spec)
    assert refused.code == 1
    text = " ".join(refused.output.split())
    assert "e2e-keyfix-kv/keys/signing" in text and "properties.attributes.enabled" in text
    assert "cannot change an existing key" in text
    assert len(arm_writes(twin)) == writes_before
    spec.write_text(spec_text("e2e-keyfix-kv").replace("curve: P-256", "curve: P-384"))
    changed = vaultspec("up", spec=spec)
    assert changed.code == 1 and "properties.curveName" in " ".join(changed.output.split())


def revoke_deployer_vault_roles(twin: TwinInfo, vault: str) -> None:
    """Sabotage out of band: the deployer loses its vault-scope data-plane roles (ARM still lets it write)."""
    from azure.mgmt.authorization import AuthorizationManagementClient

    from vaultspec.twin.testing import client_options, credential

    group = f"/subscriptions/{twin.subscription_id}/resourceGroups/rg-e2e"
    vault_id = f"{group}/providers/Microsoft.KeyVault/vaults/{vault}"
    with AuthorizationManagementClient(
        credential(twin), twin.subscription_id, base_url=twin.arm_url, **client_options(twin)
    ) as authz:
        for assignment in authz.role_assignments.list_for_scope(vault_id):
            if assignment.principal_id == twin.default_object_id and assignment.scope.lower() == vault_id.lower():
                authz.role_assignments.delete_by_id(assignment.id)


def test_a_failing_smoke_hook_fails_up_and_names_the_check(twin, vaultspec, tmp_path):
    """after_create: a key added to a vault whose deployer was sabotaged out of band fails its smoke hook."""
    spec = write(tmp_path, spec_text("e2e-hook-kv"), "dev-hook.yaml")
    assert vaultspec("up", spec=spec).code == 0
    revoke_deployer_vault_roles(twin, "e2e-hook-kv")
    spec.write_text(spec_text("e2e-hook-kv", extra_key=True))
    failed = vaultspec("up", "--no-refresh", spec=spec)  # a refresh would see the roles gone and put them back
    assert failed.code == 1, failed.output
    (hook,) = [h for h in failed.report["hooks"] if not h["passed"]]
    assert hook["name"] == "e2e-hook-kv/keys/extra"
    assert "smoke of keys/extra in vault e2e-hook-kv failed" in hook["message"]
    assert "Forbidden" in hook["message"]  # the failing check and why


def test_a_secret_update_after_out_of_band_sabotage_fails_its_smoke_hook(twin, vaultspec, tmp_path):
    """after_update: the secret's ARM update goes through, then its hook proves the data plane and fails the up.

    (Keys have no update: every change to an existing key is a replacement, which `up` refuses before any write.)
    """
    spec = write(tmp_path, spec_text("e2e-hookup-kv", with_generated=False), "dev-hookup.yaml")
    assert vaultspec("up", spec=spec).code == 0
    revoke_deployer_vault_roles(twin, "e2e-hookup-kv")
    spec.write_text(spec_text("e2e-hookup-kv", with_generated=False, content_type="application/json"))
    failed = vaultspec("up", "--no-refresh", spec=spec)
    assert failed.code == 1, failed.output
    (hook,) = [h for h in failed.report["hooks"] if not h["passed"]]
    assert hook["name"] == "e2e-hookup-kv/secrets/api-token"
    assert "smoke of secrets/api-token in vault e2e-hookup-kv failed" in hook["message"]
    assert "Forbidden" in hook["message"]
    with mgmt_client(twin) as arm:  # the update itself landed (ARM); only its proof on the data plane failed
        assert arm.secrets.get("rg-e2e", "e2e-hookup-kv", "api-token").properties.content_type == "application/json"


def test_a_twin_that_is_not_running_is_started_in_the_background(tmp_path, pulumi_cli):
    data = tmp_path / "fresh-twin"
    spec = write(tmp_path, spec_text("e2e-fresh-kv"), "e2e-fresh.yaml")
    command = [sys.executable, "-m", "vaultspec", "up", str(spec), "--data", str(data), "--no-smoke"]
    try:
        command += ["--secret-from-env", "dbPassword=E2E_DB_PASSWORD"]
        completed = subprocess.run(command, capture_output=True, text=True, env=engine_env(), timeout=600, check=False)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert "starting the twin in the background" in completed.stdout
        assert (data / "twin.json").exists()
    finally:
        stop(data)


def test_secret_values_never_appear_in_output_reports_state_config_events_or_logs(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-canary-kv"), "dev-canary.yaml")
    events = tmp_path / "events.jsonl"
    runs = [
        vaultspec("up", "--event-log", str(events), spec=spec),
        vaultspec("up", "--event-log", str(events), spec=spec),
        vaultspec("down", "--event-log", str(events), spec=spec),
    ]
    assert [r.code for r in runs] == [0, 0, 0]
    recorded = [json.loads(line) for line in events.read_text().splitlines()]
    steps = [e for e in recorded if "res_outputs_event" in e]
    assert any(e["res_outputs_event"]["metadata"]["op"] == "create" for e in steps)  # the engine's own stream
    assert "[secret]" in events.read_text()  # where a value would be, the engine wrote the mask
    texts = [*vaultspec.outputs, events.read_text()]  # type: ignore[attr-defined]
    texts += [p.read_text() for p in tmp_path.glob("report-*.json")]
    pulumi_dir = Path(twin.data_dir) / "pulumi"
    files = [p for p in pulumi_dir.rglob("*") if p.is_file() and p.name != "passphrase"]
    assert any(p.suffix == ".json" and "stacks" in p.parts for p in files)  # the state file is among them
    assert any(p.name == "Pulumi.dev-canary.yaml" for p in files)  # the stack's config, secrets encrypted
    texts += [p.read_text(errors="replace") for p in files]
    texts.append((Path(twin.data_dir) / "audit.jsonl").read_text())
    for text in texts:
        assert CANARY_ENV not in text
        assert CANARY_CONFIG not in text


def test_stack_outputs_feed_vaultspec_smoke_stack(twin, vaultspec, tmp_path):
    spec = write(tmp_path, spec_text("e2e-out-kv"), "e2e-out.yaml")
    assert vaultspec("up", spec=spec).code == 0
    workspace = workspace_of(twin, spec, "e2e-out")
    env = engine_env(**workspace.environment())
    project = workspace.project_dir
    outputs = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--stack", "e2e-out"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(outputs.stdout)["vaults"]["e2e-out-kv"]["uri"] == twin.vault_url("e2e-out-kv") + "/"
    smoked = subprocess.run(
        [sys.executable, "-m", "vaultspec", "smoke", "--stack", "e2e-out", "--json", str(tmp_path / "smoke.json")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert smoked.returncode == 0, smoked.stdout + smoked.stderr
    assert json.loads((tmp_path / "smoke.json").read_text())["passed"] is True


def test_the_dev_stack_deploys_smokes_clean_and_redeploys_with_no_changes(repo_root, tmp_path, pulumi_cli):
    """What `make up` runs on a fresh clone: the project's own stacks/dev.yaml, its own data dir and secrets."""
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py", "stacks/dev.yaml"):
        (project / name).write_text((repo_root / name).read_text())
    (project / ".venv").symlink_to(repo_root / ".venv")
    data = tmp_path / "dev-twin"
    env = engine_env(VAULTSPEC_DEV_PARTNER_TOKEN=CANARY_ENV)
    command = [sys.executable, "-m", "vaultspec", "up", "stacks/dev.yaml", "--data", str(data)]
    command += ["--secret-from-env", "dbPassword=E2E_DB_PASSWORD"]
    try:
        runs = []
        for index in range(2):
            report = tmp_path / f"dev-{index}.json"
            completed = subprocess.run(
                [*command, "--json", str(report)],
                cwd=project,
                capture_output=True,
                text=True,
                env=env,
                timeout=900,
                check=False,
            )
            assert completed.returncode == 0, completed.stdout + completed.stderr
            runs.append((completed, json.loads(report.read_text())))
    finally:
        stop(data)
    (first, first_report), (second, second_report) = runs
    assert first_report["changes"]["create"] == 21
    assert first_report["smoke"]["passed"] is True
    assert {v["vault"] for v in first_report["smoke"]["vaults"]} == {"payments-dev-kv", "ledger-dev-kv"}
    hooks = first_report["hooks"]
    assert all(hook["passed"] for hook in hooks) and len(hooks) == 9  # a hook per key (5) and secret (4)
    assert second_report["changes"]["same"] == 21 and second_report["changes"]["create"] == 0
    assert "up ok: no changes (21 unchanged)" in second.stdout
    config = (project / "Pulumi.dev.yaml").read_text()
    assert "dbPassword:\n    secure: v1:" in config  # the stack's own config, as `pulumi config set --secret` writes it
    for text in (first.stdout, first.stderr, second.stdout, second.stderr, config):
        assert CANARY_ENV not in text and CANARY_CONFIG not in text


def test_a_secret_source_that_is_not_set_stops_up_before_any_write(twin, tmp_path, pulumi_cli):
    spec = write(tmp_path, spec_text("e2e-unset-kv"), "e2e-unset.yaml")
    writes_before = len(arm_writes(twin))
    env = engine_env()
    del env["E2E_API_TOKEN"]
    command = [sys.executable, "-m", "vaultspec", "up", str(spec), "--data", twin.data_dir]
    command += ["--secret-from-env", "dbPassword=E2E_DB_PASSWORD"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"{spec}: vault 'e2e-unset-kv': secret 'api-token' reads environment variable E2E_API_TOKEN, which is not set"
        in done.stderr
    )
    assert "nothing was applied" in done.stdout
    assert len(arm_writes(twin)) == writes_before


@pytest.mark.timeout(420)
def test_hooks_never_wait_for_the_threads_the_sdk_blocks_in_registrations(twin, tmp_path, monkeypatch):
    """At `--parallel 1` the SDK's executor has 4 threads, all soon blocked in registrations the engine answers
    only after their hooks: a hook that needed one of them (aiohttp resolves names in it) would hang for ever."""
    spec = write(tmp_path, spec_text("e2e-busy-kv", extra_key=True), "dev-busy.yaml")
    for name, value in engine_env().items():
        monkeypatch.setenv(name, value)
    workspace = workspace_of(twin, spec, "dev-busy")
    stack = workspace.stack()
    workspace.set_config(stack, [ConfigSetting("vaultspec:dbPassword", CANARY_CONFIG, secret=True)])
    result = stack.up(parallel=1, show_secrets=False)
    assert result.summary.result == "succeeded"
    assert result.summary.resource_changes.get("create", 0) >= 10


def test_a_stack_deployed_with_azure_natives_version_aliases_is_unchanged_without_them(twin, tmp_path, monkeypatch):
    """Stacks deployed before KeyVault dropped its children's version aliases (components/type_aliases.py) see
    no change, in either direction: the aliases could never match a child of the component."""
    spec = write(tmp_path, spec_text("e2e-alias-kv", with_generated=False), "dev-alias.yaml")
    for name, value in engine_env().items():
        monkeypatch.setenv(name, value)
    workspace = workspace_of(twin, spec, "dev-alias")
    program = Path(workspace.project_dir) / "__main__.py"
    with_aliases = (
        "import vaultspec.components.keyvault as keyvault\n"
        "keyvault.without_type_aliases = lambda args: None  # the component as it was: every alias registered\n"
        "from vaultspec.program import run\n\nrun()\n"
    )
    without_aliases = "from vaultspec.program import run\n\nrun()\n"
    stack = workspace.stack()
    workspace.set_config(stack, [ConfigSetting("vaultspec:dbPassword", CANARY_CONFIG, secret=True)])
    program.write_text(with_aliases)
    created = stack.up(show_secrets=False)
    assert created.summary.result == "succeeded" and created.summary.resource_changes.get("create", 0) >= 8
    program.write_text(without_aliases)
    assert set(stack.preview().change_summary) == {"same"}
    assert set(stack.up(show_secrets=False).summary.resource_changes) == {"same"}
    program.write_text(with_aliases)
    assert set(stack.preview().change_summary) == {"same"}
