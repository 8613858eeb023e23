"""Fixtures of the reliability tests: the session twin, raw HTTPS access to it, and tokens.

Hostile requests need raw HTTP (the SDK cannot send them); everything that can go through the
official SDK clients does. Tests that disturb the server (slow clients, crashes) start their own twin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.twinhttp import TwinHttp
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT, twin  # noqa: F401

__all__ = ["TWIN_VAULT"]


@pytest.fixture(scope="session")
def http(twin: TwinInfo) -> Iterator[TwinHttp]:  # noqa: F811
    """Raw HTTPS to the session twin. At the end of the session the twin's log must hold no traceback:
    a hostile request that was answered 4xx only after an internal exception still counts as a bug."""
    client = TwinHttp(twin)
    try:
        yield client
    finally:
        client.close()
    log = (Path(twin.data_dir) / "twin.log").read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback") - 200 :][:3000]
