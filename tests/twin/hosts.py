"""Name resolution for clients in other processes (the Azure CLI, the Go SDK): they use the system
resolver, which knows `*.vault.localhost` only with systemd-resolved or the README's /etc/hosts lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def resolves(host: str) -> bool:
    """Whether the system resolver knows `host`, asked from a fresh interpreter (this one may have
    `vaultspec.localhost` installed, which other clients do not)."""
    probe = f"import socket; socket.getaddrinfo({host!r}, 443)"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60).returncode == 0


def ensure_resolvable(vault: str) -> None:
    """Write `vault`'s /etc/hosts line with `vaultspec twin hosts --write` when the resolver does not know it."""
    host = f"{vault}.vault.localhost"
    if not resolves(host):
        written = subprocess.run(
            [str(BIN / "vaultspec"), "twin", "hosts", vault, "--write"], capture_output=True, text=True, timeout=120
        )
        assert written.returncode == 0, (
            f"{host} does not resolve and `vaultspec twin hosts --write` could not update /etc/hosts; "
            "this test needs root there (CI runs as root): " + written.stderr
        )
    assert resolves(host)
