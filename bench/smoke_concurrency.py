"""Smoke a twin vault of 100 keys sequentially (concurrency 1) and concurrently; print the speed-up.

    .venv/bin/python bench/smoke_concurrency.py [--keys 100] [--concurrency 8] [--rtt-ms 20] [--repeat 2]

Two settings, both measured in this run against the same twin and vault:

- **loopback**: the client talks to the twin directly. Client and twin share the machine's cores and
  every request is pure CPU on one side or the other, so concurrency can only overlap the two.
- **network**: the same, through a relay (its own process) that delays every TCP chunk by half of
  `--rtt-ms` in each direction, standing in for the network between a pipeline agent and Key Vault.
  The relay listens on 127.0.0.2 at the twin's port, so URLs, TLS names and the challenge resource
  are unchanged; only this process resolves `*.vault.localhost` there.

The vault holds `--keys` keys: half RSA-2048 sign/verify, a quarter RSA-2048 wrap/unwrap, a quarter
EC P-256 sign/verify. One untimed concurrent run warms the twin first; each figure is the best of
`--repeat` runs. Every run must pass every check.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from typing import Any

from azure.identity import ManagedIdentityCredential as SyncManagedIdentityCredential
from azure.identity.aio import ManagedIdentityCredential
from azure.keyvault.keys import KeyClient

from vaultspec import localhost
from vaultspec.smoke import SmokeOptions, run_smoke
from vaultspec.spec.model import Vault
from vaultspec.twin.server import TwinInfo, start_background, stop

VAULT = "benchkv"
RELAY_HOST = "127.0.0.2"


def key_specs(count: int) -> list[dict[str, Any]]:
    specs = []
    for index in range(count):
        if index % 4 in (0, 1):
            specs.append({"name": f"sign-{index}", "type": "RSA", "size": 2048, "ops": ["sign", "verify"]})
        elif index % 4 == 2:
            specs.append({"name": f"wrap-{index}", "type": "RSA", "size": 2048, "ops": ["wrapKey", "unwrapKey"]})
        else:
            specs.append({"name": f"ec-{index}", "type": "EC", "curve": "P-256", "ops": ["sign", "verify"]})
    return specs


def build_vault(info: TwinInfo, count: int) -> Vault:
    keys = KeyClient(
        info.vault_url(VAULT),
        SyncManagedIdentityCredential(connection_verify=info.ca_bundle),
        connection_verify=info.ca_bundle,
    )
    specs = key_specs(count)
    for spec in specs:
        if spec["type"] == "RSA":
            keys.create_rsa_key(spec["name"], size=2048, key_operations=spec["ops"])
        else:
            keys.create_ec_key(spec["name"], curve="P-256", key_operations=spec["ops"])
    return Vault.model_validate(
        {
            "name": VAULT,
            "resourceGroup": "rg-bench",
            "location": "westeurope",
            "access": {"model": "accessPolicies"},
            "keys": specs,
        }
    )


async def _relay_pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def read() -> None:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
        queue.put_nowait(None)

    async def write() -> None:
        while (item := await queue.get()) is not None:
            due, data = item
            await asyncio.sleep(max(due - loop.time(), 0))
            writer.write(data)
            await writer.drain()
        writer.close()

    await asyncio.gather(read(), write(), return_exceptions=True)


def run_relay(port: int, delay: float, ready: Any) -> None:
    """A TCP relay RELAY_HOST:port -> 127.0.0.1:port delaying each direction by `delay` seconds."""

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(
            _relay_pipe(client_reader, upstream_writer, delay),
            _relay_pipe(upstream_reader, client_writer, delay),
        )

    async def main() -> None:
        server = await asyncio.start_server(handle, RELAY_HOST, port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def route_vaults_to(address: str) -> None:
    """In this process only: where `vaultspec.localhost` sends `*.localhost` names (plain `localhost`, the
    identity endpoint, is never rewritten and stays direct)."""
    localhost.LOOPBACK = address


async def timed(info: TwinInfo, vault: Vault, concurrency: int) -> tuple[float, int]:
    credential = ManagedIdentityCredential(connection_verify=info.ca_bundle)
    try:
        started = time.perf_counter()
        report = await run_smoke(
            info.vault_url(VAULT),
            vault,
            credential,
            SmokeOptions(concurrency=concurrency, connection_verify=info.ca_bundle, rbac_wait=0),
        )
        elapsed = time.perf_counter() - started
    finally:
        await credential.close()
    failures = [(c.object, c.check, c.detail) for c in report.checks if c.status == "failed"]
    if failures:
        raise SystemExit(f"smoke failed during the benchmark: {failures[:3]}")
    return elapsed, len(report.checks)


def best_of(repeat: int, info: TwinInfo, vault: Vault, concurrency: int) -> tuple[float, int]:
    runs = [asyncio.run(timed(info, vault, concurrency)) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[0][1]


def measure(label: str, repeat: int, info: TwinInfo, vault: Vault, concurrency: int) -> float:
    sequential, checks = best_of(repeat, info, vault, 1)
    concurrent, _ = best_of(repeat, info, vault, concurrency)
    ratio = sequential / concurrent
    print(
        f"{label:<40} {checks} checks | sequential {sequential:6.2f} s | "
        f"concurrency {concurrency}: {concurrent:6.2f} s | speed-up {ratio:.1f}x"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data:
        localhost.install()
        info = start_background(data, vaults=(VAULT,))
        os.environ["IDENTITY_ENDPOINT"] = info.identity_endpoint
        os.environ["IDENTITY_HEADER"] = info.identity_header()
        relay = None
        try:
            started = time.perf_counter()
            vault = build_vault(info, args.keys)
            took = time.perf_counter() - started
            print(f"vault {VAULT}: {args.keys} keys created in {took:.1f} s; {os.cpu_count()} cores")
            asyncio.run(timed(info, vault, args.concurrency))  # warm-up: key caches, connections, tokens
            measure("loopback (twin direct)", args.repeat, info, vault, args.concurrency)
            ready = multiprocessing.Event()
            relay = multiprocessing.Process(target=run_relay, args=(info.port, args.rtt_ms / 2000, ready), daemon=True)
            relay.start()
            if not ready.wait(10):
                raise SystemExit("the relay did not start")
            route_vaults_to(RELAY_HOST)
            try:
                measure(f"network ({args.rtt_ms:g} ms round trip)", args.repeat, info, vault, args.concurrency)
            finally:
                route_vaults_to("127.0.0.1")
        finally:
            if relay is not None:
                relay.terminate()
            stop(data)


if __name__ == "__main__":
    main()
