"""Offline rendering: run the real Pulumi program in-process under mocks and record every resource.

`render(program, ...)` runs any Pulumi program function; `render_spec(path, ...)` runs
`vaultspec.program.run` for a spec file with its stack's config. What a run registers is recorded
by `vaultspec.engine.recording` (a `Rendering`: inputs with secrets concealed, see
`vaultspec.engine.values`) and answered by a pluggable `Backend`: by default
`vaultspec.engine.azure_mock.AzureMockBackend`, which answers like Azure (ARM ids, vault URIs, key
URIs, generated passwords); the apply engine plugs in one that sends each resource to the twin.

Isolation of Pulumi's global runtime state. The Python SDK keeps its runtime in module-level
ContextVars (settings: monitor, engine, project, stack, dry run, RPC manager, pending outputs,
callbacks; the root Stack resource; config and secret keys) and runs on the thread's asyncio
event loop. A render therefore runs in its own short-lived thread (a thread starts with an empty
contextvars context and no event loop), where it resets every piece of that state explicitly
(fresh settings object, root resource None, config set to exactly the given values — also
because the SDK's ContextProperty setter may overwrite a ContextVar's *default*), creates a
fresh event loop, and closes the loop and its executor at the end. Nothing leaks into the
caller's thread, and renders can run any number of times in one process, one after another.

Speed. Two harness measures keep a render linear in the number of resources (the program
itself is untouched): (1) after the program returns, the render yields once and waits for the
registration RPCs (the SDK's own end-of-program wait would otherwise find none started yet and
poll every pending Output on each loop turn, which is quadratic); (2) the pure type aliases
pulumi-azure-native attaches to every resource (~20 versioned type tokens, for state migration)
are dropped, because the SDK turns each into a chain of Outputs and there is no prior state
offline; aliases a program declares with a name, parent, stack or project are kept.
`drop_type_aliases=False` renders with them. (The `KeyVault` component drops them from its own
children everywhere, under the real engine too: components/type_aliases.py says why that is safe;
this harness does the same for any other resource a rendered program registers.)
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi.runtime import config as pulumi_config
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import register_stack_transformation, run_in_stack, wait_for_rpcs

from vaultspec.components.type_aliases import without_type_aliases
from vaultspec.engine.azure_mock import AzureMockBackend, IdentityFunctions
from vaultspec.engine.recording import Backend, RecordingEngine, RecordingMonitor, Rendering, ordered
from vaultspec.engine.stackconfig import StackConfig, apply_environment, project_name, read_stack_config

DEFAULT_PROJECT = "vaultspec"


class RenderError(Exception):
    """The program failed; the message is the program's own (it never holds secret values)."""


def render(
    program: Callable[[], None],
    *,
    project: str = DEFAULT_PROJECT,
    stack: str = "dev",
    config: StackConfig | None = None,
    preview: bool = True,
    backend: Backend | None = None,
    root_directory: Path | None = None,
    organization: str = "organization",
    drop_type_aliases: bool = True,
) -> Rendering:
    """Run `program` as Pulumi would (dry run when `preview`) and return what it registered."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["rendering"] = _render_here(
                _settled(program, drop_type_aliases),
                project,
                stack,
                config or StackConfig(),
                preview,
                IdentityFunctions(backend) if backend is not None else AzureMockBackend(),
                root_directory,
                organization,
            )
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=work, name=f"vaultspec-render-{stack}", daemon=True)
    thread.start()
    thread.join()
    error = outcome.get("error")
    if error is not None:
        if isinstance(error, (RenderError, KeyboardInterrupt)):
            raise error
        raise RenderError(str(error) or type(error).__name__) from error
    return outcome["rendering"]


def _settled(program: Callable[[], Any], drop_type_aliases: bool) -> Callable[[], Any]:
    """`program`, then one loop turn (the registration RPCs start) and a wait for them (see Speed)."""

    async def run() -> None:
        if drop_type_aliases:
            register_stack_transformation(without_type_aliases)
        result = program()
        if inspect.isawaitable(result):
            await result
        await asyncio.sleep(0)
        await wait_for_rpcs(await_all_outstanding_tasks=False)

    return run


def _render_here(
    program: Callable[[], Any],
    project: str,
    stack: str,
    config: StackConfig,
    preview: bool,
    backend: Backend,
    root_directory: Path | None,
    organization: str,
) -> Rendering:
    monitor = RecordingMonitor(backend)
    engine = RecordingEngine()
    pulumi_settings.ROOT.set(None)
    pulumi_config.set_all_config(config.as_runtime_config(), sorted(config.secret_keys))
    settings = pulumi_mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=engine,
        project=project,
        stack=stack,
        dry_run=preview,
        organization=organization,
        root_directory=str(root_directory) if root_directory else None,
        callbacks=None,
        outputs=set(),
        lock=threading.Lock(),
        package_refs={},
        base_providers_by_ref={},
        parallel=None,
        legacy_apply_enabled=False,
    )
    pulumi_settings.configure(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(program))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
    return Rendering(
        project=project,
        stack=stack,
        preview=preview,
        stack_urn=monitor.stack_urn,
        resources=ordered(list(monitor.recorded.values())),
        stack_outputs=monitor.stack_outputs,
        messages=engine.messages,
    )


# ---------------------------------------------------------------------------------------------
# Rendering the vaultspec program for a spec file


def find_project_dir(spec_path: Path) -> Path | None:
    """The nearest folder holding Pulumi.yaml: above the spec file, else the working directory."""
    for folder in [*Path(spec_path).resolve().parents, Path.cwd()]:
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return None


def stack_config_for(project_dir: Path | None, stack: str) -> StackConfig:
    """`Pulumi.<stack>.yaml` next to Pulumi.yaml (secure values as placeholders), overridden by the
    `PULUMI_CONFIG` JSON environment variable, as the CLI hands config over."""
    if project_dir is not None:
        return read_stack_config(project_dir, stack)
    config = StackConfig()
    apply_environment(config)
    return config


def render_spec(
    spec_path: Path | str,
    *,
    preview: bool = True,
    backend: Backend | None = None,
    stack: str | None = None,
    project_dir: Path | None = None,
    hooks: Any = None,
    drop_type_aliases: bool = True,
) -> Rendering:
    """Render `vaultspec.program.run` for one spec file.

    The stack name is the spec file's stem (stacks/dev.yaml -> dev) unless given; config comes
    from `stack_config_for`, with `vaultspec:spec` set to this file.
    """
    from vaultspec import program

    path = Path(spec_path).resolve()
    stack = stack or path.stem
    project_dir = project_dir or find_project_dir(path)
    project = project_name(project_dir) if project_dir is not None else DEFAULT_PROJECT
    config = stack_config_for(project_dir, stack)
    config.values[f"{program.CONFIG_NAMESPACE}:spec"] = str(path)
    return render(
        lambda: program.run(hooks),
        project=project,
        stack=stack,
        config=config,
        preview=preview,
        backend=backend,
        root_directory=project_dir,
        drop_type_aliases=drop_type_aliases,
    )
