"""Policy tests judge resources through the offline analyzer (pulumi-policy's servicer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vaultspec.engine.analyzer import Verdict, analyze

Judge = Callable[..., list[Verdict]]


@pytest.fixture
def judge() -> Judge:
    """Analyze wire-format resources (plus an optional policy-pack config) and return the verdicts."""

    def run(resources: list[dict[str, Any]], config: dict[str, Any] | None = None) -> list[Verdict]:
        return analyze(resources, config)

    return run
