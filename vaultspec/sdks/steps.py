"""Cached build steps: a step runs only when the digest of its inputs differs from the one it last recorded.

Stamps live in `.vaultspec/sdks/stamps/` (one file per step, holding its inputs' digest), beside npm's
download cache and the built Go example; a step whose outputs are gone runs again whatever its stamp
says. One build at a time per checkout (a file lock), so parallel test workers wait for each other
instead of generating into the same folders.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from vaultspec.sdks.schema import REPO_ROOT

STATE_DIR = REPO_ROOT / ".vaultspec" / "sdks"
SKIPPED_DIRS = frozenset({"node_modules", "bin", "__pycache__", "venv"})
OUTPUT_TAIL_LINES = 40


class BuildError(Exception):
    """A build command failed; the message names the command and ends with its last lines of output."""


def digest(*inputs: Path | str) -> str:
    """sha256 over files (by content), folders (every file under them, generated folders skipped) and strings."""
    hasher = hashlib.sha256()
    for item in inputs:
        if isinstance(item, Path):
            for path in _files(item):
                hasher.update(str(path.relative_to(item.parent)).encode() + b"\0")
                hasher.update(path.read_bytes() + b"\0")
            if not item.exists():
                hasher.update(f"missing:{item}\0".encode())
        else:
            hasher.update(f"text:{item}\0".encode())
    return hasher.hexdigest()


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        for child in sorted(path.iterdir()):
            if child.name not in SKIPPED_DIRS:
                yield from _files(child)


@dataclass
class Step:
    """One cached step: `fresh()` when its digest is recorded and its outputs exist."""

    name: str
    key: str
    outputs: Iterable[Path] = field(default_factory=tuple)

    @property
    def stamp(self) -> Path:
        return STATE_DIR / "stamps" / self.name

    def fresh(self) -> bool:
        recorded = self.stamp.read_text().strip() if self.stamp.exists() else ""
        return recorded == self.key and all(path.exists() for path in self.outputs)

    def record(self) -> None:
        self.stamp.parent.mkdir(parents=True, exist_ok=True)
        self.stamp.write_text(self.key + "\n")


def run(command: list[str], *, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 900) -> str:
    """Run a build command; its standard output, or a BuildError naming it with the end of its output."""
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BuildError(f"`{' '.join(command)}` (in {cwd}) could not run: {error}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-OUTPUT_TAIL_LINES:])
        raise BuildError(f"`{' '.join(command)}` (in {cwd}) failed with exit code {done.returncode}:\n{tail}")
    return done.stdout


@contextmanager
def build_lock() -> Iterator[None]:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
