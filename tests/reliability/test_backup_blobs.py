"""The backup-blob parser: forged, truncated, bit-flipped or foreign blobs are always 400, never a restore.

Blobs start from genuine backups (a secret and an EC key) and are mutated by hypothesis; every
mutation that changes the decoded bytes must be refused with 400 BadParameter. Restores go to an
empty vault, which must still be empty (nothing active, nothing deleted) at the end.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.reliability.twinhttp import TwinHttp

BLOB_EXAMPLES = 150  # per kind; each example is one HTTPS request


def decoded(blob: str) -> bytes | None:
    """The bytes the twin decodes from `blob` (lenient urlsafe base64, as the twin reads it)."""
    try:
        return base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    except ValueError:
        return None


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class Genuine:
    secret: str
    key: str
    hsm_key: str
    target: str  # an empty access-policy vault the blobs are restored into


@pytest.fixture(scope="module")
def genuine(http: TwinHttp) -> Genuine:
    assert http.vault("PUT", "/secrets/blob-secret", json={"value": "blob-value"}).status_code == 200
    assert http.vault("POST", "/keys/blob-key/create", json={"kty": "EC", "crv": "P-256"}).status_code == 200
    assert http.vault("POST", "/keys/blob-hsm/create", json={"kty": "EC-HSM", "crv": "P-256"}).status_code == 200
    secret = http.vault("POST", "/secrets/blob-secret/backup").json()["value"]
    key = http.vault("POST", "/keys/blob-key/backup").json()["value"]
    hsm_key = http.vault("POST", "/keys/blob-hsm/backup").json()["value"]
    target = "blobtarget"
    # The blobs come from the session twin's `--vault` vault, in location `local`: a backup restores only
    # within its Azure geography, and `local` is a geography of its own.
    response = http.arm("PUT", http.vault_path(target, "rg-blobs"), json=http.policy_vault_body("local"))
    assert response.status_code in (200, 201), response.text
    return Genuine(secret, key, hsm_key, target)


def _target_is_empty(http: TwinHttp, vault: str) -> bool:
    listings = ("/secrets", "/keys", "/deletedsecrets", "/deletedkeys")
    return all(http.vault("GET", path, vault=vault).json()["value"] == [] for path in listings)


def _mutations(blob: str) -> st.SearchStrategy[str]:
    raw = decoded(blob) or b""
    text_cut = st.integers(0, len(blob) - 1).map(lambda n: blob[:n])
    raw_cut = st.integers(0, len(raw) - 1).map(lambda n: encode(raw[:n]))
    bit_flip = st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 7)).map(
        lambda at: encode(raw[: at[0]] + bytes([raw[at[0]] ^ (1 << at[1])]) + raw[at[0] + 1 :])
    )
    splice = st.tuples(st.integers(0, len(raw)), st.binary(min_size=1, max_size=64)).map(
        lambda cut: encode(raw[: cut[0]] + cut[1] + raw[cut[0] :])
    )
    forged_body = st.binary(max_size=2048).map(lambda body: encode(raw[:5] + body))  # right magic, forged rest
    return st.one_of(
        text_cut,
        raw_cut,
        bit_flip,
        splice,
        forged_body,
        st.binary(max_size=4096).map(encode),
        st.text(max_size=300),
        st.sampled_from(["", "=", "====", "not base64!", "\x00" * 10, "A" * 100_000]),
    )


def _assert_refused(http: TwinHttp, kind: str, target: str, blob: str) -> None:
    response = http.vault("POST", f"/{kind}/restore", vault=target, json={"value": blob})
    assert response.status_code == 400, (blob[:80], response.status_code, response.text[:200])
    assert response.json()["error"]["code"] == "BadParameter"


@pytest.mark.parametrize("kind", ["secrets", "keys"])
def test_mutated_backup_blobs_are_400_and_restore_nothing(http: TwinHttp, genuine: Genuine, kind: str) -> None:
    original = genuine.secret if kind == "secrets" else genuine.key

    @settings(
        max_examples=BLOB_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(_mutations(original))
    def refused(blob: str) -> None:
        assume(decoded(blob) != decoded(original))  # a different spelling of the same bytes is the same blob
        _assert_refused(http, kind, genuine.target, blob)

    refused()
    assert _target_is_empty(http, genuine.target)
    assert http.serves_normally()


def test_a_blob_of_one_kind_is_refused_as_the_other(http: TwinHttp, genuine: Genuine) -> None:
    _assert_refused(http, "keys", genuine.target, genuine.secret)
    _assert_refused(http, "secrets", genuine.target, genuine.key)
    assert _target_is_empty(http, genuine.target)


def test_a_blob_from_another_twin_is_refused(http: TwinHttp, genuine: Genuine, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Backups are sealed under a key derived from the data dir's master key: other twins cannot read them."""
    from vaultspec.twin.domain.objects import BACKUP_MAGIC, backup_key_from_master
    from vaultspec.twin.store import Sealer

    foreign = Sealer(backup_key_from_master(b"\x01" * 32))
    document = b'{"kind":"secret","name":"smuggled","policy":null,"versions":[]}'
    blob = encode(BACKUP_MAGIC + foreign.seal(document, "vaultspec-twin-backup/secret"))
    _assert_refused(http, "secrets", genuine.target, blob)
    assert _target_is_empty(http, genuine.target)


def test_an_hsm_key_backup_is_refused_by_a_standard_vault_and_not_restored(http: TwinHttp, genuine: Genuine) -> None:
    _assert_refused(http, "keys", genuine.target, genuine.hsm_key)
    assert _target_is_empty(http, genuine.target)


def test_the_genuine_blob_restores_control(http: TwinHttp, genuine: Genuine) -> None:
    """The mutations above are refused because they are mutations: the original restores (elsewhere)."""
    restored = http.vault("POST", "/secrets/restore", vault=genuine.target, json={"value": genuine.secret})
    assert restored.status_code == 200 and restored.json()["id"].split("/")[4] == "blob-secret"
    assert http.vault("GET", "/secrets/blob-secret", vault=genuine.target).json()["value"] == "blob-value"
    http.vault("DELETE", "/secrets/blob-secret", vault=genuine.target)
    assert http.vault("DELETE", "/deletedsecrets/blob-secret", vault=genuine.target).status_code == 204
