"""stacks/dev.yaml renders to exactly this resource graph, with these wire-format inputs."""

from __future__ import annotations

from vaultspec.engine.recording import Rendering
from vaultspec.engine.values import Concealed
from vaultspec.spec import load_spec
from vaultspec.spec.model import epoch_seconds
from vaultspec.spec.rules import waiver_tags

from .conftest import (
    APP,
    DEPLOYER,
    DIAGNOSTICS,
    GROUP,
    KEY,
    KEY_VAULT,
    LOCK,
    PASSWORD,
    ROLE,
    SECRET,
    STACKS,
    SUBSCRIPTION,
    TENANT,
    VAULT,
    graph,
)

PAY = "payments-dev-kv"
LEDGER = "ledger-dev-kv"
LEDGER_APP = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
LAW = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-observability"
    "/providers/Microsoft.OperationalInsights/workspaces/law-dev"
)
SPEC = {vault.name: vault for vault in load_spec(STACKS / "dev.yaml").vaults}
WAIVERS = {name: waiver_tags(vault) for name, vault in SPEC.items()}  # the spec's waivers, as tags
RBAC_WAIVER = {
    "waiver:kv-rbac-authorization": "Shows the access-policy model side by side with RBAC for teams still migrating."
}


def key_spec(vault: str, name: str):
    return next(key for key in SPEC[vault].keys if key.name == name)


def secret_spec(vault: str, name: str):
    return next(secret for secret in SPEC[vault].secrets if secret.name == name)


def dev_vault_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-vaultspec-dev/providers/Microsoft.KeyVault/vaults/{name}"


