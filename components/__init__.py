"""vaultspec's Pulumi component library on pulumi-azure-native (imported as `vaultspec.components`).

One file per concern, as the Azure Verified Modules lay theirs out:

    args.py         typed arguments (TypedDicts: plain Python and provider mode alike)
    vault.py        the Vault and its security-relevant properties
    access.py       RBAC role assignments and inline access policies, the deployer's rights
    keys.py         keys, and the standalone `VaultKey`
    imported_keys.py  keys imported through the data plane (`ImportedKey`, a dynamic resource)
    import_provider.py  its provider: import, update, refresh, soft-delete on the data plane
    secrets.py      secrets and their value sources, and the standalone `VaultSecret`
    diagnostics.py  diagnostic setting and management lock
    keyvault.py     the `KeyVault` component tying them together
    hooks.py        the seam for resource hooks on keys and secrets
    spec.py         the spec adapter: `from_spec(vault) -> KeyVaultArgs`
    __main__.py     the component provider host for other Pulumi languages
"""

from vaultspec.components.args import (
    AccessArgs,
    DiagnosticsArgs,
    GenerateArgs,
    GrantArgs,
    KeyArgs,
    KeyImportArgs,
    KeyVaultArgs,
    NetworkArgs,
    PolicyExceptionArgs,
    RotationArgs,
    SecretArgs,
    SecretValueArgs,
    SoftDeleteArgs,
    VaultKeyArgs,
    VaultSecretArgs,
)
from vaultspec.components.hooks import HookTarget, ObjectHookFactory
from vaultspec.components.imported_keys import ImportedKey
from vaultspec.components.keys import VaultKey
from vaultspec.components.keyvault import KeyVault
from vaultspec.components.secrets import SecretSourceError, VaultSecret
from vaultspec.components.spec import from_spec
from vaultspec.components.validation import ComponentArgsError

__all__ = [
    "AccessArgs",
    "ComponentArgsError",
    "DiagnosticsArgs",
    "GenerateArgs",
    "GrantArgs",
    "HookTarget",
    "ImportedKey",
    "KeyArgs",
    "KeyImportArgs",
    "KeyVault",
    "KeyVaultArgs",
    "NetworkArgs",
    "ObjectHookFactory",
    "PolicyExceptionArgs",
    "RotationArgs",
    "SecretArgs",
    "SecretSourceError",
    "SecretValueArgs",
    "SoftDeleteArgs",
    "VaultKey",
    "VaultKeyArgs",
    "VaultSecret",
    "VaultSecretArgs",
    "from_spec",
]
