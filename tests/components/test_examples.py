"""Every example in examples/ is a runnable Pulumi project; each runs here under mocks."""

from __future__ import annotations

import os
import runpy
import shutil
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from vaultspec.byok.material import public_pem
from vaultspec.byok.transfer import wrap_target_key
from vaultspec.catalog.keys import IMPORTED_KEY_TYPE
from vaultspec.engine.recording import Rendering
from vaultspec.engine.render import render

from .conftest import KEY, KEY_VAULT, LOCK, PASSWORD, ROLE, ROOT, SECRET, VAULT

EXAMPLES = ROOT / "examples"


def run_example(folder: Path) -> Rendering:
    return render(
        lambda: runpy.run_path(str(folder / "__main__.py"), run_name="__main__"),
        project=yaml.safe_load((folder / "Pulumi.yaml").read_text())["name"],
        stack="example",
        root_directory=folder,
    )


def types(rendering: Rendering) -> list[str]:
    return [r.type for r in rendering.resources]


ENTRY_POINTS = {"python": "__main__.py", "nodejs": "index.ts", "go": "main.go"}


@pytest.mark.parametrize("folder", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()), ids=lambda name: name)
def test_every_example_is_a_documented_pulumi_project(folder: str):
    path = EXAMPLES / folder
    project = yaml.safe_load((path / "Pulumi.yaml").read_text())
    assert (path / ENTRY_POINTS[project["runtime"]["name"]]).is_file()
    assert (path / "README.md").read_text().strip()
    assert f"`{folder}/`" in (EXAMPLES / "README.md").read_text()


def test_default_example_builds_a_vault_from_plain_python():
    rendering = run_example(EXAMPLES / "default")
    assert types(rendering) == [KEY_VAULT, VAULT, ROLE, ROLE, ROLE, KEY, SECRET]  # deployer: lifecycle, one grant
    assert rendering.find(VAULT, "payments").inputs["vaultName"] == "payments-example-kv"
    assert rendering.stack_outputs["keyIds"] == {"signing": "https://payments-example-kv.vault.azure.net/keys/signing"}


def test_yaml_driven_example_reads_its_spec_file():
    rendering = run_example(EXAMPLES / "yaml-driven")
    assert [r.name for r in rendering.of_type(KEY)] == ["orders-example-kv/keys/tokens"]
    assert rendering.stack_outputs["vaultUris"] == {"orders-example-kv": "https://orders-example-kv.vault.azure.net/"}


def test_access_policies_example_has_no_role_assignments():
    rendering = run_example(EXAMPLES / "access-policies")
    assert rendering.of_type(ROLE) == []
    policies = rendering.find(VAULT, "ledger").inputs["properties"]["accessPolicies"]
    assert [p["objectId"] for p in policies] == [
        "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
        "33333333-3333-3333-3333-333333333333",  # the deployer, with its lifecycle permissions
    ]


def test_rbac_key_scoped_example_scopes_grants_to_one_key_and_one_secret():
    rendering = run_example(EXAMPLES / "rbac-key-scoped")
    scopes = sorted(r.inputs["scope"].split("/vaults/")[1] for r in rendering.of_type(ROLE))
    assert scopes == [
        "settlement-example-kv",
        "settlement-example-kv",
        "settlement-example-kv/keys/settlement-signing",
        "settlement-example-kv/secrets/sftp-password",
    ]
    assert rendering.of_type(LOCK)
    assert rendering.warnings == [
        "vault 'settlement-example-kv': secret 'sftp-password' reads environment variable SFTP_PASSWORD, "
        "which is not set; its value is unknown in this preview"
    ]


def test_existing_vault_example_adds_a_key_and_a_secret_only():
    rendering = run_example(EXAMPLES / "existing-vault-key")
    assert types(rendering) == [
        "vaultspec:index:VaultKey",
        KEY,
        "vaultspec:index:VaultSecret",
        PASSWORD,
        SECRET,
    ]
    key = rendering.find(KEY, "storage-cmk")
    assert key.inputs["vaultName"] == "platform-shared-kv"
    assert key.options.replace_on_changes == ["properties", "tags"]
    assert rendering.stack_outputs == {
        "keyId": "https://platform-shared-kv.vault.azure.net/keys/storage-cmk",
        "secretId": "https://platform-shared-kv.vault.azure.net/secrets/webhook-token",
    }


def test_byok_example_renders_its_kek_and_after_the_how_to_its_imported_keys(tmp_path):
    folder = tmp_path / "byok"
    shutil.copytree(EXAMPLES / "byok", folder, ignore=shutil.ignore_patterns("byok.yaml", "transfer", "private"))
    assert [r.name for r in run_example(folder).of_type(KEY)] == ["byok-example-kv/keys/kek"]
    kek = rsa.generate_private_key(65537, 3072).public_key()
    kid = "https://byok-example-kv.vault.azure.net/keys/kek/0123456789abcdef0123456789abcdef"
    (folder / "transfer").mkdir()
    for name, key in (
        ("signing-rsa", rsa.generate_private_key(65537, 3072)),
        ("signing-ec", ec.generate_private_key(ec.SECP256R1())),
    ):
        (folder / "transfer" / f"{name}.byok").write_bytes(wrap_target_key(key, kek, kid, "tests"))
        (folder / "transfer" / f"{name}.pub.pem").write_text(public_pem(key))
    (folder / "byok.yaml").write_text((folder / "kek.yaml").read_text() + (folder / "imports.yaml").read_text())
    rendering = run_example(folder)
    (kek_key,) = rendering.of_type(KEY)
    imported = rendering.of_type(IMPORTED_KEY_TYPE)
    assert sorted(r.name for r in imported) == ["byok-example-kv/keys/signing-ec", "byok-example-kv/keys/signing-rsa"]
    assert all(kek_key.urn in r.dependencies and r.inputs["import"]["source"] == "byok" for r in imported)
    assert os.access(EXAMPLES / "byok" / "howto.sh", os.X_OK)
