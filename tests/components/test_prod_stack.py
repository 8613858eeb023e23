"""stacks/prod.example.yaml: the guardrail-clean production example, rendered as Azure needs it."""

from __future__ import annotations

from vaultspec.engine.recording import Rendering

from .conftest import DEPLOYER, DIAGNOSTICS, KEY, KEY_VAULT, LOCK, ROLE, SECRET, SUBSCRIPTION, VAULT, graph

PROD = "payments-prod-kv"
SPEC_TENANT = "00000000-0000-0000-0000-000000000000"  # the example's placeholder (validate warns about it)
PAYMENTS_API = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
CMK = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"


def prod_vault_id() -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-payments-prod/providers/Microsoft.KeyVault/vaults/{PROD}"


def test_prod_example_renders_exactly_this_graph(prod_rendering: Rendering):
    assert graph(prod_rendering) == [
        (KEY_VAULT, PROD, ""),
        (VAULT, PROD, PROD),
        (ROLE, f"{PROD}/roles/key-vault-crypto-officer@vault/deployer", PROD),
        (ROLE, f"{PROD}/roles/key-vault-crypto-service-encryption-user@keys/storage-cmk/{CMK}", PROD),
        (ROLE, f"{PROD}/roles/key-vault-crypto-user@keys/settlement-signing/{PAYMENTS_API}", PROD),
        (ROLE, f"{PROD}/roles/key-vault-secrets-officer@vault/deployer", PROD),
        (ROLE, f"{PROD}/roles/key-vault-secrets-user@secrets/db-password/{PAYMENTS_API}", PROD),
        (KEY, f"{PROD}/keys/settlement-signing", PROD),
        (KEY, f"{PROD}/keys/storage-cmk", PROD),
        (KEY, f"{PROD}/keys/token-signing", PROD),
        (SECRET, f"{PROD}/secrets/db-password", PROD),
        (DIAGNOSTICS, f"{PROD}/diagnostics", PROD),
        (LOCK, f"{PROD}/lock", PROD),
    ]


def test_prod_vault_is_private_and_takes_the_specs_tenant(prod_rendering: Rendering):
    vault = prod_rendering.find(VAULT, PROD)
    assert vault.inputs["tags"] == {"owner": "platform", "env": "prod", "costCenter": "4711"}
    assert vault.inputs["properties"] == {
        "sku": {"family": "A", "name": "premium"},
        "tenantId": SPEC_TENANT,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enablePurgeProtection": True,
        "enableRbacAuthorization": True,
        "publicNetworkAccess": "disabled",
        "networkAcls": {
            "bypass": "None",
            "defaultAction": "Deny",
            "ipRules": [],
            "virtualNetworkRules": [],  # Azure ignores firewall rules while public access is disabled
        },
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
    }


def test_prod_stack_protects_vault_and_keys(prod_rendering: Rendering):
    assert prod_rendering.find(VAULT, PROD).options.protect is True
    for key in prod_rendering.of_type(KEY):
        assert key.options.protect is True
    assert prod_rendering.find(SECRET, f"{PROD}/secrets/db-password").options.protect is None


def test_lifecycle_deployer_gets_crypto_officer_and_secrets_officer(prod_rendering: Rendering):
    deployer = [r for r in prod_rendering.of_type(ROLE) if r.name.endswith("/deployer")]
    assert {r.inputs["roleDefinitionId"].rsplit("/", 1)[-1] for r in deployer} == {
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    }
    assert {r.inputs["principalId"] for r in deployer} == {DEPLOYER}
    assert {r.inputs["principalType"] for r in deployer} == {"ServicePrincipal"}  # read from the mock's token
    assert {r.inputs["description"] for r in deployer} == {"vaultspec deployer (lifecycle)"}


def test_role_definitions_are_subscription_scoped(prod_rendering: Rendering):
    for grant in prod_rendering.of_type(ROLE):
        assert grant.inputs["roleDefinitionId"].startswith(
            f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        )


def test_secret_scoped_grant_targets_the_secret(prod_rendering: Rendering):
    grant = prod_rendering.find(ROLE, f"{PROD}/roles/key-vault-secrets-user@secrets/db-password/{PAYMENTS_API}")
    assert grant.inputs["scope"] == f"{prod_vault_id()}/secrets/db-password"
    assert prod_rendering.find(SECRET, f"{PROD}/secrets/db-password").urn in grant.dependencies