def role_definition(guid: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def test_dev_stack_renders_exactly_this_graph(dev_rendering: Rendering):
    assert graph(dev_rendering) == [
        (KEY_VAULT, LEDGER, ""),
        (VAULT, LEDGER, LEDGER),
        (KEY, f"{LEDGER}/keys/archive-kek", LEDGER),
        (KEY, f"{LEDGER}/keys/ledger-seal", LEDGER),
        (PASSWORD, f"{LEDGER}/secrets/ledger-hmac", LEDGER),
        (SECRET, f"{LEDGER}/secrets/ledger-hmac", LEDGER),
        (DIAGNOSTICS, f"{LEDGER}/diagnostics", LEDGER),
        (LOCK, f"{LEDGER}/lock", LEDGER),
        (KEY_VAULT, PAY, ""),
        (VAULT, PAY, PAY),
        (ROLE, f"{PAY}/roles/key-vault-crypto-officer@vault/deployer", PAY),
        (ROLE, f"{PAY}/roles/key-vault-crypto-user@keys/signing/{APP}", PAY),
        (ROLE, f"{PAY}/roles/key-vault-reader@vault/{GROUP}", PAY),
        (ROLE, f"{PAY}/roles/key-vault-secrets-officer@vault/deployer", PAY),
        (ROLE, f"{PAY}/roles/key-vault-secrets-user@secrets/db-password/{APP}", PAY),
        (KEY, f"{PAY}/keys/data-wrapping", PAY),
        (KEY, f"{PAY}/keys/signing", PAY),
        (KEY, f"{PAY}/keys/tokens", PAY),
        (PASSWORD, f"{PAY}/secrets/session-key", PAY),
        (SECRET, f"{PAY}/secrets/db-password", PAY),
        (SECRET, f"{PAY}/secrets/partner-api-token", PAY),
        (SECRET, f"{PAY}/secrets/session-key", PAY),
        (DIAGNOSTICS, f"{PAY}/diagnostics", PAY),
    ]


def test_rbac_vault_sets_every_security_property_and_sends_no_access_policies(dev_rendering: Rendering):
    vault = dev_rendering.find(VAULT, PAY)
    assert vault.inputs == {
        "vaultName": PAY,
        "resourceGroupName": "rg-vaultspec-dev",
        "location": "westeurope",
        "tags": {"owner": "platform", "env": "dev", **WAIVERS[PAY]},
        "properties": {
            "sku": {"family": "A", "name": "premium"},
            "tenantId": TENANT,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enablePurgeProtection": True,
            "enableRbacAuthorization": True,
            "publicNetworkAccess": "enabled",
            "networkAcls": {
                "bypass": "None",
                "defaultAction": "Deny",
                "ipRules": [{"value": "127.0.0.1/32"}],
                "virtualNetworkRules": [],
            },
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
        },
    }
    assert vault.options.protect is False  # a dev stack
    assert vault.id == dev_vault_id(PAY)


def test_access_policy_vault_carries_grants_and_the_lifecycle_deployer_inline(dev_rendering: Rendering):
    properties = dev_rendering.find(VAULT, LEDGER).inputs["properties"]
    assert properties["enableRbacAuthorization"] is False
    assert properties["accessPolicies"] == [
        {
            "objectId": LEDGER_APP,
            "tenantId": TENANT,
            "permissions": {"keys": ["get", "sign", "verify"], "secrets": ["get"], "certificates": []},
        },
        {
            "objectId": DEPLOYER,
            "tenantId": TENANT,
            "permissions": {
                "keys": [
                    "get",
                    "list",
                    "sign",
                    "verify",
                    "encrypt",
                    "decrypt",
                    "wrapKey",
                    "unwrapKey",
                    "getrotationpolicy",
                    "delete",
                    "recover",
                ],
                "secrets": ["get", "list", "delete", "recover"],
                "certificates": [],
            },
        },
    ]
    assert not dev_rendering.of_type(ROLE) or all(r.name.startswith(PAY) for r in dev_rendering.of_type(ROLE))


def test_key_scoped_grant_targets_the_key_and_waits_for_it(dev_rendering: Rendering):
    grant = dev_rendering.find(ROLE, f"{PAY}/roles/key-vault-crypto-user@keys/signing/{APP}")
    key = dev_rendering.find(KEY, f"{PAY}/keys/signing")
    assert grant.inputs == {
        "principalId": APP,
        "principalType": "ServicePrincipal",
        "roleDefinitionId": role_definition("12338af0-0e69-4776-bea7-57ae8d297424"),
        "scope": f"{dev_vault_id(PAY)}/keys/signing",
        # UUIDv5 of (subscription, resource group, vault, scope, role GUID, principal): fixed forever.
        "roleAssignmentName": "89c7691e-a722-5491-a445-644415495f18",
        "description": "payments API signs settlement files",
    }
    assert key.urn in grant.dependencies


def test_deployer_gets_lifecycle_roles_at_vault_scope(dev_rendering: Rendering):
    officers = {
        "key-vault-crypto-officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "key-vault-secrets-officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    }
    for label, guid in officers.items():
        grant = dev_rendering.find(ROLE, f"{PAY}/roles/{label}@vault/deployer")
        assert grant.inputs["principalId"] == DEPLOYER
        assert grant.inputs["principalType"] == "ServicePrincipal"
        assert grant.inputs["roleDefinitionId"] == role_definition(guid)
        assert grant.inputs["scope"] == dev_vault_id(PAY)
        assert grant.inputs["description"] == "vaultspec deployer (lifecycle)"


def test_group_grant_keeps_its_principal_type(dev_rendering: Rendering):
    grant = dev_rendering.find(ROLE, f"{PAY}/roles/key-vault-reader@vault/{GROUP}")
    assert grant.inputs["principalType"] == "Group"
    assert grant.inputs["scope"] == dev_vault_id(PAY)


def test_keys_are_create_only_resources_with_epoch_times_and_rotation(dev_rendering: Rendering):
    signing = dev_rendering.find(KEY, f"{PAY}/keys/signing")
    declared = key_spec(PAY, "signing")
    assert signing.inputs == {
        "keyName": "signing",
        "vaultName": PAY,
        "resourceGroupName": "rg-vaultspec-dev",
        "properties": {
            "kty": "RSA-HSM",
            "keySize": 3072,
            "keyOps": ["sign", "verify"],
            "attributes": {
                "enabled": True,
                "exportable": False,
                "expires": epoch_seconds(declared.expires),
                "notBefore": epoch_seconds(declared.not_before),
            },
            "rotationPolicy": {
                "lifetimeActions": [
                    {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}},
                    {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}},
                ],
                "attributes": {"expiryTime": "P1Y"},
            },
        },
    }
    assert signing.options.replace_on_changes == ["properties", "tags"]
    assert signing.options.delete_before_replace is True
    assert signing.options.protect is False


