"""Every algorithm, with results checked independently by pyca/cryptography from the public JWK."""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.keyvault.keys.crypto import EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from tests.twin.conftest import fresh_name
from vaultspec.twin.crypto import b64url, unb64url
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import crypto_client

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1, "P-256K": ec.SECP256K1}


def rsa_public(key: Any) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(key.key.e, "big"), int.from_bytes(key.key.n, "big")).public_key()


def ec_public(key: Any) -> ec.EllipticCurvePublicKey:
    x, y = int.from_bytes(key.key.x, "big"), int.from_bytes(key.key.y, "big")
    return ec.EllipticCurvePublicNumbers(x, y, CURVES[key.key.crv]()).public_key()


@pytest.fixture(scope="module")
def rsa_key(keys: Any) -> Any:
    return keys.create_rsa_key(fresh_name("rsa"), size=2048)


def remote(keys: Any, key: Any, op: str, body: dict[str, Any]) -> dict[str, Any]:
    """Call a crypto operation on the server through the official client's send_request."""
    response = keys.send_request(HttpRequest("POST", f"/keys/{key.name}/{key.properties.version}/{op}", json=body))
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_rsa_signatures_verify_with_the_returned_public_key(twin: TwinInfo, rsa_key: Any, alg: str) -> None:
    hash_cls = HASHES[alg[2:]]
    digest = hashlib.new(hash_cls.name, b"payload").digest()
    client = crypto_client(twin, rsa_key)
    signature = client.sign(SignatureAlgorithm(alg), digest).signature
    pad = (
        padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size)
        if alg.startswith("PS")
        else padding.PKCS1v15()
    )
    rsa_public(rsa_key).verify(signature, digest, pad, utils.Prehashed(hash_cls()))
    assert client.verify(SignatureAlgorithm(alg), digest, signature).is_valid
    assert not client.verify(SignatureAlgorithm(alg), hashlib.new(hash_cls.name, b"other").digest(), signature).is_valid


@pytest.mark.parametrize(
    ("alg", "curve"), [("ES256", "P-256"), ("ES384", "P-384"), ("ES512", "P-521"), ("ES256K", "P-256K")]
)
def test_ec_signatures_are_raw_r_s_and_verify_independently(twin: TwinInfo, keys: Any, alg: str, curve: str) -> None:
    key = keys.create_ec_key(fresh_name("ec"), curve=curve)
    hash_cls = HASHES[alg[2:5]]
    digest = hashlib.new(hash_cls.name, b"payload").digest()
    signature = crypto_client(twin, key).sign(SignatureAlgorithm(alg), digest).signature
    size = len(key.key.x)
    assert len(signature) == 2 * size
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    ec_public(key).verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hash_cls())))
    server = remote(keys, key, "verify", {"alg": alg, "digest": b64url(digest), "value": b64url(signature)})
    assert server["value"] is True
    tampered = bytearray(signature)
    tampered[0] ^= 1
    with pytest.raises(InvalidSignature):
        ec_public(key).verify(
            utils.encode_dss_signature(int.from_bytes(tampered[:size], "big"), s),
            digest,
            ec.ECDSA(utils.Prehashed(hash_cls())),
        )


def test_wrong_algorithm_or_digest_length_is_bad_parameter(keys: Any, rsa_key: Any) -> None:
    ec_key = keys.create_ec_key(fresh_name("ec"), curve="P-256")
    for key, body in [
        (ec_key, {"alg": "ES384", "value": b64url(b"\0" * 48)}),
        (ec_key, {"alg": "RS256", "value": b64url(b"\0" * 32)}),
        (rsa_key, {"alg": "RS256", "value": b64url(b"\0" * 31)}),
    ]:
        with pytest.raises(HttpResponseError) as err:
            remote(keys, key, "sign", body)
        assert err.value.status_code == 400


@pytest.mark.parametrize("alg", ["RSA1_5", "RSA-OAEP", "RSA-OAEP-256"])
def test_local_encrypt_then_server_decrypt(twin: TwinInfo, rsa_key: Any, alg: str) -> None:
    client = crypto_client(twin, rsa_key)
    result = client.encrypt(EncryptionAlgorithm(alg), b"the plaintext")
    assert client.decrypt(EncryptionAlgorithm(alg), result.ciphertext).plaintext == b"the plaintext"


@pytest.mark.parametrize("alg", ["RSA1_5", "RSA-OAEP", "RSA-OAEP-256"])
def test_server_encrypt_decrypts_with_standard_padding(keys: Any, rsa_key: Any, alg: str) -> None:
    ciphertext = unb64url(remote(keys, rsa_key, "encrypt", {"alg": alg, "value": b64url(b"abc")})["value"])
    assert len(ciphertext) == 256
    plain = unb64url(remote(keys, rsa_key, "decrypt", {"alg": alg, "value": b64url(ciphertext)})["value"])
    assert plain == b"abc"


