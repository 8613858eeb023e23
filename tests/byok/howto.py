"""The steps of the BYOK how-to (docs/byok.md, examples/byok/), as reusable functions for the tests.

Every step runs the real `vaultspec` command a user runs, in a subprocess with the twin's environment
(`vaultspec twin env`); `up` is `vaultspec up SPEC --data DIR --json FILE` on the real Pulumi engine,
the imported keys' dynamic provider running in the engine's `pulumi-resource-pulumi-python`.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from vaultspec.twin.server import TwinInfo


@dataclass
class Run:
    """One command: exit code, everything it printed, and its JSON report when it wrote one."""

    code: int
    output: str
    report: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""

    def actions(self, resource_type: str) -> dict[str, str]:
        """{resource name: action} of this type, from the report."""
        return {r["name"]: r["action"] for r in self.report.get("resources", []) if r["type"] == resource_type}


def vaultspec(*args: str, env: Mapping[str, str], cwd: Path | None = None) -> Run:
    completed = subprocess.run(
        [sys.executable, "-m", "vaultspec", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        cwd=cwd,
        timeout=600,
        check=False,
    )
    return Run(completed.returncode, completed.stdout + completed.stderr, stdout=completed.stdout)


def up_with_cli(spec: Path, twin: TwinInfo, env: Mapping[str, str]) -> Run:
    """`vaultspec up` itself (the real contract)."""
    report = spec.with_name(f"{spec.stem}.up.json")
    report.unlink(missing_ok=True)
    run = vaultspec("up", str(spec), "--data", twin.data_dir, "--json", str(report), env=env)
    run.report = json.loads(report.read_text()) if report.exists() else {}
    return run


def up(spec: Path, twin: TwinInfo, env: Mapping[str, str]) -> Run:
    """Deploy `spec` to the twin and smoke it: `vaultspec up` on the real engine."""
    return up_with_cli(spec, twin, env)


# -- the steps that do not deploy -----------------------------------------------------------------------


def kek_spec(vault: str, *, sku: str = "premium", kek_ops: str = "[import]", expires: str) -> str:
    """Step 1: a premium vault with a key exchange key (and the deployer's import rights)."""
    return f"""\
apiVersion: vaultspec/v1
defaults: {{location: westeurope, resourceGroup: rg-byok}}
vaults:
  - name: {vault}
    sku: {sku}
    network: {{publicAccess: enabled, defaultAction: Deny, bypass: None, ipRules: [127.0.0.1/32]}}
    access: {{model: rbac, deployer: lifecycle}}
    keys:
      - name: kek
        type: RSA-HSM
        size: 3072
        ops: {kek_ops}
        expires: {expires}
        rotation: {{rotateAfterCreate: P90D, expiryTime: P1Y}}
    exceptions:
      - {{policy: kv-public-network-disabled, reason: the twin has no private endpoints}}
      - {{policy: kv-firewall-ip-rules, reason: the twin sees every caller on loopback}}
      - {{policy: kv-diagnostics, reason: the twin has no Log Analytics}}
"""


def imported_key_entry(name: str, key_type: str, shape: str, source: str, expires: str) -> str:
    """One key of the spec with its `import:` (the spec "gains import:")."""
    return f"""\
      - name: {name}
        type: {key_type}
        {shape}
        ops: [sign, verify]
        expires: {expires}
        rotation: {{rotateAfterCreate: P90D, expiryTime: P1Y}}
        import: {source}
"""


def with_keys(spec_text: str, *entries: str) -> str:
    """The spec with more keys after the KEK (before `exceptions:`)."""
    head, marker, tail = spec_text.partition("    exceptions:\n")
    return head + "".join(entries) + marker + tail


def generate_local_keys(folder: Path) -> dict[str, Path]:
    """Step 3 (the HSM vendor's side, here in software): an RSA-3072 and an EC P-256 private key, PEM, 0600."""
    keys = {"signing-rsa": rsa.generate_private_key(65537, 3072), "signing-ec": ec.generate_private_key(ec.SECP256R1())}
    paths = {}
    for name, key in keys.items():
        path = folder / f"{name}.key.pem"
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)
        paths[name] = path
    return paths


def fetch_kek(vault_url: str, folder: Path, env: Mapping[str, str], name: str = "kek") -> tuple[Path, str, Run]:
    """Step 2: `vaultspec byok kek-pem` -> (PEM file, full key id, the run)."""
    pem = folder / f"{name}.pem"
    run = vaultspec("byok", "kek-pem", "--vault-url", vault_url, "--name", name, "--out", str(pem), env=env)
    kid = run.stdout.strip() if run.code == 0 else ""
    return pem, kid, run


def wrap(kek_pem: Path, kid: str, key: Path, folder: Path, env: Mapping[str, str]) -> tuple[Path, Path, Run]:
    """Step 4: `vaultspec byok wrap` -> (.byok file, public key PEM, the run)."""
    name = key.name.removesuffix(".key.pem")
    blob, public = folder / f"{name}.byok", folder / f"{name}.pub.pem"
    run = vaultspec(
        "byok",
        "wrap",
        "--kek-pem",
        str(kek_pem),
        "--kek-id",
        kid,
        "--key",
        str(key),
        "--out",
        str(blob),
        "--public-key",
        str(public),
        env=env,
    )
    return blob, public, run


def canaries(private_key_pem: Path) -> list[str]:
    """Strings that betray a private key: its PEM body lines, its DER in base64, its JWK `d` (base64url)."""
    from vaultspec.byok.material import load_private_key, private_jwk_members

    text = private_key_pem.read_text()
    key = load_private_key(text)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    body = [line for line in text.splitlines() if line and not line.startswith("-----")]
    return [*body[1:4], base64.b64encode(der).decode()[60:120], private_jwk_members(key)["d"][:40]]
