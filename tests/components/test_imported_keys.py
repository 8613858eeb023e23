"""Imported keys in the rendered graph (pure mocks): the ImportedKey resource, its inputs, ordering after its
KEK, secrecy of the material, the deployer's import rights, the policy pack's verdicts and hooks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pulumi.provider.experimental.component import ComponentProvider

from vaultspec.byok.material import public_pem, thumbprint
from vaultspec.byok.transfer import wrap_target_key
from vaultspec.catalog.keys import IMPORTED_KEY_TYPE
from vaultspec.components import KeyVault, VaultKey, VaultSecret
from vaultspec.components.validation import ComponentArgsError
from vaultspec.engine.plan import evaluate_policies, plan_document
from vaultspec.engine.render import RenderError, render, render_spec
from vaultspec.smoke.hooks import SmokeHookFactory

from .conftest import HEADER, KEY, ROLE, VAULT

TARGET = rsa.generate_private_key(65537, 3072)
MATERIAL = ec.generate_private_key(ec.SECP256R1())
MATERIAL_PEM = MATERIAL.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
KEK_ID = "https://imports-kv.vault.azure.net/keys/kek/0123456789abcdef"
IMPORTS_VAULT = """\
  - name: imports-kv
    access: {model: accessPolicies, deployer: lifecycle}
    keys:
      - name: signing
        type: RSA-HSM
        size: 3072
        ops: [sign, verify]
        import: {byok: transfer/signing.byok, kek: kek, publicKey: transfer/signing.pem}
      - name: kek
        type: RSA-HSM
        size: 3072
        ops: [import]
      - name: partner
        type: EC
        ops: [verify]
        import: {fromEnv: PARTNER_KEY_PEM}