def test_ec_key_takes_a_curve_and_rotates_before_expiry(dev_rendering: Rendering):
    tokens = dev_rendering.find(KEY, f"{PAY}/keys/tokens").inputs["properties"]
    assert tokens["kty"] == "EC-HSM"
    assert tokens["curveName"] == "P-256"
    assert "keySize" not in tokens
    assert tokens["rotationPolicy"]["lifetimeActions"] == [
        {"action": {"type": "rotate"}, "trigger": {"timeBeforeExpiry": "P30D"}}
    ]


def test_keys_and_secrets_wait_for_the_deployers_grants(dev_rendering: Rendering):
    deployer_grants = {r.urn for r in dev_rendering.of_type(ROLE) if r.name.endswith("/deployer")}
    vault = dev_rendering.find(VAULT, PAY)
    for resource in dev_rendering.resources:
        if resource.type in (KEY, SECRET) and resource.name.startswith(PAY):
            assert deployer_grants | {vault.urn} <= set(resource.dependencies), resource.name


def test_secrets_hold_secret_values_and_expiries(dev_rendering: Rendering):
    generated = dev_rendering.find(SECRET, f"{PAY}/secrets/session-key")
    assert generated.secret_paths == ["properties.value"]
    assert isinstance(generated.inputs["properties"]["value"], Concealed)
    assert generated.printable_inputs() == {
        "secretName": "session-key",
        "vaultName": PAY,
        "resourceGroupName": "rg-vaultspec-dev",
        "properties": {
            "value": "[secret]",
            "contentType": "application/octet-stream",
            "attributes": {"enabled": True, "expires": epoch_seconds(secret_spec(PAY, "session-key").expires)},
        },
    }
    password = dev_rendering.find(PASSWORD, f"{PAY}/secrets/session-key")
    assert password.inputs == {"length": 48, "special": True}
    assert password.urn in generated.dependencies
    assert len(generated.revealed_inputs()["properties"]["value"]) == 48


def test_missing_config_and_environment_secrets_are_warnings_on_a_dry_run(dev_rendering: Rendering):
    assert dev_rendering.warnings == [
        "vault 'payments-dev-kv': secret 'db-password' reads config 'vaultspec:dbPassword', which is not set "
        "(pulumi config set --secret dbPassword ...); its value is unknown in this preview",
        "vault 'payments-dev-kv': secret 'partner-api-token' reads environment variable "
        "VAULTSPEC_DEV_PARTNER_TOKEN, which is not set; its value is unknown in this preview",
    ]
    for name in ("db-password", "partner-api-token"):
        # An unknown value has nothing to leak, and the SDK sends it as a bare unknown (it wraps only known
        # secrets, for custom resources), so the engine, the pack and the plan see "[unknown]".
        secret = dev_rendering.find(SECRET, f"{PAY}/secrets/{name}")
        assert secret.secret_paths == []
        assert secret.printable_inputs()["properties"]["value"] == "[unknown]"


