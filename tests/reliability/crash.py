"""One crash-safety run: concurrent acknowledged writes, SIGKILL at a random moment, restart, verify.

Used by `test_crash_safety.py` (a bounded run in `make test`) and `bench/reliability_crash.py`
(many runs). Writers are official SDK clients (SecretClient, KeyClient), one per thread, each with
retries off so that a write counts as acknowledged exactly when the SDK call returned. The twin is
killed once a random number of writes has been acknowledged, while the other writers are still
mid-request. Then:

- the SQLite file passes `PRAGMA integrity_check` (before the twin reopens it);
- the twin restarts on the same data dir and port (nothing left behind blocks it);
- every acknowledged secret version reads back with the exact value written, every acknowledged key
  version signs (server side) and the signature verifies (locally, with the returned public JWK);
- writes that were in flight at the kill may be present or absent, but if present they are intact;
- every line of the audit log is still a JSON object.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.exceptions import AzureError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from vaultspec.twin import server
from vaultspec.twin.testing import crypto_client, key_client, secret_client, start_twin

VAULT = "crashkv"


@dataclass
class Write:
    kind: str  # "secret" | "key"
    name: str
    value: str = ""  # secrets: the value written
    version: str = ""  # set once acknowledged
    key_type: str = ""  # keys: "EC" | "RSA"


@dataclass
class CrashReport:
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)  # acknowledged but missing after the restart
    corrupt: list[str] = field(default_factory=list)  # present but not what was written / cannot sign
    in_flight: int = 0  # attempted, not acknowledged when the twin died
    in_flight_present: int = 0
    integrity: str = ""
    restarted: bool = False
    audit_lines: int = 0
    audit_bad_lines: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.restarted
            and self.integrity == "ok"
            and not self.lost
            and not self.corrupt
            and not self.audit_bad_lines
            and self.acknowledged > 0
        )


class _Writers:
    """Writer threads sharing the list of attempts; `acked` counts acknowledgements."""

    def __init__(self, info: server.TwinInfo, writers: int) -> None:
        self.info = info
        self.attempts: list[Write] = []
        self.acked = 0
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(writers)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _run(self, index: int) -> None:
        kind = "secret" if index % 2 == 0 else "key"
        client = (secret_client if kind == "secret" else key_client)(self.info, VAULT, retry_total=0)
        sequence = 0
        while not self.stop.is_set():
            sequence += 1
            write = Write(kind, f"{kind[0]}{index}-{sequence}")
            if kind == "secret":
                write.value = f"value-{index}-{sequence}-" + hashlib.sha256(f"{index}/{sequence}".encode()).hexdigest()
            else:
                write.key_type = "RSA" if sequence % 8 == 0 else "EC"
            with self.cond:
                self.attempts.append(write)
            try:
                if kind == "secret":
                    write.version = client.set_secret(write.name, write.value).properties.version
                elif write.key_type == "RSA":
                    write.version = client.create_rsa_key(write.name, size=2048).properties.version
                else:
                    write.version = client.create_ec_key(write.name, curve="P-256").properties.version
            except (AzureError, OSError):
                return  # the twin is gone: this write stays unacknowledged
            with self.cond:
                self.acked += 1
                self.cond.notify_all()

    def wait_for(self, acknowledgements: int, timeout: float) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.acked >= acknowledgements, timeout=timeout)

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def _reap(pid: int, timeout: float = 30.0) -> None:
    """Wait for the killed twin to be gone (reaping it when it is our child, as start_background makes it)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)


def _integrity(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def _verify_signature(key: Any, key_type: str, digest: bytes, signature: bytes) -> bool:
    """Verify with pyca/cryptography from the public JWK the twin returned (not with the twin)."""
    jwk = key.key
    try:
        if key_type == "EC":
            x, y = int.from_bytes(jwk.x, "big"), int.from_bytes(jwk.y, "big")
            public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
            half = len(signature) // 2
            der = utils.encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            public.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        else:
            n, e = int.from_bytes(jwk.n, "big"), int.from_bytes(jwk.e, "big")
            public_rsa = rsa.RSAPublicNumbers(e, n).public_key()
            public_rsa.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def _audit_lines(data: Path) -> tuple[int, int]:
    path = data / "audit.jsonl"
    if not path.exists():
        return 0, 0
    lines = path.read_text(errors="replace").splitlines()
    bad = 0
    for line in lines:
        try:
            if not isinstance(json.loads(line), dict):
                bad += 1
        except ValueError:
            bad += 1
    return len(lines), bad


def run_once(workdir: Path, *, writers: int = 4, seed: int | None = None, max_acks: int = 60) -> CrashReport:
    """One run in `workdir` (a fresh data dir each time); see the module docstring."""
    rng = random.Random(seed)
    started = time.monotonic()
    report = CrashReport()
    data = workdir / "data"
    info = start_twin(data, vaults=(VAULT,))
    pool = _Writers(info, writers)
    try:
        pool.start()
        pool.wait_for(rng.randint(3, max_acks), timeout=120)
        os.killpg(info.pid, signal.SIGKILL)  # the twin's whole process group, mid-request for other writers
    finally:
        pool.join()
        _reap(info.pid)
    acked = [w for w in pool.attempts if w.version]
    report.acknowledged = len(acked)
    report.in_flight = len(pool.attempts) - len(acked)
    report.integrity = _integrity(data / "twin.db")
    again = start_twin(data)
    report.restarted = again.port == info.port and again.pid != info.pid
    try:
        _check(again, pool.attempts, report)
    finally:
        server.stop(data)
    report.audit_lines, report.audit_bad_lines = _audit_lines(data)
    report.seconds = time.monotonic() - started
    return report


def _check(info: server.TwinInfo, attempts: list[Write], report: CrashReport) -> None:
    secrets = secret_client(info, VAULT)
    keys = key_client(info, VAULT)
    digest = hashlib.sha256(b"crash-safety").digest()
    for write in attempts:
        label = f"{write.kind} {write.name}"
        try:
            if write.kind == "secret":
                found = secrets.get_secret(write.name, write.version or None)
                intact = found.value == write.value
            else:
                key = keys.get_key(write.name, write.version or None)
                intact = key.key_type == write.key_type
                if intact:
                    algorithm = "ES256" if write.key_type == "EC" else "RS256"
                    signed = crypto_client(info, key).sign(algorithm, digest)
                    intact = _verify_signature(key, write.key_type, digest, signed.signature)
        except AzureError as error:
            if getattr(error, "status_code", None) != 404:
                report.corrupt.append(f"{label}: {type(error).__name__}")
            elif write.version:
                report.lost.append(label)
            continue
        if not write.version:
            report.in_flight_present += 1
        if not intact:
            report.corrupt.append(label)
