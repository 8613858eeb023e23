"""A vault built as its spec says passes every check; each check proves what its name says, on the vault."""

from __future__ import annotations

from tests.smoke.conftest import GRANTEE, SmokedVault, statuses


def test_healthy_vault_passes_every_check(healthy: SmokedVault) -> None:
    failures = [(c.object, c.check, c.detail) for c in healthy.report.checks if c.status == "failed"]
    assert failures == []
    assert healthy.report.passed is True


def test_every_declared_object_and_grant_is_reported(healthy: SmokedVault) -> None:
    objects = {c.object for c in healthy.report.checks}
    assert objects == {f"keys/{k.name}" for k in healthy.spec.keys} | {
        f"secrets/{s.name}" for s in healthy.spec.secrets
    } | {"grants/0"}


def test_rsa_keys_sign_with_every_rsa_algorithm_and_round_trip_every_encryption_algorithm(
    healthy: SmokedVault,
) -> None:
    checks = statuses(healthy.report)
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        assert checks[("keys/rsa-all", f"sign+verify:{alg}")] == "passed"
    for alg in ("RSA1_5", "RSA-OAEP", "RSA-OAEP-256"):
        assert checks[("keys/rsa-all", f"encrypt+decrypt:{alg}")] == "passed"
        assert checks[("keys/rsa-all", f"wrapKey+unwrapKey:{alg}")] == "passed"
        assert checks[("keys/rsa-wrap", f"wrapKey+unwrapKey:{alg}")] == "passed"
        assert checks[("keys/rsa-encrypt", f"encrypt:{alg}")] == "passed"


def test_ec_keys_sign_with_their_curves_algorithm_only(healthy: SmokedVault) -> None:
    ec_checks = {c.check for c in healthy.report.checks if c.object == "keys/ec-hsm"}
    assert "sign+verify:ES384" in ec_checks
    assert not any(name.startswith(("sign+verify:RS", "sign+verify:PS", "sign+verify:ES256")) for name in ec_checks)
    assert statuses(healthy.report)[("keys/ec-k-sign", "sign:ES256K")] == "passed"


def test_round_trips_prove_the_vault_holds_the_private_half_of_the_published_key(healthy: SmokedVault) -> None:
    detail = next(c.detail for c in healthy.report.checks if c.check == "encrypt+decrypt:RSA-OAEP-256")
    assert "encrypted locally with the public JWK was decrypted by the vault" in detail
    signed = next(c.detail for c in healthy.report.checks if c.check == "sign+verify:PS256")
    assert "verified locally from the public JWK" in signed and "rejected a tampered copy" in signed


def test_hsm_keys_report_an_hsm_key_type(healthy: SmokedVault) -> None:
    details = {(c.object, c.check): c.detail for c in healthy.report.checks}
    assert details[("keys/rsa-hsm-sign", "type")] == "kty RSA-HSM (HSM-protected)"
    assert details[("keys/ec-hsm", "type")] == "kty EC-HSM (HSM-protected)"


def test_rotation_policy_reads_back_as_declared(healthy: SmokedVault) -> None:
    check = next(c for c in healthy.report.checks if (c.object, c.check) == ("keys/rsa-all", "rotation-policy"))
    assert check.status == "passed"
    assert "rotate timeAfterCreate P90D" in check.detail and "expiryTime P1Y" in check.detail


def test_drift_attempts_the_most_harmful_undeclared_operation_and_the_vault_refuses_it(healthy: SmokedVault) -> None:
    checks = statuses(healthy.report)
    assert checks[("keys/rsa-hsm-sign", "drift:decrypt")] == "passed"
    assert checks[("keys/rsa-wrap", "drift:sign")] == "passed"
    assert checks[("keys/rsa-encrypt", "drift:sign")] == "passed"
    assert checks[("keys/ec-k-sign", "drift:verify")] == "passed"
    assert checks[("keys/ec-hsm", "drift:encrypt")] == "passed"  # EC keys declaring sign+verify: encrypt is left
    assert checks[("keys/rsa-all", "drift")] == "skipped"  # all six declared: nothing undeclared exists
    refusal = next(c.detail for c in healthy.report.checks if c.check == "drift:decrypt")
    assert "403" in refusal and "KeyOperationForbidden" in refusal


def test_a_key_declared_disabled_must_refuse_operations(healthy: SmokedVault) -> None:
    checks = statuses(healthy.report)
    assert checks[("keys/rsa-off", "enabled")] == "passed"
    assert checks[("keys/rsa-off", "disabled-refuses")] == "passed"
    assert not any(c.check.startswith("sign") for c in healthy.report.checks if c.object == "keys/rsa-off")


def test_secret_sources_compare_digests_for_from_env_and_say_the_others_are_not_comparable(
    healthy: SmokedVault,
) -> None:
    details = {(c.object, c.check): (c.status, c.detail) for c in healthy.report.checks}
    assert details[("secrets/canary", "source")] == (
        "passed",
        "the value's SHA-256 equals the SHA-256 of $SMOKE_CANARY",
    )
    status, detail = details[("secrets/from-config", "source")]
    assert status == "skipped" and "not comparable" in detail and "fromConfig" in detail
    status, detail = details[("secrets/generated", "source")]
    assert status == "skipped" and "not comparable" in detail


def test_a_secret_declared_disabled_must_refuse_its_value(healthy: SmokedVault) -> None:
    check = next(c for c in healthy.report.checks if (c.object, c.check) == ("secrets/off", "readable"))
    assert check.status == "passed" and "SecretDisabled" in check.detail


def test_grant_checks_prove_what_the_principal_may_and_may_not_do(healthy: SmokedVault) -> None:
    grant = {c.check: c for c in healthy.report.checks if c.object == "grants/0"}
    assert grant["identity"].detail == f"acting as principal {GRANTEE}"
    assert {name for name in grant if name.startswith("allows:")} == {
        "allows:get-secret",
        "allows:get-key",
        "allows:sign",
        "allows:verify",
    }
    refusal = grant["refuses:decrypt"]
    assert refusal.status == "passed" and "ForbiddenByPolicy" in refusal.detail


def test_checks_are_reported_in_spec_order(healthy: SmokedVault) -> None:
    order = list(dict.fromkeys(c.object for c in healthy.report.checks))
    assert order == [f"keys/{k.name}" for k in healthy.spec.keys] + [
        f"secrets/{s.name}" for s in healthy.spec.secrets
    ] + ["grants/0"]
