"""The BYOK how-to, end to end on a twin: `up` creates a KEK; `vaultspec byok kek-pem` fetches it; an
RSA-3072 and an EC P-256 key made locally are wrapped with `vaultspec byok wrap`; the spec gains their
`import:`; `up` imports them; smoke proves the vault signs with exactly those keys. A second `up` imports
nothing; a changed blob imports a new version. Every failure is named, with nothing stored. The local
private keys (canaries) never appear in output, reports, plan JSON, state or the twin's logs.

Deploys go through `tests/byok/howto.py`: `up_with_cli` (today's `vaultspec up`, for specs without
imported keys) and `up` (one helper: the engine stand-in today, `vaultspec up` once it runs the real
engine).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.keys.crypto import SignatureAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from tests.byok.howto import (
    Run,
    canaries,
    fetch_kek,
    generate_local_keys,
    imported_key_entry,
    kek_spec,
    up,
    up_with_cli,
    vaultspec,
    with_keys,
    wrap,
)
from vaultspec.byok.material import load_private_key, public_pem
from vaultspec.byok.transfer import b64url, b64url_decode
from vaultspec.catalog.keys import IMPORTED_KEY_TYPE
from vaultspec.engine.workspace import PROGRAM_MAIN
from vaultspec.twin.server import TwinInfo, stop
from vaultspec.twin.testing import crypto_client, key_client, mgmt_client, start_twin

KEY = "azure-native:keyvault:Key"
EXPIRES = (datetime.now(UTC) + timedelta(days=300)).strftime("%Y-%m-%dT00:00:00Z")


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinInfo]:
    data = tmp_path_factory.mktemp("byok") / "twin"
    info = start_twin(data)
    yield info
    stop(data)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A Pulumi project folder running the vaultspec program, as a user's repository holds one next to its specs."""
    runtime = {"name": "python", "options": {"toolchain": "pip", "virtualenv": sys.prefix}}
    (tmp_path / "Pulumi.yaml").write_text(json.dumps({"name": "vaultspec", "runtime": runtime}))
    (tmp_path / "__main__.py").write_text(PROGRAM_MAIN)
    (tmp_path / "transfer").mkdir()
    return tmp_path


@pytest.fixture
def env(twin: TwinInfo) -> dict[str, str]:
    """`eval "$(vaultspec twin env)"`: what every step runs with."""
    return twin.env()


def deploy_kek(vault: str, project: Path, twin: TwinInfo, env: dict[str, str], **kek: str) -> tuple[Path, Run]:
    """Step 1 with today's `vaultspec up` (a KEK is an ordinary generated key)."""
    spec = project / f"{vault}.yaml"
    spec.write_text(kek_spec(vault, expires=EXPIRES, **kek))
    return spec, up_with_cli(spec, twin, env)


def byok_import(name: str, key_type: str, shape: str, blob: Path, public: Path | None = None) -> str:
    public_key = f", publicKey: transfer/{public.name}" if public else ""
    return imported_key_entry(name, key_type, shape, f"{{byok: transfer/{blob.name}, kek: kek{public_key}}}", EXPIRES)


def assert_nothing_stored(twin: TwinInfo, vault: str, name: str) -> None:
    with key_client(twin, vault) as keys:
        with pytest.raises(ResourceNotFoundError):
            keys.get_key(name)
        assert name not in {deleted.name for deleted in keys.list_deleted_keys()}


def assert_no_vault(twin: TwinInfo, vault: str) -> None:
    """Nothing at all was made: not even the vault."""
    with pytest.raises(ResourceNotFoundError):
        mgmt_client(twin).vaults.get("rg-byok", vault)


