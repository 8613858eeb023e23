"""Imported keys and key exchange keys in the spec: every misuse reported at its own node."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.spec.test_validation_rules import at, vault
from vaultspec.byok.material import public_pem
from vaultspec.byok.transfer import wrap_target_key
from vaultspec.spec import load_spec

KEK_PUBLIC = rsa.generate_private_key(65537, 2048).public_key()
RSA_TARGET = rsa.generate_private_key(65537, 3072)
EC_TARGET = ec.generate_private_key(ec.SECP256R1())


def blob(folder: Path, name: str, target: object, kid: str) -> None:
    (folder / name).write_bytes(wrap_target_key(target, KEK_PUBLIC, kid, "tests"))  # type: ignore[arg-type]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Blobs and public keys next to the spec file, as a user keeps them."""
    transfer = tmp_path / "transfer"
    transfer.mkdir()
    blob(transfer, "rsa.byok", RSA_TARGET, "https://payments-kv.vault.azure.net/keys/kek/0123456789abcdef")
    blob(transfer, "ec.byok", EC_TARGET, "https://payments-kv.vault.azure.net/keys/kek/0123456789abcdef")
    blob(transfer, "elsewhere.byok", EC_TARGET, "https://other-kv.vault.azure.net/keys/kek/0123456789abcdef")
    blob(transfer, "other-kek.byok", EC_TARGET, "https://payments-kv.vault.azure.net/keys/kek2/0123456789abcdef")
    (transfer / "rsa.pem").write_text(public_pem(RSA_TARGET))
    (transfer / "ec.pem").write_text(public_pem(EC_TARGET))
    (transfer / "broken.byok").write_text("this is not a transfer blob")
    return tmp_path


KEK = """\
  - name: kek
    type: RSA-HSM
    size: 3072
    ops: [import]"""

ACCESS = "access: {model: rbac, deployer: lifecycle}"


def spec(keys: str, access: str = ACCESS, sku: str = "premium") -> str:
    return vault(f"sku: {sku}\n{access}\nkeys:\n{keys}")


VALID = spec(
    KEK
    + """
  - name: signing-rsa
    type: RSA-HSM
    size: 3072
    ops: [sign, verify]
    import: {byok: transfer/rsa.byok, kek: kek, publicKey: transfer/rsa.pem}
  - name: signing-ec
    type: EC-HSM
    curve: P-256
    ops: [sign, verify]
    import: {byok: transfer/ec.byok, kek: kek, publicKey: transfer/ec.pem}
  - name: partner
    type: RSA
    size: 2048
    ops: [verify]
    import: {fromEnv: PARTNER_KEY_PEM}
  - name: legacy
    type: EC
    ops: [sign]
    import: {fromConfig: legacyKey}"""
)


def test_a_kek_and_keys_imported_from_every_source_are_valid(problems, files):
    assert problems(VALID) == []


def test_files_are_resolved_against_the_spec_file_not_the_working_directory(spec_file, files, tmp_path):
    path = spec_file(VALID)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "vaultspec", "validate", str(path)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    key = load_spec(path).vaults[0].keys[1]
    assert key.import_ is not None and key.import_.byok == str(files / "transfer" / "rsa.byok")


@pytest.mark.parametrize("ops", ["[import, sign]", "[import, import]"])
def test_a_kek_does_nothing_but_import(problems, ops):
    text = spec(KEK.replace("ops: [import]", f"ops: {ops}"))
    message = "a key exchange key's ops must be exactly [import]: Key Vault refuses BYOK with a KEK that can do"
    assert any(p.startswith(f"{at(text, ops)}: vaults[0].keys[0].ops: {message}") for p in problems(text))


def test_a_kek_is_rsa_hsm(problems):
    text = spec(KEK.replace("type: RSA-HSM", "type: RSA"))
    assert (
        f"{at(text, 'RSA')}: vaults[0].keys[0].type: a key exchange key (ops: [import]) must be RSA-HSM; BYOK "
        "refuses any other KEK"
    ) in problems(text)


def test_an_ec_key_cannot_be_a_kek(problems):
    text = spec("  - name: kek\n    type: EC-HSM\n    ops: [import]")
    assert any("keys[0].type: a key exchange key (ops: [import]) must be RSA-HSM" in p for p in problems(text))


def test_byok_into_a_standard_vault_is_reported_at_the_blob(problems, files):
    text = spec(
        KEK + "\n  - name: k\n    type: EC-HSM\n    ops: [sign]\n    import: {byok: transfer/ec.byok, kek: kek}",
        sku="standard",
    )
    found = problems(text)
    assert f"{at(text, 'transfer/ec.byok')}: vaults[0].keys[1].import.byok: BYOK needs a premium vault" in "\n".join(
        found
    )


def test_byok_for_a_software_key_type_is_refused(problems, files):
    text = spec(KEK + "\n  - name: k\n    type: EC\n    ops: [sign]\n    import: {byok: transfer/ec.byok, kek: kek}")
    assert [p for p in problems(text) if "type must be RSA-HSM or EC-HSM, not EC" in p] == [
        f"{at(text, 'transfer/ec.byok')}: vaults[0].keys[1].import.byok: a BYOK blob arrives as an HSM key: type "
        "must be RSA-HSM or EC-HSM, not EC"
    ]


