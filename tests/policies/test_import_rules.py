"""Key transfer rules, and the key rules on imported keys: importing is never a way around a key rule."""

from __future__ import annotations

import pytest

from tests.policies.builders import component, diagnostic_setting, imported_key, key, vault
from vaultspec.engine.analyzer import analyze

CANARY_MATERIAL = "-----BEGIN PRIVATE KEY-----canary-7f3e1d-----END PRIVATE KEY-----"


def verdicts(*items: dict, vault_item: dict | None = None) -> dict[str, list[str]]:
    owner = vault_item or vault()
    found: dict[str, list[str]] = {}
    for verdict in analyze([component(), owner, diagnostic_setting(owner), *items]):
        if not verdict.waived:
            found.setdefault(verdict.policy, []).append(f"{verdict.level}: {verdict.message}")
    return found


def test_an_hsm_key_imported_by_byok_passes_every_key_rule():
    assert verdicts(imported_key(source="byok")) == {}


def test_plaintext_material_for_an_hsm_key_is_a_mandatory_violation():
    found = verdicts(imported_key(source="material", material=CANARY_MATERIAL))
    assert found == {
        "kv-key-hsm-import-byok": [
            "mandatory: properties.kty is an HSM type but import.source is not byok: the private key was sent to the "
            "vault as plaintext material, so it existed outside an HSM; transfer it as a BYOK blob wrapped for the "
            "vault's key exchange key"
        ]
    }


def test_plaintext_material_for_a_software_key_is_only_the_hsm_advice():
    found = verdicts(imported_key(source="material", kty="EC", curveName="P-256"))
    assert set(found) == {"kv-key-hsm-backed"} and found["kv-key-hsm-backed"][0].startswith("advisory:")


@pytest.mark.parametrize(
    ("properties", "policy"),
    [
        ({"attributes": {"enabled": True}}, "kv-key-expiry"),
        ({"keySize": 2048}, "kv-key-rsa-min-size"),
        ({"rotationPolicy": None}, "kv-key-rotation"),
        ({"kty": "EC-HSM", "curveName": "P-256K"}, "kv-key-ec-curves"),
        ({"attributes": {"exportable": True, "expires": 4102444800}}, "kv-key-not-exportable"),
    ],
)
def test_imported_keys_are_judged_by_the_same_key_rules(properties, policy):
    assert policy in verdicts(imported_key(**properties))


def test_a_vault_waiver_covers_its_imported_keys():
    owner = vault()
    owner["inputs"]["tags"] = {"waiver:kv-key-hsm-import-byok": "legacy HSM cannot export by BYOK, ticket SEC-9"}
    waived = [
        v
        for v in analyze([component(), owner, diagnostic_setting(owner), imported_key(source="material", owner=owner)])
        if v.policy == "kv-key-hsm-import-byok"
    ]
    assert len(waived) == 1 and waived[0].waived and waived[0].reason.endswith("SEC-9")


def test_an_imported_hsm_key_in_a_standard_vault_breaks_the_premium_rule():
    standard = vault(sku={"family": "A", "name": "standard"})
    assert "kv-hsm-requires-premium" in verdicts(imported_key(owner=standard), vault_item=standard)


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"keyOps": ["import"]}, []),
        (
            {"keyOps": ["import", "sign"]},
            [
                "mandatory: properties.keyOps allows import together with other operations: a key exchange key must "
                "do nothing but import (Key Vault refuses BYOK with any other KEK)"
            ],
        ),
        (
            {"keyOps": ["import"], "kty": "RSA"},
            ["mandatory: properties.kty is not RSA-HSM: a key exchange key must be an HSM-protected RSA key"],
        ),
    ],
    ids=["kek", "kek-with-sign", "software-kek"],
)
def test_a_key_exchange_key_is_rsa_hsm_and_only_imports(properties, expected):
    assert verdicts(key("kek", **properties)).get("kv-kek-import-only", []) == expected


def test_no_verdict_ever_contains_the_material():
    stack = [
        imported_key(source="material", material=CANARY_MATERIAL, attributes={"enabled": True}, keySize=2048),
        imported_key("second", source="material", material=CANARY_MATERIAL, kty="RSA"),
    ]
    for messages in verdicts(*stack).values():
        assert all("canary" not in message for message in messages)
