"""Canary secret values (from config, the environment and generation) never reach anything printable."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from vaultspec.cli import app
from vaultspec.engine.azure_mock import AzureMockBackend
from vaultspec.engine.render import RenderError, render_spec
from vaultspec.engine.values import Concealed

from .conftest import PASSWORD, SECRET

CANARY_CONFIG = "canary-config-7f3a91c2"
CANARY_ENV = "canary-env-51c2d8e0"
CANARY_GENERATED = "canary-generated-9b0e44aa"
CANARIES = (CANARY_CONFIG, CANARY_ENV, CANARY_GENERATED)

SPEC = """\
- name: alpha-kv
  access: {model: rbac}
  secrets:
    - {name: from-config, value: {fromConfig: dbPassword}, contentType: text/plain}
    - {name: from-env, value: {fromEnv: CANARY_TOKEN}, contentType: text/plain}
    - {name: generated, value: {generate: {length: 32}}, contentType: text/plain}
"""


def _generated(backend: AzureMockBackend, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "none", {**inputs, "result": Concealed(CANARY_GENERATED)}


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"vaultspec:dbPassword": CANARY_CONFIG}))
    monkeypatch.setenv("CANARY_TOKEN", CANARY_ENV)
    monkeypatch.setitem(AzureMockBackend._handlers, PASSWORD, _generated)


def assert_clean(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text


def test_canaries_reach_the_resources_but_nothing_printable(
    canaries, write_spec: Callable[..., Path], caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    rendering = render_spec(write_spec(SPEC), preview=False)
    values = {
        r.name: r.revealed_inputs()["properties"]["value"] for r in rendering.of_type(SECRET)
    }  # the canaries did flow: the assertions below can fail
    assert values == {
        "alpha-kv/secrets/from-config": CANARY_CONFIG,
        "alpha-kv/secrets/from-env": CANARY_ENV,
        "alpha-kv/secrets/generated": CANARY_GENERATED,
    }
    assert_clean(rendering.model_dump_json())
    assert_clean(repr(rendering))
    assert_clean(str(rendering.model_dump()))
    for resource in rendering.resources:
        assert_clean(repr(resource))
        assert_clean(json.dumps(resource.printable_inputs()))
        assert_clean(json.dumps(resource.model_dump(mode="json")))
    assert_clean(" ".join(m.message for m in rendering.messages))
    assert_clean(caplog.text)


def test_plan_table_and_json_never_show_a_canary(canaries, write_spec: Callable[..., Path]):
    path = write_spec(SPEC)
    runner = CliRunner()
    for arguments in (["plan", str(path)], ["plan", str(path), "--json"]):
        result = runner.invoke(app, arguments, env={"COLUMNS": "250"})
        assert result.exit_code in (0, 3), result.output  # 3: this bare-bones vault breaks guardrails
        assert "[secret]" in result.stdout
        assert_clean(result.stdout)
        assert_clean(result.stderr)


def test_a_failing_run_holding_canaries_raises_without_them(
    canaries, write_spec: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
):
    path = write_spec(SPEC + "    - {name: missing, value: {fromEnv: CANARY_ABSENT}}\n")
    monkeypatch.delenv("CANARY_ABSENT", raising=False)
    with pytest.raises(RenderError) as raised:
        render_spec(path, preview=False)
    assert "CANARY_ABSENT" in str(raised.value)
    chain = [raised.value, raised.value.__cause__]
    assert_clean(" ".join(f"{e!r} {e}" for e in chain if e is not None))
