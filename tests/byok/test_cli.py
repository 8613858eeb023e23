"""`vaultspec byok kek-pem` and `vaultspec byok wrap`: what a vendor tool gets and makes, and every refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.byok.howto import canaries, generate_local_keys, vaultspec
from vaultspec.byok.material import load_private_key, load_public_key, public_pem, thumbprint
from vaultspec.byok.transfer import parse_transfer_blob, private_key_der, unwrap_ciphertext
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT, key_client, twin  # noqa: F401 (the session twin fixture)

KID = "https://payments-kv.vault.azure.net/keys/kek/0123456789abcdef0123456789abcdef"


@pytest.fixture
def kek_private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 3072)


@pytest.fixture
def kek_file(tmp_path: Path, kek_private: rsa.RSAPrivateKey) -> Path:
    path = tmp_path / "kek.pem"
    path.write_text(public_pem(kek_private))
    return path


def test_wrap_writes_a_blob_the_kek_unwraps_to_exactly_the_key(tmp_path, kek_file, kek_private):
    keys = generate_local_keys(tmp_path)
    out, public = tmp_path / "signing.byok", tmp_path / "signing.pub.pem"
    run = vaultspec(
        "byok", "wrap", "--kek-pem", str(kek_file), "--kek-id", KID, "--key", str(keys["signing-rsa"]),
        "--out", str(out), "--public-key", str(public), env={},
    )  # fmt: skip
    assert run.code == 0, run.output
    assert f"wrote {out}: RSA 3072-bit key wrapped for KEK {KID}" in run.output
    assert "not HSM-born (its private half existed in plaintext outside an HSM)" in run.output
    blob = parse_transfer_blob(out.read_bytes())
    assert (blob.schema_version, blob.header.kid, blob.header.alg, blob.header.enc) == (
        "1.0.0",
        KID,
        "dir",
        "CKM_RSA_AES_KEY_WRAP",
    )
    assert "software key (not HSM-born)" in (blob.generator or "")
    key = load_private_key(keys["signing-rsa"].read_text())
    assert unwrap_ciphertext(blob.ciphertext_bytes(), kek_private) == private_key_der(key)
    assert thumbprint(load_public_key(public.read_text())) == thumbprint(key)
    assert all(canary not in run.output + out.read_text() for canary in canaries(keys["signing-rsa"]))


def test_wrap_takes_a_jwk_too(tmp_path, kek_file, kek_private):
    from vaultspec.byok.material import private_jwk_members

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = tmp_path / "key.jwk"
    jwk.write_text(json.dumps(private_jwk_members(key)))
    out = tmp_path / "k.byok"
    run = vaultspec(
        "byok", "wrap", "--kek-pem", str(kek_file), "--kek-id", KID, "--key", str(jwk), "--out", str(out), env={}
    )
    assert run.code == 0, run.output
    assert unwrap_ciphertext(parse_transfer_blob(out.read_bytes()).ciphertext_bytes(), kek_private) == private_key_der(
        key
    )


@pytest.fixture
def bad_inputs(tmp_path: Path) -> Iterator[dict[str, Path]]:
    secret = tmp_path / "secret.txt"
    secret.write_text("-----BEGIN PRIVATE KEY-----\ncanary-not-a-key-8d1f\n-----END PRIVATE KEY-----\n")
    ec_kek = tmp_path / "ec-kek.pem"
    ec_kek.write_text(public_pem(ec.generate_private_key(ec.SECP256R1())))
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass"),
        )
    )
    yield {"secret": secret, "ec-kek": ec_kek, "encrypted": encrypted, "missing": tmp_path / "missing.pem"}


@pytest.mark.parametrize(
    ("kek", "kid", "key", "expected"),
    [
        ("good", KID, "secret", "secret.txt: the PEM is not an unencrypted private key"),
        ("good", KID, "encrypted", "encrypted.pem: the PEM private key is encrypted"),
        ("good", KID, "missing", "cannot read"),
        ("ec-kek", KID, "good", "the KEK must be an RSA key of 2048, 3072 or 4096 bits"),
        ("good", "https://payments-kv.vault.azure.net/secrets/x", "good", "header.kid is not a Key Vault key id"),
        ("secret", KID, "good", "secret.txt: not a PEM public key"),
    ],
    ids=["not-a-key", "encrypted", "missing", "ec-kek", "not-a-kid", "kek-not-pem"],
)
def test_wrap_refuses_bad_inputs_with_exit_2_and_never_prints_them(
    tmp_path, kek_file, bad_inputs, kek, kid, key, expected
):
    good_key = generate_local_keys(tmp_path)["signing-ec"]
    files = {**bad_inputs, "good": kek_file}
    key_path = good_key if key == "good" else files[key]
    run = vaultspec(
        "byok", "wrap", "--kek-pem", str(files[kek]), "--kek-id", kid, "--key", str(key_path),
        "--out", str(tmp_path / "out.byok"), env={},
    )  # fmt: skip
    assert run.code == 2 and expected in run.output, run.output
    assert "canary-not-a-key" not in run.output and not (tmp_path / "out.byok").exists()


def test_kek_pem_prints_the_pem_and_the_full_key_id(twin: TwinInfo, tmp_path):  # noqa: F811
    with key_client(twin, TWIN_VAULT) as keys:
        kek = keys.create_rsa_key("cli-kek", size=2048, hardware_protected=True, key_operations=["import"])
    url = twin.vault_url(TWIN_VAULT)
    to_stdout = vaultspec("byok", "kek-pem", "--vault-url", url, "--name", "cli-kek", env=twin.env())
    assert to_stdout.code == 0, to_stdout.output
    assert to_stdout.stdout.startswith("-----BEGIN PUBLIC KEY-----") and f"kid: {kek.id}" in to_stdout.output
    out = tmp_path / "kek.pem"
    to_file = vaultspec("byok", "kek-pem", "--vault-url", url, "--name", "cli-kek", "--out", str(out), env=twin.env())
    assert to_file.code == 0 and to_file.stdout.strip() == kek.id
    assert load_public_key(out.read_text()).public_numbers().n == int.from_bytes(kek.key.n, "big")


def test_kek_pem_refuses_a_key_that_is_not_a_kek_or_not_there(twin: TwinInfo):  # noqa: F811
    with key_client(twin, TWIN_VAULT) as keys:
        keys.create_rsa_key("cli-not-kek", size=2048, hardware_protected=True, key_operations=["import", "sign"])
    url = twin.vault_url(TWIN_VAULT)
    loose = vaultspec("byok", "kek-pem", "--vault-url", url, "--name", "cli-not-kek", env=twin.env())
    assert loose.code == 1 and "not a key exchange key (RSA-HSM, key_ops exactly ['import'])" in loose.output
    assert "-----BEGIN" not in loose.output
    missing = vaultspec("byok", "kek-pem", "--vault-url", url, "--name", "cli-nothing", env=twin.env())
    assert missing.code == 1 and "cannot read key 'cli-nothing': 404 KeyNotFound" in missing.output
    bad_url = vaultspec("byok", "kek-pem", "--vault-url", "http://x", "--name", "k", env=twin.env())
    assert bad_url.code == 2 and "expected https://NAME.vault.azure.net" in bad_url.output
