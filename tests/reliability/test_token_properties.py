"""Properties of JWT validation (`vaultspec.twin.tokens.TokenAuthority`), in process.

Whatever string arrives, `validate` either returns a principal whose claims passed every check or
raises `InvalidToken`; never another exception (which would be a 500), and the same answer twice
(the second call goes through the validated-token cache).
"""

from __future__ import annotations

import base64
import json
import string
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultspec.twin.tokens import InvalidToken, Principal, TokenAuthority

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AUDIENCE = "https://vault.localhost:8443"
AUDIENCES = frozenset({AUDIENCE, AUDIENCE + "/"})
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TokenAuthority:
    return TokenAuthority(Path(tmp_path_factory.mktemp("tokens")), TENANT)


def b64json(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def sign_rs256(authority: TokenAuthority, header: dict[str, object], claims: dict[str, object]) -> str:
    """RS256 over any header and claims (PyJWT refuses some claim types; a forger would not)."""
    signing_input = f"{b64json(header)}.{b64json(claims)}"
    signature = authority._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def outcome(authority: TokenAuthority, token: str) -> Principal | str:
    """The principal, or the refusal message; any other exception fails the test."""
    try:
        return authority.validate(token, AUDIENCES)
    except InvalidToken as refused:
        return str(refused)


def assert_sound(authority: TokenAuthority, token: str) -> Principal | str:
    first, second = outcome(authority, token), outcome(authority, token)
    assert first == second
    if isinstance(first, Principal):  # accepted: every claim really is acceptable
        claims = jwt.decode(token, options={"verify_signature": False})
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        assert claims["iss"] == authority.issuer and claims["tid"] == TENANT
        assert isinstance(claims["aud"], str) and claims["aud"] in AUDIENCES
        assert claims["nbf"] <= time.time() < claims["exp"]
        assert isinstance(claims["oid"], str) and claims["oid"] == first.object_id
    return first


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def claim_sets() -> st.SearchStrategy[dict[str, object]]:
    """Claims near the valid ones: up to two standard claims dropped or replaced, extra claims added."""
    now = int(time.time())
    valid: dict[str, object] = {
        "iss": f"https://sts.windows.net/{TENANT}/",
        "aud": AUDIENCE,
        "tid": TENANT,
        "oid": "00000000-0000-0000-0000-00000000000a",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 600,
    }
    near_values = {
        "iss": st.sampled_from([f"https://sts.windows.net/{TENANT}", "https://sts.windows.net/other/", ""]),
        "aud": st.sampled_from([AUDIENCE + "/", [AUDIENCE], [AUDIENCE, "x"], "https://vault.azure.net", ""]),
        "tid": st.sampled_from([TENANT.upper(), [TENANT], "", None]),
        "oid": st.sampled_from(["", 5, None, ["x"]]),
        "iat": st.integers(now - 10**9, now + 10**6),
        "nbf": st.one_of(st.integers(now - 10**9, now + 10**6), st.floats(allow_nan=False), st.text(max_size=5)),
        "exp": st.one_of(st.integers(now - 10**6, now + 10**9), st.floats(allow_nan=False), st.text(max_size=5)),
    }

    _DROP = object()

    def altered(name: str) -> st.SearchStrategy[object]:
        near = near_values[name]
        return st.one_of(near, near, st.just(_DROP), json_values)  # near-misses weigh double

    def build(changes: dict[str, object], extra: dict[str, object]) -> dict[str, object]:
        claims = {**extra, **valid, **changes}
        return {k: v for k, v in claims.items() if v is not _DROP}

    # One claim off (most often) or two: near-valid tokens are where validation bugs hide.
    names = sorted(valid)
    one = st.sampled_from(names).flatmap(lambda name: st.fixed_dictionaries({name: altered(name)}))
    two = st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True).flatmap(
        lambda pair: st.fixed_dictionaries({name: altered(name) for name in pair})
    )
    changes = st.one_of(one, one, two)
    extra = st.dictionaries(st.text(max_size=8).filter(lambda k: k not in valid), json_values, max_size=3)
    return st.builds(build, changes, extra)


@PROPERTY
@given(claims=claim_sets())
def test_tokens_signed_with_the_right_key_are_accepted_only_when_every_claim_is_right(
    authority: TokenAuthority, claims: dict[str, object]
) -> None:
    assert_sound(authority, sign_rs256(authority, {"alg": "RS256", "typ": "JWT"}, claims))


@PROPERTY
@given(text=st.one_of(st.text(max_size=600), st.binary(max_size=600).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_strings_are_refused(authority: TokenAuthority, text: str) -> None:
    assert isinstance(assert_sound(authority, text), str)


@PROPERTY
@given(data=st.data())
def test_mutations_of_a_genuine_token_are_refused_unless_they_decode_to_it(
    authority: TokenAuthority, data: st.DataObject
) -> None:
    genuine, _ = authority.issue(AUDIENCE, "00000000-0000-0000-0000-00000000000b")
    position = data.draw(st.integers(0, len(genuine) - 1))
    replacement = data.draw(st.text(alphabet=string.ascii_letters + string.digits + "-_.=+/ ", max_size=3))
    cut = data.draw(st.integers(0, 3))
    mutated = genuine[:position] + replacement + genuine[position + cut :]
    result = assert_sound(authority, mutated)
    if isinstance(result, Principal):  # only a different spelling of the very same header, claims and signature

        def segments(token: str) -> list[bytes]:
            return [base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".")]

        assert segments(mutated) == segments(genuine)


@PROPERTY
@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "typ", "kid", "jku", "jwk", "x5u", "crit", "cty"]),
        st.one_of(st.sampled_from(["none", "HS256", "RS256", "ES256", "PS256", "RS512", ""]), json_values),
        max_size=5,
    )
)
def test_only_rs256_with_the_twins_signature_is_accepted_whatever_the_header_says(
    authority: TokenAuthority, header: dict[str, object]
) -> None:
    """Headers are attacker-controlled: whatever they claim, the key and algorithm stay pinned."""
    now = int(time.time())
    claims = {"iss": authority.issuer, "aud": AUDIENCE, "tid": TENANT, "oid": "o", "iat": now, "nbf": now}
    claims["exp"] = now + 60
    genuine = jwt.encode(claims, authority._key, algorithm="RS256")
    _, payload, signature = genuine.split(".")
    forged = f"{b64json(header)}.{payload}.{signature}"  # the genuine signature no longer covers this header
    assert isinstance(assert_sound(authority, forged), str) or b64json(header) == genuine.split(".")[0]
    resigned = sign_rs256(authority, header, claims)  # and now signed over this very header
    assert isinstance(assert_sound(authority, resigned), str) or header.get("alg") == "RS256"