def test_diagnostics_send_audit_logs_and_all_metrics_to_the_workspace(dev_rendering: Rendering):
    setting = dev_rendering.find(DIAGNOSTICS, f"{PAY}/diagnostics")
    assert setting.inputs == {
        "name": "vaultspec-audit",
        "resourceUri": dev_vault_id(PAY),
        "workspaceId": LAW,
        "logAnalyticsDestinationType": "Dedicated",  # resource-specific tables (AZKVAuditLogs)
        "logs": [{"categoryGroup": "audit", "enabled": True}],
        "metrics": [{"category": "AllMetrics", "enabled": True}],
    }


def test_lock_comes_last_and_covers_the_vault(dev_rendering: Rendering):
    lock = dev_rendering.find(LOCK, f"{LEDGER}/lock")
    assert lock.inputs == {
        "lockName": "vaultspec-cannotdelete",
        "level": "CanNotDelete",
        "scope": dev_vault_id(LEDGER),
        "notes": "Managed by vaultspec: remove `lock` from the vault's spec before deleting the vault.",
    }
    others = {r.urn for r in dev_rendering.resources if r.name.startswith(f"{LEDGER}/") and r.type in (KEY, SECRET)}
    others.add(dev_rendering.find(DIAGNOSTICS, f"{LEDGER}/diagnostics").urn)
    assert others <= set(lock.dependencies)


def test_waiver_tags_are_on_the_vault_only_so_a_new_waiver_never_touches_a_key(dev_rendering: Rendering):
    """A key's tags cannot change in place (ARM's key PUT is create-if-not-exist): a waiver written on
    keys would force replacing them whenever a vault's exceptions change. The pack reads the vault's."""
    for vault in SPEC.values():
        waivers = waiver_tags(vault)
        assert waivers
        assert waivers.items() <= dev_rendering.find(VAULT, vault.name).inputs["tags"].items()
        for resource in dev_rendering.resources:
            if resource.type in (KEY, SECRET) and resource.name.startswith(f"{vault.name}/"):
                tags = resource.inputs.get("tags") or {}
                assert not [tag for tag in tags if tag.startswith("waiver:")], resource.name
    assert RBAC_WAIVER.items() <= dev_rendering.find(VAULT, LEDGER).inputs["tags"].items()


def test_stack_outputs_name_every_vault_key_and_secret(dev_rendering: Rendering):
    assert dev_rendering.stack_outputs == {
        "spec": "stacks/dev.yaml",
        "vaults": {
            LEDGER: {
                "id": dev_vault_id(LEDGER),
                "uri": f"https://{LEDGER}.vault.azure.net/",
                "keys": {
                    "archive-kek": f"https://{LEDGER}.vault.azure.net/keys/archive-kek",
                    "ledger-seal": f"https://{LEDGER}.vault.azure.net/keys/ledger-seal",
                },
                "secrets": {"ledger-hmac": f"https://{LEDGER}.vault.azure.net/secrets/ledger-hmac"},
            },
            PAY: {
                "id": dev_vault_id(PAY),
                "uri": f"https://{PAY}.vault.azure.net/",
                "keys": {
                    name: f"https://{PAY}.vault.azure.net/keys/{name}"
                    for name in ("signing", "tokens", "data-wrapping")
                },
                "secrets": {
                    name: f"https://{PAY}.vault.azure.net/secrets/{name}"
                    for name in ("db-password", "partner-api-token", "session-key")
                },
            },
        },
    }


def test_component_registers_its_outputs_once(dev_rendering: Rendering):
    component = dev_rendering.find(KEY_VAULT, LEDGER)
    assert component.custom is False
    assert component.outputs == {
        "vaultId": dev_vault_id(LEDGER),
        "vaultName": LEDGER,
        "vaultUri": f"https://{LEDGER}.vault.azure.net/",
        "keyIds": {
            "archive-kek": f"https://{LEDGER}.vault.azure.net/keys/archive-kek",
            "ledger-seal": f"https://{LEDGER}.vault.azure.net/keys/ledger-seal",
        },
        "secretIds": {"ledger-hmac": f"https://{LEDGER}.vault.azure.net/secrets/ledger-hmac"},
    }
