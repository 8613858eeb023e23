"""BYOK: a vault with a key exchange key and, once the how-to has made their blobs, keys imported from them.

The spec file is config `spec` (default `byok.yaml`, the one the how-to grows; `kek.yaml` before it
exists), relative to this folder. See README.md for the steps.
"""

from pathlib import Path

import pulumi

from vaultspec.components import KeyVault, from_spec
from vaultspec.spec import load_spec

here = Path(__file__).parent
configured = pulumi.Config().get("spec")
path = here / (configured or ("byok.yaml" if (here / "byok.yaml").exists() else "kek.yaml"))
spec = load_spec(path)
vaults = {vault.name: KeyVault(vault.name, from_spec(vault, protect=False)) for vault in spec.vaults}

pulumi.export("keyIds", {name: vault.key_ids for name, vault in vaults.items()})
