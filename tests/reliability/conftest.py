"""Fixtures of the reliability tests: the session twin, raw HTTPS access to it, and tokens.

Hostile requests need raw HTTP (the SDK cannot send them); everything that can go through the
official SDK clients does. Tests that disturb the server (slow clients, crashes) start their own twin.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.twinhttp import TwinHttp
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import TWIN_VAULT, twin  # noqa: F401

__all__ = ["TWIN_VAULT"]


@pytest.fixture(scope="session")
def http(twin: TwinInfo) -> Iterator[TwinHttp]:  # noqa: F811
    client = TwinHttp(twin)
    try:
        yield client
    finally:
        client.close()
