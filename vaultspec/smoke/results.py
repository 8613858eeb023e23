"""What a smoke run produces: one `CheckResult` per check, one `SmokeReport` per vault.

These are the JSON edge (`--json`): a single vault's document is exactly
`{"vault","passed","checks":[{"object","check","status","detail","ms"}]}`; several vaults are
wrapped as `{"passed": <all passed>, "vaults": [<document>, ...]}` (`StackReport`). Details never
carry secret values: checks compare digests and report only whether they match.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["passed", "failed", "skipped"]


class CheckResult(BaseModel):
    """The outcome of one check on one object (`keys/<name>`, `secrets/<name>` or `grants/<index>`)."""

    model_config = ConfigDict(frozen=True)

    object: str
    check: str
    status: Status
    detail: str
    ms: int = Field(ge=0, description="Wall time of the check in milliseconds (retry waits included).")
    waited: float = Field(0.0, exclude=True, description="Seconds spent waiting on 429 / RBAC 403 retries.")


class SmokeReport(BaseModel):
    """One vault's smoke results, in spec order."""

    model_config = ConfigDict(frozen=True)

    vault: str
    passed: bool
    checks: list[CheckResult]

    @classmethod
    def of(cls, vault: str, checks: list[CheckResult]) -> SmokeReport:
        return cls(vault=vault, passed=all(c.status != "failed" for c in checks), checks=checks)

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "failed"]


class StackReport(BaseModel):
    """Several vaults (`vaultspec smoke --stack`): the wrapper of their documents."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    vaults: list[SmokeReport]

    @classmethod
    def of(cls, reports: list[SmokeReport]) -> StackReport:
        return cls(passed=all(r.passed for r in reports), vaults=reports)
