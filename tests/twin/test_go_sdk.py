"""The official Azure SDK for Go, unmodified, against the twin (README, "The twin").

`go_sdk/main.go` drives azidentity's DefaultAzureCredential (the twin's managed identity), azsecrets and
azkeys with default client options (challenge-resource verification on) through secrets' and keys'
whole lifecycles: versions, listings, properties, disabled versions, backup/restore, delete, recover,
purge; RSA-HSM and EC-HSM keys signing, verifying (checked locally too), encrypting, wrapping,
rotation policies, rotation, imports; and the refusals Key Vault answers (404 SecretNotFound and
KeyNotFound, 400 BadParameter for an invalid name and for /rng, 403 for a principal without a role).
Go is on every machine that runs `make test` (it builds the Pulumi CLI); the modules come from the
module proxy at the versions `go_sdk/go.sum` pins. Never skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.twin.hosts import ensure_resolvable
from vaultspec.twin.server import TwinInfo, start_background, stop

PROGRAM = Path(__file__).with_name("go_sdk")
VAULT = "gosdkkv"
CHECKS = 90  # the program's checks when every one of them runs


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.fail("Go is required (make test builds the Pulumi CLI with it)")
    binary = tmp_path_factory.mktemp("gosdk") / "probe"
    built = subprocess.run(
        [go, "build", "-mod=readonly", "-o", str(binary), "."],
        cwd=PROGRAM,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return binary


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinInfo]:
    data = tmp_path_factory.mktemp("gosdk-twin") / "twin"
    info = start_background(data, vaults=(VAULT,))  # premium RBAC vault; the identity is its administrator
    ensure_resolvable(VAULT)
    yield info
    stop(data)


def test_the_go_sdk_runs_secrets_and_keys_through_their_lifecycles_and_gets_key_vaults_refusals(
    probe: Path, twin: TwinInfo
) -> None:
    inherited = ("IDENTITY_", "AZURE_", "REQUESTS_CA", "SSL_CERT", "MSI_", "IMDS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)} | twin.env()
    run = subprocess.run(
        [str(probe), "-vault", twin.vault_url(VAULT)], env=env, capture_output=True, text=True, timeout=300
    )
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert run.returncode == 0 and not failed, run.stdout[-4000:] + run.stderr[-2000:]
    passed = [line for line in run.stdout.splitlines() if line.startswith("ok")]
    assert len(passed) >= CHECKS, run.stdout[-4000:]
    assert "failures=0" in run.stdout
