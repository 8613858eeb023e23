"""Secret-leak guard: canary secret values never appear in any output stream, log, report, audit file, or
in the twin's store and state files (where secrets may exist only encrypted).

Every command runs as users run it: the `vaultspec` console script in a subprocess, its stdout and
stderr captured. Canaries: a `fromEnv` value, a `fromConfig` value (`--secret-from-env`), a literal value in a
spec (which `validate` must refuse without echoing), values written to the twin through the SDK and
ARM, an imported private key's d/p/q, and a value `up` generates. Each is searched for as raw bytes,
hex and base64/base64url at every byte alignment.

`up` runs twice (the second run applies nothing) and `down` removes it all; the spec is a `dev-` stack so
that `up` leaves its resources unprotected and `down` may delete them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from azure.keyvault.keys import JsonWebKey
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.reliability.twinhttp import TwinHttp
from vaultspec import localhost
from vaultspec.twin.server import TwinInfo, find_running, stop
from vaultspec.twin.testing import key_client, secret_client, use_identity_of

REPO = Path(__file__).resolve().parents[2]
VAULTSPEC = [sys.executable, "-m", "vaultspec"]
SPEC = """\
apiVersion: vaultspec/v1
defaults:
  location: westeurope
  resourceGroup: rg-leak
  tags: {owner: reliability}
vaults:
  - name: leak-kv
    sku: premium
    softDelete: {retentionDays: 7, purgeProtection: false}
    network: {publicAccess: enabled, defaultAction: Deny, bypass: None, ipRules: [127.0.0.1/32]}
    access: {model: rbac, deployer: lifecycle}
    keys:
      - name: leak-signing
        type: EC-HSM
        curve: P-256
        ops: [sign, verify]
        expires: 2031-06-01T00:00:00Z
        rotation: {rotateAfterCreate: P90D, expiryTime: P1Y}
    secrets:
      - {name: from-env, value: {fromEnv: LEAK_CANARY_ENV}, contentType: text/plain, expires: 2031-06-01T00:00:00Z}
      - {name: from-config, value: {fromConfig: leakPassword}, contentType: text/plain, expires: 2031-06-01T00:00:00Z}
      - {name: generated, value: {generate: {length: 40}}, contentType: text/plain, expires: 2031-06-01T00:00:00Z}
    diagnostics:
      workspaceId: {WORKSPACE}
    exceptions:
      - {policy: kv-public-network-disabled, reason: The twin has no private endpoints.}
      - {policy: kv-firewall-ip-rules, reason: The twin sees every caller on loopback.}
      - {policy: kv-soft-delete-retention, reason: Test vaults keep deleted objects 7 days.}
      - {policy: kv-purge-protection, reason: Test vaults are purged.}
      - {policy: kv-key-expiry, reason: Test keys.}
      - {policy: kv-secret-expiry, reason: Test secrets.}
