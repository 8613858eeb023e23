"""Each validation rule of spec v1, with the exact node it must point at."""

from __future__ import annotations

import pytest

from tests.spec.conftest import APP, HEADER

VALID_VAULT = f"""\
  - name: payments-kv
    access:
      model: rbac
      grants:
        - principal: {APP}
          principalType: ServicePrincipal
          role: Key Vault Crypto User
          scope: keys/signing
    keys:
      - name: signing
        type: RSA-HSM
        size: 3072
        ops: [sign, verify]
    secrets:
      - name: db-password
        value: {{fromEnv: DB_PASSWORD}}
"""


def vault(body: str, name: str = "payments-kv") -> str:
    """A document with one vault whose body (indented 4) is given."""
    indented = "".join(f"    {line}\n" if line.strip() else "\n" for line in body.strip("\n").splitlines())
    return f"{HEADER}  - name: {name}\n{indented}"


RBAC = "access: {model: rbac}"


def at(text: str, needle: str, occurrence: int = 1) -> str:
    """`LINE:COL` of the n-th occurrence of `needle` in `text` (1-based), where an error must point."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return f"{line}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def test_a_complete_valid_spec_has_no_problems(problems):
    assert problems(HEADER + VALID_VAULT) == []


def test_defaults_fill_location_resource_group_and_merge_tags(spec_file):
    from vaultspec.spec import load_spec

    path = spec_file(
        f"""\
        apiVersion: vaultspec/v1
        defaults: {{location: northeurope, resourceGroup: rg-shared, tags: {{owner: platform, env: dev}}}}
        vaults:
          - name: first-kv
            tags: {{env: prod}}
            {RBAC}
          - name: second-kv
            resourceGroup: rg-own
            location: westeurope
            {RBAC}
        """
    )
    first, second = load_spec(path).vaults
    assert (first.location, first.resource_group) == ("northeurope", "rg-shared")
    assert first.tags == {"owner": "platform", "env": "prod"}
    assert (second.location, second.resource_group) == ("westeurope", "rg-own")


def test_missing_location_without_defaults_points_at_the_vault(problems):
    text = f"apiVersion: vaultspec/v1\nvaults:\n  - name: payments-kv\n    resourceGroup: rg\n    {RBAC}\n"
    assert problems(text) == ["3:5: vaults[0].location: Field required (set it on the vault or in defaults)"]


def test_a_bad_default_is_reported_once_where_it_is_written(problems):
    text = (
        "apiVersion: vaultspec/v1\ndefaults: {location: West Europe, resourceGroup: rg}\nvaults:\n"
        f"  - name: one-kv\n    {RBAC}\n  - name: two-kv\n    {RBAC}\n"
    )
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith("2:22: defaults.location: expected an Azure region name")


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("kv1", True),
        ("a" * 24, True),
        ("payments-kv-01", True),
        ("kv", False),  # too short
        ("a" * 25, False),  # too long
        ("1payments", False),  # must start with a letter
        ("payments-", False),  # must end alphanumeric
        ("pay--ments", False),  # no consecutive hyphens
        ("pay_ments", False),  # letters, digits, hyphens only
    ],
)
def test_vault_names_follow_azure_rules(problems, name, ok):
    found = problems(vault(RBAC, name=name))
    if ok:
        assert found == []
    else:
        assert len(found) == 1
        assert found[0].startswith("4:11: vaults[0].name: vault names are 3-24 characters")


@pytest.mark.parametrize("name", ["bad_name", "a" * 128, "spaces are bad"])
def test_key_and_secret_names_follow_azure_rules(problems, name):
    found = problems(
        vault(
            f"""
{RBAC}
keys: [{{name: "{name}", type: RSA, ops: [sign]}}]
secrets: [{{name: "{name}", value: {{fromEnv: X}}}}]
"""
        )
    )
    assert [f.split(": ", 1)[1].split(":")[0] for f in found] == [
        "vaults[0].keys[0].name",
        "vaults[0].secrets[0].name",
    ]
    assert all("1-127 characters of letters, digits and hyphens" in f for f in found)


def test_principals_and_tenants_must_be_guids(problems):
    found = problems(
        vault(
            """
tenantId: my-tenant
access:
  model: rbac
  grants: [{principal: bob, principalType: User, role: Key Vault Reader}]
