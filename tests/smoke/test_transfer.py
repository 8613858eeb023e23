"""Smoke of imported keys and KEKs on the twin: the vault's key is exactly the declared one, BYOK keys are
HSM keys that never leave, KEKs do nothing but import; each sabotage is caught and named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.keyvault.keys import JsonWebKey, KeyReleasePolicy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.smoke.conftest import create_vault, failed, smoke, statuses, vault_spec
from vaultspec.byok.material import private_jwk_members, public_pem
from vaultspec.byok.transfer import b64url_decode, wrap_target_key
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import key_client

RSA_TARGET = rsa.generate_private_key(65537, 3072)
EC_TARGET = ec.generate_private_key(ec.SECP256R1())
PARTNER = rsa.generate_private_key(65537, 2048)
PARTNER_PEM = PARTNER.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()


def kek_public(kek: Any) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(kek.key.e, "big"), int.from_bytes(kek.key.n, "big")).public_key()


def jwk_of(private: Any, key_ops: list[str] | None = None) -> JsonWebKey:
    members = private_jwk_members(private)
    fields = {name: b64url_decode(value, name) for name, value in members.items() if name not in ("kty", "crv")}
    curve = {"crv": members["crv"]} if "crv" in members else {}
    return JsonWebKey(kty=members["kty"], key_ops=key_ops, **fields, **curve)


@pytest.fixture(scope="module")
def transfer_vault(twin: TwinInfo, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A vault with a KEK, two BYOK keys and a key imported from PEM material, as `up` would leave it."""
    vault = create_vault(twin)
    files = tmp_path_factory.mktemp("transfer")
    keys = key_client(twin, vault.name)
    kek = keys.create_rsa_key("kek", size=3072, hardware_protected=True, key_operations=["import"])
    for name, target, kty in (("signing-rsa", RSA_TARGET, "RSA-HSM"), ("signing-ec", EC_TARGET, "EC-HSM")):
        blob = wrap_target_key(target, kek_public(kek), kek.id, "tests")
        keys.import_key(name, JsonWebKey(kty=kty, key_ops=["sign", "verify"], t=blob))
        (files / f"{name}.pem").write_text(public_pem(target))
    keys.import_key("partner", jwk_of(PARTNER, ["wrapKey", "unwrapKey"]))
    return vault.name, files


def transfer_spec(name: str, files: Path, **overrides: Any) -> Any:
    keys = [
        {"name": "kek", "type": "RSA-HSM", "size": 3072, "ops": ["import"]},
        {
            "name": "signing-rsa",
            "type": "RSA-HSM",
            "size": 3072,
            "ops": ["sign", "verify"],
            "import": {"byok": "signing-rsa.byok", "kek": "kek", "publicKey": str(files / "signing-rsa.pem")},
        },
        {
            "name": "signing-ec",
            "type": "EC-HSM",
            "curve": "P-256",
            "ops": ["sign", "verify"],
            "import": {"byok": "signing-ec.byok", "kek": "kek", "publicKey": str(files / "signing-ec.pem")},
        },
        {
            "name": "partner",
            "type": "RSA",
            "size": 2048,
            "ops": ["wrapKey", "unwrapKey"],
            "import": {"fromEnv": "PARTNER_KEY"},
        },
    ]
    for index, change in overrides.items():
        keys[int(index.removeprefix("key"))].update(change)
    return vault_spec(name, keys=keys)


