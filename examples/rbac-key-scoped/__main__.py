"""Least privilege with RBAC: grants scoped to one key and one secret, plus diagnostics and a lock."""

import pulumi

from vaultspec.components import KeyVault, KeyVaultArgs

APP = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
WORKSPACE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-observability"
    "/providers/Microsoft.OperationalInsights/workspaces/law-example"
)

vault = KeyVault(
    "settlement",
    KeyVaultArgs(
        vault_name="settlement-example-kv",
        resource_group_name="rg-settlement",
        location="westeurope",
        access={
            "model": "rbac",
            "deployer": "lifecycle",
            "grants": [
                {
                    "principal": APP,
                    "principal_type": "ServicePrincipal",
                    "role": "Key Vault Crypto User",
                    "scope": "keys/settlement-signing",
                    "description": "signs settlement files",
                },
                {
                    "principal": APP,
                    "principal_type": "ServicePrincipal",
                    "role": "Key Vault Secrets User",
                    "scope": "secrets/sftp-password",
                },
            ],
        },
        keys=[
            {
                "name": "settlement-signing",
                "type": "RSA-HSM",
                "size": 4096,
                "ops": ["sign", "verify"],
                "expires": "2028-06-01T00:00:00Z",
                "rotation": {"rotate_after_create": "P180D", "notify_before_expiry": "P30D", "expiry_time": "P1Y"},
            }
        ],
        secrets=[
            {
                "name": "sftp-password",
                "value": {"from_env": "SFTP_PASSWORD"},
                "content_type": "text/plain",
                "expires": "2027-12-01T00:00:00Z",
            }
        ],
        diagnostics={"workspace_id": WORKSPACE},
        lock="CanNotDelete",
        protect=False,
    ),
)

pulumi.export("keyIds", vault.key_ids)
