"""The role catalogue judges a role by every data action it grants, not by a sample of verbs."""

from __future__ import annotations

import pytest

from tests.spec.conftest import APP
from tests.spec.test_validation_rules import vault
from vaultspec.catalog.roles import BUILT_IN_ROLES, BuiltInRole, find_role

# What each built-in Key Vault role grants on keys and on secrets, read off its data actions in
# Microsoft's built-in roles reference (Security category).
EXPECTED = {
    "Key Vault Administrator": (True, True),
    "Key Vault Crypto Officer": (True, False),
    "Key Vault Crypto User": (True, False),
    "Key Vault Crypto Service Encryption User": (True, False),
    "Key Vault Crypto Service Release User": (True, False),
    "Key Vault Secrets Officer": (False, True),
    "Key Vault Secrets User": (False, True),
    "Key Vault Reader": (True, True),
    "Key Vault Certificates Officer": (False, False),
    "Key Vault Certificate User": (True, True),
    "Key Vault Data Access Administrator": (False, False),
    "Key Vault Contributor": (False, False),
}


def test_every_built_in_role_is_judged():
    assert {role.name for role in BUILT_IN_ROLES} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_what_each_built_in_role_touches(name):
    role = find_role(name)
    assert role is not None
    assert (role.touches_keys, role.touches_secrets) == EXPECTED[name]


@pytest.mark.parametrize(
    ("actions", "keys", "secrets"),
    [
        (("Microsoft.KeyVault/vaults/keys/release/action",), True, False),
        (("Microsoft.KeyVault/vaults/keys/rotate/action",), True, False),
        (("Microsoft.KeyVault/vaults/keyrotationpolicies/write",), True, False),
        (("Microsoft.KeyVault/vaults/secrets/delete",), False, True),
        (("Microsoft.KeyVault/vaults/*",), True, True),
        (("Microsoft.KeyVault/vaults/*/read",), True, True),
        (("Microsoft.KeyVault/*",), True, True),
        (("Microsoft.KeyVault/vaults/certificates/*",), False, False),
        (("Microsoft.KeyVault/vaults/keysomething/read",), False, False),
        ((), False, False),
    ],
)
def test_any_data_action_under_keys_or_secrets_counts(actions, keys, secrets):
    role = BuiltInRole("custom", "00000000-0000-0000-0000-000000000000", actions, "test role")
    assert (role.touches_keys, role.touches_secrets) == (keys, secrets)


RELEASE = "Key Vault Crypto Service Release User"
OBJECTS = "keys: [{name: cmk, type: RSA-HSM, ops: [wrapKey, unwrapKey]}]\nsecrets: [{name: db, value: {generate: {}}}]"


@pytest.mark.parametrize(
    ("scope", "expected"),
    [("keys/cmk", None), ("secrets/db", f"'{RELEASE}' grants nothing on secrets")],
)
def test_a_release_role_may_be_scoped_to_a_key_and_not_to_a_secret(problems, scope, expected):
    grant = f"{{principal: {APP}, principalType: ServicePrincipal, role: {RELEASE}, scope: {scope}}}"
    found = problems(vault(f"access: {{model: rbac, grants: [{grant}]}}\n{OBJECTS}"))
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0]