""".replace(
    "{WORKSPACE}",
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-o"
    "/providers/Microsoft.OperationalInsights/workspaces/law",
)


def _canary(kind: str) -> str:
    return f"canary-{kind}-{secrets.token_hex(12)}"


def forms(secret: bytes) -> list[bytes]:
    """`secret` as raw bytes, hex, and base64 / base64url at each of the 3 byte alignments (inner part)."""
    found = [secret, secret.hex().encode(), secret.hex().upper().encode()]
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + secret)
            found.append(encoded[4 : -4 if len(encoded) > 12 else None])
    return [f for f in found if len(f) >= 8]


@dataclass
class Scan:
    """Canaries, and every artifact (name -> bytes) that must not hold them."""

    canaries: dict[str, bytes] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)

    def add_files(self, root: Path, label: str) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.artifacts[f"{label}/{path.relative_to(root)}"] = path.read_bytes()

    def leaks(self) -> list[str]:
        found = []
        for name, secret in self.canaries.items():
            patterns = forms(secret)
            for artifact, data in self.artifacts.items():
                if any(pattern in data for pattern in patterns):
                    found.append(f"{name} in {artifact}")
        return found


def run_cli(args: list[str], scan: Scan, label: str, env: dict[str, str], expect: tuple[int, ...]) -> None:
    """`vaultspec ARGS` in a subprocess; its stdout and stderr join the scan."""
    result = subprocess.run([*VAULTSPEC, *args], cwd=REPO, env=env, capture_output=True, timeout=300, check=False)
    scan.artifacts[f"{label} stdout"] = result.stdout
    scan.artifacts[f"{label} stderr"] = result.stderr
    assert result.returncode in expect, (label, result.returncode, result.stderr.decode(errors="replace")[-2000:])


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDENTITY_", "MSI_", "IMDS_"))}
    env.update(extra)
    return env


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "dev-leak.yaml"  # a dev stack: up does not protect its resources, so down may delete them
    path.write_text(SPEC)
    return path


# -- validate -----------------------------------------------------------------------------------------
def test_validate_never_echoes_a_literal_secret_value(tmp_path: Path, spec: Path) -> None:
    scan = Scan({"literal": _canary("literal").encode()})
    literal = tmp_path / "literal.yaml"
    literal.write_text(SPEC.replace("value: {fromEnv: LEAK_CANARY_ENV}", f"value: {scan.canaries['literal'].decode()}"))
    broken = tmp_path / "broken.yaml"  # the value sits on an error's own line: an echo would be tempting
    broken.write_text(
        SPEC.replace(
            "value: {fromEnv: LEAK_CANARY_ENV}", f"value: {{fromEnv: {scan.canaries['literal'].decode()}, x: 1}}"
        )
    )
    run_cli(["validate", str(literal), str(broken)], scan, "validate invalid", cli_env(), expect=(2,))
    run_cli(
        ["validate", str(spec)],
        scan,
        "validate ok",
        cli_env(LEAK_CANARY_ENV=scan.canaries["literal"].decode()),
        expect=(0,),
    )
    errors = scan.artifacts["validate invalid stderr"]
    assert b"literal secret values are not allowed" in errors and b"broken.yaml" in errors
    assert scan.leaks() == []


# -- plan -----------------------------------------------------------------------------------------------------
def test_plan_shows_secret_inputs_only_as_placeholders(spec: Path) -> None:
    scan = Scan({"env": _canary("env").encode(), "config": _canary("config").encode()})
    env = cli_env(
        LEAK_CANARY_ENV=scan.canaries["env"].decode(),
        PULUMI_CONFIG=json.dumps({"vaultspec:leakPassword": scan.canaries["config"].decode()}),
    )
    run_cli(["plan", str(spec)], scan, "plan", env, expect=(0,))
    run_cli(["plan", str(spec), "--json"], scan, "plan --json", env, expect=(0,))
    plan = json.loads(scan.artifacts["plan --json stdout"])
    values = [r["inputs"]["properties"]["value"] for r in plan["resources"] if r["type"].endswith(":Secret")]
    assert values and set(values) == {"[secret]"}
    assert scan.leaks() == []


# -- the twin: serve, audit, store -----------------------------------------------------------------------------
@dataclass
class ServedTwin:
    info: TwinInfo
    data: Path
    out: Path
    process: subprocess.Popen[bytes]


@pytest.fixture
def served(tmp_path: Path, twin: TwinInfo) -> Iterator[ServedTwin]:  # type: ignore[no-untyped-def]
    """`vaultspec twin serve` as users start it, its stdout/stderr in files."""
    data, out = tmp_path / "twin-data", tmp_path / "serve"
    with open(f"{out}.stdout", "wb") as stdout, open(f"{out}.stderr", "wb") as stderr:
        process = subprocess.Popen(
            [*VAULTSPEC, "twin", "serve", "--data", str(data), "--vault", "servekv"],
            cwd=REPO,
            env=cli_env(),
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    info = find_running(data)
    while info is None and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        info = find_running(data)
    assert info is not None, Path(f"{out}.stderr").read_text()
    use_identity_of(info)
    try:
        yield ServedTwin(info, data, out, process)
    finally:
        stop(data)
        process.wait(timeout=30)
        use_identity_of(twin)


def _private_key_jwk() -> tuple[JsonWebKey, dict[str, bytes]]:
    numbers = rsa.generate_private_key(65537, 2048).private_numbers()

    def raw(value: int) -> bytes:
        return value.to_bytes((value.bit_length() + 7) // 8, "big")

    parts = {"d": raw(numbers.d), "p": raw(numbers.p), "q": raw(numbers.q)}
    jwk = JsonWebKey(
        kty="RSA",
        n=raw(numbers.public_numbers.n),
        e=raw(numbers.public_numbers.e),
        dp=raw(numbers.dmp1),
        dq=raw(numbers.dmq1),
        qi=raw(numbers.iqmp),
        **parts,
    )
    return jwk, parts


def test_twin_serve_audit_and_store_never_hold_secret_values_in_clear(served: ServedTwin) -> None:
    info, scan = served.info, Scan()
    for kind in ("set", "updated", "arm", "restored", "oversized", "wrongtype", "error"):
        scan.canaries[kind] = _canary(kind).encode()
    value = {kind: canary.decode() for kind, canary in scan.canaries.items()}
    vault = "servekv"
    secrets_client = secret_client(info, vault)
    secrets_client.set_secret("leak-a", value["set"])
    secrets_client.set_secret("leak-a", value["updated"], content_type="text/plain")
    assert secrets_client.get_secret("leak-a").value == value["updated"]
    secrets_client.update_secret_properties("leak-a", tags={"env": "leak"})
    list(secrets_client.list_properties_of_secrets())
    secrets_client.set_secret("leak-b", value["restored"])
    blob = secrets_client.backup_secret("leak-b")
    scan.artifacts["backup blob"] = blob
    secrets_client.begin_delete_secret("leak-b").wait()
    secrets_client.purge_deleted_secret("leak-b")
    secrets_client.restore_secret_backup(blob)
    secrets_client.begin_delete_secret("leak-a").wait()
    secrets_client.begin_recover_deleted_secret("leak-a").wait()
    jwk, private_parts = _private_key_jwk()
    for part, data in private_parts.items():
        scan.canaries[f"private {part}"] = data
    key_client(info, vault).import_key("leak-imported", jwk)

    http = TwinHttp(info, default_vault=vault)
    try:
        # Error paths: a refused write must not echo the value it refused.
        too_big = http.vault("PUT", "/secrets/leak-big", json={"value": value["oversized"] * 1200})
        assert too_big.status_code == 400
        scan.artifacts["oversized answer"] = too_big.content
        wrong = http.vault("PUT", "/secrets/leak-wrong", json={"value": [value["wrongtype"]], "tags": {"t": 5}})
        assert wrong.status_code == 400
        scan.artifacts["wrong-type answer"] = wrong.content
        bad_name = http.vault(
            "PUT", "/secrets/not_a_valid_name!", json={"value": value["error"]}
        )  # names are not secret
        scan.artifacts["bad-name answer"] = bad_name.content
        unauthenticated = http.vault("PUT", "/secrets/leak-c", token=None, json={"value": value["error"]})
        scan.artifacts["401 answer"] = unauthenticated.content
        # ARM: the secret value is write-only.
        arm_vault = http.vault_path("leak-arm-kv", "rg-leak")
        body = {
            "location": "westeurope",
            "properties": {"tenantId": info.tenant_id, "sku": {"family": "A", "name": "standard"}},
        }
        assert http.arm("PUT", arm_vault, json=body).status_code in (200, 201)
        put = http.arm("PUT", f"{arm_vault}/secrets/leak-arm", json={"properties": {"value": value["arm"]}})
        assert put.status_code in (200, 201)
        scan.artifacts["ARM PUT answer"] = put.content
        scan.artifacts["ARM GET answer"] = http.arm("GET", f"{arm_vault}/secrets/leak-arm").content
        scan.artifacts["ARM list answer"] = http.arm("GET", f"{arm_vault}/secrets").content
    finally:
        http.close()

    run_cli(["twin", "audit", "--data", str(served.data)], scan, "twin audit", cli_env(), expect=(0,))
    run_cli(["twin", "env", "--data", str(served.data)], scan, "twin env", cli_env(), expect=(0,))
    assert scan.artifacts["twin audit stdout"].count(b"SecretSet") >= 3  # the audit did record the calls
    stop(served.data)
    served.process.wait(timeout=30)
    scan.add_files(served.data, "data dir")  # twin.db (+ -wal/-shm), audit.jsonl, twin.log, keys, ...
    for stream in ("stdout", "stderr"):
        scan.artifacts[f"twin serve {stream}"] = Path(f"{served.out}.{stream}").read_bytes()
    assert any(name.startswith("data dir/twin.db") for name in scan.artifacts)
    assert scan.leaks() == []


# -- smoke ----------------------------------------------------------------------------------------------------
def _leak_vault(http: TwinHttp, env_value: str, config_value: str, generated: str) -> str:
    """leak-kv as the spec declares it, made through ARM and the data plane (what `up` would make)."""
    info = http.info
    body = {
        "location": "westeurope",
        "properties": {
            "tenantId": info.tenant_id,
            "sku": {"family": "A", "name": "premium"},
            "enableRbacAuthorization": True,
            "softDeleteRetentionInDays": 7,
            "networkAcls": {"defaultAction": "Deny", "bypass": "None", "ipRules": [{"value": "127.0.0.1/32"}]},
        },
    }
    created = http.arm("PUT", http.vault_path("leak-kv", "rg-leak"), json=body)
    assert created.status_code in (200, 201), created.text
    scope = created.json()["id"]
    for role in (
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    ):  # crypto/secrets officer
        assignment = {
            "properties": {
                "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{role}",
                "principalId": info.default_object_id,
            }
        }
        path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        assert http.arm("PUT", path, json=assignment, api="2022-04-01").status_code in (200, 201)
    expires = 1938038400  # 2031-06-01
    key = {"kty": "EC-HSM", "crv": "P-256", "key_ops": ["sign", "verify"], "attributes": {"exp": expires}}
    assert http.vault("POST", "/keys/leak-signing/create", vault="leak-kv", json=key).status_code == 200
    policy = {
        "lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}}],
        "attributes": {"expiryTime": "P1Y"},
    }
    assert http.vault("PUT", "/keys/leak-signing/rotationpolicy", vault="leak-kv", json=policy).status_code == 200
    for name, value in (("from-env", env_value), ("from-config", config_value), ("generated", generated)):
        secret = {"value": value, "contentType": "text/plain", "attributes": {"exp": expires}}
        assert http.vault("PUT", f"/secrets/{name}", vault="leak-kv", json=secret).status_code == 200
    return info.vault_url("leak-kv")


def test_smoke_reports_and_streams_never_hold_secret_values(
    twin: TwinInfo, http: TwinHttp, spec: Path, tmp_path: Path
) -> None:
    scan = Scan({kind: _canary(kind).encode() for kind in ("env", "config", "generated", "mismatch")})
    value = {kind: canary.decode() for kind, canary in scan.canaries.items()}
    url = _leak_vault(http, value["env"], value["config"], value["generated"])
    base = cli_env(**twin.env(), PULUMI_CONFIG=json.dumps({"vaultspec:leakPassword": value["config"]}))
    for label, env_value, expect in (("smoke", value["env"], (0,)), ("smoke mismatch", value["mismatch"], (1,))):
        report_json, report_xml = tmp_path / f"{label}.json", tmp_path / f"{label}.xml"
        args = ["smoke", "--vault-url", url, "--spec", str(spec), "-v", "--rbac-wait", "0"]
        run_cli(
            [*args, "--json", str(report_json), "--junit", str(report_xml)],
            scan,
            label,
            {**base, "LEAK_CANARY_ENV": env_value},
            expect,
        )
        scan.artifacts[f"{label} JSON report"] = report_json.read_bytes()
        scan.artifacts[f"{label} JUnit report"] = report_xml.read_bytes()
    assert b"source" in scan.artifacts["smoke mismatch stdout"] + scan.artifacts["smoke mismatch stderr"]
    scan.add_files(Path(twin.data_dir), "session twin data dir")
    assert scan.leaks() == []


# -- up / down (issue 8) --------------------------------------------------------------------------------------
def test_up_and_down_streams_reports_state_and_store_never_hold_secret_values(spec: Path, tmp_path: Path) -> None:
    scan = Scan({kind: _canary(kind).encode() for kind in ("env", "config")})
    value = {kind: canary.decode() for kind, canary in scan.canaries.items()}
    data = tmp_path / "up-data"
    env = cli_env(LEAK_CANARY_ENV=value["env"], LEAK_CANARY_CONFIG=value["config"])
    try:
        for label in ("up", "up again"):
            report_json, report_xml = tmp_path / f"{label}.json", tmp_path / f"{label}.xml"
            args = ["up", str(spec), "--data", str(data), "--json", str(report_json), "--junit", str(report_xml)]
            args += ["--secret-from-env", "leakPassword=LEAK_CANARY_CONFIG"]
            run_cli(args, scan, label, env, expect=(0,))
            scan.artifacts[f"{label} JSON report"] = report_json.read_bytes()
            scan.artifacts[f"{label} JUnit report"] = report_xml.read_bytes()
        info = find_running(data)
        assert info is not None, "`vaultspec up` should leave the twin it started running"
        localhost.install()
        use_identity_of(info)
        deployed = secret_client(info, "leak-kv")
        assert deployed.get_secret("from-env").value == value["env"]  # the canaries really went through up
        assert deployed.get_secret("from-config").value == value["config"]
        generated = deployed.get_secret("generated").value
        assert generated and generated not in (value["env"], value["config"])
        scan.canaries["generated"] = generated.encode()
        down_json = tmp_path / "down.json"
        run_cli(["down", str(spec), "--data", str(data), "--json", str(down_json)], scan, "down", env, expect=(0,))
        scan.artifacts["down JSON report"] = down_json.read_bytes()
    finally:
        stop(data)
    scan.add_files(data, "up data dir")  # the twin's store, audit and log; the Pulumi state, stack config, home
    assert scan.leaks() == []


def test_the_scan_finds_a_canary_in_every_form_it_claims_to() -> None:
    """Guard the guard: a scan that cannot see the canary would pass every test above."""
    canary = _canary("self").encode()
    for encoded in (
        canary,
        b"prefix " + canary.hex().encode(),
        base64.b64encode(b"x" + canary),
        base64.urlsafe_b64encode(b"xy" + canary + b"z"),
        json.dumps({"value": canary.decode()}).encode(),
    ):
        scan = Scan({"self": canary}, {"artifact": b"..." + encoded + b"..."})
        assert scan.leaks() == ["self in artifact"], encoded
    assert Scan({"self": canary}, {"artifact": b"nothing here"}).leaks() == []
