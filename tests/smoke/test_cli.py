"""`vaultspec smoke`: exit 0 when every check passed, 1 when any failed, 2 on usage or spec errors; the
`--stack` form reads the stack's outputs (here from a file, as `--outputs` allows)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.smoke.conftest import CANARY, SmokedVault, write_spec
from vaultspec.cli import app
from vaultspec.twin.server import TwinInfo

runner = CliRunner()
VAULTS = "Microsoft.KeyVault/vaults"


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["smoke", *args])
    return result.exit_code, result.output


def outputs_file(path: Path, spec: Path, twin: TwinInfo, *vaults: SmokedVault) -> Path:
    exported = {
        v.name: {
            "id": f"/subscriptions/{twin.subscription_id}/resourceGroups/rg/providers/{VAULTS}/{v.name}",
            "uri": twin.vault_url(v.name) + "/",
            "keys": {k.name: f"{twin.vault_url(v.name)}/keys/{k.name}" for k in v.spec.keys},
            "secrets": {s.name: f"{twin.vault_url(v.name)}/secrets/{s.name}" for s in v.spec.secrets},
        }
        for v in vaults
    }
    path.write_text(json.dumps({"vaults": exported, "spec": str(spec)}))
    return path


def test_a_healthy_vault_exits_0_with_json_and_junit_in_a_fresh_process(
    twin: TwinInfo, healthy: SmokedVault, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "spec.yaml", healthy.spec)
    env = {**os.environ, **twin.env(), "SMOKE_CANARY": CANARY}  # eval "$(vaultspec twin env)"
    command = [sys.executable, "-m", "vaultspec", "smoke", "--vault-url", twin.vault_url(healthy.name)]
    command += ["--spec", str(spec), "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke passed" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["vault"] == healthy.name and report["passed"] is True
    source = next(c for c in report["checks"] if (c["object"], c["check"]) == ("secrets/canary", "source"))
    assert source["status"] == "passed"
    assert ET.parse(tmp_path / "r.xml").getroot().get("failures") == "0"


def test_a_sabotaged_vault_exits_1_and_prints_the_failures(
    twin: TwinInfo, twin_env: dict[str, str], sabotaged: SmokedVault, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "spec.yaml", sabotaged.spec)
    code, output = invoke("--vault-url", twin.vault_url(sabotaged.name), "--spec", str(spec), "--rbac-wait", "0")
    assert code == 1
    assert "FAILED" in output and "keys/wrong-type type" in output and "smoke failed" in output


def test_stack_outputs_smoke_every_exported_vault_with_one_json_document(
    twin: TwinInfo, twin_env: dict[str, str], healthy: SmokedVault, sabotaged: SmokedVault, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "stack.yaml", healthy.spec, sabotaged.spec)
    outputs = outputs_file(tmp_path / "outputs.json", spec, twin, healthy, sabotaged)
    code, _ = invoke(
        "--stack", "dev", "--outputs", str(outputs), "--json", str(tmp_path / "r.json"), "--rbac-wait", "0"
    )
    assert code == 1
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["passed"] is False
    assert {v["vault"]: v["passed"] for v in document["vaults"]} == {healthy.name: True, sabotaged.name: False}


def test_stack_outputs_of_one_healthy_vault_exit_0_and_json_to_stdout(
    twin: TwinInfo, twin_env: dict[str, str], healthy: SmokedVault, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "stack.yaml", healthy.spec)
    outputs = outputs_file(tmp_path / "outputs.json", spec.name, twin, healthy)  # relative to the outputs file
    result = CliRunner().invoke(app, ["smoke", "--stack", "dev", "--outputs", str(outputs), "--json", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["vault"] == healthy.name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give either --vault-url URL --spec PATH, or --stack NAME"),
        (("--vault-url", "https://x.vault.azure.net"), "--vault-url needs --spec PATH"),
        (("--vault-url", "http://x.vault.azure.net", "--spec", "{spec}"), "Key Vault needs HTTPS"),
        (("--vault-url", "https://x.vault.azure.net", "--spec", "{missing}"), "spec file not found"),
        (("--vault-url", "https://x.vault.azure.net", "--spec", "{spec}", "--vault", "nope"), "declares no such vault"),
        (("--vault-url", "https://x.vault.azure.net", "--spec", "{two}"), "pass --vault NAME"),
        (("--vault-url", "https://x.vault.azure.net", "--stack", "dev"), "give either"),
        (("--stack", "dev", "--outputs", "{missing}"), "cannot read the outputs file"),
        (("--stack", "dev", "--outputs", "{not_json}"), "not JSON"),
        (("--stack", "dev", "--outputs", "{secret_outputs}"), "the `vaults` output is a secret"),
        (("--stack", "dev", "--outputs", "{wrong_shape}"), "vaults.a.uri: Field required"),
        (("--stack", "dev", "--outputs", "{unknown_vault}"), "does not declare: elsewhere"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    healthy: SmokedVault, sabotaged: SmokedVault, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    spec = write_spec(tmp_path / "one.yaml", healthy.spec)
    files = {
        "spec": spec,
        "two": write_spec(tmp_path / "two.yaml", healthy.spec, sabotaged.spec),
        "missing": tmp_path / "missing.yaml",
        "not_json": tmp_path / "not.json",
        "secret_outputs": tmp_path / "secret.json",
        "wrong_shape": tmp_path / "wrong.json",
        "unknown_vault": tmp_path / "unknown.json",
    }
    files["not_json"].write_text("{nope")
    files["secret_outputs"].write_text(json.dumps({"vaults": "[secret]", "spec": str(spec)}))
    files["wrong_shape"].write_text(json.dumps({"vaults": {"a": {"id": "x"}}, "spec": str(spec)}))
    files["unknown_vault"].write_text(
        json.dumps({"vaults": {"elsewhere": {"uri": "https://elsewhere.vault.azure.net"}}, "spec": str(spec)})
    )
    code, output = invoke(*(a.format(**files) for a in args))
    assert code == 2
    assert message in output


def test_spec_errors_exit_2_as_file_line_col(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("apiVersion: vaultspec/v1\nvaults:\n  - name: ok-vault\n    location: westeurope\n")
    code, output = invoke("--vault-url", "https://ok-vault.vault.azure.net", "--spec", str(spec))
    assert code == 2
    assert f"{spec}:3:" in output


def fake_pulumi(bin_dir: Path, *, stdout: str = "", stderr: str = "", code: int = 0) -> Path:
    """A `pulumi` executable that records its arguments and answers like `pulumi stack output --json`."""
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "answer.json").write_text(stdout)
    script = bin_dir / "pulumi"
    script.write_text(
        f"#!/bin/sh\necho \"$@\" > '{bin_dir}/argv'\ncat '{bin_dir}/answer.json'\n"
        f"printf '%s\\n' '{stderr}' >&2\nexit {code}\n"
    )
    script.chmod(0o755)
    return bin_dir


def test_stack_outputs_come_from_the_pulumi_cli_when_no_file_is_given(
    twin: TwinInfo, twin_env: dict[str, str], healthy: SmokedVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_spec(tmp_path / "stack.yaml", healthy.spec)
    exported = outputs_file(tmp_path / "outputs.json", spec, twin, healthy).read_text()
    bin_dir = fake_pulumi(tmp_path / "bin", stdout=exported)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = CliRunner().invoke(app, ["smoke", "--stack", "prod-eu", "--json", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["vault"] == healthy.name
    assert (bin_dir / "argv").read_text().split() == ["stack", "output", "--json", "--stack", "prod-eu"]


def test_a_failing_pulumi_cli_exits_2_with_its_last_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = fake_pulumi(tmp_path / "bin", stderr="error: no stack named prod-eu found", code=255)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    code, output = invoke("--stack", "prod-eu")
    assert code == 2
    assert "`pulumi stack output --json --stack prod-eu` failed: error: no stack named prod-eu found" in output


def test_without_the_pulumi_cli_the_error_says_how_to_pass_the_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi anywhere
    code, output = invoke("--stack", "prod-eu")
    assert code == 2
    assert "the pulumi CLI is not on PATH" in output and "--outputs outputs.json" in output
