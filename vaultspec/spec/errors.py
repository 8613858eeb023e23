"""Spec problems: every one names the file, line and column of the YAML node it is about."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a spec file, pointing at a YAML node (1-based line and column)."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class SpecError(Exception):
    """Raised with every problem found in one or more spec files; never carries a secret value."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: Path | str, message: str, line: int = 1, col: int = 1) -> SpecError:
        return cls([Problem(str(file), line, col, message)])
