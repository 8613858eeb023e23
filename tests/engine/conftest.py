"""Fixtures for the end-to-end tests: the real Pulumi CLI (built by `make pulumi`) against a real twin.

A missing CLI fails these tests (it never skips them): `make test` builds it first.
"""

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

from vaultspec.engine.toolchain import ToolchainError, find_cli
from vaultspec.twin.server import TwinInfo, stop
from vaultspec.twin.testing import start_twin

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
    extra_key: bool = False,
    enabled_for: str = "",
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
    extra = (
        f"""
      - name: extra
        type: EC-HSM
        curve: P-384
        ops: [sign, verify]
        expires: {soon(300)}
        rotation: {{rotateAfterCreate: P90D, expiryTime: P1Y}}"""
        if extra_key
        else ""
    )
    flags = f"\n    enabledFor: [{enabled_for}]" if enabled_for else ""
    return f"""\
apiVersion: vaultspec/v1
defaults: {{location: westeurope, resourceGroup: rg-e2e}}
vaults:
  - name: {vault}
    softDelete: {{retentionDays: 90, purgeProtection: {str(purge).lower()}}}
    network: {{publicAccess: enabled, defaultAction: Deny, bypass: None, ipRules: [127.0.0.1/32]}}{flags}
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
        rotation: {{rotateAfterCreate: P90D, expiryTime: P1Y}}{extra}
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


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """The CLI the engine tests drive; its absence is a failure, never a skip."""
    try:
        return find_cli().executable
    except ToolchainError as error:
        pytest.fail(f"the Pulumi CLI is required for the end-to-end tests: {error}")


class Run:
    """One `vaultspec` invocation: exit code, streams and the JSON report."""

    def __init__(self, completed: subprocess.CompletedProcess[str], report: dict[str, Any] | None) -> None:
        self.code = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.report = report or {}

    @property
    def changes(self) -> dict[str, int]:
        return self.report.get("changes", {})

    def actions(self, action: str) -> list[str]:
        return sorted(r["name"] for r in self.report.get("resources", []) if r["action"] == action)


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path) -> Iterator[TwinInfo]:
    data = tmp_path_factory.mktemp("e2e") / "twin"
    info = start_twin(data)
    yield info
    stop(data)


def engine_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "E2E_API_TOKEN": CANARY_ENV, "E2E_DB_PASSWORD": CANARY_CONFIG, "COLUMNS": "200"}
    for name in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "PULUMI_CONFIG_PASSPHRASE"):
        env.pop(name, None)
    env.update(extra)
    return env


@pytest.fixture
def vaultspec(twin: TwinInfo, tmp_path: Path) -> Callable[..., Run]:
    """`vaultspec up|down SPEC --data <twin> --stack <stack>` in a subprocess, with the test's canary secrets."""
    outputs: list[str] = []

    def run(command: str, *args: str, spec: Path, stack: str | None = None, cwd: Path | None = None) -> Run:
        report = tmp_path / f"report-{len(outputs)}.json"
        line = [sys.executable, "-m", "vaultspec", command, str(spec), "--data", twin.data_dir, "--json", str(report)]
        if stack:
            line += ["--stack", stack]
        if command == "up":
            line += ["--secret-from-env", "dbPassword=E2E_DB_PASSWORD"]
        completed = subprocess.run(
            [*line, *args], capture_output=True, text=True, env=engine_env(), cwd=cwd, timeout=600, check=False
        )
        outputs.append(completed.stdout + completed.stderr)
        return Run(completed, json.loads(report.read_text()) if report.exists() else None)

    run.outputs = outputs  # type: ignore[attr-defined]
    return run


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