def test_imported_keys_and_the_kek_pass_every_check(twin, transfer_vault):
    name, files = transfer_vault
    report = smoke(twin, name, transfer_spec(name, files), environ={"PARTNER_KEY": PARTNER_PEM})
    assert report.passed, [(c.object, c.check, c.detail) for c in report.failures]
    found = statuses(report)
    for key in ("signing-rsa", "signing-ec"):
        for check in ("public-key", "hsm-protected", "not-exportable"):
            assert found[(f"keys/{key}", check)] == "passed"
    assert found[("keys/signing-rsa", "declared-key:RS256")] == "passed"
    assert found[("keys/signing-ec", "declared-key:ES256")] == "passed"
    assert found[("keys/partner", "public-key")] == "passed"
    assert found[("keys/partner", "declared-key:RSA-OAEP-256")] == "passed"
    assert found[("keys/kek", "kek-only-import")] == "passed"
    assert ("keys/partner", "hsm-protected") not in found
    (detail,) = [c.detail for c in report.checks if c.check == "kek-only-import"]
    assert detail == "key_ops [import]; the vault refused sign, decrypt, unwrapKey, encrypt, wrapKey, verify"


def test_a_vault_key_that_is_not_the_declared_one_is_caught(twin, transfer_vault, tmp_path):
    name, files = transfer_vault
    impostor = tmp_path / "impostor.pem"
    impostor.write_text(public_pem(rsa.generate_private_key(65537, 3072)))
    spec = transfer_spec(name, files, key1={"import": {"byok": "x.byok", "kek": "kek", "publicKey": str(impostor)}})
    report = smoke(twin, name, spec, environ={"PARTNER_KEY": PARTNER_PEM}, only=frozenset({"keys/signing-rsa"}))
    assert failed(report) == {("keys/signing-rsa", "public-key"), ("keys/signing-rsa", "declared-key:RS256")}
    detail = next(c.detail for c in report.checks if c.check == "declared-key:RS256")
    assert detail == "the vault's signature does not verify with the declared public key: it signs with another key"


def test_fromconfig_material_is_not_comparable_here_and_says_so(twin, transfer_vault):
    name, files = transfer_vault
    spec = transfer_spec(name, files, key3={"import": {"fromConfig": "partnerKey"}})
    report = smoke(twin, name, spec, only=frozenset({"keys/partner"}))
    assert statuses(report)[("keys/partner", "public-key")] == "skipped"
    assert "fromConfig material is not readable here" in next(
        c.detail for c in report.checks if c.check == "public-key"
    )


def test_a_kek_that_can_do_more_than_import_is_caught(twin, transfer_vault):
    name, _ = transfer_vault
    keys = key_client(twin, name)
    keys.create_rsa_key("loose-kek", size=3072, hardware_protected=True, key_operations=["import", "sign"])
    spec = vault_spec(name, keys=[{"name": "loose-kek", "type": "RSA-HSM", "size": 3072, "ops": ["import"]}])
    report = smoke(twin, name, spec)
    assert ("keys/loose-kek", "kek-only-import") in failed(report)
    assert ("keys/loose-kek", "ops") in failed(report)


def test_an_exportable_key_with_a_release_policy_is_caught(twin, transfer_vault):
    name, _ = transfer_vault
    keys = key_client(twin, name)
    policy = KeyReleasePolicy(b'{"anyOf": [], "version": "1.0.0"}')
    keys.import_key("exportable", jwk_of(EC_TARGET, ["sign", "verify"]), exportable=True, release_policy=policy)
    spec = vault_spec(
        name,
        keys=[
            {
                "name": "exportable",
                "type": "EC",
                "curve": "P-256",
                "ops": ["sign", "verify"],
                "import": {"fromEnv": "X"},
            }
        ],
    )
    report = smoke(twin, name, spec, environ={})
    assert ("keys/exportable", "not-exportable") in failed(report)
    detail = next(c.detail for c in report.checks if c.check == "not-exportable")
    assert detail == "the key is exportable: its private half can leave the vault"


def test_smoke_output_never_contains_the_material(twin, transfer_vault):
    name, files = transfer_vault
    report = smoke(twin, name, transfer_spec(name, files), environ={"PARTNER_KEY": PARTNER_PEM})
    dumped = report.model_dump_json()
    body = PARTNER_PEM.splitlines()[1]
    assert body not in dumped and private_jwk_members(PARTNER)["d"][:40] not in dumped
