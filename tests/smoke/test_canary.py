"""Secret values never appear in console output, JSON, JUnit, logs or exceptions: neither the vault's
value nor the environment value it is compared with, whether they match or not."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.smoke.conftest import CANARY, MISMATCH_CANARY, SmokedVault, write_spec
from tests.smoke.test_hooks import secret_args
from vaultspec.cli import app
from vaultspec.smoke import SmokeOptions
from vaultspec.smoke.hooks import SmokeHookFailed, SmokeHooks
from vaultspec.smoke.report_files import json_text, junit_text
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import async_credential

SECRETS = (CANARY, MISMATCH_CANARY, "the value in the vault")


def leaks(text: str) -> list[str]:
    return [value for value in SECRETS if value in text]


def test_reports_never_carry_secret_values(healthy: SmokedVault, sabotaged: SmokedVault) -> None:
    reports = [healthy.report, sabotaged.report]
    assert leaks(json_text(reports)) == []
    assert leaks(junit_text(reports)) == []
    assert leaks(repr(reports)) == []


def test_cli_output_files_and_logs_never_carry_secret_values(
    twin: TwinInfo,
    twin_env: dict[str, str],
    healthy: SmokedVault,
    sabotaged: SmokedVault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SMOKE_CANARY", CANARY)
    monkeypatch.setenv("SMOKE_MISMATCH", MISMATCH_CANARY)
    caplog.set_level(logging.DEBUG)
    for smoked, expected_exit in ((healthy, 0), (sabotaged, 1)):
        spec = write_spec(tmp_path / f"{smoked.name}.yaml", smoked.spec)
        json_file, junit_file = tmp_path / f"{smoked.name}.json", tmp_path / f"{smoked.name}.xml"
        result = CliRunner().invoke(
            app,
            [
                *("smoke", "--vault-url", twin.vault_url(smoked.name), "--spec", str(spec), "-v", "--rbac-wait", "0"),
                *("--json", str(json_file), "--junit", str(junit_file), "--check-grants"),
            ],
        )
        assert result.exit_code == expected_exit, result.output
        assert "source" in result.output  # the comparison was reported...
        assert leaks(result.output) == []  # ...without the values
        assert leaks(json_file.read_text()) == [] and leaks(junit_file.read_text()) == []
    assert caplog.records  # the SDK logged its requests
    assert leaks("\n".join(r.getMessage() for r in caplog.records)) == []


def test_hook_failures_never_carry_secret_values(twin: TwinInfo, sabotaged: SmokedVault) -> None:
    options = SmokeOptions(connection_verify=twin.ca_bundle, rbac_wait=0, environ={"SMOKE_MISMATCH": MISMATCH_CANARY})
    hooks = SmokeHooks(sabotaged.spec, name="canary", options=options, credential=lambda: async_credential(twin))
    uri = f"{twin.vault_url(sabotaged.name)}/secrets/env-mismatch"
    with pytest.raises(SmokeHookFailed) as failure:
        asyncio.run(
            hooks.function("secrets", "env-mismatch")(
                secret_args(twin, sabotaged.name, "env-mismatch", {"secretUri": uri})
            )
        )
    assert "source: the value's SHA-256 differs" in str(failure.value)
    assert leaks(str(failure.value)) == [] and leaks(repr(failure.value)) == []
