"""Durability and at-rest protection: restarts, SIGKILL, encrypted payloads, file modes, audit hygiene."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import JsonWebKey
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.twin.conftest import token_for
from vaultspec.twin import server
from vaultspec.twin.testing import key_client, secret_client, start_twin

CANARY = "canary-secret-value-5b0d3c"


@pytest.fixture
def own_twin(tmp_path: Path):  # type: ignore[no-untyped-def]
    info = start_twin(tmp_path / "data", vaults=("pvault",))
    yield info
    server.stop(tmp_path / "data")


def _restart(info: server.TwinInfo) -> server.TwinInfo:
    server.stop(info.data_dir)
    return start_twin(info.data_dir)


def test_objects_and_ids_survive_a_restart(own_twin: server.TwinInfo) -> None:
    key = key_client(own_twin, "pvault").create_rsa_key("k")
    secret = secret_client(own_twin, "pvault").set_secret("s", "persisted")
    again = _restart(own_twin)
    assert again.port == own_twin.port and again.pid != own_twin.pid
    assert again.tenant_id == own_twin.tenant_id and again.default_object_id == own_twin.default_object_id
    assert key_client(again, "pvault").get_key("k").id == key.id
    assert secret_client(again, "pvault").get_secret("s").value == "persisted"
    assert secret_client(again, "pvault").get_secret("s").id == secret.id


def test_serve_vault_grants_its_administrator_once_and_a_removal_survives_restarts(
    own_twin: server.TwinInfo,
) -> None:
    """`twin serve --vault NAME` makes the default identity Key Vault Administrator when it creates the
    vault; a deliberate removal of that grant must survive every later start with `--vault NAME`."""
    secret_client(own_twin, "pvault").set_secret("probe", "v")  # the grant works
    sub = f"/subscriptions/{own_twin.subscription_id}"
    token = token_for(own_twin, "https://management.azure.com/")

    def arm(method: str, path: str) -> requests.Response:
        return requests.request(
            method,
            own_twin.arm_url + path,
            params={"api-version": "2022-04-01"},
            headers={"Authorization": f"Bearer {token}"},
            verify=own_twin.ca_bundle,
            timeout=30,
        )

    grants = arm("GET", f"{sub}/providers/Microsoft.Authorization/roleAssignments").json()["value"]
    assert [g["properties"]["principalId"] for g in grants] == [own_twin.default_object_id]
    assert arm("DELETE", grants[0]["id"]).status_code == 200
    again = start_twin(own_twin.data_dir, vaults=("pvault",))  # running: ensures the vault
    server.stop(again.data_dir)
    again = start_twin(own_twin.data_dir, vaults=("pvault",))  # a fresh start with --vault
    token = token_for(again, "https://management.azure.com/")
    assert arm("GET", f"{sub}/providers/Microsoft.Authorization/roleAssignments").json()["value"] == []
    with pytest.raises(HttpResponseError) as denied:
        secret_client(again, "pvault").get_secret("probe")
    assert denied.value.status_code == 403


def test_acknowledged_writes_survive_sigkill(own_twin: server.TwinInfo) -> None:
    secrets = secret_client(own_twin, "pvault")
    names = [f"s{i}" for i in range(5)]
    for name in names:
        secrets.set_secret(name, f"value-{name}")
    os.kill(own_twin.pid, signal.SIGKILL)
    deadline = time.time() + 10
    while server.find_running(own_twin.data_dir) is not None and time.time() < deadline:
        time.sleep(0.05)
    again = start_twin(own_twin.data_dir)
    assert [secret_client(again, "pvault").get_secret(n).value for n in names] == [f"value-{n}" for n in names]


def test_secret_values_and_private_keys_are_never_stored_in_plaintext(own_twin: server.TwinInfo) -> None:
    secret_client(own_twin, "pvault").set_secret("canary", CANARY)
    private = rsa.generate_private_key(65537, 2048)
    numbers = private.private_numbers()
    d = numbers.d.to_bytes(256, "big")

    def b(i: int) -> bytes:
        return i.to_bytes((i.bit_length() + 7) // 8, "big")

    jwk = JsonWebKey(
        kty="RSA",
        n=b(numbers.public_numbers.n),
        e=b(numbers.public_numbers.e),
        d=d,
        p=b(numbers.p),
        q=b(numbers.q),
        dp=b(numbers.dmp1),
        dq=b(numbers.dmq1),
        qi=b(numbers.iqmp),
    )
    key_client(own_twin, "pvault").import_key("imported", jwk)
    data = Path(own_twin.data_dir)
    blobs = b"".join(p.read_bytes() for p in data.iterdir() if p.is_file() and p.name.startswith("twin.db"))
    assert CANARY.encode() not in blobs
    assert d not in blobs and b(numbers.p) not in blobs and b(numbers.q) not in blobs


def test_private_files_are_mode_0600(own_twin: server.TwinInfo) -> None:
    data = Path(own_twin.data_dir)
    for name in ("master.key", "identity-header", "token-signing-key.pem", "ca-key.pem", "server-key.pem"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name


def test_audit_log_records_calls_without_secrets_or_tokens(own_twin: server.TwinInfo) -> None:
    secrets = secret_client(own_twin, "pvault")
    secrets.set_secret("audited", CANARY)
    secrets.get_secret("audited")
    token = token_for(own_twin, own_twin.data_plane_resource)
    text = (Path(own_twin.data_dir) / "audit.jsonl").read_text()
    assert CANARY not in text and token not in text and own_twin.identity_header() not in text
    events = [json.loads(line) for line in text.splitlines()]
    gets = [e for e in events if e["operationName"] == "SecretGet" and e["object"] == "audited"]
    assert gets and gets[-1]["resultType"] == "Success" and gets[-1]["principal"] == own_twin.default_object_id
    assert gets[-1]["vault"] == "pvault" and gets[-1]["callerIpAddress"] == "127.0.0.1"
    assert any(e["httpStatusCode"] == 401 for e in events)
