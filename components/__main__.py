"""The component provider host: serves `KeyVault`, `VaultKey` and `VaultSecret` to other Pulumi languages.

Pulumi runs this file as the provider plugin (see PulumiPlugin.yaml); `pulumi package add`
asks it for its schema, inferred from the components' annotations. Importing this module does
nothing; only running it as a program starts the host.
"""

from pulumi.provider.experimental import component_provider_host

from vaultspec.components import KeyVault, VaultKey, VaultSecret

PROVIDER_NAME = "vaultspec"
COMPONENTS = [KeyVault, VaultKey, VaultSecret]

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=PROVIDER_NAME)
