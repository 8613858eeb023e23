"""Secrets through the official azure-keyvault-secrets client (sync), default settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.twin.conftest import fresh_name


def test_set_and_get_latest_and_by_version(secrets: Any, name: str) -> None:
    first = secrets.set_secret(name, "one", content_type="text/plain", tags={"env": "dev"})
    second = secrets.set_secret(name, "two")
    assert first.value == "one" and first.properties.content_type == "text/plain"
    assert secrets.get_secret(name).value == "two"
    assert secrets.get_secret(name, first.properties.version).value == "one"
    assert secrets.get_secret(name).properties.version == second.properties.version
    assert first.properties.recovery_level == "CustomizedRecoverable+Purgeable"


def test_missing_secret_is_secret_not_found(secrets: Any) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        secrets.get_secret(fresh_name())
    assert err.value.error.code == "SecretNotFound"


def test_list_never_carries_values_and_pages(secrets: Any) -> None:
    base = fresh_name("list")
    for i in range(3):
        secrets.set_secret(f"{base}-{i}", f"value-{i}")
    props = [p for p in secrets.list_properties_of_secrets(max_page_size=2) if p.name.startswith(base)]
    assert len(props) == 3
    from azure.core.rest import HttpRequest

    page = secrets.send_request(HttpRequest("GET", "/secrets?maxresults=25")).json()
    assert page["value"] and all("value" not in item for item in page["value"])
    for _ in range(2):
        secrets.set_secret(f"{base}-0", "again")
    assert len(list(secrets.list_properties_of_secret_versions(f"{base}-0"))) == 3


def test_update_properties_disables_then_get_is_forbidden(secrets: Any, name: str) -> None:
    secrets.set_secret(name, "v")
    updated = secrets.update_secret_properties(name, enabled=False, content_type="application/json", tags={"a": "1"})
    assert updated.enabled is False and updated.content_type == "application/json" and updated.tags == {"a": "1"}
    with pytest.raises(HttpResponseError) as err:
        secrets.get_secret(name)
    assert err.value.status_code == 403 and err.value.error.innererror["code"] == "SecretDisabled"


def test_expired_and_not_yet_valid_secrets_still_get_as_key_vault_documents(secrets: Any) -> None:
    now = datetime.now(UTC)
    expired = secrets.set_secret(fresh_name(), "old", expires_on=now - timedelta(seconds=1))
    future = secrets.set_secret(fresh_name(), "new", not_before=now + timedelta(hours=1))
    assert secrets.get_secret(expired.name).value == "old"
    assert secrets.get_secret(future.name).value == "new"


def test_value_limit_is_25_kib(secrets: Any) -> None:
    assert secrets.set_secret(fresh_name(), "x" * 25 * 1024).value == "x" * 25 * 1024
    with pytest.raises(HttpResponseError) as err:
        secrets.set_secret(fresh_name(), "x" * (25 * 1024 + 1))
    assert err.value.status_code == 400 and err.value.error.code == "BadParameter"


def test_invalid_name_is_bad_parameter(secrets: Any) -> None:
    with pytest.raises(HttpResponseError) as err:
        secrets.set_secret("bad_name", "v")
    assert err.value.status_code == 400


def test_delete_recover_purge_and_name_reservation(secrets: Any, name: str) -> None:
    secrets.set_secret(name, "v")
    deleted = secrets.begin_delete_secret(name).result()
    assert deleted.recovery_id.endswith(f"/deletedsecrets/{name}")
    assert secrets.get_deleted_secret(name).name == name
    assert name in [d.name for d in secrets.list_deleted_secrets()]
    with pytest.raises(ResourceExistsError):
        secrets.set_secret(name, "again")
    assert secrets.begin_recover_deleted_secret(name).result().name == name
    assert secrets.get_secret(name).value == "v"
    secrets.begin_delete_secret(name).result()
    secrets.purge_deleted_secret(name)
    with pytest.raises(ResourceNotFoundError):
        secrets.get_deleted_secret(name)
    assert secrets.set_secret(name, "fresh").value == "fresh"


def test_backup_and_restore(secrets: Any, name: str) -> None:
    secrets.set_secret(name, "keep-me-canary-7d1f")
    blob = secrets.backup_secret(name)
    assert b"keep-me-canary-7d1f" not in blob
    secrets.begin_delete_secret(name).result()
    secrets.purge_deleted_secret(name)
    assert secrets.restore_secret_backup(blob).name == name
    assert secrets.get_secret(name).value == "keep-me-canary-7d1f"
    with pytest.raises(ResourceExistsError):
        secrets.restore_secret_backup(blob)


@pytest.mark.parametrize("api_version", ["7.0", "7.2", "7.4", "7.6", "2025-07-01"])
def test_every_sdk_api_version_is_accepted(twin: Any, api_version: str) -> None:
    from vaultspec.twin.testing import TWIN_VAULT, secret_client

    client = secret_client(twin, TWIN_VAULT, api_version=api_version)
    name = fresh_name()
    client.set_secret(name, "v")
    assert client.get_secret(name).value == "v"
