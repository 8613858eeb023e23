"""Each way a vault can differ from its spec is caught, and the failing check names it."""

from __future__ import annotations

import pytest

from tests.smoke.conftest import SmokedVault, failed


@pytest.mark.parametrize(
    ("sabotage", "object_name", "check", "words"),
    [
        ("a disabled key", "keys/disabled-key", "enabled", "declared enabled=true; the vault says false"),
        ("a key with more ops than declared", "keys/extra-ops", "ops", "allows more than declared"),
        ("a key with more ops than declared", "keys/extra-ops", "drift:decrypt", "the vault performed decrypt"),
        ("a wrong key type", "keys/wrong-type", "type", "declared EC but the vault reports kty RSA"),
        ("a software key declared HSM", "keys/not-hsm", "type", "not HSM-protected"),
        ("a missing secret", "secrets/missing", "exists", "404 SecretNotFound"),
        ("an expired secret", "secrets/expired", "not-expired", "expired at"),
        ("an expiry the spec does not declare", "secrets/expired", "dates", "expires: declared none, vault 20"),
        ("a wrong content type", "secrets/wrong-ct", "content-type", "'application/json'"),
        ("a fromEnv mismatch", "secrets/env-mismatch", "source", "SHA-256 differs"),
    ],
)
def test_sabotage_is_caught_and_named(
    sabotaged: SmokedVault, sabotage: str, object_name: str, check: str, words: str
) -> None:
    result = next(c for c in sabotaged.report.checks if (c.object, c.check) == (object_name, check))
    assert result.status == "failed", sabotage
    assert words in result.detail


def test_sabotaged_vault_fails_and_the_untouched_key_passes(sabotaged: SmokedVault) -> None:
    assert sabotaged.report.passed is False
    assert not any(obj == "keys/fine" for obj, _ in failed(sabotaged.report))


def test_failures_stay_on_the_sabotaged_aspect(sabotaged: SmokedVault) -> None:
    failing = failed(sabotaged.report)
    assert {c for o, c in failing if o == "secrets/wrong-ct"} == {"content-type"}
    assert {c for o, c in failing if o == "secrets/env-mismatch"} == {"source"}
    assert {c for o, c in failing if o == "keys/extra-ops"} == {"ops", "drift:decrypt"}
    assert {c for o, c in failing if o == "keys/not-hsm"} == {"type"}
    assert {c for o, c in failing if o == "secrets/missing"} == {"exists"}  # the rest is skipped, not failed


def test_a_disabled_key_also_fails_the_operations_it_should_perform(sabotaged: SmokedVault) -> None:
    signing = [c for c in sabotaged.report.checks if c.object == "keys/disabled-key" and c.check.startswith("sign")]
    assert signing and all(c.status == "failed" and "KeyDisabled" in c.detail for c in signing)
