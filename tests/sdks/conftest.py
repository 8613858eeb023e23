"""Fixtures for the component library in other languages: the built SDKs, and example stacks on a twin.

The SDKs and examples are built by `vaultspec.sdks.build` (what `make sdks` runs), cached by their
inputs, so after the first build these fixtures cost nothing. A missing CLI, Node.js or Go fails
the tests, never skips them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from vaultspec.engine.events import RunLog
from vaultspec.engine.toolchain import PulumiCli, ToolchainError, find_cli
from vaultspec.engine.workspace import ConfigSetting, TwinWorkspace
from vaultspec.sdks.build import Built, build_go, build_typescript
from vaultspec.sdks.provider import served_schema
from vaultspec.sdks.steps import BuildError
from vaultspec.twin.server import TwinInfo, stop
from vaultspec.twin.testing import start_twin


@pytest.fixture(scope="session")
def cli() -> PulumiCli:
    try:
        return find_cli()
    except ToolchainError as error:
        pytest.fail(f"the Pulumi CLI is required (make pulumi): {error}")


def _built(builder: Callable[[PulumiCli], Built], cli: PulumiCli, tool: str) -> Built:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is required to build the SDK and example; it is not on PATH")
    try:
        return builder(cli)
    except BuildError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def typescript(cli: PulumiCli) -> Built:
    return _built(build_typescript, cli, "npm")


@pytest.fixture(scope="session")
def golang(cli: PulumiCli) -> Built:
    return _built(build_go, cli, "go")


@pytest.fixture(scope="session")
def component_provider(cli: PulumiCli) -> None:
    """components/venv, which `pulumi up` of the examples runs the provider from (made by `pulumi package
    get-schema ./components`, as `pulumi install` would)."""
    try:
        served_schema(cli)
    except BuildError as error:
        pytest.fail(str(error))


@pytest.fixture
def twin_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Start twins on demand (each in its own data dir); all are stopped at the end of the test."""
    started: list[Path] = []

    def start(label: str) -> TwinInfo:
        data = tmp_path_factory.mktemp(label) / "twin"
        started.append(data)
        return start_twin(data)

    yield start
    for data in started:
        stop(data)


@dataclass
class ExampleStack:
    """A stack of one example project on one twin, driven like `vaultspec up` drives its stacks."""

    workspace: TwinWorkspace
    stack: auto.Stack

    @classmethod
    def create(cls, project: Path, twin: TwinInfo, name: str, settings: list[ConfigSetting]) -> ExampleStack:
        workspace = TwinWorkspace(
            spec_path=None, stack_name=name, data_dir=Path(twin.data_dir), twin=twin, project_dir=project
        )
        stack = workspace.stack()
        workspace.set_config(stack, settings)
        return cls(workspace, stack)

    def up(self) -> tuple[RunLog, auto.UpResult | None, str]:
        log = RunLog()
        try:
            result = self.stack.up(on_event=log.on_event, show_secrets=False)
        except auto.CommandError as error:
            return log, None, str(error)
        return log, result, ""

    def destroy(self) -> RunLog:
        log = RunLog()
        self.stack.destroy(on_event=log.on_event, show_secrets=False)
        return log

    def remove(self) -> None:
        """Forget the stack and its `Pulumi.<stack>.yaml` in the example folder (state lives in the twin's dir)."""
        self.stack.workspace.remove_stack(self.stack.name, force=True)
