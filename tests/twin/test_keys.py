"""Keys through the official azure-keyvault-keys client (sync), default settings."""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.keys import (
    KeyCurveName,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
    KeyType,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.twin.conftest import fresh_name


def test_create_rsa_key_returns_public_jwk_with_default_ops(keys: Any, name: str) -> None:
    key = keys.create_rsa_key(name, size=2048)
    assert key.key_type == KeyType.rsa
    assert key.properties.version and key.id.endswith(f"/keys/{name}/{key.properties.version}")
    assert set(key.key_operations) == {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}
    assert len(key.key.n) == 256 and key.key.e == b"\x01\x00\x01"
    assert key.key.d is None and key.key.p is None
    assert key.properties.recovery_level == "CustomizedRecoverable+Purgeable"
    assert key.properties.recoverable_days == 7


@pytest.mark.parametrize("curve", [KeyCurveName.p_256, KeyCurveName.p_384, KeyCurveName.p_521, KeyCurveName.p_256_k])
def test_create_ec_key_on_every_curve(keys: Any, curve: str) -> None:
    key = keys.create_ec_key(fresh_name(), curve=curve)
    assert key.key_type == KeyType.ec and key.key.crv == curve
    size = {"P-256": 32, "P-384": 48, "P-521": 66, "P-256K": 32}[curve]
    assert len(key.key.x) == size and len(key.key.y) == size
    assert set(key.key_operations) == {"sign", "verify"}


def test_hsm_keys_are_marked_hsm_and_never_exportable(keys: Any) -> None:
    rsa_key = keys.create_rsa_key(fresh_name(), hardware_protected=True)
    ec_key = keys.create_ec_key(fresh_name(), curve="P-256", hardware_protected=True)
    assert rsa_key.key_type == KeyType.rsa_hsm and ec_key.key_type == KeyType.ec_hsm
    with pytest.raises(HttpResponseError) as err:
        keys.create_rsa_key(fresh_name(), hardware_protected=True, exportable=True)
    assert err.value.status_code == 400 and err.value.error.code == "BadParameter"


def test_big_rsa_sizes_are_generated_at_their_size(keys: Any) -> None:
    for size in (3072, 4096):
        assert len(keys.create_rsa_key(fresh_name(), size=size).key.n) * 8 == size


def test_unsupported_key_size_is_bad_parameter(keys: Any, name: str) -> None:
    with pytest.raises(HttpResponseError) as err:
        keys.create_rsa_key(name, size=1024)
    assert err.value.status_code == 400 and err.value.error.code == "BadParameter"


def test_oct_keys_are_refused_by_a_vault(keys: Any, name: str) -> None:
    with pytest.raises(HttpResponseError) as err:
        keys.create_oct_key(name, size=256, hardware_protected=True)
    assert err.value.status_code == 400


def test_import_rsa_and_ec_keys_keeps_the_public_half(keys: Any) -> None:
    from azure.keyvault.keys import JsonWebKey

    private_rsa = rsa.generate_private_key(65537, 2048)
    n = private_rsa.private_numbers()

    def b(i: int, size: int | None = None) -> bytes:
        return i.to_bytes(size or (i.bit_length() + 7) // 8, "big")

    jwk = JsonWebKey(
        kty="RSA",
        n=b(n.public_numbers.n),
        e=b(n.public_numbers.e),
        d=b(n.d),
        p=b(n.p),
        q=b(n.q),
        dp=b(n.dmp1),
        dq=b(n.dmq1),
        qi=b(n.iqmp),
        key_ops=["sign", "verify"],
    )
    imported = keys.import_key(fresh_name(), jwk)
    assert imported.key.n == b(n.public_numbers.n) and imported.key.d is None
    assert imported.key_operations == ["sign", "verify"]
    private_ec = ec.generate_private_key(ec.SECP384R1())
    en = private_ec.private_numbers()
    ec_jwk = JsonWebKey(
        kty="EC",
        crv="P-384",
        x=b(en.public_numbers.x, 48),
        y=b(en.public_numbers.y, 48),
        d=b(en.private_value, 48),
    )
    imported_ec = keys.import_key(fresh_name(), ec_jwk, hardware_protected=True)
    assert imported_ec.key_type == KeyType.ec_hsm and imported_ec.key.x == b(en.public_numbers.x, 48)


def test_import_of_an_inconsistent_jwk_is_bad_parameter(keys: Any, name: str) -> None:
    from azure.keyvault.keys import JsonWebKey

    with pytest.raises(HttpResponseError) as err:
        keys.import_key(name, JsonWebKey(kty="RSA", n=b"\x01" * 256, e=b"\x01\x00\x01"))
    assert err.value.status_code == 400 and err.value.error.code == "BadParameter"


def test_get_latest_and_by_version_and_missing(keys: Any, name: str) -> None:
    first = keys.create_ec_key(name, curve="P-256")
    second = keys.create_ec_key(name, curve="P-256")
    assert keys.get_key(name).properties.version == second.properties.version
    assert keys.get_key(name, first.properties.version).key.x == first.key.x
    with pytest.raises(ResourceNotFoundError) as err:
        keys.get_key(fresh_name())
    assert err.value.error.code == "KeyNotFound"
    with pytest.raises(ResourceNotFoundError):
        keys.get_key(name, "0" * 32)


def test_update_properties_changes_attributes_tags_and_ops(keys: Any, name: str) -> None:
    keys.create_ec_key(name, curve="P-256")
    expires = int(time.time()) + 3600
    from datetime import datetime

    updated = keys.update_key_properties(
        name,
        enabled=False,
        tags={"team": "platform"},
        key_operations=["verify"],
        expires_on=datetime.fromtimestamp(expires, UTC),
    )
    assert updated.properties.enabled is False and updated.properties.tags == {"team": "platform"}
    assert updated.key_operations == ["verify"]
    assert int(updated.properties.expires_on.timestamp()) == expires


def test_list_and_versions_page_with_absolute_next_links(keys: Any) -> None:
    base = fresh_name("page")
    for i in range(4):
        keys.create_ec_key(f"{base}-{i}", curve="P-256")
    names = [p.name for p in keys.list_properties_of_keys(max_page_size=3)]
    assert {f"{base}-{i}" for i in range(4)} <= set(names)
    assert len(names) == len(set(names))
    for _ in range(2):
        keys.create_ec_key(f"{base}-0", curve="P-256")
    pages = list(keys.list_properties_of_key_versions(f"{base}-0", max_page_size=1).by_page())
    assert len(pages) == 3


def test_delete_is_visible_at_once_then_recover_and_purge(keys: Any, name: str) -> None:
    keys.create_ec_key(name, curve="P-256")
    deleted = keys.begin_delete_key(name).result()
    assert deleted.recovery_id.endswith(f"/deletedkeys/{name}")
    assert deleted.scheduled_purge_date > deleted.deleted_date
    assert keys.get_deleted_key(name).name == name
    assert name in [d.name for d in keys.list_deleted_keys()]
    with pytest.raises(ResourceNotFoundError):
        keys.get_key(name)
    with pytest.raises(ResourceExistsError) as err:
        keys.create_ec_key(name, curve="P-256")
    assert err.value.error.code == "Conflict"
    recovered = keys.begin_recover_deleted_key(name).result()
    assert recovered.name == name and keys.get_key(name).id == recovered.id
    keys.begin_delete_key(name).result()
    keys.purge_deleted_key(name)
    with pytest.raises(ResourceNotFoundError):
        keys.get_deleted_key(name)
    assert keys.create_ec_key(name, curve="P-256").name == name


def test_backup_restore_round_trip_keeps_versions(keys: Any, name: str) -> None:
    first = keys.create_rsa_key(name)
    keys.create_rsa_key(name)
    blob = keys.backup_key(name)
    assert b"PRIVATE" not in blob and first.key.n not in blob
    keys.begin_delete_key(name).result()
    keys.purge_deleted_key(name)
    restored = keys.restore_key_backup(blob)
    assert restored.name == name
    assert len(list(keys.list_properties_of_key_versions(name))) == 2
    assert keys.get_key(name, first.properties.version).key.n == first.key.n
    with pytest.raises(ResourceExistsError):
        keys.restore_key_backup(blob)


def test_tampered_backup_is_bad_parameter(keys: Any, name: str) -> None:
    keys.create_ec_key(name, curve="P-256")
    blob = bytearray(keys.backup_key(name))
    blob[-5] ^= 0x01
    with pytest.raises(HttpResponseError) as err:
        keys.restore_key_backup(bytes(blob))
    assert err.value.status_code == 400


def test_rotate_makes_a_new_version_of_the_same_kind(keys: Any, name: str) -> None:
    original = keys.create_rsa_key(name, size=2048, tags={"a": "b"})
    rotated = keys.rotate_key(name)
    assert rotated.properties.version != original.properties.version
    assert rotated.key.n != original.key.n and len(rotated.key.n) == 256
    assert rotated.properties.tags == {"a": "b"}


def test_rotation_policy_round_trip_and_validation(keys: Any, name: str) -> None:
    keys.create_ec_key(name, curve="P-256")
    default = keys.get_key_rotation_policy(name)
    assert default.lifetime_actions[0].action == KeyRotationPolicyAction.notify
    policy = KeyRotationPolicy(
        expires_in="P90D",
        lifetime_actions=[
            KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D"),
            KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P10D"),
        ],
    )
    saved = keys.update_key_rotation_policy(name, policy)
    assert saved.expires_in == "P90D" and len(saved.lifetime_actions) == 2
    assert keys.get_key_rotation_policy(name).lifetime_actions[0].time_after_create == "P30D"
    rotated = keys.rotate_key(name)
    assert rotated.properties.expires_on is not None
    with pytest.raises(HttpResponseError) as err:
        keys.update_key_rotation_policy(name, KeyRotationPolicy(expires_in="P10D"))
    assert err.value.status_code == 400


def test_random_bytes_are_a_managed_hsm_operation_that_a_vault_refuses(keys: Any) -> None:
    """keys.json describes /rng for Managed HSM only; a key vault answers the SDK's call with HTTP 400."""
    for count in (32, 129):
        with pytest.raises(HttpResponseError) as err:
            keys.get_random_bytes(count)
        assert err.value.status_code == 400 and err.value.error.code == "BadParameter"


def test_release_of_a_non_exportable_key_is_forbidden(keys: Any, name: str) -> None:
    keys.create_rsa_key(name)
    with pytest.raises(HttpResponseError) as err:
        keys.release_key(name, "attestation-token")
    assert err.value.status_code == 403
