"""How a smoke run behaves: concurrency, retry budgets, which objects, grants, TLS, progress events."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CONCURRENCY = 8
DEFAULT_RBAC_WAIT_S = 120.0
RBAC_WAIT_VARIABLE = "VAULTSPEC_SMOKE_RBAC_WAIT_S"  # vaultspec up sets it for the twin's engine runs
TWIN_RBAC_WAIT_S = 5.0  # the twin applies role assignments at once; Azure needs minutes (the default)


@dataclass(frozen=True)
class SmokeEvent:
    """Progress of a run, for progress bars and tests: a check started or finished, or a retry wait began.

    `kind` is `planned` (once, `total` = number of checks), `started`, `finished` (with `status`), or
    `waiting` (with `reason` = `throttled` | `rbac` | `transient` and `seconds`).
    """

    kind: Literal["planned", "started", "finished", "waiting"]
    object: str = ""
    check: str = ""
    status: str = ""
    reason: str = ""
    seconds: float = 0.0
    total: int = 0


class SmokeOptions(BaseModel):
    """Options of `run_smoke`; every field has a default fit for a pipeline right after `pulumi up`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    concurrency: int = Field(DEFAULT_CONCURRENCY, ge=1, le=256, description="Checks in flight at once.")
    rbac_wait: float = Field(
        DEFAULT_RBAC_WAIT_S,
        ge=0,
        description="Seconds, from the start of the run, during which 403 ForbiddenByRbac is retried "
        "(role assignments take minutes to propagate); 0 disables the retry.",
    )
    rbac_backoff: float = Field(2.0, gt=0, description="First RBAC retry delay in seconds; doubles up to 16 s.")
    throttle_retries: int = Field(6, ge=0, description="429 retries per request, each after Retry-After.")
    check_grants: bool = Field(False, description="Also prove each grant whose principal this process can act as.")
    only: frozenset[str] | None = Field(
        None, description="Restrict to these objects (`keys/<name>`, `secrets/<name>`); None = all."
    )
    environ: Mapping[str, str] | None = Field(
        None, description="Where `fromEnv` values are read from for the digest comparison (default: os.environ)."
    )
    connection_verify: str | bool | None = Field(
        None, description="TLS verification for the SDK clients: a CA bundle path, True/False, None = default."
    )
    principal_credential: Callable[[str], Any] | None = Field(
        None,
        description="Async credential for a grant's principal (object id); default: ManagedIdentityCredential "
        "with identity_config={'object_id': principal}.",
    )
    on_event: Callable[[SmokeEvent], None] | None = Field(None, description="Progress callback (sync, quick).")


def default_options() -> SmokeOptions:
    """The defaults, with the RBAC wait from VAULTSPEC_SMOKE_RBAC_WAIT_S when the environment sets one."""
    wait = os.environ.get(RBAC_WAIT_VARIABLE)
    try:
        return SmokeOptions(rbac_wait=float(wait)) if wait else SmokeOptions()
    except ValueError:
        return SmokeOptions()
