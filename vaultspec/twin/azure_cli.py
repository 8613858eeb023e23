"""The shell lines that point the official Azure CLI at a running twin (`vaultspec twin az`).

`eval "$(vaultspec twin az)"` does, in the current shell:

1. the `vaultspec twin env` exports (the twin's CA for Python's `requests`, which `az` uses, and the
   App Service-style `IDENTITY_ENDPOINT`/`IDENTITY_HEADER` that MSAL's managed identity client, under
   `az login --identity`, reads);
2. `AZURE_CONFIG_DIR=<data>/azure-cli`: an `az` profile of its own next to the twin's data, so the
   user's real clouds, accounts and tokens are neither used nor changed; telemetry off in it (a twin
   session has nothing to report to Microsoft); and `VAULTSPEC_TWIN_OBJECT_ID`, the object id of the
   identity `az login --identity` signs in as (the twin has no Microsoft Graph to look it up in, so
   `az role assignment create --assignee-object-id "$VAULTSPEC_TWIN_OBJECT_ID"` is how to name it);
3. `az cloud register --endpoint-resource-manager https://localhost:PORT/` (endpoints by discovery,
   from the twin's ARM metadata document; `az cloud update`, which discovers them again, when that
   profile already has the cloud), `az cloud set`, and `az login --identity` as the twin's default
   identity. Any failing step stops the rest, with `az`'s own message.

A command of its own rather than more lines in `twin env`: those exports stay instant, side-effect
free and usable without `az`, while these run `az` four times (a second or more) and write a profile.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from vaultspec.twin.domain.cloud import CLOUD_NAME, arm_url
from vaultspec.twin.server import TwinInfo

CONFIG_DIR_NAME = "azure-cli"
OBJECT_ID_VARIABLE = "VAULTSPEC_TWIN_OBJECT_ID"  # who `az login --identity` is: for --assignee-object-id


def config_dir(info: TwinInfo) -> Path:
    """The isolated AZURE_CONFIG_DIR of `az` sessions on this twin."""
    return Path(info.data_dir) / CONFIG_DIR_NAME


def session_env(info: TwinInfo) -> dict[str, str]:
    """Every variable an `az` session on this twin needs (the SDK ones plus az's own)."""
    return {
        **info.env(),
        "AZURE_CONFIG_DIR": str(config_dir(info)),
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        OBJECT_ID_VARIABLE: info.default_object_id,
    }


def session_lines(info: TwinInfo) -> list[str]:
    """Shell lines for `eval`: exports, then register (or update) + select the cloud, then log in."""
    exports = [f"export {key}={shlex.quote(value)}" for key, value in session_env(info).items()]
    cloud = f"--name {CLOUD_NAME} --only-show-errors"
    endpoint = f"{cloud} --endpoint-resource-manager {shlex.quote(arm_url(info.port))}"
    return [
        *exports,
        f"if az cloud show {cloud} >/dev/null 2>&1; then az cloud update {endpoint};"
        f" else az cloud register {endpoint}; fi"
        f" && az cloud set {cloud} && az login --identity --only-show-errors --output none",
    ]
