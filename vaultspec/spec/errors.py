"""Spec problems: every one names the file, line and column of the YAML node it is about."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a spec file, pointing at a YAML node (1-based line and column).

    An error makes the file invalid; a warning is a valid spec that will not do what its author most
    likely means (Azure ignores the setting, or a later step will fail): reported, never fatal.
    """

    file: str
    line: int
    col: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.col}: {label}{self.message}"


class SpecError(Exception):
    """Raised with every error found in one or more spec files; never carries a secret value.

    `warnings` holds the warnings of the files that were valid, so a caller can report them too.
    """

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        self.problems = sorted(problems)
        self.warnings = sorted(warnings or [])
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: Path | str, message: str, line: int = 1, col: int = 1) -> SpecError:
        return cls([Problem(str(file), line, col, message)])
