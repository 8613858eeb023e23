"""Data-plane smoke tests of deployed vaults: every declared key, secret and grant, proven on the vault.

Public API (the `vaultspec up` engine, the CLI and the Pulumi hooks build on it):

- `run_smoke(vault_url, vault_spec, credential=None, options=None) -> SmokeReport` (async) and
  `run_smoke_sync(...)` — one vault against its `vaultspec.spec.model.Vault`;
- `SmokeOptions`, `SmokeEvent` — concurrency, retry budgets, grants, TLS, progress callback;
- `SmokeReport`, `StackReport`, `CheckResult` — results; `write_json`, `write_junit`, `render_summary`.
"""

from vaultspec.smoke.options import SmokeEvent, SmokeOptions
from vaultspec.smoke.results import CheckResult, SmokeReport, StackReport
from vaultspec.smoke.runner import run_smoke, run_smoke_sync

__all__ = [
    "CheckResult",
    "SmokeEvent",
    "SmokeOptions",
    "SmokeReport",
    "StackReport",
    "run_smoke",
    "run_smoke_sync",
]
