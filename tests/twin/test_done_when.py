"""Issue 5's "done when": an unmodified SDK program, DefaultAzureCredential, `eval "$(vaultspec twin env)"`.

The twin runs as `vaultspec twin serve` (the CLI), names resolve through the /etc/hosts lines written
by `vaultspec twin hosts --write` (no resolver of ours in the sample's process), and the sample runs the
Key Vault samples' flows. This test fails (never skips) when /etc/hosts cannot be written: the lead's
CI runs as root so it can.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vaultspec.twin import server

VAULT = "samplekv"
SAMPLE = Path(__file__).parent / "samples" / "keyvault_samples.py"
BIN = Path(sys.executable).parent


def _vaultspec(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "vaultspec"), *args], capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "twin"
    process = subprocess.Popen(
        [str(BIN / "vaultspec"), "twin", "serve", "--data", str(data), "--vault", VAULT],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while server.find_running(data) is None:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "twin serve exited"
        assert time.time() < deadline, "twin serve did not come up in 30 s"
        time.sleep(0.05)
    yield data
    _vaultspec("twin", "stop", "--data", str(data))
    process.wait(timeout=15)


def test_unmodified_sdk_program_runs_the_samples_against_the_twin(served: Path) -> None:
    hosts = _vaultspec("twin", "hosts", VAULT, "--write", check=False)
    assert hosts.returncode == 0, (
        "`vaultspec twin hosts --write` could not update /etc/hosts; this test needs root (CI runs as root): "
        + hosts.stderr
    )
    assert f"127.0.0.1 {VAULT}.vault.localhost" in Path("/etc/hosts").read_text()
    assert _vaultspec("twin", "hosts", VAULT, "--write").stdout.strip().endswith("2 already present")
    info = server.find_running(served)
    assert info is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDENTITY_", "AZURE_", "REQUESTS_CA", "SSL_CERT"))}
    env["VAULT_URL"] = info.vault_url(VAULT)
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    script = f'eval "$(vaultspec twin env --data {served})" && exec {sys.executable} {SAMPLE}'
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SAMPLES OK" in result.stdout
    audit = _vaultspec("twin", "audit", "--data", str(served)).stdout.splitlines()
    operations = {json.loads(line)["operationName"] for line in audit}
    assert {
        "KeyCreate",
        "KeySign",
        "KeyDecrypt",
        "KeyUnwrap",
        "KeyRotate",
        "KeyBackup",
        "KeyRestore",
        "KeyPurge",
        "KeyRecover",
        "SecretGet",
    } <= operations


def test_env_prints_exports_for_the_running_twin(served: Path) -> None:
    lines = _vaultspec("twin", "env", "--data", str(served)).stdout.splitlines()
    names = {line.split("=", 1)[0].removeprefix("export ") for line in lines}
    assert names == {
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "AZURE_TENANT_ID",
        "AZURE_SUBSCRIPTION_ID",
    }


def test_env_without_a_running_twin_is_a_clear_error(tmp_path: Path) -> None:
    result = _vaultspec("twin", "env", "--data", str(tmp_path / "none"), check=False)
    assert result.returncode == 1 and "no twin is running" in result.stderr


def test_serve_refuses_an_invalid_vault_name(tmp_path: Path) -> None:
    result = _vaultspec("twin", "serve", "--data", str(tmp_path / "d"), "--vault", "x", check=False)
    assert result.returncode == 2 and "--vault x" in result.stderr and "Traceback" not in result.stderr
