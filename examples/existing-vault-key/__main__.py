"""A key and a secret in a vault this program does not manage."""

import pulumi

from vaultspec.components import VaultKey, VaultKeyArgs, VaultSecret, VaultSecretArgs

config = pulumi.Config()

key = VaultKey(
    "storage-cmk",
    VaultKeyArgs(
        vault_name="platform-shared-kv",
        resource_group_name="rg-platform",
        name="storage-cmk",
        type="RSA-HSM",
        size=3072,
        ops=["wrapKey", "unwrapKey"],
        expires="2028-06-01T00:00:00Z",
        rotation={"rotate_after_create": "P180D", "expiry_time": "P1Y"},
        protect=False,
    ),
)

secret = VaultSecret(
    "webhook-token",
    VaultSecretArgs(
        vault_name="platform-shared-kv",
        resource_group_name="rg-platform",
        name="webhook-token",
        value={"generate": {"length": 40, "special": False}},
        content_type="text/plain",
        expires="2027-12-01T00:00:00Z",
    ),
)

pulumi.export("keyId", key.key_id)
pulumi.export("secretId", secret.secret_id)