"""
        )
    )
    assert [f.split(": ")[1] for f in found] == ["vaults[0].tenantId", "vaults[0].access.grants[0].principal"]
    assert found[0].startswith("5:15:")
    assert found[1].startswith("8:28:")


@pytest.mark.parametrize("duration", ["90D", "P", "PT1H", "P1.5Y", "ninety days"])
def test_rotation_durations_must_be_iso8601(problems, duration):
    found = problems(
        vault(
            f"""
{RBAC}
keys:
  - name: k
    type: RSA
    ops: [sign]
    rotation: {{rotateAfterCreate: "{duration}", expiryTime: P1Y}}
"""
        )
    )
    assert len(found) == 1
    assert "vaults[0].keys[0].rotation.rotateAfterCreate: expected an ISO-8601 duration" in found[0]


def test_unknown_fields_are_rejected_at_the_key_with_a_suggestion(problems):
    text = vault(f"{RBAC}\nsoftDelete: {{retentionDays: 90, purgeProtecton: true}}\nsku_name: premium")
    assert problems(text) == [
        f"{at(text, 'purgeProtecton')}: vaults[0].softDelete.purgeProtecton: unknown field "
        "(did you mean 'purgeProtection'?)",
        f"{at(text, 'sku_name')}: vaults[0].sku_name: unknown field",
    ]


def test_snake_case_aliases_are_not_silently_accepted(problems):
    text = vault(f"{RBAC}\nresource_group: rg-other")
    assert problems(text) == [
        f"{at(text, 'resource_group')}: vaults[0].resource_group: unknown field (did you mean 'resourceGroup'?)"
    ]


def test_duplicate_vault_key_and_secret_names_are_rejected(problems):
    text = (
        vault(
            f"""
{RBAC}
keys:
  - {{name: signing, type: RSA, ops: [sign]}}
  - {{name: Signing, type: RSA, ops: [sign]}}
secrets:
  - {{name: pw, value: {{fromEnv: A}}}}
  - {{name: PW, value: {{fromEnv: B}}}}
"""
        )
        + f"  - name: Payments-KV\n    {RBAC}\n"
    )
    assert problems(text) == [
        f"{at(text, 'Signing')}: vaults[0].keys[1].name: key 'Signing' is declared twice (names are case-insensitive)",
        f"{at(text, 'PW')}: vaults[0].secrets[1].name: secret 'PW' is declared twice (names are case-insensitive)",
        f"{at(text, 'Payments-KV')}: vaults[1].name: vault 'Payments-KV' is declared twice "
        "(names are case-insensitive)",
    ]


def test_size_is_for_rsa_and_curve_for_ec(problems):
    text = vault(
        f"""
{RBAC}
keys:
  - {{name: a, type: EC, size: 2048, ops: [sign]}}
  - {{name: b, type: RSA, curve: P-256, ops: [sign]}}
"""
    )
    assert problems(text) == [
        f"{at(text, '2048')}: vaults[0].keys[0].size: size applies to RSA keys only; EC keys take a curve",
        f"{at(text, 'P-256')}: vaults[0].keys[1].curve: curve applies to EC keys only; RSA keys take a size",
    ]


def test_rsa_sizes_and_ec_curves_are_restricted_to_key_vaults_set(problems):
    found = problems(
        vault(
            f"""
{RBAC}
keys:
  - {{name: a, type: RSA, size: 1024, ops: [sign]}}
  - {{name: b, type: EC, curve: P-192, ops: [sign]}}
