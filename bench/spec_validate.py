"""Validate a generated spec of 1,000 vaults; print the time per vault and the ratio to bare YAML parsing.

    .venv/bin/python bench/spec_validate.py [--vaults 1000] [--repeat 3]

The ratio compares `vaultspec.spec.load_spec` (positions, duplicate-key checks, pydantic model,
cross-field rules) with PyYAML's plain safe load of the same file (LibYAML when installed, as the
loader uses), measured in this run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from vaultspec.spec import load_spec

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same parser the spec loader uses

APP = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"


def vault_yaml(index: int) -> str:
    return f"""\
  - name: bench-{index:05d}-kv
    network: {{publicAccess: disabled, defaultAction: Deny, bypass: None, ipRules: [203.0.113.0/24]}}
    access:
      model: rbac
      grants:
        - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Crypto User, scope: keys/signing}}
        - {{principal: {APP}, principalType: ServicePrincipal, role: Key Vault Secrets User, scope: secrets/db}}
    keys:
      - name: signing
        type: RSA-HSM
        size: 3072
        ops: [sign, verify]
        expires: 2028-01-01T00:00:00Z
        rotation: {{rotateAfterCreate: P90D, notifyBeforeExpiry: P30D, expiryTime: P1Y}}
      - {{name: tokens, type: EC-HSM, curve: P-384, ops: [sign, verify], expires: 2028-01-01T00:00:00Z}}
    secrets:
      - {{name: db, value: {{fromEnv: DB_PASSWORD}}, contentType: text/plain, expires: 2027-06-01T00:00:00Z}}
    exceptions:
      - {{policy: kv-diagnostics, reason: bench}}
"""


def generate(vaults: int) -> str:
    header = "apiVersion: vaultspec/v1\ndefaults: {location: westeurope, resourceGroup: rg-bench}\nvaults:\n"
    return header + "".join(vault_yaml(i) for i in range(vaults))


def best_of(repeat: int, fn) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vaults", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(generate(args.vaults))
        spec = load_spec(path)
        assert len(spec.vaults) == args.vaults
        validate = best_of(args.repeat, lambda: load_spec(path))
        bare = best_of(args.repeat, lambda: yaml.load(path.read_text(), Loader=LOADER))
        size_kib = path.stat().st_size / 1024
    print(f"vaults: {args.vaults} ({size_kib:.0f} KiB of YAML)")
    print(f"vaultspec validate: {validate:.3f} s total, {validate / args.vaults * 1000:.3f} ms per vault")
    print(f"bare YAML safe load: {bare:.3f} s total, {bare / args.vaults * 1000:.3f} ms per vault")
    print(f"ratio validate / bare parse: {validate / bare:.2f}x")


if __name__ == "__main__":
    main()
