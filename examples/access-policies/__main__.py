"""A vault whose data plane is authorized by inline access policies."""

import pulumi

from vaultspec.components import KeyVault, KeyVaultArgs

LEDGER_SERVICE = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"

ledger = KeyVault(
    "ledger",
    KeyVaultArgs(
        vault_name="ledger-example-kv",
        resource_group_name="rg-ledger",
        location="westeurope",
        access={
            "model": "accessPolicies",
            "deployer": "smoke",
            "grants": [{"principal": LEDGER_SERVICE, "keys": ["get", "sign", "verify"], "secrets": ["get"]}],
        },
        keys=[{"name": "ledger-seal", "type": "EC-HSM", "curve": "P-384", "ops": ["sign", "verify"]}],
        protect=False,
    ),
)

pulumi.export("vaultUri", ledger.vault_uri)
