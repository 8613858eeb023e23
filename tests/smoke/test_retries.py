"""Politeness: 403 ForbiddenByRbac right after a deployment is retried until roles propagate (the twin,
driven for real: the role assignment is made while the run is waiting), and 429 is retried after
Retry-After (a local HTTPS test double, because the twin never throttles). Every wait is reported."""

from __future__ import annotations

import asyncio
import threading
import uuid
from pathlib import Path

from tests.smoke.conftest import assign_role, create_vault, smoke, statuses, vault_spec
from tests.smoke.throttling_double import ThrottlingDouble
from vaultspec.smoke import SmokeEvent, SmokeOptions, run_smoke
from vaultspec.smoke.retry import retry_after_seconds
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import async_credential, key_client, secret_client

DEPLOYER_ROLES = ("Key Vault Crypto User", "Key Vault Secrets User", "Key Vault Reader")


def rbac_vault(twin: TwinInfo) -> tuple[str, str]:
    """An RBAC vault whose objects were made by an admin principal; the smoke identity has no role yet."""
    vault = create_vault(twin, rbac=True)
    admin = str(uuid.uuid4())
    assign_role(twin, vault.id, "Key Vault Administrator", admin)
    key_client(twin, vault.name, admin).create_rsa_key("k", size=2048, key_operations=["sign", "verify"])
    secret_client(twin, vault.name, admin).set_secret("s", "v" * 16, content_type="text/plain")
    return vault.name, vault.id


def rbac_spec(name: str, grantee: str) -> object:
    return vault_spec(
        name,
        access={
            "model": "rbac",
            "grants": [
                {
                    "principal": grantee,
                    "principalType": "ServicePrincipal",
                    "role": "Key Vault Crypto User",
                    "scope": "keys/k",
                }
            ],
        },
        keys=[{"name": "k", "type": "RSA", "size": 2048, "ops": ["sign", "verify"]}],
        secrets=[{"name": "s", "value": {"generate": {}}, "contentType": "text/plain"}],
    )


def test_rbac_403_is_retried_until_the_role_assignment_propagates_and_the_wait_is_reported(twin: TwinInfo) -> None:
    name, vault_id = rbac_vault(twin)
    grantee = str(uuid.uuid4())
    assign_role(twin, f"{vault_id}/keys/k", "Key Vault Crypto User", grantee)
    events: list[SmokeEvent] = []
    propagation: list[threading.Thread] = []

    def on_event(event: SmokeEvent) -> None:
        events.append(event)
        if event.kind == "waiting" and event.reason == "rbac" and not propagation:
            # the deployment's role assignments "propagate" while the run waits
            thread = threading.Thread(
                target=lambda: [assign_role(twin, vault_id, role, twin.default_object_id) for role in DEPLOYER_ROLES]
            )
            propagation.append(thread)
            thread.start()

    report = smoke(
        twin, name, rbac_spec(name, grantee), rbac_wait=60, rbac_backoff=0.05, on_event=on_event, check_grants=True
    )
    propagation[0].join()
    assert [(c.object, c.check, c.detail) for c in report.checks if c.status == "failed"] == []
    waited = [c for c in report.checks if "for RBAC propagation" in c.detail]
    assert waited and all(c.waited > 0 for c in waited)
    assert any(e.kind == "waiting" and e.reason == "rbac" and e.object == "keys/k" for e in events)


def test_expected_refusals_are_never_retried_as_propagation(twin: TwinInfo) -> None:
    name, vault_id = rbac_vault(twin)
    for role in DEPLOYER_ROLES:
        assign_role(twin, vault_id, role, twin.default_object_id)
    grantee = str(uuid.uuid4())
    assign_role(twin, f"{vault_id}/keys/k", "Key Vault Crypto User", grantee)
    events: list[SmokeEvent] = []
    report = smoke(twin, name, rbac_spec(name, grantee), rbac_wait=60, on_event=events.append, check_grants=True)
    refusal = next(c for c in report.checks if c.check.startswith("refuses:"))
    assert refusal.check == "refuses:get-secret" and refusal.status == "passed"
    assert "ForbiddenByRbac" in refusal.detail and refusal.waited == 0
    assert statuses(report)[("grants/0", "allows:sign")] == "passed"
    assert not any(e.kind == "waiting" for e in events)


def test_without_an_rbac_wait_a_missing_role_fails_at_once(twin: TwinInfo) -> None:
    name, _ = rbac_vault(twin)
    events: list[SmokeEvent] = []
    report = smoke(twin, name, rbac_spec(name, str(uuid.uuid4())), rbac_wait=0, on_event=events.append)
    exists = next(c for c in report.checks if (c.object, c.check) == ("keys/k", "exists"))
    assert exists.status == "failed" and "403 Forbidden/ForbiddenByRbac" in exists.detail
    assert not any(e.kind == "waiting" for e in events)


def test_an_rbac_wait_that_runs_out_fails_and_says_how_long_it_waited(twin: TwinInfo) -> None:
    name, _ = rbac_vault(twin)
    spec = rbac_spec(name, str(uuid.uuid4()))
    report = smoke(twin, name, spec, rbac_wait=3, rbac_backoff=0.25, only=frozenset({"secrets/s"}))
    exists = next(c for c in report.checks if c.check == "exists")
    assert exists.status == "failed" and "ForbiddenByRbac" in exists.detail
    assert "for RBAC propagation" in exists.detail


def test_429_is_retried_after_retry_after_and_the_wait_is_reported(twin: TwinInfo) -> None:
    tls = Path(twin.data_dir)
    spec = vault_spec(
        "throttled", secrets=[{"name": "s", "value": {"fromEnv": "THROTTLED"}, "contentType": "text/plain"}]
    )
    events: list[SmokeEvent] = []
    with ThrottlingDouble(
        str(tls / "server.pem"), str(tls / "server-key.pem"), twin.tenant_id, "s", "v" * 16
    ) as double:

        async def go() -> object:
            credential = async_credential(twin)
            try:
                options = SmokeOptions(
                    connection_verify=twin.ca_bundle, environ={"THROTTLED": "v" * 16}, on_event=events.append
                )
                return await run_smoke(double.vault_url, spec, credential, options)
            finally:
                await credential.close()

        report = asyncio.run(go())
    assert report.passed, [(c.check, c.detail) for c in report.checks]
    statuses_seen = [status for path, status in double.log if path == "/secrets/s"]
    assert statuses_seen == [401, 429, 200]  # challenge discovery, throttled, retried after 1 s
    throttled = [c for c in report.checks if "throttled (429 Retry-After)" in c.detail]
    assert len(throttled) == 1 and "waited 1.0 s throttled" in throttled[0].detail
    assert [(e.reason, e.seconds) for e in events if e.kind == "waiting"] == [("throttled", 1.0)]


def test_retry_after_headers_are_read_in_every_form_key_vault_and_azure_use() -> None:
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"x-ms-retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "Thu, 01 Jan 1970 00:00:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None