"""


@pytest.fixture
def spec(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    transfer = project / "transfer"
    transfer.mkdir()
    kek = rsa.generate_private_key(65537, 3072).public_key()
    (transfer / "signing.byok").write_bytes(wrap_target_key(TARGET, kek, KEK_ID, "tests"))
    (transfer / "signing.pem").write_text(public_pem(TARGET))
    monkeypatch.setenv("PARTNER_KEY_PEM", MATERIAL_PEM)
    path = project / "imports.yaml"
    path.write_text(HEADER + IMPORTS_VAULT)
    return path


def test_imported_keys_are_their_own_resources_after_their_kek(spec: Path):
    rendering = render_spec(spec)
    (kek,) = rendering.of_type(KEY)
    imported = {r.name: r for r in rendering.of_type(IMPORTED_KEY_TYPE)}
    assert sorted(imported) == ["imports-kv/keys/partner", "imports-kv/keys/signing"]
    byok = imported["imports-kv/keys/signing"]
    assert kek.urn in byok.dependencies and rendering.find(VAULT, "imports-kv").urn in byok.dependencies
    assert kek.inputs["properties"]["keyOps"] == ["import"] and kek.inputs["properties"]["kty"] == "RSA-HSM"
    assert byok.inputs["import"] == {
        "source": "byok",
        "kek": "kek",
        "fingerprint": byok.inputs["import"]["fingerprint"],
        "publicKeyThumbprint": thumbprint(TARGET),
    }
    assert byok.inputs["import"]["fingerprint"].startswith("sha256:")
    assert byok.inputs["properties"] == {
        "kty": "RSA-HSM",
        "keySize": 3072,
        "keyOps": ["sign", "verify"],
        "attributes": {"enabled": True, "exportable": False},
    }
    assert byok.inputs["keyUri"] == "https://imports-kv.vault.azure.net/keys/signing"
    assert rendering.stack_outputs["vaults"]["imports-kv"]["keys"]["signing"] == byok.inputs["keyUri"]


def test_material_is_a_secret_everywhere_and_its_fingerprint_reveals_nothing(spec: Path):
    rendering = render_spec(spec)
    partner = rendering.find(IMPORTED_KEY_TYPE, "imports-kv/keys/partner")
    assert "material" in partner.secret_paths and "__provider" in partner.secret_paths
    assert partner.inputs["import"]["fingerprint"] == f"jwk-thumbprint:{thumbprint(MATERIAL)}"
    document = json.dumps(plan_document(rendering, evaluate_policies(rendering.resources, None)))
    body = MATERIAL_PEM.splitlines()[1]
    assert body not in document and '"material": "[secret]"' in document


def test_the_deployer_may_import_in_an_access_policy_vault(spec: Path):
    vault = render_spec(spec).find(VAULT, "imports-kv")
    (deployer,) = vault.inputs["properties"]["accessPolicies"]
    assert {"import", "update", "getrotationpolicy", "setrotationpolicy", "delete", "recover"} <= set(
        deployer["permissions"]["keys"]
    )


def test_the_policy_pack_judges_imported_keys(spec: Path):
    verdicts = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in evaluate_policies(render_spec(spec).resources, None)}
    assert ("kv-key-expiry", "imports-kv/keys/partner") in verdicts
    assert ("kv-key-expiry", "imports-kv/keys/signing") in verdicts
    assert ("kv-key-hsm-backed", "imports-kv/keys/partner") in verdicts
    assert not any(policy in ("kv-key-hsm-import-byok", "kv-kek-import-only") for policy, _ in verdicts)


def test_material_for_the_wrong_kind_of_key_fails_the_run_naming_the_key(spec: Path, monkeypatch):
    monkeypatch.setenv("PARTNER_KEY_PEM", MATERIAL_PEM.replace("PRIVATE", "PUBLIC"))
    with pytest.raises(RenderError) as raised:
        render_spec(spec)
    assert "vault 'imports-kv': key 'partner'" in str(raised.value) and "BEGIN" not in str(raised.value)
    monkeypatch.setenv("PARTNER_KEY_PEM", MATERIAL_PEM)
    spec.write_text(spec.read_text().replace("type: EC\n", "type: EC\n        curve: P-384\n"))
    with pytest.raises(RenderError, match="the key material is an EC P-256 key, but the key is declared EC P-384"):
        render_spec(spec)


def test_missing_material_is_a_warning_at_preview_and_an_error_on_a_real_run(spec: Path, monkeypatch):
    monkeypatch.delenv("PARTNER_KEY_PEM")
    preview = render_spec(spec)
    assert any("reads environment variable PARTNER_KEY_PEM, which is not set" in w for w in preview.warnings)
    with pytest.raises(RenderError, match="vault 'imports-kv': key 'partner' reads environment variable"):
        render_spec(spec, preview=False)


def test_smoke_hooks_bind_to_imported_keys(spec: Path):
    from vaultspec.spec import load_spec

    factory = SmokeHookFactory(load_spec(spec).vaults)
    rendering = render_spec(spec, hooks=factory)
    imported = rendering.find(IMPORTED_KEY_TYPE, "imports-kv/keys/signing")
    assert imported.options.hooks == {
        "after_create": ["vaultspec-smoke-imports-kv-keys-signing"],
        "after_update": ["vaultspec-smoke-imports-kv-keys-signing"],
    }


def test_a_vault_key_in_an_existing_vault_can_be_imported():
    rendering = render(
        lambda: VaultKey(
            "legacy",
            {
                "name": "legacy-signing",
                "vault_name": "existing-kv",
                "resource_group_name": "rg",
                "type": "EC",
                "ops": ["sign"],
                "import_": {"value": MATERIAL_PEM},
            },
        )
    )
    (key,) = rendering.of_type(IMPORTED_KEY_TYPE)
    assert key.inputs["vaultUri"] == "https://existing-kv.vault.azure.net"
    assert rendering.of_type(KEY) == []


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ({"type": "EC", "ops": ["sign"], "import_": {}}, "choose exactly one of byok, from_config, from_env or value"),
        ({"type": "EC", "ops": ["sign"], "import_": {"byok": "{}", "kek": "k"}}, "type must be RSA-HSM or EC-HSM"),
        ({"type": "EC-HSM", "ops": ["sign"], "import_": {"byok": "{}"}}, "import_.kek is required with byok"),
        ({"type": "EC", "ops": ["sign"], "import_": {"from_env": "X", "kek": "k"}}, "kek applies to byok imports"),
        ({"type": "RSA", "ops": ["import"]}, "a key exchange key (ops [import]) must be RSA-HSM"),
        ({"type": "RSA-HSM", "ops": ["import", "sign"]}, "with ops exactly [import]"),
    ],
)
def test_component_arguments_are_checked_with_a_message_naming_the_input(key: dict[str, Any], message: str):
    with pytest.raises(RenderError, match=re.escape(message)) as raised:
        render(lambda: VaultKey("k", {"name": "k", "vault_name": "v", "resource_group_name": "rg", **key}))
    assert isinstance(raised.value.__cause__, ComponentArgsError)


def test_imports_need_a_deployer_that_can_import():
    args = {
        "resource_group_name": "rg",
        "location": "westeurope",
        "access": {"model": "rbac", "deployer": "smoke"},  # the default, lifecycle, may import
        "keys": [{"name": "k", "type": "EC", "ops": ["sign"], "import_": {"value": MATERIAL_PEM}}],
    }
    with pytest.raises(RenderError, match=r"access\.deployer: imported keys are imported through the data plane"):
        render(lambda: KeyVault("kv", args))


def test_other_languages_declare_imports_under_import():
    provider = ComponentProvider([KeyVault, VaultKey, VaultSecret], "vaultspec")
    inputs = {
        "resourceGroupName": "rg",
        "location": "westeurope",
        "access": {"model": "rbac", "deployer": "lifecycle"},
        "keys": [{"name": "k1", "type": "EC", "ops": ["sign"], "import": {"value": MATERIAL_PEM}}],
    }
    args = provider.map_inputs(inputs, provider._component_defs["KeyVault"])
    rendering = render(lambda: KeyVault("app-kv", args))
    assert rendering.find(IMPORTED_KEY_TYPE, "app-kv/keys/k1").inputs["import"]["source"] == "material"
    assert len(rendering.of_type(ROLE)) == 2  # Crypto Officer + Secrets Officer (lifecycle)


def test_the_provider_pickled_into_state_holds_no_material_and_no_credential(spec: Path):
    import base64

    import dill
    from pulumi.dynamic.dynamic import serialize_provider

    from vaultspec.components.import_provider import ImportedKeyProvider

    pickled = base64.b64decode(serialize_provider(ImportedKeyProvider()))
    assert b"vaultspec.components.import_provider" in pickled and len(pickled) < 200  # by reference, no state
    assert dill.loads(pickled).__dict__ == {}
    partner = render_spec(spec).find(IMPORTED_KEY_TYPE, "imports-kv/keys/partner")
    assert "__provider" in partner.secret_paths  # and the engine encrypts it in state anyway
    assert base64.b64decode(partner.revealed_inputs()["__provider"]) == pickled
