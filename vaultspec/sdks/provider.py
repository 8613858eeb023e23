"""The component provider as the Pulumi CLI runs it: `pulumi package get-schema ./components`, offline.

The CLI treats `components/` as a source-based plugin (PulumiPlugin.yaml, runtime python): it asks the
Python language host to install the plugin's dependencies (`components/venv`, from requirements.txt,
which installs this checkout in editable mode, so the provider always runs the current code), asks the
host for the packages the plugin needs (pulumi-azure-native and pulumi-random: their Python packages
declare plugins), makes sure those plugins are installed, runs the plugin through the host's
RunPlugin and calls GetSchema. `pulumi up` of a program that lists `vaultspec: <path>/components` in
its Pulumi.yaml `packages` runs the same plugin the same way, from the same `components/venv`.

Offline the dependency check would try to download the two plugins: they are installed into this
step's own PULUMI_HOME (`.vaultspec/sdks/pulumi-home`) from the twin's stand-in launchers with
`pulumi plugin install --file`. GetSchema never starts them.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

from vaultspec.engine.toolchain import PulumiCli
from vaultspec.sdks.schema import COMPONENTS_DIR, REPO_ROOT, committed_schema, drift_message
from vaultspec.sdks.steps import STATE_DIR, BuildError, Step, build_lock, digest, run
from vaultspec.twin.provider import launchers

PULUMI_HOME = STATE_DIR / "pulumi-home"
SERVED_SCHEMA = STATE_DIR / "served-schema.json"
PLUGIN_PACKAGES = {"azure-native": "pulumi_azure_native", "random": "pulumi_random"}


def plugin_version(plugin: str) -> str:
    """The plugin version the installed Python SDK declares (its pulumi-plugin.json), as the host reports it."""
    declared = json.loads(files(PLUGIN_PACKAGES[plugin]).joinpath("pulumi-plugin.json").read_text())
    return str(declared["version"])


def cli_environment(cli: PulumiCli) -> dict[str, str]:
    """The CLI's environment for package commands: its own PULUMI_HOME, no update checks, no downloads."""
    return {
        "PATH": os.pathsep.join([str(cli.bin_dir), str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(PULUMI_HOME),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_COPILOT": "false",
    }


def install_dependency_plugins(cli: PulumiCli) -> None:
    """azure-native and random in PULUMI_HOME's plugin cache, so the dependency check downloads nothing."""
    env = cli_environment(cli)
    launchers_dir = STATE_DIR / "plugin-launchers"
    for path in launchers.install(launchers_dir):
        plugin = path.name.removeprefix("pulumi-resource-")
        wanted = plugin_version(plugin)
        step = Step(f"plugin-{plugin}", digest(path, wanted, str(cli.version)), (PULUMI_HOME / "plugins",))
        if step.fresh():
            continue
        command = [str(cli.executable), "plugin", "install", "resource", plugin, wanted, "--file", str(path)]
        run(command, cwd=STATE_DIR, env=env)
        step.record()


def served_schema(cli: PulumiCli) -> dict[str, Any]:
    """The schema the provider serves through the CLI (`pulumi package get-schema ./components`).

    Cached by the inputs that can change it: the Python sources of vaultspec and the components, the
    plugin's requirements and the CLI. Creates `components/venv` the first time (about a minute).
    """
    sources = [COMPONENTS_DIR, REPO_ROOT / "vaultspec", REPO_ROOT / "pyproject.toml", REPO_ROOT / "setup.py"]
    outputs = (SERVED_SCHEMA, COMPONENTS_DIR / "venv" / "bin" / "python")
    step = Step("served-schema", digest(*sources, str(cli.version), sys.version), outputs)
    with build_lock():
        if not step.fresh():
            install_dependency_plugins(cli)
            command = [str(cli.executable), "package", "get-schema", "./components"]
            printed = run(command, cwd=REPO_ROOT, env=cli_environment(cli))
            try:
                schema = json.loads(printed)
            except ValueError:
                raise BuildError("`pulumi package get-schema ./components` printed no schema") from None
            SERVED_SCHEMA.parent.mkdir(parents=True, exist_ok=True)
            SERVED_SCHEMA.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
            step.record()
        return json.loads(SERVED_SCHEMA.read_text())


def check_provider(cli: PulumiCli) -> None:
    """The provider installed as the CLI runs it (components/venv), serving exactly the committed schema."""
    message = drift_message(committed_schema(), served_schema(cli), "pulumi package get-schema ./components")
    if message is not None:
        raise BuildError(message)