def test_the_kek_must_be_declared_and_be_a_kek(problems, files):
    missing = spec("  - name: k\n    type: EC-HSM\n    ops: [sign]\n    import: {byok: transfer/ec.byok, kek: nokek}")
    assert (
        f"{at(missing, 'nokek')}: vaults[0].keys[0].import.kek: kek names key 'nokek', which this vault does not "
        "declare"
    ) in problems(missing)
    not_a_kek = spec(
        "  - name: kek\n    type: RSA-HSM\n    ops: [sign]\n"
        "  - name: k\n    type: EC-HSM\n    ops: [sign]\n    import: {byok: transfer/ec.byok, kek: kek}"
    )
    assert any("import.kek: kek names key 'kek', which is not a key exchange key" in p for p in problems(not_a_kek))
    no_kek = spec(KEK + "\n  - name: k\n    type: EC-HSM\n    ops: [sign]\n    import: {byok: transfer/ec.byok}")
    assert any("keys[1].import: byok needs kek" in p for p in problems(no_kek))


def test_a_blob_wrapped_for_another_vault_or_kek_is_told_from_its_header(problems, files):
    text = spec(
        KEK
        + "\n  - name: kek2\n    type: RSA-HSM\n    ops: [import]"
        + "\n  - name: a\n    type: EC-HSM\n    ops: [sign]\n    import: {byok: transfer/elsewhere.byok, kek: kek}"
        + "\n  - name: b\n    type: EC-HSM\n    ops: [sign]\n    import: {byok: transfer/other-kek.byok, kek: kek}"
    )
    found = problems(text)
    assert (
        f"{at(text, 'transfer/elsewhere.byok')}: vaults[0].keys[2].import.byok: the blob was wrapped for key 'kek' "
        "of vault 'other-kv' (other-kv.vault.azure.net), not for a key of this vault ('payments-kv'): a blob "
        "imports only into the vault whose KEK wrapped it"
    ) in found
    assert (
        f"{at(text, 'transfer/other-kek.byok')}: vaults[0].keys[3].import.byok: the blob was wrapped for key 'kek2' "
        "of this vault, not for kek 'kek'"
    ) in found


def test_unreadable_and_malformed_files_are_reported_at_their_field(problems, files):
    text = spec(
        KEK
        + "\n  - name: a\n    type: EC-HSM\n    ops: [sign]\n    import: {byok: transfer/missing.byok, kek: kek}"
        + "\n  - name: b\n    type: EC-HSM\n    ops: [sign]\n    import: {byok: transfer/broken.byok, kek: kek}"
        + "\n  - name: c\n    type: EC\n    ops: [sign]\n    import: {fromEnv: C_KEY, publicKey: transfer/rsa.byok}"
    )
    found = "\n".join(problems(text))
    assert f"{at(text, 'transfer/missing.byok')}: vaults[0].keys[1].import.byok: cannot read " in found
    assert "No such file or directory" in found
    assert f"{at(text, 'transfer/broken.byok')}: vaults[0].keys[2].import.byok: the transfer blob is not JSON" in found
    assert f"{at(text, 'transfer/rsa.byok')}: vaults[0].keys[3].import.publicKey: not a PEM public key" in found


def test_a_declared_public_key_that_contradicts_type_size_or_curve_is_reported(problems, files):
    text = spec(
        "  - name: a\n    type: RSA\n    size: 2048\n    ops: [sign]"
        "\n    import: {fromEnv: A, publicKey: transfer/rsa.pem}"
        "\n  - name: b\n    type: RSA\n    ops: [sign]\n    import: {fromEnv: B, publicKey: transfer/ec.pem}"
        "\n  - name: c\n    type: EC\n    curve: P-384\n    ops: [sign]"
        "\n    import: {fromEnv: C, publicKey: transfer/ec.pem}"
    )
    found = problems(text)
    assert (
        f"{at(text, '2048')}: vaults[0].keys[0].size: the declared public key is RSA 3072-bit, but the key declares "
        "RSA 2048-bit"
    ) in found
    assert any("keys[1].type: type RSA contradicts the declared public key, which is an EC key" in p for p in found)
    assert (
        f"{at(text, 'P-384')}: vaults[0].keys[2].curve: the declared public key is EC P-256, but the key declares "
        "EC P-384"
    ) in found


@pytest.mark.parametrize(
    "source",
    ["{fromEnv: A, fromConfig: b}", "{kek: kek}", "'-----BEGIN PRIVATE KEY-----'"],
    ids=["two-sources", "no-source", "literal"],
)
def test_exactly_one_source_and_never_a_literal(problems, source):
    text = spec(f"  - name: a\n    type: EC\n    ops: [sign]\n    import: {source}")
    found = problems(text)
    assert len(found) >= 1
    assert all("BEGIN" not in p or "never key material" in p for p in found)
    assert any("choose exactly one of byok, fromConfig or fromEnv" in p or "never key material" in p for p in found)


def test_kek_belongs_to_byok_imports_only(problems):
    text = spec(KEK + "\n  - name: a\n    type: EC\n    ops: [sign]\n    import: {fromEnv: A, kek: kek}")
    assert any("keys[1].import.kek: kek applies to byok imports only" in p for p in problems(text))


def test_a_kek_cannot_itself_be_imported(problems):
    text = spec(KEK + "\n    import: {fromEnv: KEK_PEM}")
    assert any("keys[0].import: a key exchange key is generated in the vault" in p for p in problems(text))


def test_imports_need_a_deployer_that_can_import(problems):
    text = spec(
        "  - name: a\n    type: EC\n    ops: [sign]\n    import: {fromEnv: A}",
        access="access: {model: rbac, deployer: smoke}",
    )
    assert any(
        f"{at(text, 'smoke')}: vaults[0].access.deployer: imported keys are imported through the data plane" in p
        for p in problems(text)
    )
    assert problems(text.replace("deployer: smoke", "deployer: none")) == []
