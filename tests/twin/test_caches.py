"""Every cache of the twin gives way to the store at once: each test warms a cache, changes the store, and
expects the very next call to see the change.

Caches under test: the read cache itself (`read_cache.ReadCache`, real SQLite); through the official SDK
clients on the session twin: vault rows and access decisions (access policies, RBAC role
assignments, firewall), version rows (key_ops, attributes, new versions, delete/recover) and parsed
private keys (purge + restore); the validated-token cache (a token for another audience stays refused).
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys.crypto import SignatureAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from tests.twin.conftest import arm_request, fresh_name, token_for
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.store import Store, VaultRow
from vaultspec.twin.testing import crypto_client, new_principal, secret_client

SECRETS_USER = "/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
DIGEST = b"\x07" * 32


# -- the read cache on its own (real SQLite, two connections as two processes would have) ----------
def _vault(name: str, tag: str) -> VaultRow:
    return VaultRow(name, {"tag": tag}, 0.0, None, None)


def test_read_cache_sees_a_commit_made_through_another_store(tmp_path: Path) -> None:
    reader, writer = Store(tmp_path), Store(tmp_path)
    try:
        writer.put_vault(_vault("kv", "one"))
        read = lambda: reader.cached(("vault", "kv"), lambda: reader.get_vault("kv"))  # noqa: E731
        assert read().body["tag"] == "one"
        assert read().body["tag"] == "one"  # served from the cache
        writer.put_vault(_vault("kv", "two"))
        assert read().body["tag"] == "two"
    finally:
        reader.close()
        writer.close()


def test_read_cache_sees_a_commit_made_by_another_thread_of_the_same_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        store.put_vault(_vault("kv", "one"))
        read = lambda: store.cached(("vault", "kv"), lambda: store.get_vault("kv"))  # noqa: E731
        assert read().body["tag"] == "one"
        worker = threading.Thread(target=lambda: (store.put_vault(_vault("kv", "two")), store.close()))
        worker.start()
        worker.join()
        assert read().body["tag"] == "two"
    finally:
        store.close()


def test_value_read_across_a_concurrent_commit_is_not_served_after_it(tmp_path: Path) -> None:
    reader, writer = Store(tmp_path), Store(tmp_path)
    try:
        writer.put_vault(_vault("kv", "old"))

        def load_then_commit() -> VaultRow | None:
            row = reader.get_vault("kv")  # read before the commit lands...
            writer.put_vault(_vault("kv", "new"))  # ...which lands before the value is stored,
            reader.cache.generation()  # and another request has already noticed it
            return row

        assert reader.cached(("vault", "kv"), load_then_commit).body["tag"] == "old"  # type: ignore[union-attr]
        fresh = reader.cached(("vault", "kv"), lambda: reader.get_vault("kv"))
        assert fresh is not None and fresh.body["tag"] == "new"
    finally:
        reader.close()
        writer.close()


def test_reads_inside_a_write_transaction_bypass_the_cache(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        store.put_vault(_vault("kv", "one"))
        store.cached(("vault", "kv"), lambda: store.get_vault("kv"))
        with store.transaction():
            store.put_vault(_vault("kv", "two"))  # not committed yet: data_version cannot have moved
            inside = store.cached(("vault", "kv"), lambda: store.get_vault("kv"))
            assert inside is not None and inside.body["tag"] == "two"
    finally:
        store.close()


def test_a_snapshot_checks_once_and_a_later_read_sees_the_commit(tmp_path: Path) -> None:
    reader, writer = Store(tmp_path), Store(tmp_path)
    try:
        writer.put_vault(_vault("kv", "one"))
        read = lambda: reader.cached(("vault", "kv"), lambda: reader.get_vault("kv"))  # noqa: E731
        with reader.cache.snapshot():
            assert read().body["tag"] == "one"
            writer.put_vault(_vault("kv", "two"))
            assert read().body["tag"] == "one"  # the request sees the store as of its start
        assert read().body["tag"] == "two"
    finally:
        reader.close()
        writer.close()


def test_read_cache_is_bounded(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        for index in range(store.cache._limit + 10):
            store.cached(("n", index), lambda index=index: index)
        assert 0 < len(store.cache) <= store.cache._limit
    finally:
        store.close()


def test_failed_loads_are_not_cached(tmp_path: Path) -> None:
    store = Store(tmp_path)
    calls = []

    def load() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise LookupError("not there yet")
        return 7

    try:
        with pytest.raises(LookupError):
            store.cached("k", load)
        assert store.cached("k", load) == 7 and len(calls) == 2
    finally:
        store.close()


# -- version rows and parsed keys, through the SDK ----------------------------------------------------
def _sign(client: Any) -> bytes:
    return client.sign(SignatureAlgorithm.rs256, DIGEST).signature


def test_key_ops_change_applies_to_the_next_sign(twin: TwinInfo, keys: Any, name: str) -> None:
    key = keys.create_rsa_key(name, size=2048)
    client = crypto_client(twin, key.id)
    _sign(client)
    _sign(client)  # cached version row and parsed key
    keys.update_key_properties(name, key_operations=["verify"])
    with pytest.raises(HttpResponseError) as refused:
        _sign(client)
    assert refused.value.status_code == 403 and "KeyOperationForbidden" in str(refused.value)
    keys.update_key_properties(name, key_operations=["sign", "verify"])
    _sign(client)


def test_disable_and_enable_apply_to_the_next_sign(twin: TwinInfo, keys: Any, name: str) -> None:
    key = keys.create_rsa_key(name, size=2048)
    client = crypto_client(twin, key.id)
    _sign(client)
    keys.update_key_properties(name, enabled=False)
    with pytest.raises(HttpResponseError) as refused:
        _sign(client)
    assert refused.value.status_code == 403 and "KeyDisabled" in str(refused.value)
    keys.update_key_properties(name, enabled=True)
    _sign(client)


def test_rotation_moves_latest_at_once(twin: TwinInfo, keys: Any, name: str) -> None:
    first = keys.create_rsa_key(name, size=2048)
    assert keys.get_key(name).properties.version == first.properties.version
    rotated = keys.rotate_key(name)
    assert keys.get_key(name).properties.version == rotated.properties.version != first.properties.version


def test_restored_key_signs_with_its_own_material(twin: TwinInfo, keys: Any, name: str) -> None:
    key = keys.create_rsa_key(name, size=2048)
    _sign(crypto_client(twin, key.id))
    blob = keys.backup_key(name)
    keys.begin_delete_key(name).wait()
    keys.purge_deleted_key(name)
    with pytest.raises(ResourceNotFoundError):
        keys.get_key(name)
    restored = keys.restore_key_backup(blob)
    assert restored.id == key.id
    signature = _sign(crypto_client(twin, restored.id))
    public = restored.key
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.RSAPublicNumbers(int.from_bytes(public.e, "big"), int.from_bytes(public.n, "big"))
    numbers.public_key().verify(signature, DIGEST, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


def test_deleted_key_stops_signing_and_recovered_key_signs_again(twin: TwinInfo, keys: Any, name: str) -> None:
    key = keys.create_rsa_key(name, size=2048)
    client = crypto_client(twin, key.id)
    _sign(client)
    keys.begin_delete_key(name).wait()
    with pytest.raises(ResourceNotFoundError):
        _sign(client)
    keys.begin_recover_deleted_key(name).wait()
    _sign(client)


def test_secret_versions_delete_and_recover_apply_at_once(secrets: Any, name: str) -> None:
    secrets.set_secret(name, "one")
    assert secrets.get_secret(name).value == "one"
    assert secrets.get_secret(name).value == "one"
    secrets.set_secret(name, "two")
    assert secrets.get_secret(name).value == "two"
    latest = secrets.get_secret(name)
    secrets.update_secret_properties(name, latest.properties.version, enabled=False)
    with pytest.raises(HttpResponseError) as disabled:
        secrets.get_secret(name)
    assert disabled.value.status_code == 403
    secrets.update_secret_properties(name, latest.properties.version, enabled=True)
    secrets.begin_delete_secret(name).wait()
    with pytest.raises(ResourceNotFoundError):
        secrets.get_secret(name)
    secrets.begin_recover_deleted_secret(name).wait()
    assert secrets.get_secret(name).value == "two"


# -- vault rows and access decisions ------------------------------------------------------------------
def _vault_id(twin: TwinInfo, vault: str, rg: str = "rg-tests") -> str:
    return f"/subscriptions/{twin.subscription_id}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}"


def _assign(twin: TwinInfo, scope: str, principal: str, role: str) -> str:
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    body = {"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}
    response = arm_request(twin, "PUT", path, body, api="2022-04-01")
    assert response.status_code in (200, 201), response.text
    return path


def _status(call: Any) -> int:
    try:
        call()
    except HttpResponseError as exc:
        return int(exc.status_code or 0)
    return 200


def test_role_assignment_grant_and_removal_apply_to_the_next_call(twin: TwinInfo, make_vault: Any) -> None:
    vault = make_vault({"enableRbacAuthorization": True})
    principal = new_principal()
    admin_path = _assign(
        twin,
        _vault_id(twin, vault),
        twin.default_object_id,
        "/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    )  # Key Vault Secrets Officer for the default identity, to write the probe
    secret_client(twin, vault).set_secret("probe", "v")
    reader = secret_client(twin, vault, principal)
    assert _status(lambda: reader.get_secret("probe")) == 403
    assert _status(lambda: reader.get_secret("probe")) == 403  # cached refusal
    grant = _assign(twin, _vault_id(twin, vault), principal, SECRETS_USER)
    assert reader.get_secret("probe").value == "v"
    assert reader.get_secret("probe").value == "v"  # cached decision
    assert arm_request(twin, "DELETE", grant, api="2022-04-01").status_code == 200
    assert _status(lambda: reader.get_secret("probe")) == 403
    assert arm_request(twin, "DELETE", admin_path, api="2022-04-01").status_code == 200


def _put_vault(twin: TwinInfo, vault: str, properties: dict[str, Any]) -> None:
    body = {
        "location": "westeurope",
        "properties": {
            "tenantId": twin.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "softDeleteRetentionInDays": 7,
            **properties,
        },
    }
    response = arm_request(twin, "PUT", _vault_id(twin, vault), body)
    assert response.status_code in (200, 201), response.text


def test_access_policy_and_firewall_changes_apply_to_the_next_call(twin: TwinInfo) -> None:
    vault, principal = fresh_name("v"), new_principal()
    policy = {"tenantId": twin.tenant_id, "objectId": principal, "permissions": {"secrets": ["get", "set"]}}
    _put_vault(twin, vault, {"enableRbacAuthorization": False, "accessPolicies": [policy]})
    client = secret_client(twin, vault, principal)
    client.set_secret("probe", "v")
    assert client.get_secret("probe").value == "v"
    _put_vault(twin, vault, {"enableRbacAuthorization": False, "accessPolicies": []})
    assert _status(lambda: client.get_secret("probe")) == 403
    deny = {"defaultAction": "Deny", "bypass": "None", "ipRules": [{"value": "10.0.0.0/8"}]}
    _put_vault(twin, vault, {"enableRbacAuthorization": False, "accessPolicies": [policy], "networkAcls": deny})
    with pytest.raises(HttpResponseError) as walled:
        client.get_secret("probe")
    assert "ForbiddenByFirewall" in str(walled.value)
    allow = {**deny, "ipRules": [{"value": "127.0.0.1"}]}
    _put_vault(twin, vault, {"enableRbacAuthorization": False, "accessPolicies": [policy], "networkAcls": allow})
    assert client.get_secret("probe").value == "v"


def test_forwarded_for_header_does_not_change_the_caller_address(twin: TwinInfo) -> None:
    """The firewall judges the socket's peer; a client cannot claim another address by header."""
    vault = fresh_name("v")
    policy = {"tenantId": twin.tenant_id, "objectId": twin.default_object_id, "permissions": {"secrets": ["get"]}}
    deny = {"defaultAction": "Deny", "bypass": "None", "ipRules": [{"value": "10.1.2.3"}]}
    _put_vault(twin, vault, {"enableRbacAuthorization": False, "accessPolicies": [policy], "networkAcls": deny})
    response = requests.get(
        f"{twin.vault_url(vault)}/secrets/probe",
        params={"api-version": "7.6"},
        headers={
            "Authorization": f"Bearer {token_for(twin, twin.data_plane_resource)}",
            "X-Forwarded-For": "10.1.2.3",
            "Forwarded": "for=10.1.2.3",
        },
        verify=twin.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 403
    assert response.json()["error"]["innererror"]["code"] == "ForbiddenByFirewall"


def test_deleted_vault_is_gone_for_the_next_data_plane_call(twin: TwinInfo) -> None:
    vault = fresh_name("v")
    policy = {"tenantId": twin.tenant_id, "objectId": twin.default_object_id, "permissions": {"secrets": ["all"]}}
    _put_vault(twin, vault, {"enableRbacAuthorization": False, "accessPolicies": [policy]})
    client = secret_client(twin, vault)
    client.set_secret("probe", "v")
    assert client.get_secret("probe").value == "v"
    assert arm_request(twin, "DELETE", _vault_id(twin, vault)).status_code == 200
    with pytest.raises(HttpResponseError) as gone:
        client.get_secret("probe")
    assert gone.value.status_code == 404 and "VaultNotFound" in str(gone.value)


# -- the validated-token cache ------------------------------------------------------------------------
def test_cached_token_is_still_refused_for_another_audience(twin: TwinInfo) -> None:
    data_token = token_for(twin, twin.data_plane_resource)
    url = f"{twin.vault_url('twinkv')}/secrets/anything"
    ok = requests.get(
        url,
        params={"api-version": "7.6"},
        headers={"Authorization": f"Bearer {data_token}"},
        verify=twin.ca_bundle,
        timeout=10,
    )
    assert ok.status_code in (200, 404)  # validated (and now cached)
    arm = requests.get(
        f"{twin.arm_url}/subscriptions/{twin.subscription_id}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults",
        params={"api-version": "2024-11-01"},
        headers={"Authorization": f"Bearer {data_token}"},
        verify=twin.ca_bundle,
        timeout=10,
    )
    assert arm.status_code == 401
