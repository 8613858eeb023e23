"""The `ImportedKey` dynamic provider against a real twin: its check/diff/create/read/update/delete called
directly (as pulumi-resource-pulumi-python calls them), with the inputs the real component renders.

The deploying identity is the ambient environment (`twin env`), exactly as under the Pulumi CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.keys import KeyClient, KeyVaultKey
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from vaultspec.byok.material import public_pem, thumbprint
from vaultspec.byok.transfer import wrap_target_key
from vaultspec.catalog.keys import IMPORTED_KEY_TYPE
from vaultspec.components import VaultKey, VaultKeyArgs
from vaultspec.components.import_provider import ImportedKeyProvider, ImportFailed
from vaultspec.engine.render import render
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT, key_client, twin  # noqa: F401

EXPIRES = "2027-06-01T00:00:00Z"


@pytest.fixture(autouse=True)
def deployer_environment(twin: TwinInfo, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """What `eval "$(vaultspec twin env)"` gives the engine: the provider's only way to reach the twin."""
    for name, value in twin.env().items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def keys(twin: TwinInfo) -> Iterator[KeyClient]:  # noqa: F811
    with key_client(twin, TWIN_VAULT) as client:
        yield client


@pytest.fixture(scope="module")
def kek(keys: KeyClient) -> KeyVaultKey:
    return keys.create_rsa_key("provider-kek", size=3072, hardware_protected=True, key_operations=["import"])


def kek_public(kek: KeyVaultKey) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(kek.key.e, "big"), int.from_bytes(kek.key.n, "big")).public_key()


def pem(key: Any) -> str:
    encoded = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return encoded.decode()


def rendered_inputs(twin: TwinInfo, name: str, **key: Any) -> dict[str, Any]:  # noqa: F811
    """The inputs the real `VaultKey` component gives its ImportedKey (secrets revealed, as the engine does)."""
    args = VaultKeyArgs(
        name=name,
        vault_name=TWIN_VAULT,
        resource_group_name="rg",
        vault_uri=twin.vault_url(TWIN_VAULT),
        protect=False,
        **key,
    )
    rendering = render(lambda: VaultKey(name, args), preview=False)
    (resource,) = rendering.of_type(IMPORTED_KEY_TYPE)
    return resource.revealed_inputs()


@pytest.fixture
def byok_inputs(twin: TwinInfo, kek: KeyVaultKey) -> Callable[..., dict[str, Any]]:  # noqa: F811
    def make(name: str, target: Any, blob: str | None = None, **overrides: Any) -> dict[str, Any]:
        blob = blob or wrap_target_key(target, kek_public(kek), kek.id, "tests").decode()
        is_rsa = isinstance(target, rsa.RSAPrivateKey)
        key: dict[str, Any] = {
            "type": "RSA-HSM" if is_rsa else "EC-HSM",
            "ops": ["sign", "verify"],
            "expires": EXPIRES,
            "import_": {"byok": blob, "kek": kek.name, "public_key": public_pem(target)},
            **({"size": target.key_size} if is_rsa else {"curve": "P-256"}),
            **overrides,
        }
        return rendered_inputs(twin, name, **key)

    return make


def outputs_of_create(props: dict[str, Any]) -> dict[str, Any]:
    created = ImportedKeyProvider().create(props)
    assert created.id == f"{props['vaultUri']}/keys/{props['keyName']}"
    return {**created.outs, "__provider": props["__provider"]}


def test_create_imports_a_byok_key_and_the_outputs_hold_no_blob_or_material(keys, byok_inputs):
    target = rsa.generate_private_key(65537, 3072)
    props = byok_inputs("prov-byok-rsa", target)
    outs = outputs_of_create(props)
    key = keys.get_key("prov-byok-rsa")
    assert key.key_type == "RSA-HSM" and key.key_operations == ["sign", "verify"]
    assert outs["publicKeyThumbprint"] == outs["importedThumbprint"] == thumbprint(target)
    assert outs["version"] == key.properties.version and outs["keyUriWithVersion"] == key.id
    assert "byok" not in outs and "material" not in outs
    assert key.properties.expires_on is not None and int(key.properties.expires_on.timestamp()) == 1811808000


def test_a_second_run_with_the_same_source_changes_nothing(byok_inputs):
    props = byok_inputs("prov-same", ec.generate_private_key(ec.SECP256R1()))
    outs = outputs_of_create(props)
    diff = ImportedKeyProvider().diff("id", outs, props)
    assert diff.changes is False and diff.replaces == []


def test_a_changed_blob_imports_a_new_version(keys, byok_inputs):
    first = ec.generate_private_key(ec.SECP256R1())
    outs = outputs_of_create(byok_inputs("prov-rewrap", first))
    second = ec.generate_private_key(ec.SECP256R1())
    news = byok_inputs("prov-rewrap", second)
    provider = ImportedKeyProvider()
    diff = provider.diff("id", outs, news)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update("id", outs, news).outs
    assert len(list(keys.list_properties_of_key_versions("prov-rewrap"))) == 2
    assert updated["importedThumbprint"] == thumbprint(second) == thumbprint_of_vault(keys, "prov-rewrap")
    assert updated["version"] != outs["version"]


def thumbprint_of_vault(keys: KeyClient, name: str) -> str | None:
    from vaultspec.components.import_provider import thumbprint_of

    return thumbprint_of(keys.get_key(name))


def test_changed_properties_are_patched_without_a_new_version(keys, byok_inputs):
    target = ec.generate_private_key(ec.SECP256R1())
    props = byok_inputs("prov-patch", target)
    outs = outputs_of_create(props)
    news = byok_inputs("prov-patch", target, props["byok"], ops=["sign"], enabled=False, tags={"team": "payments"})
    provider = ImportedKeyProvider()
    assert provider.diff("id", outs, news).changes is True
    provider.update("id", outs, news)
    key = keys.get_key("prov-patch")
    assert key.key_operations == ["sign"] and key.properties.enabled is False
    assert key.properties.tags == {"team": "payments"}
    assert len(list(keys.list_properties_of_key_versions("prov-patch"))) == 1


