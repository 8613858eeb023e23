"""Where the Pulumi CLI is: one on PATH at or above the pinned version, else the one `make pulumi` built.

The pin is the installed `pulumi` Python package's version (pyproject pins it exactly, and `make pulumi`
builds the CLI from Go modules at the same version into `.vaultspec/tools/bin` of the checkout).
`VAULTSPEC_PULUMI_BIN` names another folder holding a CLI and its language hosts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

from packaging.version import InvalidVersion, Version

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILT_BIN = REPO_ROOT / ".vaultspec" / "tools" / "bin"
BIN_VARIABLE = "VAULTSPEC_PULUMI_BIN"


class ToolchainError(Exception):
    """No usable Pulumi CLI; the message says how to get one."""


@dataclass(frozen=True)
class PulumiCli:
    """A Pulumi CLI and the folder of its language hosts."""

    executable: Path
    version: Version

    @property
    def bin_dir(self) -> Path:
        return self.executable.parent


def pinned_version() -> Version:
    return Version(version("pulumi"))


def cli_version(executable: Path) -> Version | None:
    try:
        done = subprocess.run([str(executable), "version"], capture_output=True, text=True, timeout=60, check=False)
        return Version(done.stdout.strip().lstrip("v").split("+")[0])
    except (OSError, subprocess.SubprocessError, InvalidVersion):
        return None


@cache
def find_cli() -> PulumiCli:
    """The CLI to drive: `$VAULTSPEC_PULUMI_BIN/pulumi`, a pulumi on PATH at or above the pin, or the built one."""
    pin = pinned_version()
    candidates: list[Path] = []
    if os.environ.get(BIN_VARIABLE):
        candidates.append(Path(os.environ[BIN_VARIABLE]) / "pulumi")
    on_path = shutil.which("pulumi")
    if on_path:
        candidates.append(Path(on_path))
    candidates.append(BUILT_BIN / "pulumi")
    seen: list[str] = []
    for candidate in candidates:
        if not candidate.is_file():
            continue
        found = cli_version(candidate)
        seen.append(f"{candidate} ({found or 'unknown version'})")
        if found is not None and found.release >= pin.release:
            return PulumiCli(candidate.resolve(), found)
    tried = f"; found {', '.join(seen)}" if seen else ""
    raise ToolchainError(
        f"no Pulumi CLI at v{pin} or later{tried}. Build it from Go modules with `make pulumi` "
        f"(needs Go and the Go module proxy; about 4 minutes cold), or put pulumi >= {pin} on PATH"
    )
