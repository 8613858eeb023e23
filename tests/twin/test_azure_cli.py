"""The official Azure CLI against the twin, after one `eval` (README, "The Azure CLI").

`azure-cli` is installed unmodified from the package index into its own cached environment
(`azure_cli_venv`; never skipped: a fresh clone installs it). The twin runs as `vaultspec twin serve`;
a shell evaluates `vaultspec twin az`, which registers the twin's cloud by discovery (only the
resource manager URL is given), selects it and runs `az login --identity`, in an AZURE_CONFIG_DIR of
its own. Then `az` drives the walk-through: an RBAC vault, a role assignment listed by role name,
secrets and keys through their lifecycle, deleted vaults (Managed HSM lists included), and the
errors `az` shows for a forbidden call and a missing secret. The unmodified `az` process has no
resolver of ours: where the system resolver does not know `*.vault.localhost` (no systemd-resolved),
the test writes the /etc/hosts line with `vaultspec twin hosts --write`, as the README says, and
then needs root (CI runs as root).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.twin.azure_cli_venv import AZURE_CLI_VERSION, ensure_azure_cli
from tests.twin.hosts import ensure_resolvable
from vaultspec.twin import server

BIN = Path(sys.executable).parent
VAULT = "azclikv"
GROUP = "rg-azcli"
CANARY = "canary-" + base64.b32encode(os.urandom(10)).decode().lower()
KV_ADMINISTRATOR = "Key Vault Administrator"


def _vaultspec(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "vaultspec"), *args], capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture(scope="module")
def az(repo_root: Path) -> Path:
    return ensure_azure_cli(repo_root)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """`vaultspec twin serve` in the background: (data dir, what it printed on stderr once listening)."""
    data = tmp_path_factory.mktemp("azcli") / "twin"
    log = data.parent / "serve.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(BIN / "vaultspec"), "twin", "serve", "--data", str(data), "--workers", "1"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    deadline = time.time() + 60
    while server.find_running(data) is None or "listening on port" not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.time() < deadline, "twin serve did not come up in 60 s: " + log.read_text()
        time.sleep(0.05)
    yield data, log.read_text()
    _vaultspec("twin", "stop", "--data", str(data))
    process.wait(timeout=15)


class AzSession:
    """`az` with the environment a shell has after `eval "$(vaultspec twin az)"`."""

    def __init__(self, az: Path, env: dict[str, str]) -> None:
        self.az = az
        self.env = env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.az), *args], env=self.env, capture_output=True, text=True, timeout=300)

    def ok(self, *args: str) -> Any:
        result = self.run(*args, "--output", "json", "--only-show-errors")
        assert result.returncode == 0, f"az {' '.join(args)}: {result.stderr[-3000:]}"
        return json.loads(result.stdout) if result.stdout.strip() else None

    def fails(self, *args: str) -> str:
        result = self.run(*args, "--only-show-errors")
        assert result.returncode != 0, f"az {' '.join(args)} should have failed: {result.stdout[-2000:]}"
        return result.stderr


def _shell_env(az: Path) -> dict[str, str]:
    inherited = ("IDENTITY_", "AZURE_", "REQUESTS_CA", "SSL_CERT", "MSI_", "IMDS_", "VAULTSPEC_TWIN_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env["PATH"] = f"{az.parent}:{BIN}:{env.get('PATH', '')}"
    return env


def _eval_twin_az(az: Path, data: Path) -> dict[str, str]:
    """Run the one `eval` in bash and return the environment it leaves (NUL-separated `env -0`)."""
    script = f'eval "$(vaultspec twin az --data {data})" && env -0'
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", script],
        env=_shell_env(az),
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    pairs = (item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)
    return dict(pairs)


@pytest.fixture(scope="module")
def session(az: Path, served: tuple[Path, str]) -> AzSession:
    data, _ = served
    ensure_resolvable(VAULT)  # no systemd-resolved: the README's /etc/hosts step
    _eval_twin_az(az, data)
    return AzSession(az, _eval_twin_az(az, data))  # the second eval finds the cloud registered: updates it


def test_twin_serve_prints_its_port_and_the_eval_lines(served: tuple[Path, str]) -> None:
    data, printed = served
    info = server.find_running(data)
    assert info is not None
    assert f"listening on port {info.port}" in printed
    assert f'eval "$(vaultspec twin env --data {data})"' in printed
    assert f'eval "$(vaultspec twin az --data {data})"' in printed


def test_the_azure_cli_is_the_pinned_unmodified_release(session: AzSession) -> None:
    assert session.ok("version")["azure-cli"] == AZURE_CLI_VERSION


def test_cloud_is_registered_by_discovery_and_login_uses_the_managed_identity(
    session: AzSession, served: tuple[Path, str]
) -> None:
    data, _ = served
    info = server.find_running(data)
    assert info is not None
    assert session.env["AZURE_CONFIG_DIR"] == str(data.resolve() / "azure-cli")
    cloud = session.ok("cloud", "show")
    assert cloud["isActive"] and cloud["name"] == "VaultspecTwin"
    assert cloud["endpoints"]["resourceManager"] == f"https://localhost:{info.port}/"
    # Only the resource manager was given: the rest came from the metadata document.
    assert cloud["endpoints"]["activeDirectoryResourceId"] == "https://management.core.windows.net/"
    assert cloud["endpoints"]["microsoftGraphResourceId"] == f"https://localhost:{info.port}/"
    assert cloud["suffixes"]["keyvaultDns"] == f".vault.localhost:{info.port}"
    account = session.ok("account", "show")
    assert (account["id"], account["tenantId"]) == (info.subscription_id, info.tenant_id)
    assert account["user"] == {
        "assignedIdentityInfo": "MSI",
        "name": "systemAssignedIdentity",
        "type": "servicePrincipal",
    }


def test_walk_through_rbac_vault_secrets_keys_and_deleted_vaults(session: AzSession, served: tuple[Path, str]) -> None:
    data, _ = served
    info = server.find_running(data)
    assert info is not None
    me = session.env["VAULTSPEC_TWIN_OBJECT_ID"]
    assert me == info.default_object_id

    session.ok("group", "create", "--name", GROUP, "--location", "westeurope")
    vault = session.ok(
        "keyvault", "create", "--name", VAULT, "--resource-group", GROUP, "--location", "westeurope",
        "--sku", "premium", "--enable-rbac-authorization", "true", "--retention-days", "7",
    )  # fmt: skip
    assert vault["properties"]["enableRbacAuthorization"] is True
    assert vault["properties"]["vaultUri"] == f"https://{VAULT}.vault.localhost:{info.port}/"

    # Creating an RBAC vault grants no data-plane role: az shows Key Vault's 403.
    forbidden = session.fails("keyvault", "secret", "set", "--vault-name", VAULT, "--name", "db", "--value", CANARY)
    assert "(Forbidden) Caller is not authorized to perform action on resource" in forbidden
    assert '"code": "ForbiddenByRbac"' in forbidden and "secrets/setSecret/action" in forbidden

    session.ok(
        "role", "assignment", "create", "--assignee-object-id", me, "--assignee-principal-type", "ServicePrincipal",
        "--role", KV_ADMINISTRATOR, "--scope", vault["id"],
    )  # fmt: skip
    [by_name] = session.ok("role", "assignment", "list", "--role", KV_ADMINISTRATOR, "--scope", vault["id"])
    assert (by_name["principalId"], by_name["roleDefinitionName"]) == (me, KV_ADMINISTRATOR)
    listed = session.ok("role", "assignment", "list", "--scope", vault["id"])
    assert [a["roleDefinitionName"] for a in listed] == [KV_ADMINISTRATOR]

    _secrets_lifecycle(session)
    _keys_lifecycle(session)
    _deleted_vaults(session, vault["id"])
    for log in (data / "audit.jsonl", data.parent / "serve.log"):  # the audit log; what `twin serve` printed
        assert CANARY not in log.read_text(errors="replace"), log


def _secrets_lifecycle(az: AzSession) -> None:
    vault = ("--vault-name", VAULT)
    first = az.ok("keyvault", "secret", "set", *vault, "--name", "db", "--value", CANARY)
    assert az.ok("keyvault", "secret", "show", *vault, "--name", "db")["value"] == CANARY
    az.ok("keyvault", "secret", "set", *vault, "--name", "db", "--value", CANARY + "-2")
    assert len(az.ok("keyvault", "secret", "list-versions", *vault, "--name", "db")) == 2
    az.ok("keyvault", "secret", "set-attributes", "--id", first["id"], "--content-type", "text/plain")
    assert az.ok("keyvault", "secret", "show", "--id", first["id"])["contentType"] == "text/plain"
    assert [s["name"] for s in az.ok("keyvault", "secret", "list", *vault)] == ["db"]
    missing = az.fails("keyvault", "secret", "show", *vault, "--name", "nosuch")
    assert "(SecretNotFound) A secret with (name/id) nosuch was not found in this key vault" in missing
    az.ok("keyvault", "secret", "delete", *vault, "--name", "db")
    assert [s["name"] for s in az.ok("keyvault", "secret", "list-deleted", *vault)] == ["db"]
    az.ok("keyvault", "secret", "recover", *vault, "--name", "db")
    assert az.ok("keyvault", "secret", "show", *vault, "--name", "db")["value"] == CANARY + "-2"
    az.ok("keyvault", "secret", "delete", *vault, "--name", "db")
    az.ok("keyvault", "secret", "purge", *vault, "--name", "db")
    assert az.ok("keyvault", "secret", "list-deleted", *vault) == []


def _keys_lifecycle(az: AzSession) -> None:
    vault = ("--vault-name", VAULT)
    created = az.ok("keyvault", "key", "create", *vault, "--name", "cmk", "--kty", "RSA-HSM", "--size", "3072")
    assert created["key"]["kty"] == "RSA-HSM"
    plaintext = base64.b64encode(b"wrap me").decode()
    sealed = az.ok("keyvault", "key", "encrypt", *vault, "--name", "cmk", "--algorithm", "RSA-OAEP-256",
                   "--value", plaintext)  # fmt: skip
    opened = az.ok("keyvault", "key", "decrypt", *vault, "--name", "cmk", "--algorithm", "RSA-OAEP-256",
                   "--value", sealed["result"])  # fmt: skip
    assert opened["result"] == plaintext
    az.ok("keyvault", "key", "rotate", *vault, "--name", "cmk")
    assert len(az.ok("keyvault", "key", "list-versions", *vault, "--name", "cmk")) == 2
    disabled = az.ok("keyvault", "key", "set-attributes", *vault, "--name", "cmk", "--enabled", "false")
    assert disabled["attributes"]["enabled"] is False
    az.ok("keyvault", "key", "delete", *vault, "--name", "cmk")
    assert [k["name"] for k in az.ok("keyvault", "key", "list-deleted", *vault)] == ["cmk"]
    az.ok("keyvault", "key", "recover", *vault, "--name", "cmk")
    recovered = az.ok("keyvault", "key", "show", *vault, "--name", "cmk")["key"]["kid"]
    assert recovered.rsplit("/", 1)[0] == created["key"]["kid"].rsplit("/", 1)[0]
    az.ok("keyvault", "key", "delete", *vault, "--name", "cmk")
    az.ok("keyvault", "key", "purge", *vault, "--name", "cmk")
    assert az.ok("keyvault", "key", "list-deleted", *vault) == []


def _deleted_vaults(az: AzSession, vault_id: str) -> None:
    assert az.ok("keyvault", "list-deleted") == []  # vaults and Managed HSMs: none yet
    az.ok("keyvault", "delete", "--name", VAULT)
    [deleted] = az.ok("keyvault", "list-deleted")
    assert deleted["name"] == VAULT and deleted["properties"]["vaultId"] == vault_id
    az.ok("keyvault", "recover", "--name", VAULT)
    assert az.ok("keyvault", "show", "--name", VAULT)["id"] == vault_id
    az.ok("keyvault", "delete", "--name", VAULT)
    az.ok("keyvault", "purge", "--name", VAULT)
    assert az.ok("keyvault", "list-deleted") == []


def test_twin_az_without_a_running_twin_is_a_clear_error(tmp_path: Path) -> None:
    result = _vaultspec("twin", "az", "--data", str(tmp_path / "none"), check=False)
    assert result.returncode == 1 and "no twin is running" in result.stderr and result.stdout == ""
