"""requirements.lock is what `make venv` installs: it must satisfy pyproject.toml and pin every package by hash."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def locked() -> dict[str, tuple[Version, list[str]]]:
    """{package: (version, hashes)} of requirements.lock."""
    entries: dict[str, tuple[Version, list[str]]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pinned = PIN.match(line)
        if pinned:
            current = canonicalize_name(pinned[1])
            entries[current] = (Version(pinned[3]), [])
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current][1].append(line.strip().removesuffix("\\").strip())
    return entries


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def test_every_dependency_of_pyproject_is_locked_at_a_version_it_accepts():
    lock = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{requirement.name} is not in requirements.lock: run `make lock`"
        version, _ = lock[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock has {name}=={version}, which pyproject's {requirement} refuses: run `make lock`"
        )


def test_every_locked_package_is_pinned_by_hash():
    lock = locked()
    assert len(lock) > len(declared())  # the transitive dependencies are pinned too
    for name, (_, hashes) in lock.items():
        assert hashes, f"{name} has no --hash in requirements.lock"
        assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", h) for h in hashes), name


def test_the_pulumi_pin_is_exact_and_the_one_the_cli_is_built_at():
    (pulumi,) = [r for r in declared() if r.name == "pulumi"]
    assert str(pulumi.specifier).startswith("==")  # make pulumi builds the CLI at exactly this version
    assert locked()["pulumi"][0] == Version(str(pulumi.specifier)[2:])
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r $(LOCK)" in makefile and "--no-deps -e ." in makefile