"""
        )
    )
    assert "vaults[0].keys[0].size: Input should be 2048, 3072 or 4096" in found[0]
    assert "vaults[0].keys[1].curve: Input should be 'P-256', 'P-384', 'P-521' or 'P-256K'" in found[1]


def test_ops_must_suit_the_key_type(problems):
    text = vault(f"{RBAC}\nkeys: [{{name: a, type: EC, ops: [sign, verify, wrapKey]}}]")
    assert problems(text) == [
        f"{at(text, 'wrapKey')}: vaults[0].keys[0].ops[2]: EC keys cannot wrapKey; they support: sign, verify"
    ]


def test_unknown_ops_are_rejected(problems):
    found = problems(vault(f"{RBAC}\nkeys: [{{name: a, type: RSA, ops: [sign, export]}}]"))
    assert len(found) == 1 and "vaults[0].keys[0].ops[1]: Input should be 'encrypt'" in found[0]


def test_hsm_keys_need_a_premium_vault(problems):
    text = vault(f"sku: standard\n{RBAC}\nkeys: [{{name: a, type: RSA-HSM, ops: [sign]}}]")
    assert problems(text) == [
        f"{at(text, 'RSA-HSM')}: vaults[0].keys[0].type: RSA-HSM keys need a premium vault "
        "(this vault's sku is standard)"
    ]


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        ("{rotateAfterCreate: P10D, expiryTime: P27D}", "expiryTime must be at least P28D"),
        (
            "{rotateAfterCreate: P1Y, expiryTime: P90D}",
            "rotateAfterCreate (P1Y) must be shorter than expiryTime (P90D)",
        ),
        (
            "{notifyBeforeExpiry: P90D, expiryTime: P60D}",
            "notifyBeforeExpiry (P90D) must be shorter than expiryTime",
        ),
        ("{rotateAfterCreate: P3D}", "rotateAfterCreate must be at least P7D"),
        ("{rotateBeforeExpiry: P30D}", "rotateBeforeExpiry needs expiryTime"),
        (
            "{rotateAfterCreate: P90D, rotateBeforeExpiry: P30D, expiryTime: P1Y}",
            "choose rotateAfterCreate or",
        ),
        (
            "{expiryTime: P1Y}",
            "a rotation policy needs rotateAfterCreate, rotateBeforeExpiry or notifyBeforeExpiry",
        ),
    ],
)
def test_rotation_policies_follow_key_vaults_limits(problems, rotation, expected):
    found = problems(vault(f"{RBAC}\nkeys: [{{name: a, type: RSA, ops: [sign], rotation: {rotation}}}]"))
    assert len(found) == 1, found
    assert expected in found[0]


def test_a_valid_rotation_policy_passes(problems):
    rotation = "{rotateAfterCreate: P90D, notifyBeforeExpiry: P30D, expiryTime: P1Y}"
    assert problems(vault(f"{RBAC}\nkeys: [{{name: a, type: RSA, ops: [sign], rotation: {rotation}}}]")) == []


def test_rbac_grants_need_principal_type_and_role_and_no_permission_lists(problems):
    text = vault(
        f"""
access:
  model: rbac
  grants:
    - {{principal: {APP}, role: Key Vault Reader}}
    - {{principal: {APP}, principalType: User}}
    - {{principal: {APP}, principalType: User, role: Key Vault Secrets User, keys: [get]}}
"""
    )
    assert problems(text) == [
        f"{at(text, '{principal', 1)}: vaults[0].access.grants[0]: rbac grants need principalType "
        "(User, Group or ServicePrincipal): Azure's default is User",
        f"{at(text, '{principal', 2)}: vaults[0].access.grants[1]: rbac grants need a role",
        f"{at(text, '[get]')}: vaults[0].access.grants[2].keys: keys permissions belong to accessPolicies vaults; "
        "rbac grants name a role",
    ]


def test_access_policy_grants_need_permissions_and_no_role_or_scope(problems):
    text = vault(
        f"""
access:
  model: accessPolicies
  grants:
    - {{principal: {APP}}}
    - {{principal: 2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d, role: Key Vault Reader, scope: vault, secrets: [get]}}
"""
    )
    assert problems(text) == [
        f"{at(text, '{principal')}: vaults[0].access.grants[0]: an accessPolicies grant needs at least one of "
        "keys, secrets or certificates permissions",
        f"{at(text, 'Key Vault Reader')}: vaults[0].access.grants[1].role: role belongs to rbac grants; "
        "accessPolicies grants list keys/secrets/certificates",
        f"{at(text, 'vault, secrets')}: vaults[0].access.grants[1].scope: scope belongs to rbac grants; "
        "accessPolicies grants list keys/secrets/certificates",
    ]


def test_access_policy_permissions_are_checked_and_canonicalised(problems, spec_file):
    from vaultspec.spec import load_spec

    found = problems(
        vault(f"access: {{model: accessPolicies, grants: [{{principal: {APP}, keys: [Get, SIGN, launch]}}]}}")
    )
    assert len(found) == 1 and "unknown key permission 'launch'" in found[0]
    path = spec_file(vault(f"access: {{model: accessPolicies, grants: [{{principal: {APP}, keys: [Get, WRAPKEY]}}]}}"))
    assert load_spec(path).vaults[0].access.grants[0].keys == ["get", "wrapKey"]


def test_rbac_roles_must_be_known_key_vault_roles_or_guids(problems):
    good = problems(
        vault(
            f"""
