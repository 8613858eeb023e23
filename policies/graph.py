"""The stack as stack rules see it: each resource's inputs (when recorded) and outputs, and links.

Stack rules must tie a key, a diagnostic setting or a role assignment to *its* vault without
relying on computed ids, which are unknown at preview. `vault_of` tries, in order:

1. `property_dependencies[<property>]` naming exactly one vault (e.g. `vaultName=vault.name`);
2. the literal value of that property (a vault name, or an ARM id such as a diagnostic setting's
   `resourceUri` or a role assignment's `scope`) matching a vault's literal name, and its
   resource group when both are known;
3. `dependencies` naming exactly one vault (e.g. `depends_on=[vault]`);
4. the parent: exactly one vault among the resource's siblings (a `KeyVault` component's children).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

from vaultspec.policies.ledger import InputLedger
from vaultspec.policies.wire import dig, is_type, same_group, text

_VAULT_ID = re.compile(
    r"/resourcegroups/(?P<group>[^/]+)/providers/microsoft\.keyvault/vaults/(?P<name>[^/]+)(?:/|$)", re.IGNORECASE
)
_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True)
class Node:
    """One resource of the stack."""

    resource_type: str
    urn: str
    outputs: Mapping[str, Any]
    inputs: Mapping[str, Any] | None
    parent: str | None
    dependencies: tuple[str, ...]
    property_dependencies: Mapping[str, tuple[str, ...]]

    def read(self, input_path: tuple[str | int, ...], output_path: tuple[str | int, ...] | None = None) -> Any:
        """The input at `input_path` when the inputs were recorded (then an absent input is absent),
        else the output at `output_path` (default: the same path).

        Unknown values raise `UnknownValueError`, as everywhere in the pack."""
        if self.inputs is not None:
            return dig(self.inputs, *input_path)
        return dig(self.outputs, *(output_path if output_path is not None else input_path))

    @property
    def waiver_source(self) -> Mapping[str, Any]:
        """The mapping whose `tags` carry this resource's waivers."""
        return self.inputs if self.inputs is not None else self.outputs

    def is_a(self, modules: str | tuple[str, ...], name: str) -> bool:
        return is_type(self.resource_type, modules, name)


def vault_id_parts(value: Any) -> tuple[str, str] | None:
    """(resource group, vault name) of an ARM id at or below a vault, lower-cased; else None."""
    if not isinstance(value, str):
        return None
    match = _VAULT_ID.search(value)
    return (match["group"].lower(), match["name"].lower()) if match else None


class StackView:
    """Resources by URN, with the links stack rules follow."""

    def __init__(self, resources: Iterable[PolicyResource], ledger: InputLedger) -> None:
        self.nodes: list[Node] = []
        for resource in resources:
            self.nodes.append(
                Node(
                    resource_type=resource.resource_type,
                    urn=resource.urn,
                    outputs=resource.props if resource.props is not None else _EMPTY,
                    inputs=ledger.inputs(resource.urn),
                    parent=resource.parent.urn if resource.parent is not None else resource.opts.parent,
                    dependencies=tuple(dep.urn for dep in resource.dependencies),
                    property_dependencies={
                        key: tuple(dep.urn for dep in deps) for key, deps in resource.property_dependencies.items()
                    },
                )
            )
        self.by_urn = {node.urn: node for node in self.nodes}
        self._vaults = self.of_type("keyvault", "Vault")
        self._vault_urns = frozenset(vault.urn for vault in self._vaults)
        self._vaults_by_parent: dict[str | None, list[Node]] = {}
        self._vaults_by_name: dict[str, list[Node]] = {}  # a vault whose name is unknown matches none
        for vault in self._vaults:
            self._vaults_by_parent.setdefault(vault.parent, []).append(vault)
            name = _vault_name(vault)
            if name is not None:
                self._vaults_by_name.setdefault(name, []).append(vault)

    def of_type(self, modules: str | tuple[str, ...], name: str) -> list[Node]:
        return [node for node in self.nodes if node.is_a(modules, name)]

    def vaults(self) -> list[Node]:
        return list(self._vaults)

    def vault_of(self, node: Node, via: str) -> Node | None:
        """The vault `node` belongs to, found through its `via` property (see module docstring)."""
        if not self._vaults:
            return None
        vault_urns = self._vault_urns

        linked = [urn for urn in node.property_dependencies.get(via, ()) if urn in vault_urns]
        if len(set(linked)) == 1:
            return self.by_urn[linked[0]]

        literal = self._literal_match(node, via)
        if literal is not None:
            return literal

        depended = {urn for urn in node.dependencies if urn in vault_urns}
        if len(depended) == 1:
            return self.by_urn[depended.pop()]

        if node.parent is not None:
            siblings = self._vaults_by_parent.get(node.parent, [])
            if len(siblings) == 1:
                return siblings[0]
        return None

    def _literal_match(self, node: Node, via: str) -> Node | None:
        try:
            reference = node.read((via,))
        except UnknownValueError:
            return None
        if via == "vaultName":
            name = text(reference)
            try:
                group = text(node.read(("resourceGroupName",)))
            except UnknownValueError:
                group = None
        else:
            parts = vault_id_parts(reference)
            if parts is None:
                return None
            group, name = parts
        if name is None:
            return None
        matches = [vault for vault in self._vaults_by_name.get(name, ()) if _in_group(vault, group)]
        return matches[0] if len(matches) == 1 else None


def _vault_name(vault: Node) -> str | None:
    """The vault's literal name, lower-cased; None when unknown or not a string."""
    try:
        return text(vault.read(("vaultName",), ("name",)))
    except UnknownValueError:
        return None


def _in_group(vault: Node, group: str | None) -> bool:
    if group is None:
        return True
    try:
        vault_group = text(vault.read(("resourceGroupName",)))
    except UnknownValueError:
        return True
    return same_group(vault_group, group)
