"""A twin with several worker processes behaves as one: a change made through one worker is seen by the
very next request on another, and the workers live and die with their supervisor.

Which worker answered is read from `x-ms-request-id` (each process stamps its own random prefix). A
`requests.Session` keeps its keep-alive connection, hence its worker, so the tests write through one
worker's connection and read through the other's. Raw HTTP is used because the SDK cannot be told
which connection to use.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.twin.conftest import fresh_name, token_for
from vaultspec import localhost
from vaultspec.twin import server
from vaultspec.twin.crypto import b64url
from vaultspec.twin.server import TwinInfo

VAULT = "workerkv"
API = {"api-version": "7.6"}
SECRETS_USER = "/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"


def worker_of(response: requests.Response) -> str:
    return response.headers["x-ms-request-id"][:24]


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


class Worker:
    """One keep-alive connection that one worker process accepted, used for every plane.

    Requests go to https://127.0.0.1:PORT (the certificate names 127.0.0.1) with the plane in the Host
    header, so `requests` keeps the one connection whichever vault or ARM is addressed.
    """

    def __init__(self, info: TwinInfo, worker: str, session: requests.Session) -> None:
        self.info = info
        self.id = worker
        self.session = session

    def data(self, method: str, path: str, token: str, body: Any = None, vault: str = VAULT) -> requests.Response:
        host = f"{vault}.vault.localhost"
        return call(self.session, self.info, method, host, path, token, body, API, self.id)

    def arm(self, method: str, path: str, token: str, body: Any = None, api: str = "2022-04-01") -> requests.Response:
        return call(self.session, self.info, method, "localhost", path, token, body, {"api-version": api}, self.id)


def call(
    session: requests.Session,
    info: TwinInfo,
    method: str,
    host: str,
    path: str,
    token: str,
    body: Any = None,
    params: dict[str, str] | None = None,
    worker: str | None = None,
) -> requests.Response:
    response = session.request(
        method,
        f"https://127.0.0.1:{info.port}{path}",
        params=params,
        headers={"Host": f"{host}:{info.port}", "Authorization": f"Bearer {token}"},
        json=body,
        verify=info.ca_bundle,
        timeout=30,
    )
    if worker is not None:
        assert worker_of(response) == worker, "the keep-alive connection moved to another worker"
    return response


def _sessions_per_worker(info: TwinInfo, token: str, count: int) -> dict[str, requests.Session]:
    """New keep-alive connections until `count` different workers have accepted one."""
    found: dict[str, requests.Session] = {}
    for _ in range(80):
        session = requests.Session()
        probe = call(session, info, "GET", f"{VAULT}.vault.localhost", "/secrets/probe", token, None, API)
        worker = worker_of(probe)
        if worker in found:
            session.close()
        else:
            found[worker] = session
        if len(found) == count:
            return found
    pytest.fail(f"80 new connections reached only {len(found)} of {count} workers")


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinInfo]:
    localhost.install()
    data = tmp_path_factory.mktemp("multi")
    info = server.start_background(data, vaults=(VAULT,), workers=2)
    try:
        yield info
    finally:
        server.stop(data)


@pytest.fixture(scope="module")
def admin_token(multi: TwinInfo) -> str:
    return token_for(multi, multi.data_plane_resource)


@pytest.fixture
def pair(multi: TwinInfo, admin_token: str) -> tuple[Worker, Worker]:
    """Fresh per test: an idle keep-alive connection is closed by the twin after 75 s."""
    sessions = _sessions_per_worker(multi, admin_token, 2)
    first, second = (Worker(multi, worker, session) for worker, session in sessions.items())
    return first, second


def test_supervisor_runs_the_asked_number_of_workers(multi: TwinInfo, pair: tuple[Worker, Worker]) -> None:
    assert len(children_of(multi.pid)) == 2
    assert pair[0].id != pair[1].id


def test_secret_writes_on_one_worker_are_read_on_the_other(pair: tuple[Worker, Worker], admin_token: str) -> None:
    name = fresh_name("s")
    assert pair[0].data("PUT", f"/secrets/{name}", admin_token, {"value": "first"}).ok
    previous = "first"
    for writer, reader in (pair, pair[::-1], pair):
        assert reader.data("GET", f"/secrets/{name}", admin_token).json()["value"] == previous  # warm cache
        previous = f"from {writer.id} after {previous}"
        assert writer.data("PUT", f"/secrets/{name}", admin_token, {"value": previous}).ok
        assert reader.data("GET", f"/secrets/{name}", admin_token).json()["value"] == previous
    writer, reader = pair
    assert writer.data("DELETE", f"/secrets/{name}", admin_token).ok
    gone = reader.data("GET", f"/secrets/{name}", admin_token)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "SecretNotFound"


def test_key_changes_on_one_worker_apply_to_signing_on_the_other(pair: tuple[Worker, Worker], admin_token: str) -> None:
    writer, signer = pair
    name = fresh_name("k")
    created = writer.data("POST", f"/keys/{name}/create", admin_token, {"kty": "RSA", "key_size": 2048})
    version = created.json()["key"]["kid"].rsplit("/", 1)[1]
    sign = {"alg": "RS256", "value": b64url(b"\x05" * 32)}
    for _ in range(2):  # the second one comes from the warm caches
        assert signer.data("POST", f"/keys/{name}/{version}/sign", admin_token, sign).ok
    assert writer.data("PATCH", f"/keys/{name}/{version}", admin_token, {"key_ops": ["verify"]}).ok
    refused = signer.data("POST", f"/keys/{name}/{version}/sign", admin_token, sign)
    assert refused.status_code == 403
    assert refused.json()["error"]["innererror"]["code"] == "KeyOperationForbidden"
    assert writer.data("PATCH", f"/keys/{name}/{version}", admin_token, {"attributes": {"enabled": False}}).ok
    assert writer.data("PATCH", f"/keys/{name}/{version}", admin_token, {"key_ops": ["sign", "verify"]}).ok
    disabled = signer.data("POST", f"/keys/{name}/{version}/sign", admin_token, sign)
    assert disabled.json()["error"]["innererror"]["code"] == "KeyDisabled"


def test_role_assignments_made_through_one_worker_decide_on_the_other(
    multi: TwinInfo, pair: tuple[Worker, Worker], admin_token: str
) -> None:
    principal = str(uuid.uuid4())
    reader_token = token_for(multi, multi.data_plane_resource, principal)
    arm_token = token_for(multi, "https://management.azure.com/")
    vault_id = f"/subscriptions/{multi.subscription_id}/resourceGroups/vaultspec-twin/providers"
    vault_id += f"/Microsoft.KeyVault/vaults/{VAULT}"
    assignment = f"{vault_id}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    name = fresh_name("s")
    assert pair[0].data("PUT", f"/secrets/{name}", admin_token, {"value": "v"}).ok
    body = {"properties": {"roleDefinitionId": SECRETS_USER, "principalId": principal}}
    for granter, reader in (pair, pair[::-1]):
        assert reader.data("GET", f"/secrets/{name}", reader_token).status_code == 403
        assert reader.data("GET", f"/secrets/{name}", reader_token).status_code == 403  # cached refusal
        made = granter.arm("PUT", assignment, arm_token, body)
        assert made.status_code in (200, 201), made.text
        assert reader.data("GET", f"/secrets/{name}", reader_token).json()["value"] == "v"
        assert reader.data("GET", f"/secrets/{name}", reader_token).json()["value"] == "v"  # cached grant
        assert granter.arm("DELETE", assignment, arm_token).status_code == 200
        assert reader.data("GET", f"/secrets/{name}", reader_token).status_code == 403


def test_vault_deleted_through_one_worker_is_gone_on_the_other(
    multi: TwinInfo, pair: tuple[Worker, Worker], admin_token: str
) -> None:
    vault = fresh_name("v")
    arm_token = token_for(multi, "https://management.azure.com/")
    path = f"/subscriptions/{multi.subscription_id}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/{vault}"
    policy = {"tenantId": multi.tenant_id, "objectId": multi.default_object_id, "permissions": {"secrets": ["all"]}}
    body = {
        "location": "westeurope",
        "properties": {
            "tenantId": multi.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [policy],
            "enableRbacAuthorization": False,
        },
    }
    deleter, reader = pair
    assert deleter.arm("PUT", path, arm_token, body, api="2024-11-01").ok
    assert reader.data("PUT", "/secrets/probe", admin_token, {"value": "v"}, vault=vault).ok
    assert reader.data("GET", "/secrets/probe", admin_token, vault=vault).ok
    assert deleter.arm("DELETE", path, arm_token, api="2024-11-01").ok
    gone = reader.data("GET", "/secrets/probe", admin_token, vault=vault)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "VaultNotFound"


def test_audit_lines_stay_whole_when_workers_append_together(
    multi: TwinInfo, pair: tuple[Worker, Worker], admin_token: str
) -> None:
    name = fresh_name("s")
    assert pair[0].data("PUT", f"/secrets/{name}", admin_token, {"value": "v" * 2000}).ok
    failures: list[str] = []

    def hammer(worker: Worker) -> None:
        for _ in range(150):
            if not worker.data("GET", f"/secrets/{name}", admin_token).ok:
                failures.append(worker.id)

    threads = [threading.Thread(target=hammer, args=(worker,)) for worker in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    lines = (Path(multi.data_dir) / "audit.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]  # every line is one whole JSON object
    gets = [e for e in events if e["operationName"] == "SecretGet" and e["object"] == name]
    assert len(gets) == 300
    assert len({e["requestId"] for e in events}) == len(events)
    assert {e["requestId"][:24] for e in gets} == {pair[0].id, pair[1].id}


# -- lifecycle ------------------------------------------------------------------------------------------
def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_stop_ends_every_worker_and_frees_the_port(tmp_path: Path) -> None:
    info = server.start_background(tmp_path, workers=2)
    workers = children_of(info.pid)
    assert len(workers) == 2
    assert server.stop(tmp_path)
    assert all(not server._pid_alive(pid) for pid in workers)
    assert not (tmp_path / server.RUNTIME_FILE).exists()
    assert _port_is_free(info.port)


def test_killed_supervisor_takes_its_workers_with_it(tmp_path: Path) -> None:
    info = server.start_background(tmp_path, workers=2)
    workers = children_of(info.pid)
    os.kill(info.pid, signal.SIGKILL)
    assert wait_until(lambda: all(not server._pid_alive(pid) for pid in workers))
    assert wait_until(lambda: _port_is_free(info.port))
    again = server.start_background(tmp_path, workers=2)
    try:
        assert again.port == info.port and server.find_running(tmp_path) is not None
    finally:
        server.stop(tmp_path)


def test_crashed_worker_is_replaced(tmp_path: Path) -> None:
    info = server.start_background(tmp_path, vaults=(VAULT,), workers=2)
    try:
        victim = min(children_of(info.pid))
        os.kill(victim, signal.SIGKILL)
        assert wait_until(lambda: len(children_of(info.pid) - {victim}) == 2)
        token = token_for(info, info.data_plane_resource)
        for _ in range(10):
            answer = requests.get(
                f"{info.vault_url(VAULT)}/secrets/absent",
                params=API,
                headers={"Authorization": f"Bearer {token}"},
                verify=info.ca_bundle,
                timeout=10,
            )
            assert answer.status_code == 404
    finally:
        server.stop(tmp_path)
