"""Fixtures of the provider tests: a twin, and the stand-in provider pointed at it as `vaultspec up` does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vaultspec.twin.provider import twin_access
from vaultspec.twin.server import TwinInfo
from vaultspec.twin.testing import twin  # noqa: F401


@pytest.fixture
def provider_twin(twin: TwinInfo, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwinInfo]:  # noqa: F811
    monkeypatch.setenv(twin_access.DATA_DIR_VARIABLE, twin.data_dir)
    monkeypatch.setattr(twin_access, "_TWIN", None)
    yield twin
