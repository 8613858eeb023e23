"""Memory of the twin under many connections: 1,000 idle keep-alive connections plus hundreds of active ones.

Run: .venv/bin/python bench/reliability_limits.py [--idle 1000] [--active 300] [--seconds 10]

Starts a twin (production limits), then over TLS from one asyncio client:
1. baseline RSS after a warm-up;
2. `--idle` connections that each send one request and then stay open (keep-alive idle, as pooled
   SDK connections sit between calls): RSS with all of them held;
3. while they are held, `--active` connections send secret GETs back to back for `--seconds`:
   peak RSS (VmHWM), requests answered, and how many were not 200;
4. all closed: RSS afterwards.
Prints the figures and the memory per idle connection.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import ssl
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.reliability` lives in the repo

from tests.reliability.twinhttp import TwinHttp
from vaultspec.twin import server
from vaultspec.twin.testing import TWIN_VAULT, start_twin


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a twin may serve from worker processes under a supervisor)."""
    tree, index = [pid], 0
    while index < len(tree):
        for task in Path(f"/proc/{tree[index]}/task").iterdir():
            tree += [int(child) for child in (task / "children").read_text().split()]
        index += 1
    return tree


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM summed over the twin's processes."""
    fields = {"VmRSS": 0, "VmHWM": 0}
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in fields:
                fields[name] += int(value.split()[0])
    return fields


class Client:
    """HTTP/1.1 keep-alive over one TLS connection, reading responses by Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
        self.reader, self.writer, self.request = reader, writer, request

    @classmethod
    async def open(cls, port: int, context: ssl.SSLContext, request: bytes) -> Client:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname=f"{TWIN_VAULT}.vault.localhost"
        )
        return cls(reader, writer, request)

    async def call(self) -> int:
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def measure(info: server.TwinInfo, token: str, idle: int, active: int, seconds: float) -> dict[str, float]:
    context = ssl.create_default_context(cafile=info.ca_bundle)
    host = f"{TWIN_VAULT}.vault.localhost:{info.port}"
    request = (
        f"GET /secrets/limits?api-version=7.6 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    figures: dict[str, float] = {}
    warm = await Client.open(info.port, context, request)
    for _ in range(200):
        await warm.call()
    warm.close()
    figures["baseline_kib"] = memory_kib(info.pid)["VmRSS"]

    held: list[Client] = []
    for start in range(0, idle, 100):  # open in batches so the client does not flood the backlog
        batch = await asyncio.gather(*(Client.open(info.port, context, request) for _ in range(min(100, idle - start))))
        await asyncio.gather(*(client.call() for client in batch))
        held += batch
    figures["idle_kib"] = memory_kib(info.pid)["VmRSS"]

    workers = await asyncio.gather(*(Client.open(info.port, context, request) for _ in range(active)))
    answered, not_ok = 0, 0
    end = time.monotonic() + seconds

    async def loop(client: Client) -> None:
        nonlocal answered, not_ok
        while time.monotonic() < end:
            status = await client.call()
            answered += 1
            not_ok += status != 200

    await asyncio.gather(*(loop(worker) for worker in workers))
    usage = memory_kib(info.pid)
    figures.update(active_kib=usage["VmRSS"], peak_kib=usage["VmHWM"], answered=answered, not_ok=not_ok)
    still_idle_ok = await held[0].call()  # an idle connection of step 2 still works
    figures["idle_connection_still_served"] = float(still_idle_ok == 200)
    for client in held + list(workers):
        client.close()
    await asyncio.sleep(1)
    figures["after_close_kib"] = memory_kib(info.pid)["VmRSS"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--active", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="reliability-limits-"))
    info = start_twin(data, vaults=(TWIN_VAULT,))
    http = TwinHttp(info)
    try:
        assert http.vault("PUT", "/secrets/limits", json={"value": "limits-value"}).status_code == 200
        figures = asyncio.run(measure(info, http.data_token(), args.idle, args.active, args.seconds))
        served_after = http.serves_normally()
    finally:
        http.close()
        server.stop(data)
        shutil.rmtree(data, ignore_errors=True)
    mib = 1024
    per_idle = (figures["idle_kib"] - figures["baseline_kib"]) / max(args.idle, 1)
    rate = figures["answered"] / args.seconds
    rows = [
        ("baseline RSS after warm-up", f"{figures['baseline_kib'] / mib:.1f} MiB"),
        (
            f"with {args.idle} idle keep-alive connections",
            f"{figures['idle_kib'] / mib:.1f} MiB ({per_idle:.1f} KiB each)",
        ),
        (f"+ {args.active} active for {args.seconds:.0f} s", f"{figures['active_kib'] / mib:.1f} MiB"),
        ("peak RSS (VmHWM)", f"{figures['peak_kib'] / mib:.1f} MiB"),
        (
            "requests answered while loaded",
            f"{int(figures['answered'])} ({rate:.0f}/s), not 200: {int(figures['not_ok'])}",
        ),
        ("an idle connection still served", str(bool(figures["idle_connection_still_served"]))),
        ("after closing everything", f"{figures['after_close_kib'] / mib:.1f} MiB; normal request ok: {served_after}"),
    ]
    for label, value in rows:
        print(f"{label + ':':48s} {value}")
    return 0 if figures["not_ok"] == 0 and served_after and figures["idle_connection_still_served"] else 1


if __name__ == "__main__":
    sys.exit(main())
