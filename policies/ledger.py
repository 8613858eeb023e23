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

Resource rules read it too, for one thing: a vault's waivers cover its keys, secrets and access
policies (a key's tags cannot change in place, so waivers are never written on keys; see
`policies/waivers.py`). A resource with a literal `vaultName` finds the vault's inputs here by name
and resource group. The engine analyzes a resource when it is registered, and a resource that
depends on its vault (`depends_on`, or `vaultName=vault.name`, as every vaultspec key and secret
does) registers after the vault, so the vault is always recorded first; when it is not (no
dependency, or a vault outside this run) the finding is reported: a missing lookup never waives.

The engine starts one policy-pack process per operation, so the ledger spans exactly one run. An
in-process host that reuses the pack across runs (the offline analyzer) calls `LEDGER.clear()`. The offline
analyzer also disables, per resource type, the resource policies that cannot judge it; it keeps at
least one enabled resource policy for every resource, so the ledger records the same resources, and
each lookup finds what it would in the engine's order (see `PolicyHost._routes`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from vaultspec.policies.wire import UnknownValueError, dig, is_type, same_group, text


class InputLedger:
    """URN -> inputs (the unknown-checking mapping `Analyze` passed to the rules). Thread-safe:
    the policy-pack gRPC server handles requests on a thread pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inputs: dict[str, Mapping[str, Any]] = {}
        self._vaults: dict[str, tuple[str, str | None, Mapping[str, Any]]] = {}  # urn -> (name, group, inputs)

    def record(self, urn: str, inputs: Mapping[str, Any], resource_type: str | None = None) -> None:
        vault = None
        if resource_type and is_type(resource_type, "keyvault", "Vault"):
            with suppress(UnknownValueError):  # a vault whose name is not known yet is not found by name
                vault = _named(inputs)
        with self._lock:
            self._inputs[urn] = inputs
            if vault is not None:
                self._vaults[urn] = (*vault, inputs)

    def vault_named(self, name: str, group: str | None) -> Mapping[str, Any] | None:
        """The inputs of the one recorded vault with this literal name (and resource group, when
        both are known; names compared case-insensitively, as Azure does); None if none or several."""
        name, group = name.lower(), group.lower() if group else None
        with self._lock:
            matches = [
                inputs
                for vault_name, vault_group, inputs in self._vaults.values()
                if vault_name == name and same_group(vault_group, group)
            ]
        return matches[0] if len(matches) == 1 else None

    def inputs(self, urn: str) -> Mapping[str, Any] | None:
        with self._lock:
            return self._inputs.get(urn)

    def vault_of(self, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The recorded inputs of the vault a key, secret or access policy names (its literal
        `vaultName` and `resourceGroupName`); None when it names none or the vault is not recorded.
        Raises `UnknownValueError` while the vault name is unknown (computed at preview)."""
        if not isinstance(props, Mapping) or "vaultName" not in props:
            return None
        named = _named(props)
        return self.vault_named(*named) if named is not None else None

    def clear(self) -> None:
        with self._lock:
            self._inputs.clear()
            self._vaults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._inputs)


def _named(props: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """The literal (vaultName, resourceGroupName), lower-cased; None without a literal vault name, the
    group None when not known. Raises `UnknownValueError` while the vault name is unknown."""
    name = text(dig(props, "vaultName"))
    if name is None:
        return None
    try:
        group = text(dig(props, "resourceGroupName"))
    except UnknownValueError:
        group = None
    return name, group


LEDGER = InputLedger()
