"""Vaults from a spec file next to this program, through the spec adapter."""

from pathlib import Path

import pulumi

from vaultspec.components import KeyVault, from_spec
from vaultspec.spec import load_spec

spec = load_spec(Path(__file__).with_name("spec.yaml"))
vaults = {vault.name: KeyVault(vault.name, from_spec(vault, protect=False)) for vault in spec.vaults}

pulumi.export("vaultUris", {name: vault.vault_uri for name, vault in vaults.items()})