def verify_locally(private_pem: Path, signature: bytes, digest: bytes) -> None:
    public = load_private_key(private_pem.read_text()).public_key()
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        half = len(signature) // 2
        der = utils.encode_dss_signature(
            int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
        )
        public.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def everything_written(twin: TwinInfo, project: Path, runs: list[Run]) -> str:
    """Every output, report, plan, state file and twin log of the run, as one text to search."""
    texts = [run.output + json.dumps(run.report) for run in runs]
    for folder in (Path(twin.data_dir), project):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in (".json", ".jsonl", ".log", ".yaml", ".txt", ".byok", ""):
                texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def test_the_how_to_end_to_end(twin: TwinInfo, project: Path, env: dict[str, str]) -> None:
    vault = "byok-howto-kv"
    transfer = project / "transfer"
    spec, first = deploy_kek(vault, project, twin, env)
    assert first.code == 0, first.output
    assert first.actions(KEY) == {f"{vault}/keys/kek": "create"}

    kek_pem, kid, fetched = fetch_kek(twin.vault_url(vault), transfer, env)
    assert fetched.code == 0, fetched.output
    assert kid.startswith(f"{twin.vault_url(vault)}/keys/kek/") and kek_pem.read_text().startswith("-----BEGIN PUBLIC")

    local = generate_local_keys(project)
    wrapped = {name: wrap(kek_pem, kid, path, transfer, env) for name, path in local.items()}
    for _, _, run in wrapped.values():
        assert run.code == 0, run.output
        assert "not HSM-born" in run.output

    (rsa_blob, rsa_public, _), (ec_blob, ec_public, _) = wrapped["signing-rsa"], wrapped["signing-ec"]
    spec.write_text(
        with_keys(
            spec.read_text(),
            byok_import("signing-rsa", "RSA-HSM", "size: 3072", rsa_blob, rsa_public),
            byok_import("signing-ec", "EC-HSM", "curve: P-256", ec_blob, ec_public),
        )
    )
    plan = vaultspec("plan", str(spec), "--json", env=env)
    assert plan.code == 0, plan.output

    imported = up(spec, twin, env)
    assert imported.code == 0, imported.output
    assert imported.actions(IMPORTED_KEY_TYPE) == {
        f"{vault}/keys/signing-rsa": "create",
        f"{vault}/keys/signing-ec": "create",
    }
    checks = {(c["object"], c["check"]): c["status"] for v in imported.report["smoke"]["vaults"] for c in v["checks"]}
    for key, alg in (("signing-rsa", "RS256"), ("signing-ec", "ES256")):
        for check in ("public-key", f"declared-key:{alg}", "hsm-protected", "not-exportable", "type"):
            assert checks[(f"keys/{key}", check)] == "passed", (key, check)
    assert checks[("keys/kek", "kek-only-import")] == "passed"

    with key_client(twin, vault) as keys:  # independently of smoke: the vault signs with exactly those keys
        for name, alg in (("signing-rsa", SignatureAlgorithm.rs256), ("signing-ec", SignatureAlgorithm.es256)):
            key = keys.get_key(name)
            assert str(key.key_type).endswith("HSM") and key.key.d is None
            digest = os.urandom(32)
            signature = crypto_client(twin, key).sign(alg, digest).signature
            verify_locally(local[name], signature, digest)

    again = up(spec, twin, env)
    assert again.code == 0, again.output
    assert set(again.actions(IMPORTED_KEY_TYPE).values()) == {"same"}
    assert set(again.actions(KEY).values()) == {"same"}

    new_blob, _, rewrap = wrap(kek_pem, kid, local["signing-ec"], transfer, env)  # same key, a fresh blob
    assert rewrap.code == 0 and new_blob == ec_blob
    changed = up(spec, twin, env)
    assert changed.code == 0, changed.output
    assert changed.actions(IMPORTED_KEY_TYPE) == {
        f"{vault}/keys/signing-ec": "update",
        f"{vault}/keys/signing-rsa": "same",
    }
    with key_client(twin, vault) as keys:
        assert len(list(keys.list_properties_of_key_versions("signing-ec"))) == 2
        assert len(list(keys.list_properties_of_key_versions("signing-rsa"))) == 1

    runs = [first, fetched, *(w[2] for w in wrapped.values()), plan, imported, again, rewrap, changed]
    written = everything_written(twin, project, runs)
    for path in local.values():
        for canary in canaries(path):
            assert canary not in written


@dataclass
class KekReady:
    """Steps 1-3 done for a vault: its spec with a KEK is deployed, the KEK fetched, local keys made."""

    spec: Path
    kek_pem: Path
    kid: str
    local: dict[str, Path]
    transfer: Path

    def import_blob(self, name: str, blob: Path) -> None:
        shape = ("RSA-HSM", "size: 3072") if name == "signing-rsa" else ("EC-HSM", "curve: P-256")
        self.spec.write_text(with_keys(self.spec.read_text(), byok_import(name, *shape, blob)))


def kek_ready(vault: str, project: Path, twin: TwinInfo, env: dict[str, str]) -> KekReady:
    spec, first = deploy_kek(vault, project, twin, env)
    assert first.code == 0, first.output
    transfer = project / "transfer"
    kek_pem, kid, fetched = fetch_kek(twin.vault_url(vault), transfer, env)
    assert fetched.code == 0, fetched.output
    return KekReady(spec, kek_pem, kid, generate_local_keys(project), transfer)