def test_ciphertext_made_with_pyca_from_the_jwk_decrypts_on_the_server(keys: Any, rsa_key: Any) -> None:
    oaep256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    ciphertext = rsa_public(rsa_key).encrypt(b"from outside", oaep256)
    body = {"alg": "RSA-OAEP-256", "value": b64url(ciphertext)}
    assert unb64url(remote(keys, rsa_key, "decrypt", body)["value"]) == b"from outside"


@pytest.mark.parametrize("alg", ["RSA1_5", "RSA-OAEP", "RSA-OAEP-256"])
def test_wrap_and_unwrap(twin: TwinInfo, keys: Any, rsa_key: Any, alg: str) -> None:
    client = crypto_client(twin, rsa_key)
    cek = bytes(range(32))
    wrapped = client.wrap_key(KeyWrapAlgorithm(alg), cek)
    assert client.unwrap_key(KeyWrapAlgorithm(alg), wrapped.encrypted_key).key == cek
    server_wrapped = unb64url(remote(keys, rsa_key, "wrapkey", {"alg": alg, "value": b64url(cek)})["value"])
    assert unb64url(remote(keys, rsa_key, "unwrapkey", {"alg": alg, "value": b64url(server_wrapped)})["value"]) == cek


def test_garbage_ciphertext_is_bad_parameter_not_a_crash(keys: Any, rsa_key: Any) -> None:
    with pytest.raises(HttpResponseError) as err:
        remote(keys, rsa_key, "decrypt", {"alg": "RSA-OAEP", "value": b64url(b"\x01" * 256)})
    assert err.value.status_code == 400


def test_operation_missing_from_key_ops_is_forbidden(twin: TwinInfo, keys: Any) -> None:
    key = keys.create_rsa_key(fresh_name(), key_operations=["verify", "encrypt"])
    with pytest.raises(HttpResponseError) as err:
        crypto_client(twin, key).sign(SignatureAlgorithm.rs256, b"\0" * 32)
    assert err.value.status_code == 403
    assert err.value.error.code == "Forbidden" and err.value.error.innererror["code"] == "KeyOperationForbidden"


def test_disabled_key_refuses_every_operation(twin: TwinInfo, keys: Any) -> None:
    key = keys.create_rsa_key(fresh_name(), enabled=False)
    with pytest.raises(HttpResponseError) as err:
        remote(keys, key, "sign", {"alg": "RS256", "value": b64url(b"\0" * 32)})
    assert err.value.status_code == 403 and "disabled" in err.value.message
    with pytest.raises(HttpResponseError):
        remote(keys, key, "decrypt", {"alg": "RSA-OAEP", "value": b64url(b"\0" * 256)})


def test_expired_key_refuses_sign_but_still_verifies_and_decrypts(keys: Any) -> None:
    from datetime import datetime, timedelta

    key = keys.create_rsa_key(fresh_name(), expires_on=datetime.now(UTC) - timedelta(seconds=5))
    with pytest.raises(HttpResponseError) as err:
        remote(keys, key, "sign", {"alg": "RS256", "value": b64url(b"\0" * 32)})
    assert err.value.status_code == 403 and "expired" in err.value.message
    with pytest.raises(HttpResponseError):
        remote(keys, key, "encrypt", {"alg": "RSA-OAEP", "value": b64url(b"x")})
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    ciphertext = rsa_public(key).encrypt(b"old data", oaep)
    assert (
        unb64url(remote(keys, key, "decrypt", {"alg": "RSA-OAEP", "value": b64url(ciphertext)})["value"]) == b"old data"
    )


def test_not_yet_valid_key_refuses_sign(keys: Any) -> None:
    from datetime import datetime, timedelta

    key = keys.create_ec_key(fresh_name(), curve="P-256", not_before=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(HttpResponseError) as err:
        remote(keys, key, "sign", {"alg": "ES256", "value": b64url(b"\0" * 32)})
    assert err.value.status_code == 403 and "not yet valid" in err.value.message


def test_sign_by_latest_version_alias(keys: Any, rsa_key: Any) -> None:
    response = keys.send_request(
        HttpRequest("POST", f"/keys/{rsa_key.name}//sign", json={"alg": "RS256", "value": b64url(b"\0" * 32)})
    )
    assert response.status_code == 200 and response.json()["kid"].startswith(rsa_key.id.rsplit("/", 1)[0])
