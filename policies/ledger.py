"""The inputs each resource was analyzed with, kept for the stack policies of the same run.

`AnalyzeStack` does not receive inputs: the engine hands it each resource's *outputs*
(`AnalyzeResources` in pkg/resource/deploy/step_generator.go). At preview those are the
provider's preview outputs, and pulumi-azure-native builds them by looking up each output name
in the inputs (`PreviewOutputs`): a Key's `kty`, `keySize`, ... are outputs at the top level but
inputs under `properties`, so at preview they are all unknown; a Vault's `name` is unknown too
(its input is `vaultName`), and a Key's `vaultName` is not an output at all.

The engine calls `Analyze` (with inputs) for every resource the program registers before it calls
`AnalyzeStack`, on the same policy-pack process. Every resource rule records the inputs it was
shown here, keyed by URN, so stack rules can read literal inputs (vault names, resource groups,
key types, SKUs) that outputs do not carry at preview, and fall back to outputs otherwise (a
resource that was not registered in this run, e.g. under `--target`).

The engine starts one policy-pack process per operation, so the ledger spans exactly one run. An
in-process host that reuses the pack across runs (the offline analyzer) calls `LEDGER.clear()`. The offline
analyzer also disables, per resource type, the resource policies that cannot judge it; it keeps at
least one enabled resource policy for every resource, so the ledger records the same resources.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any


class InputLedger:
    """URN -> inputs (the unknown-checking mapping `Analyze` passed to the rules). Thread-safe:
    the policy-pack gRPC server handles requests on a thread pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inputs: dict[str, Mapping[str, Any]] = {}

    def record(self, urn: str, inputs: Mapping[str, Any]) -> None:
        with self._lock:
            self._inputs[urn] = inputs

    def inputs(self, urn: str) -> Mapping[str, Any] | None:
        with self._lock:
            return self._inputs.get(urn)

    def clear(self) -> None:
        with self._lock:
            self._inputs.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._inputs)


LEDGER = InputLedger()
