"""The stand-in for pulumi-random's RandomPassword: the real provider's semantics, a CSPRNG's values."""

from __future__ import annotations

import asyncio
import string

import bcrypt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultspec.twin.provider.plumbing import ProviderError, Request
from vaultspec.twin.provider.random_password import DEFAULT_SPECIAL, DEFAULTS, RandomPassword, generate

URN = "urn:pulumi:dev::p::random:index/randomPassword:RandomPassword::pw"


def run(coroutine):
    return asyncio.run(coroutine)


@given(
    length=st.integers(1, 64),
    mins=st.tuples(*(st.integers(0, 4) for _ in range(4))),
    classes=st.tuples(*(st.booleans() for _ in range(4))),
)
def test_passwords_have_the_length_the_classes_and_the_minimum_counts_asked_for(length, mins, classes):
    names = ("Upper", "Lower", "Numeric", "Special")
    inputs = {**DEFAULTS, "length": length}
    for name, minimum, enabled in zip(names, mins, classes, strict=True):
        inputs[name.lower()] = enabled
        inputs[f"min{name}"] = minimum if enabled else 0
    if not any(classes) or sum(inputs[f"min{n}"] for n in names) > length:
        return
    value = generate(inputs)
    pools = (string.ascii_uppercase, string.ascii_lowercase, string.digits, DEFAULT_SPECIAL)
    assert len(value) == length
    for name, pool, enabled in zip(names, pools, classes, strict=True):
        count = sum(ch in pool for ch in value)
        assert count >= inputs[f"min{name}"]
        if not enabled:
            assert count == 0


def test_check_refuses_impossible_passwords_by_name():
    provider = RandomPassword()
    with pytest.raises(ProviderError, match="length must be a positive integer"):
        run(provider.check(Request(urn=URN, inputs={"length": 0})))
    with pytest.raises(ProviderError, match=r"minimum counts \(5\) exceed length \(4\)"):
        run(provider.check(Request(urn=URN, inputs={"length": 4, "minUpper": 5})))


def test_every_change_replaces_and_the_result_is_a_secret_with_a_matching_bcrypt_hash():
    provider = RandomPassword()
    inputs = run(provider.check(Request(urn=URN, inputs={"length": 24, "special": False})))
    created = run(provider.create(Request(urn=URN, inputs=inputs)))
    assert created.id == "none" and set(created.secret_paths) == {"result", "bcryptHash"}
    result = created.properties["result"]
    assert len(result) == 24 and not any(ch in DEFAULT_SPECIAL for ch in result)
    assert bcrypt.checkpw(result.encode(), created.properties["bcryptHash"].encode())
    diff = run(provider.diff(Request(urn=URN, old_inputs=inputs, inputs={**inputs, "length": 25})))
    assert diff.changes == {"length": "update"} and diff.replaces == {"length"}
    read = run(provider.read(Request(urn=URN, id="none", state=created.properties)))
    assert read.properties["result"] == result  # a password never changes on refresh
