"""A vault from plain Python: no spec file, just the component and its typed arguments.

The same vault as examples/typescript and examples/go: one RBAC vault, an RSA-HSM key that
rotates, a secret whose value is the stack's config secret `sessionKey`.
"""

import pulumi

from vaultspec.components import GrantArgs, KeyArgs, KeyVault, KeyVaultArgs, NetworkArgs, SecretArgs

PAYMENTS_API = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"

# Callers allowed through the vault's firewall (the deployer's address, for the data-plane calls that
# delete keys and secrets and run the smoke tests); none: public access off, private endpoints only.
allowed_ips: list[str] = pulumi.Config().get_object("allowedIps") or []
network = (
    NetworkArgs(public_access="enabled", default_action="Deny", bypass="None", ip_rules=allowed_ips)
    if allowed_ips
    else NetworkArgs(public_access="disabled", default_action="Deny", bypass="None")
)

payments = KeyVault(
    "payments",
    KeyVaultArgs(
        vault_name="payments-example-kv",
        resource_group_name="rg-payments",
        location="westeurope",
        network=network,
        access={
            "model": "rbac",
            "deployer": "lifecycle",
            "grants": [
                GrantArgs(
                    principal=PAYMENTS_API,
                    principal_type="ServicePrincipal",
                    role="Key Vault Crypto User",
                    scope="keys/signing",
                )
            ],
        },
        keys=[
            KeyArgs(
                name="signing",
                type="RSA-HSM",
                size=3072,
                ops=["sign", "verify"],
                expires="2028-06-01T00:00:00Z",
                rotation={"rotate_after_create": "P90D", "expiry_time": "P1Y"},
            )
        ],
        secrets=[
            SecretArgs(
                name="session-key",
                value={"from_config": "sessionKey"},
                content_type="application/octet-stream",
                expires="2027-12-01T00:00:00Z",
            )
        ],
        protect=False,
    ),
)

pulumi.export("vaultUri", payments.vault_uri)
pulumi.export("keyIds", payments.key_ids)
