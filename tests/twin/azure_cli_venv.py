"""The official Azure CLI for the tests, in a virtual environment of its own (it is no vaultspec dependency).

`ensure_azure_cli(root)` installs `azure-cli==AZURE_CLI_VERSION` from the package index, unmodified,
into `<root>/.vaultspec/azure-cli-<version>/` (ignored by git) the first time and reuses it after
that: a stamp file marks a finished install, a lock file keeps concurrent test sessions from
installing twice, and an install that died half-way is started again from scratch. The stamp records
how long the install took.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import time
from pathlib import Path

AZURE_CLI_VERSION = "2.91.0"
INSTALL_TIMEOUT_S = 1800


def venv_dir(root: Path) -> Path:
    return root / ".vaultspec" / f"azure-cli-{AZURE_CLI_VERSION}"


def ensure_azure_cli(root: Path) -> Path:
    """The `az` executable of the cached environment, installing it first when needed."""
    venv = venv_dir(root)
    az = venv / "bin" / "az"
    stamp = venv / ".installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and az.exists():
            return az
        shutil.rmtree(venv, ignore_errors=True)
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        install = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"azure-cli=={AZURE_CLI_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
        if install.returncode != 0 or not az.exists():
            raise RuntimeError(
                f"installing azure-cli=={AZURE_CLI_VERSION} into {venv} failed:\n{install.stderr[-3000:]}"
            )
        stamp.write_text(f"azure-cli=={AZURE_CLI_VERSION} installed in {time.monotonic() - started:.0f} s\n")
    return az
