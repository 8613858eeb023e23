"""RSA-2048 sign over HTTPS (keep-alive, concurrent connections) vs raw in-process signing on the same cores.

Run: .venv/bin/python bench/twin_sign.py   (goal: ratio >= 0.7)
The baseline signs the same digests with pyca/cryptography in this process, on 1 thread and on as many
threads as there are cores (pyca releases the GIL while signing, so that is the machine's raw capacity).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from twin_common import VAULT, start, token, wrk

from vaultspec.twin import server
from vaultspec.twin.crypto import b64url
from vaultspec.twin.testing import key_client, use_identity_of

SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))


def raw_rate(threads: int, seconds: float) -> float:
    key = rsa.generate_private_key(65537, 2048)
    digest = b"\x01" * 32
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        while time.perf_counter() < stop:
            key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
            counts[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    cores = os.cpu_count() or 1
    info, data = start()
    try:
        use_identity_of(info)
        key = key_client(info, VAULT).create_rsa_key("bench-rsa", size=2048)
        body = '{"alg":"RS256","value":"' + b64url(b"\x01" * 32) + '"}'
        path = f"/keys/{key.name}/{key.properties.version}/sign?api-version=7.6"
        bearer = token(info)
        wrk(info, path, bearer, CONNECTIONS, 2, body)  # warm-up
        https, bad = wrk(info, path, bearer, CONNECTIONS, SECONDS, body)
    finally:
        server.stop(data)
    raw_one = raw_rate(1, SECONDS / 2)
    raw_all = raw_rate(cores, SECONDS / 2)
    print(f"cores: {cores}; wrk -t1 -c{CONNECTIONS} -d{SECONDS}s; non-2xx answers: {bad}")
    print(f"raw in-process RSA-2048 sign, 1 thread:      {raw_one:8.0f} /s")
    print(f"raw in-process RSA-2048 sign, {cores} threads:     {raw_all:8.0f} /s")
    print(f"HTTPS sign through the twin (keep-alive):    {https:8.0f} /s")
    print(f"ratio HTTPS / raw ({cores} threads, same cores): {https / raw_all:.2f}  (goal >= 0.70)")
    print(f"ratio HTTPS / raw (1 thread):              {https / raw_one:.2f}")


if __name__ == "__main__":
    main()