def test_a_blob_wrapped_for_another_kek_is_refused_and_nothing_is_stored(twin, project, env):
    vault = "byok-otherkek-kv"
    ready = kek_ready(vault, project, twin, env)
    stranger = ready.transfer / "stranger.pem"  # another KEK's public key, under this KEK's id
    stranger.write_text(public_pem(rsa.generate_private_key(65537, 3072)))
    blob, _, _ = wrap(stranger, ready.kid, ready.local["signing-ec"], ready.transfer, env)
    ready.import_blob("signing-ec", blob)
    run = up(ready.spec, twin, env)
    assert run.code == 1
    assert f"could not import key 'signing-ec' of vault '{vault}': 400 BadParameter" in run.output
    assert "does not decrypt with this KEK" in run.output
    assert_nothing_stored(twin, vault, "signing-ec")


def test_a_blob_naming_another_vaults_kek_is_refused_before_anything_runs(twin, project, env):
    vault = "byok-elsewhere-kv"
    ready = kek_ready(vault, project, twin, env)
    elsewhere = ready.kid.replace(vault, "someone-else-kv")
    blob, _, _ = wrap(ready.kek_pem, elsewhere, ready.local["signing-rsa"], ready.transfer, env)
    ready.import_blob("signing-rsa", blob)
    run = up(ready.spec, twin, env)
    assert run.code == 2
    assert "import.byok: the blob was wrapped for key 'kek' of vault 'someone-else-kv'" in run.output
    assert f"{ready.spec}:" in run.output
    assert_nothing_stored(twin, vault, "signing-rsa")


def test_a_tampered_ciphertext_is_refused_and_nothing_is_stored(twin, project, env):
    vault = "byok-tamper-kv"
    ready = kek_ready(vault, project, twin, env)
    blob, _, _ = wrap(ready.kek_pem, ready.kid, ready.local["signing-ec"], ready.transfer, env)
    document = json.loads(blob.read_text())
    ciphertext = bytearray(b64url_decode(document["ciphertext"], "ciphertext"))
    ciphertext[-5] ^= 0x01  # inside the AES-wrapped key
    document["ciphertext"] = b64url(bytes(ciphertext))
    blob.write_text(json.dumps(document))
    ready.import_blob("signing-ec", blob)
    run = up(ready.spec, twin, env)
    assert run.code == 1
    assert "fails the AES key wrap integrity check (RFC 5649): the ciphertext was altered" in run.output
    assert_nothing_stored(twin, vault, "signing-ec")


def test_a_kek_with_extra_ops_is_refused_at_its_line(twin, project, env):
    vault = "byok-looseek-kv"
    spec = project / f"{vault}.yaml"
    spec.write_text(kek_spec(vault, expires=EXPIRES, kek_ops="[import, sign]"))
    run = up(spec, twin, env)
    assert run.code == 2
    assert f"{spec}:" in run.output and "keys[0].ops: a key exchange key's ops must be exactly [import]" in run.output
    assert_no_vault(twin, vault)


def test_byok_into_a_standard_vault_is_refused_at_its_line(twin, project, env):
    vault = "byok-standard-kv"
    spec = project / f"{vault}.yaml"
    blob = project / "transfer" / "any.byok"
    blob.write_text("{}")
    spec.write_text(
        with_keys(
            kek_spec(vault, expires=EXPIRES, sku="standard"),
            byok_import("signing-ec", "EC-HSM", "curve: P-256", blob),
        )
    )
    run = up(spec, twin, env)
    assert run.code == 2
    assert "import.byok: BYOK needs a premium vault (this vault's sku is standard)" in run.output


def test_a_plaintext_private_key_for_an_hsm_key_stops_at_the_default_policy(twin, project, env):
    vault = "byok-plain-kv"
    key_file = generate_local_keys(project)["signing-ec"]
    spec = project / f"{vault}.yaml"
    entry = imported_key_entry("signing-ec", "EC-HSM", "curve: P-256", "{fromEnv: SIGNING_KEY_PEM}", EXPIRES)
    spec.write_text(with_keys(kek_spec(vault, expires=EXPIRES), entry))
    env = {**env, "SIGNING_KEY_PEM": key_file.read_text()}
    run = up(spec, twin, env)
    assert run.code == 3
    assert "kv-key-hsm-import-byok" in run.output and "nothing was applied" in run.output
    plan = vaultspec("plan", str(spec), "--json", env=env)
    assert plan.code == 3
    assert any(v["policy"] == "kv-key-hsm-import-byok" for v in json.loads(plan.output)["violations"])
    assert_no_vault(twin, vault)
    written = run.output + plan.output + json.dumps(run.report)
    assert all(canary not in written for canary in canaries(key_file))