access:
  model: rbac
  grants:
    - {{principal: {APP}, principalType: User, role: key vault secrets user}}
    - {{principal: {APP}, principalType: User, role: b24988ac-6180-42a0-ab88-20f7382dd24c}}
"""
        )
    )
    assert good == []
    bad = problems(vault(f"access: {{model: rbac, grants: [{{principal: {APP}, principalType: User, role: Owner}}]}}"))
    assert len(bad) == 1 and "unknown role 'Owner'" in bad[0]


def test_grant_scopes_must_name_declared_keys_or_secrets(problems):
    found = problems(
        vault(
            f"""
access:
  model: rbac
  grants:
    - {{principal: {APP}, principalType: User, role: Key Vault Crypto User, scope: keys/missing}}
    - {{principal: {APP}, principalType: User, role: Key Vault Secrets User, scope: certificates/x}}
    - {{principal: {APP}, principalType: User, role: Key Vault Secrets User, scope: keys/signing}}
keys: [{{name: signing, type: RSA, ops: [sign]}}]
"""
        )
    )
    assert [f.split(": ", 2)[1:] for f in found] == [
        ["vaults[0].access.grants[0].scope", "scope names key 'missing', which this vault does not declare"],
        [
            "vaults[0].access.grants[1].scope",
            "scope must be 'vault', 'keys/<declared key>' or 'secrets/<declared secret>'",
        ],
        [
            "vaults[0].access.grants[2].role",
            "'Key Vault Secrets User' grants nothing on keys; scope it to the vault or pick a keys role",
        ],
    ]


def test_duplicate_grants_are_rejected(problems):
    grant = f"{{principal: {APP}, principalType: User, role: Key Vault Reader}}"
    found = problems(vault(f"access: {{model: rbac, grants: [{grant}, {grant}]}}"))
    assert len(found) == 1 and "duplicates grant 0" in found[0]


@pytest.mark.parametrize(("days", "ok"), [(7, True), (90, True), (6, False), (91, False)])
def test_soft_delete_retention_is_7_to_90_days(problems, days, ok):
    found = problems(vault(f"{RBAC}\nsoftDelete: {{retentionDays: {days}}}"))
    assert (found == []) is ok
    if not ok:
        assert "vaults[0].softDelete.retentionDays" in found[0]


def test_literal_secret_values_are_rejected_without_echoing_them(problems):
    canary = "canary-4f2a9e-do-not-print"
    found = problems(vault(f"{RBAC}\nsecrets: [{{name: pw, value: {canary}}}]"))
    assert len(found) == 1
    assert "literal secret values are not allowed" in found[0]
    assert canary not in "\n".join(found)


@pytest.mark.parametrize(
    "value",
    ["{}", "{fromEnv: A, fromConfig: b}", "{fromEnv: A, generate: {length: 32}}", "{generate: {length: 8}}"],
)
def test_secret_values_need_exactly_one_valid_source(problems, value):
    found = problems(vault(f"{RBAC}\nsecrets: [{{name: pw, value: {value}}}]"))
    assert len(found) == 1 and "vaults[0].secrets[0].value" in found[0]


def test_exceptions_need_a_reason_and_a_known_policy(problems):
    found = problems(
        vault(
            f"""
{RBAC}
exceptions:
  - {{policy: kv-public-network-disabled, reason: "   "}}
  - {{policy: kv-public-network-disabled}}
  - {{policy: kv-no-such-rule, reason: because}}
