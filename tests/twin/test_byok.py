"""BYOK imports (`key_hsm`) through the official SDK: unwrapped with the named KEK after every check of
byok.md, each failure a 400 with nothing stored; the material sealed at rest, never in the audit log."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import JsonWebKey, KeyClient, KeyVaultKey
from azure.keyvault.keys.crypto import SignatureAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from tests.twin.conftest import fresh_name
from vaultspec.byok import transfer
from vaultspec.byok.material import load_public_key, private_jwk_members
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT, crypto_client, key_client


def new_kek(keys: KeyClient, **kwargs: Any) -> KeyVaultKey:
    options: dict[str, Any] = {"size": 3072, "hardware_protected": True, "key_operations": ["import"], **kwargs}
    return keys.create_rsa_key(fresh_name("kek"), **options)


def kek_public(kek: KeyVaultKey) -> rsa.RSAPublicKey:
    n, e = (int.from_bytes(value, "big") for value in (kek.key.n, kek.key.e))
    return rsa.RSAPublicNumbers(e, n).public_key()


def byok_jwk(blob: bytes, kty: str, key_ops: list[str] | None = None, **extra: Any) -> JsonWebKey:
    return JsonWebKey(kty=kty, key_ops=key_ops or ["sign", "verify"], t=blob, **extra)


def refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(HttpResponseError) as raised:
        call()
    assert raised.value.status_code == 400, raised.value
    assert raised.value.error.code == "BadParameter"
    return str(raised.value.error.message)


def assert_nothing_stored(keys: KeyClient, name: str) -> None:
    with pytest.raises(ResourceNotFoundError):
        keys.get_key(name)
    assert not [d for d in keys.list_deleted_keys() if d.name == name]


@pytest.fixture(scope="module")
def kek(keys: KeyClient) -> KeyVaultKey:
    return new_kek(keys)


@pytest.fixture(scope="module")
def rsa_target() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 3072)


@pytest.fixture(scope="module")
def ec_target() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def wrap(target: Any, kek: KeyVaultKey, kid: str | None = None) -> bytes:
    return transfer.wrap_target_key(target, kek_public(kek), kid or kek.id, "vaultspec tests")


def test_an_rsa_3072_key_arrives_as_an_hsm_key_that_signs_with_exactly_the_wrapped_key(
    twin: TwinInfo, keys: KeyClient, kek: KeyVaultKey, rsa_target: rsa.RSAPrivateKey
) -> None:
    name = fresh_name("byok")
    imported = keys.import_key(name, byok_jwk(wrap(rsa_target, kek), "RSA-HSM"))
    assert imported.key_type == "RSA-HSM" and imported.key_operations == ["sign", "verify"]
    assert int.from_bytes(imported.key.n, "big") == rsa_target.public_key().public_numbers().n
    assert imported.key.d is None and imported.key.p is None and imported.properties.exportable is False
    digest = os.urandom(32)
    signature = crypto_client(twin, imported).sign(SignatureAlgorithm.ps256, digest).signature
    rsa_target.public_key().verify(
        signature,
        digest,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        utils.Prehashed(hashes.SHA256()),
    )


def test_an_ec_p256_key_arrives_as_an_hsm_key_that_signs_with_exactly_the_wrapped_key(
    twin: TwinInfo, keys: KeyClient, kek: KeyVaultKey, ec_target: ec.EllipticCurvePrivateKey
) -> None:
    imported = keys.import_key(fresh_name("byok"), byok_jwk(wrap(ec_target, kek), "EC-HSM", crv="P-256"))
    assert imported.key_type == "EC-HSM" and imported.key.crv == "P-256" and imported.key.d is None
    digest = os.urandom(32)
    signature = crypto_client(twin, imported).sign(SignatureAlgorithm.es256, digest).signature
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    ec_target.public_key().verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def test_a_second_import_under_the_same_name_adds_a_version(
    keys: KeyClient, kek: KeyVaultKey, ec_target: ec.EllipticCurvePrivateKey
) -> None:
    name = fresh_name("byok")
    first = keys.import_key(name, byok_jwk(wrap(ec_target, kek), "EC-HSM"))
    other = ec.generate_private_key(ec.SECP256R1())
    second = keys.import_key(name, byok_jwk(wrap(other, kek), "EC-HSM"))
    assert first.properties.version != second.properties.version
    assert len(list(keys.list_properties_of_key_versions(name))) == 2
    assert keys.get_key(name).key.x == second.key.x != first.key.x


def test_a_blob_wrapped_for_another_kek_is_refused(
    keys: KeyClient, kek: KeyVaultKey, rsa_target: rsa.RSAPrivateKey
) -> None:
    other = new_kek(keys)
    name = fresh_name("byok")
    blob = wrap(rsa_target, other, kid=kek.id)  # encrypted for `other`, naming `kek`
    message = refusal(lambda: keys.import_key(name, byok_jwk(blob, "RSA-HSM")))
    assert "does not decrypt with this KEK" in message
    assert_nothing_stored(keys, name)


def test_a_blob_naming_another_vaults_kek_is_refused(
    twin: TwinInfo, keys: KeyClient, kek: KeyVaultKey, rsa_target: rsa.RSAPrivateKey
) -> None:
    elsewhere = kek.id.replace(f"{TWIN_VAULT}.vault.localhost", "othervault.vault.localhost")
    name = fresh_name("byok")
    message = refusal(lambda: keys.import_key(name, byok_jwk(wrap(rsa_target, kek, kid=elsewhere), "RSA-HSM")))
    assert "is not a key of vault 'twinkv'" in message
    assert_nothing_stored(keys, name)


@pytest.mark.parametrize("where", ["encrypted AES key", "wrapped target key"])
def test_a_tampered_ciphertext_is_refused(
    keys: KeyClient, kek: KeyVaultKey, ec_target: ec.EllipticCurvePrivateKey, where: str
) -> None:
    document = json.loads(wrap(ec_target, kek))
    ciphertext = bytearray(transfer.b64url_decode(document["ciphertext"], "ciphertext"))
    ciphertext[10 if where == "encrypted AES key" else -5] ^= 0x01
    document["ciphertext"] = transfer.b64url(bytes(ciphertext))
    name = fresh_name("byok")
    message = refusal(lambda: keys.import_key(name, byok_jwk(json.dumps(document).encode(), "EC-HSM")))
    expected = "does not decrypt with this KEK" if where == "encrypted AES key" else "integrity check (RFC 5649)"
    assert expected in message
    assert_nothing_stored(keys, name)


@pytest.mark.parametrize(
    ("kek_options", "expected"),
    [
        ({"key_operations": ["import", "sign"]}, "key_ops must be exactly ['import']"),
        ({"hardware_protected": False}, "a KEK must be an RSA-HSM key"),
        ({"enabled": False}, "is disabled"),
    ],
    ids=["extra-ops", "software-kek", "disabled"],
)
def test_a_kek_that_breaks_the_kek_rules_is_refused(
    keys: KeyClient, rsa_target: rsa.RSAPrivateKey, kek_options: dict[str, Any], expected: str
) -> None:
    bad = new_kek(keys, **kek_options)
    name = fresh_name("byok")
    assert expected in refusal(lambda: keys.import_key(name, byok_jwk(wrap(rsa_target, bad), "RSA-HSM")))
    assert_nothing_stored(keys, name)


def test_an_expired_or_deleted_kek_is_refused(keys: KeyClient, ec_target: ec.EllipticCurvePrivateKey) -> None:
    from datetime import UTC, datetime, timedelta

    expired = new_kek(keys)
    blob = wrap(ec_target, expired)
    keys.update_key_properties(expired.name, expires_on=datetime.now(UTC) - timedelta(minutes=1))
    name = fresh_name("byok")
    assert "has expired" in refusal(lambda: keys.import_key(name, byok_jwk(blob, "EC-HSM")))
    deleted = new_kek(keys)
    blob = wrap(ec_target, deleted)
    keys.begin_delete_key(deleted.name).wait()
    assert "was not found in this vault" in refusal(lambda: keys.import_key(name, byok_jwk(blob, "EC-HSM")))
    assert_nothing_stored(keys, name)


def test_a_target_of_another_type_than_declared_is_refused(
    keys: KeyClient, kek: KeyVaultKey, ec_target: ec.EllipticCurvePrivateKey
) -> None:
    name = fresh_name("byok")
    blob = wrap(ec_target, kek)
    assert "not an RSA private key" in refusal(lambda: keys.import_key(name, byok_jwk(blob, "RSA-HSM")))
    assert "not the declared P-384" in refusal(lambda: keys.import_key(name, byok_jwk(blob, "EC-HSM", crv="P-384")))
    assert "kty must be RSA-HSM or EC-HSM" in refusal(lambda: keys.import_key(name, byok_jwk(blob, "EC")))
    assert_nothing_stored(keys, name)


@pytest.mark.parametrize(
    ("blob", "expected"),
    [
        (b"not json at all", "is not JSON"),
        (b'{"schema_version": "1.0.0"}', "header"),
        (
            json.dumps(
                {"schema_version": "1.0.0", "header": {"kid": "x", "alg": "dir", "enc": "A256KW"}, "ciphertext": "AA"}
            ).encode(),
            "accepts only CKM_RSA_AES_KEY_WRAP",
        ),
    ],
    ids=["not-json", "no-header", "other-mechanism"],
)
def test_a_malformed_blob_is_refused(keys: KeyClient, blob: bytes, expected: str) -> None:
    name = fresh_name("byok")
    assert expected in refusal(lambda: keys.import_key(name, byok_jwk(blob, "RSA-HSM")))
    assert_nothing_stored(keys, name)


def test_byok_into_a_standard_vault_is_refused(
    twin: TwinInfo, make_vault: Callable[..., str], ec_target: ec.EllipticCurvePrivateKey
) -> None:
    access = [{"tenantId": twin.tenant_id, "objectId": twin.default_object_id, "permissions": {"keys": ["all"]}}]
    vault = make_vault({"accessPolicies": access}, premium=False)
    keys = key_client(twin, vault)
    kek_like = keys.create_rsa_key(fresh_name("kek"), size=2048, key_operations=["import"])
    name = fresh_name("byok")
    message = refusal(lambda: keys.import_key(name, byok_jwk(wrap(ec_target, kek_like), "EC-HSM")))
    assert "needs a premium vault" in message
    assert_nothing_stored(keys, name)


def test_plain_imports_still_work_and_hsm_stores_them_as_hsm_keys(keys: KeyClient) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    members = private_jwk_members(private)
    jwk = JsonWebKey(kty="EC", crv="P-256", **{m: transfer.b64url_decode(members[m], m) for m in ("x", "y", "d")})
    imported = keys.import_key(fresh_name("plain"), jwk, hardware_protected=True)
    assert imported.key_type == "EC-HSM" and imported.key.d is None


def test_byok_material_is_sealed_at_rest_and_absent_from_the_audit_log(
    twin: TwinInfo, keys: KeyClient, kek: KeyVaultKey
) -> None:
    target = rsa.generate_private_key(65537, 3072)
    numbers = target.private_numbers()
    blob = wrap(target, kek)
    keys.import_key(fresh_name("byok"), byok_jwk(blob, "RSA-HSM"))
    data = Path(twin.data_dir)
    stored = b"".join(p.read_bytes() for p in data.iterdir() if p.is_file() and p.name.startswith("twin.db"))
    for secret in (numbers.d, numbers.p, numbers.q):
        assert secret.to_bytes((secret.bit_length() + 7) // 8, "big") not in stored
    assert transfer.private_key_der(target) not in stored
    audit = (data / "audit.jsonl").read_text()
    ciphertext = json.loads(blob)["ciphertext"]
    assert ciphertext[:40] not in audit and transfer.b64url(blob)[:40] not in audit
    assert any(json.loads(line)["operationName"] == "KeyImport" for line in audit.splitlines())


def test_the_kek_public_key_downloads_as_pem_for_the_vendor_tool(keys: KeyClient, kek: KeyVaultKey) -> None:
    from vaultspec.byok.material import public_pem

    pem = public_pem(kek_public(keys.get_key(kek.name)))
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert load_public_key(pem).public_numbers() == kek_public(kek).public_numbers()
