"""Edge cases of the spec -> resources mapping: defaults, access models, deployer modes, protection, sources."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from vaultspec.components.access import role_assignment_name
from vaultspec.engine.recording import Rendering
from vaultspec.engine.render import RenderError

from .conftest import APP, DEPLOYER, GROUP, KEY, KEY_VAULT, ROLE, SECRET, SUBSCRIPTION, TENANT, VAULT, graph, vault_id

Render = Callable[..., Rendering]

MINIMAL = """\
- name: alpha-kv
  access: {model: rbac}
- name: beta-kv
  access: {model: rbac}
- name: gamma-kv
  access: {model: accessPolicies}
"""

KEY_AND_SECRET = """\
  keys:
    - {name: k1, type: RSA-HSM, ops: [sign, verify], expires: 2028-01-01T00:00:00Z}
  secrets:
    - {name: s1, value: {fromEnv: EDGE_SECRET}, expires: 2028-01-01T00:00:00Z}
"""


def test_several_vaults_get_every_security_default_explicitly(render_vaults: Render):
    rendering = render_vaults(MINIMAL)
    assert [r.name for r in rendering.of_type(KEY_VAULT)] == ["alpha-kv", "beta-kv", "gamma-kv"]
    for name in ("alpha-kv", "beta-kv", "gamma-kv"):
        properties = rendering.find(VAULT, name).inputs["properties"]
        rbac = name != "gamma-kv"
        expected = {
            "sku": {"family": "A", "name": "premium"},
            "tenantId": TENANT,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enablePurgeProtection": True,
            "enableRbacAuthorization": rbac,
            "publicNetworkAccess": "disabled",
            "networkAcls": {"bypass": "None", "defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": []},
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
        }
        if not rbac:
            expected["accessPolicies"] = [
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
                }
            ]
        assert properties == expected, name
        assert "tags" not in rendering.find(VAULT, name).inputs  # no tags, no waivers: none sent
    # default deployer: lifecycle (use, delete, recover), two vault-scoped roles per RBAC vault
    assert sorted(r.name for r in rendering.of_type(ROLE) if r.name.startswith("alpha-kv")) == [
        "alpha-kv/roles/key-vault-crypto-officer@vault/deployer",
        "alpha-kv/roles/key-vault-secrets-officer@vault/deployer",
    ]
    assert rendering.stack_outputs["vaults"]["beta-kv"]["keys"] == {}
    assert rendering.stack_outputs["vaults"]["beta-kv"]["secrets"] == {}


def test_purge_protection_off_is_sent_as_absent_never_false(render_vaults: Render):
    rendering = render_vaults(
        """\
        - name: alpha-kv
          softDelete: {retentionDays: 7, purgeProtection: false}
          enabledFor: [deployment, templateDeployment]
          sku: standard
          access: {model: rbac}
        """
    )
    properties = rendering.find(VAULT, "alpha-kv").inputs["properties"]
    assert "enablePurgeProtection" not in properties
    assert properties["softDeleteRetentionInDays"] == 7
    assert properties["sku"] == {"family": "A", "name": "standard"}
    assert properties["enabledForDeployment"] is True
    assert properties["enabledForTemplateDeployment"] is True
    assert properties["enabledForDiskEncryption"] is False


def test_deployer_none_gets_nothing_and_keys_wait_only_for_the_vault(render_vaults: Render):
    rendering = render_vaults(
        "- name: alpha-kv\n  access: {model: rbac, deployer: none}\n"
        + KEY_AND_SECRET
        + "- name: gamma-kv\n  access: {model: accessPolicies, deployer: none}\n"
    )
    assert rendering.of_type(ROLE) == []
    key = rendering.find(KEY, "alpha-kv/keys/k1")
    assert key.dependencies == [rendering.find(VAULT, "alpha-kv").urn]
    assert rendering.find(VAULT, "gamma-kv").inputs["properties"]["accessPolicies"] == []


def test_deployer_principal_type_is_explicit_on_its_assignments(render_vaults: Render):
    rendering = render_vaults(
        """\
        - name: alpha-kv
          access: {model: rbac, deployerPrincipalType: User}
        """
    )
    assert {r.inputs["principalType"] for r in rendering.of_type(ROLE)} == {"User"}


def test_access_policy_for_the_deployer_merges_into_its_own_grant(render_vaults: Render):
    rendering = render_vaults(
        f"""\
        - name: gamma-kv
          access:
            model: accessPolicies
            deployer: smoke
            grants:
              - {{principal: {DEPLOYER}, keys: [get, release], certificates: [get]}}
              - {{principal: {APP}, secrets: [GET, List]}}
        """
    )
    policies = rendering.find(VAULT, "gamma-kv").inputs["properties"]["accessPolicies"]
    assert [p["objectId"] for p in policies] == [DEPLOYER, APP]
    assert policies[0]["permissions"] == {
        "keys": [
            *("get", "release", "list", "sign", "verify"),
            *("encrypt", "decrypt", "wrapKey", "unwrapKey", "getrotationpolicy"),
        ],
        "secrets": ["get", "list"],
        "certificates": ["get"],
    }
    assert policies[1]["permissions"] == {"keys": [], "secrets": ["get", "list"], "certificates": []}


def test_key_and_secret_scoped_grants_wait_for_their_object(render_vaults: Render, clean_env):
    clean_env.setenv("EDGE_SECRET", "edge-value-1")
    rendering = render_vaults(
        dedent(f"""\
        - name: alpha-kv
          access:
            model: rbac
            grants:
              - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Crypto User, scope: keys/k1}}
              - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Secrets User, scope: secrets/s1}}
              - {{principal: {GROUP}, principalType: Group, role: 00482a5a-887f-4fb3-b363-3b7fe8e74483}}
        """)
        + KEY_AND_SECRET
    )
    key_grant = rendering.find(ROLE, f"alpha-kv/roles/key-vault-crypto-user@keys/k1/{APP}")
    secret_grant = rendering.find(ROLE, f"alpha-kv/roles/key-vault-secrets-user@secrets/s1/{APP}")
    assert key_grant.inputs["scope"] == f"{vault_id('alpha-kv')}/keys/k1"
    assert secret_grant.inputs["scope"] == f"{vault_id('alpha-kv')}/secrets/s1"
    assert rendering.find(KEY, "alpha-kv/keys/k1").urn in key_grant.dependencies
    assert rendering.find(SECRET, "alpha-kv/secrets/s1").urn in secret_grant.dependencies
    admin = rendering.find(ROLE, f"alpha-kv/roles/key-vault-administrator@vault/{GROUP}")
    assert admin.inputs["roleDefinitionId"].endswith("/00482a5a-887f-4fb3-b363-3b7fe8e74483")


def test_role_assignment_names_are_uuid5_of_what_identifies_the_assignment(render_vaults: Render):
    grants = f"""\
        - name: alpha-kv
          access:
            model: rbac
            grants:
              - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Secrets User}}
              - {{principal: {GROUP}, principalType: Group, role: Key Vault Reader}}
        """
    first = render_vaults(grants)
    reordered = render_vaults(
        f"""\
        - name: alpha-kv
          access:
            model: rbac
            grants:
              - {{principal: {GROUP}, principalType: Group, role: Key Vault Reader}}
              - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Secrets User}}
        """
    )

    def names(rendering: Rendering) -> dict[str, str]:
        return {r.name: r.inputs["roleAssignmentName"] for r in rendering.of_type(ROLE)}

    assert names(first) == names(reordered)
    reader = first.find(ROLE, f"alpha-kv/roles/key-vault-reader@vault/{GROUP}")
    assert reader.inputs["roleAssignmentName"] == role_assignment_name(
        SUBSCRIPTION, "rg-test", "alpha-kv", "vault", "21090545-7ca7-4776-b22c-e363652d74d2", GROUP
    )
    deployer = first.find(ROLE, "alpha-kv/roles/key-vault-crypto-officer@vault/deployer")
    assert deployer.inputs["roleAssignmentName"] == role_assignment_name(
        SUBSCRIPTION, "rg-test", "alpha-kv", "vault", "14b46e9e-c2b7-41b4-b07b-48a6ebf60603", DEPLOYER
    )
    assert len(set(names(first).values())) == len(names(first))


@pytest.mark.parametrize(
    ("stack", "config", "protected"),
    [
        ("dev", None, False),
        ("dev-eu", None, False),
        ("prod", None, True),
        ("staging", None, True),
        ("dev", "true", True),
        ("prod", "false", False),
    ],
)
def test_protection_follows_the_stack_name_unless_config_decides(
    render_vaults: Render, clean_env, stack: str, config: str | None, protected: bool
):
    if config is not None:
        clean_env.setenv("PULUMI_CONFIG", json.dumps({"vaultspec:protect": config}))
    rendering = render_vaults(
        """\
        - name: alpha-kv
          access: {model: rbac, deployer: none}
          keys:
            - {name: k1, type: EC-HSM, ops: [sign, verify]}
        """,
        stack=stack,
    )
    assert rendering.find(VAULT, "alpha-kv").options.protect is protected
    assert rendering.find(KEY, "alpha-kv/keys/k1").options.protect is protected


def test_env_secret_missing_on_a_real_run_names_vault_secret_and_variable(render_vaults: Render):
    with pytest.raises(RenderError) as raised:
        render_vaults(
            "- name: alpha-kv\n  access: {model: rbac}\n" + KEY_AND_SECRET,
            preview=False,
        )
    assert str(raised.value) == "vault 'alpha-kv': secret 's1' reads environment variable EDGE_SECRET, which is not set"


def test_env_secret_is_read_when_the_program_runs(render_vaults: Render, clean_env):
    clean_env.setenv("EDGE_SECRET", "edge-value-2")
    rendering = render_vaults(
        "- name: alpha-kv\n  access: {model: rbac}\n" + KEY_AND_SECRET,
        preview=False,
    )
    secret = rendering.find(SECRET, "alpha-kv/secrets/s1")
    assert secret.revealed_inputs()["properties"]["value"] == "edge-value-2"
    assert rendering.warnings == []


def test_config_secret_in_another_namespace(render_vaults: Render, clean_env):
    clean_env.setenv("PULUMI_CONFIG", json.dumps({"payments:dbPassword": "from-config-3"}))
    spec = """\
        - name: alpha-kv
          access: {model: rbac}
          secrets:
            - {name: db, value: {fromConfig: "payments:dbPassword"}}
            - {name: other, value: {fromConfig: otherPassword}}
        """
    with pytest.raises(RenderError, match=r"secret 'other' reads config 'vaultspec:otherPassword', which is not set"):
        render_vaults(spec, preview=False)
    clean_env.setenv(
        "PULUMI_CONFIG", json.dumps({"payments:dbPassword": "from-config-3", "vaultspec:otherPassword": "o-4"})
    )
    rendering = render_vaults(spec, preview=False)
    assert rendering.find(SECRET, "alpha-kv/secrets/db").revealed_inputs()["properties"]["value"] == "from-config-3"
    assert rendering.find(SECRET, "alpha-kv/secrets/other").revealed_inputs()["properties"]["value"] == "o-4"


def test_secure_stack_config_renders_as_a_placeholder_without_a_passphrase(
    render_vaults: Render, project: Path, clean_env
):
    clean_env.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    (project / "Pulumi.dev.yaml").write_text(
        "encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy\n"
        "config:\n  vaultspec:dbPassword:\n    secure: v1:bm9uY2U=:Y2lwaGVy\n"
    )
    rendering = render_vaults(
        """\
        - name: alpha-kv
          access: {model: rbac}
          secrets:
            - {name: db, value: {fromConfig: dbPassword}}
        """
    )
    secret = rendering.find(SECRET, "alpha-kv/secrets/db")
    assert secret.secret_paths == ["properties.value"]
    assert secret.revealed_inputs()["properties"]["value"] == "[secret]"
    assert rendering.warnings == []


def test_generated_secrets_are_random_passwords_kept_in_state(render_vaults: Render):
    rendering = render_vaults(
        """\
        - name: alpha-kv
          access: {model: rbac}
          secrets:
            - {name: hmac, value: {generate: {length: 20, special: false}}}
        """
    )
    password = rendering.find("random:index/randomPassword:RandomPassword", "alpha-kv/secrets/hmac")
    assert password.inputs == {"length": 20, "special": False}
    assert password.options.additional_secret_outputs == ["bcryptHash", "result"]
    value = rendering.find(SECRET, "alpha-kv/secrets/hmac").revealed_inputs()["properties"]["value"]
    assert len(value) == 20 and value.isalnum()


def test_same_key_names_in_two_vaults_do_not_collide(render_vaults: Render):
    rendering = render_vaults(
        """\
        - name: alpha-kv
          access: {model: rbac, deployer: none}
          keys: [{name: shared, type: EC-HSM, ops: [sign]}]
        - name: beta-kv
          access: {model: rbac, deployer: none}
          keys: [{name: shared, type: EC-HSM, ops: [sign]}]
        """
    )
    assert [(t, n) for t, n, _ in graph(rendering) if t == KEY] == [
        (KEY, "alpha-kv/keys/shared"),
        (KEY, "beta-kv/keys/shared"),
    ]