"""
        ),
        known_policies={"kv-public-network-disabled"},
    )
    assert [f.split(": ")[1] for f in found] == [
        "vaults[0].exceptions[0].reason",
        "vaults[0].exceptions[1].reason",
    ]
    text = vault(f"{RBAC}\nexceptions: [{{policy: kv-no-such-rule, reason: because}}]")
    assert problems(text, known_policies={"kv-public-network-disabled"}) == [
        f"{at(text, 'kv-no-such-rule')}: vaults[0].exceptions[0].policy: unknown policy 'kv-no-such-rule'; "
        "see `vaultspec plan` for names"
    ]


def test_exceptions_cannot_be_listed_twice(problems):
    item = "{policy: kv-diagnostics, reason: no workspace in the lab}"
    found = problems(vault(f"{RBAC}\nexceptions: [{item}, {item}]"))
    assert len(found) == 1 and "policy 'kv-diagnostics' is waived twice" in found[0]


def test_expiry_must_follow_not_before(problems):
    found = problems(
        vault(
            f"""
{RBAC}
keys: [{{name: k, type: RSA, ops: [sign], notBefore: 2027-01-01T00:00:00Z, expires: 2026-01-01T00:00:00Z}}]
"""
        )
    )
    assert len(found) == 1 and "vaults[0].keys[0].expires: expires must be later than notBefore" in found[0]


def test_timestamps_need_a_timezone(problems):
    found = problems(vault(f"{RBAC}\nkeys: [{{name: k, type: RSA, ops: [sign], expires: 2027-01-01T00:00:00}}]"))
    assert len(found) == 1 and "vaults[0].keys[0].expires" in found[0] and "timezone" in found[0]


def test_ip_rules_must_be_ipv4_networks(problems):
    found = problems(vault(f"{RBAC}\nnetwork: {{ipRules: [203.0.113.0/24, 10.0.0.1/8, '2001:db8::/32', nonsense]}}"))
    assert [f.split(": ")[1] for f in found] == [
        "vaults[0].network.ipRules[1]",
        "vaults[0].network.ipRules[2]",
        "vaults[0].network.ipRules[3]",
    ]


def test_diagnostics_need_a_log_analytics_workspace_id(problems):
    bad = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
        "/providers/Microsoft.Storage/storageAccounts/st"
    )
    found = problems(vault(f"{RBAC}\ndiagnostics: {{workspaceId: {bad}}}"))
    assert len(found) == 1 and "expected a Log Analytics workspace id" in found[0]


def test_too_many_key_tags_are_rejected_and_waivers_do_not_count_against_them(problems):
    def key_with(count: int) -> list[str]:
        tags = ", ".join(f"t{i}: v" for i in range(count))
        return problems(
            vault(
                f"""
{RBAC}
keys: [{{name: k, type: RSA, ops: [sign], tags: {{{tags}}}}}]
exceptions: [{{policy: kv-diagnostics, reason: lab}}]
"""
            )
        )

    assert key_with(15) == []  # waivers are tagged on the vault only
    found = key_with(16)
    assert len(found) == 1 and "keys[0].tags: 16 tags exceed Key Vault's limit of 15" in found[0]


def test_too_many_vault_tags_with_waivers_are_rejected(problems):
    tags = ", ".join(f"t{i}: v" for i in range(50))
    found = problems(vault(f"{RBAC}\ntags: {{{tags}}}\nexceptions: [{{policy: kv-diagnostics, reason: lab}}]"))
    assert len(found) == 1 and "50 tags plus 1 waiver tags exceed Azure's limit of 50" in found[0]


def test_a_field_error_does_not_hide_the_rule_errors_of_the_rest_of_the_document(problems):
    text = f"""{HEADER}  - name: alpha-kv
    skuu: premium
    access: {{model: rbac}}
    keys:
      - {{name: k1, type: EC, size: 2048, ops: [sign, encrypt]}}
      - {{name: k2, type: RSA, size: 1}}
    secrets:
      - {{name: s1, value: {{fromEnv: X}}, expires: 2027-01-01T00:00:00Z, notBefore: 2028-01-01T00:00:00Z}}
  - name: Alpha-KV
    {RBAC}
"""
    found = problems(text)
    expected = [
        f"{at(text, 'skuu')}: vaults[0].skuu: unknown field (did you mean 'sku'?)",
        f"{at(text, '2048')}: vaults[0].keys[0].size: size applies to RSA keys only; EC keys take a curve",
        f"{at(text, 'encrypt')}: vaults[0].keys[0].ops[1]: EC keys cannot encrypt; they support: sign, verify",
        f"{at(text, '1}')}: vaults[0].keys[1].size: Input should be 2048, 3072 or 4096",
        f"{at(text, '2027-01-01')}: vaults[0].secrets[0].expires: expires must be later than notBefore",
        f"{at(text, 'Alpha-KV')}: vaults[1].name: vault 'Alpha-KV' is declared twice (names are case-insensitive)",
    ]
    assert sorted(set(found) & set(expected)) == sorted(expected), found
    assert len(found) == len(expected) + 1  # and k2's missing ops