def test_rotation_policy_and_attributes_apply_as_for_generated_keys(keys, byok_inputs):
    rotation = {"rotate_after_create": "P90D", "expiry_time": "P1Y"}
    outputs_of_create(byok_inputs("prov-rotate", ec.generate_private_key(ec.SECP256R1()), rotation=rotation))
    policy = keys.get_key_rotation_policy("prov-rotate")
    assert [(a.action, a.time_after_create) for a in policy.lifetime_actions] == [("Rotate", "P90D")]
    assert policy.expires_in == "P1Y"


def test_read_refreshes_and_a_key_deleted_behind_the_tools_back_reads_as_gone(keys, byok_inputs):
    outs = outputs_of_create(byok_inputs("prov-read", ec.generate_private_key(ec.SECP256R1())))
    keys.update_key_properties("prov-read", enabled=False, tags={"changed": "by hand"})
    read = ImportedKeyProvider().read("id", outs)
    assert read.id == "id" and read.outs["properties"]["attributes"]["enabled"] is False
    assert read.outs["tags"] == {"changed": "by hand"}
    keys.begin_delete_key("prov-read").wait()
    gone = ImportedKeyProvider().read("id", outs)
    assert gone.id == "" and gone.outs == {}


def test_delete_soft_deletes_like_azure_native_and_create_then_recovers_and_adopts(keys, byok_inputs):
    target = ec.generate_private_key(ec.SECP256R1())
    props = byok_inputs("prov-delete", target)
    outs = outputs_of_create(props)
    ImportedKeyProvider().delete("id", outs)
    with pytest.raises(ResourceNotFoundError):
        keys.get_key("prov-delete")
    assert keys.get_deleted_key("prov-delete").recovery_id  # soft-deleted, recoverable, not purged
    ImportedKeyProvider().delete("id", outs)  # deleting what is gone is not an error
    again = outputs_of_create(props)
    assert again["version"] == outs["version"]  # recovered and adopted: the same key, no new version


def test_create_refuses_to_overwrite_a_different_existing_key(keys, byok_inputs):
    keys.create_ec_key("prov-taken", curve="P-256", hardware_protected=True)
    props = byok_inputs("prov-taken", ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ImportFailed, match="already holds a key named 'prov-taken' that is not provably the declared"):
        ImportedKeyProvider().create(props)
    assert len(list(keys.list_properties_of_key_versions("prov-taken"))) == 1


def test_a_blob_the_vault_refuses_fails_the_create_with_its_reason_and_stores_nothing(keys, byok_inputs, kek):
    other_kek = rsa.generate_private_key(65537, 3072).public_key()
    target = ec.generate_private_key(ec.SECP256R1())
    props = byok_inputs("prov-refused", target)
    props["byok"] = wrap_target_key(target, other_kek, kek.id, "tests").decode()
    with pytest.raises(ImportFailed) as failed:
        ImportedKeyProvider().create(props)
    message = str(failed.value)
    assert "could not import key 'prov-refused' of vault 'twinkv': 400 BadParameter" in message
    assert "does not decrypt with this KEK" in message
    with pytest.raises(ResourceNotFoundError):
        keys.get_key("prov-refused")


def test_plain_material_imports_software_and_hsm_keys_and_never_echoes_the_material(keys, twin):  # noqa: F811
    software = ec.generate_private_key(ec.SECP384R1())
    props = rendered_inputs(
        twin, "prov-material", type="EC", curve="P-384", ops=["sign"], import_={"value": pem(software)}
    )
    outs = outputs_of_create(props)
    assert keys.get_key("prov-material").key_type == "EC"
    assert outs["import"]["fingerprint"] == f"jwk-thumbprint:{thumbprint(software)}"
    assert pem(software) not in repr(outs)
    hsm = rsa.generate_private_key(65537, 2048)
    props = rendered_inputs(
        twin, "prov-material-hsm", type="RSA-HSM", size=2048, ops=["sign"], import_={"value": pem(hsm)}
    )
    outputs_of_create(props)
    assert keys.get_key("prov-material-hsm").key_type == "RSA-HSM"


def test_check_reports_bad_sources_without_any_material(twin, kek):  # noqa: F811
    wrong = ec.generate_private_key(ec.SECP256R1())
    props = rendered_inputs(twin, "prov-check", type="EC", ops=["sign"], import_={"value": pem(wrong)})
    props["properties"]["curveName"] = "P-384"
    failures = ImportedKeyProvider().check({}, props).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("material", "the key material is an EC P-256 key, but the key is declared EC P-384")
    ]
    props["material"] = "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----"
    (failure,) = ImportedKeyProvider().check({}, props).failures
    assert "not base64" not in failure.reason and "not an unencrypted private key" in failure.reason
    props["import"] = {"source": "byok", "kek": kek.name, "fingerprint": "x"}
    props["byok"] = "{}"
    (failure,) = ImportedKeyProvider().check({}, props).failures
    assert failure.property == "byok" and "schema_version" in failure.reason


def test_another_vault_replaces_the_key(byok_inputs):
    props = byok_inputs("prov-replace", ec.generate_private_key(ec.SECP256R1()))
    outs = {**props, "vaultUri": "https://elsewhere.vault.localhost:1", "vaultName": "elsewhere"}
    diff = ImportedKeyProvider().diff("id", outs, props)
    assert diff.changes is True and diff.replaces == ["vaultUri", "vaultName"] and diff.delete_before_replace
