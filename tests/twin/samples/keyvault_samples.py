"""An unmodified Azure SDK program: the Key Vault samples' flows with DefaultAzureCredential.

Nothing here knows about the twin: it reads VAULT_URL and relies on the environment
(`eval "$(vaultspec twin env)"`) and on /etc/hosts for name resolution, like any user program.
"""

import hashlib
import os
import uuid

from azure.identity import DefaultAzureCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import (
    CryptographyClient,
    EncryptionAlgorithm,
    KeyWrapAlgorithm,
    SignatureAlgorithm,
)
from azure.keyvault.secrets import SecretClient

vault_url = os.environ["VAULT_URL"]
credential = DefaultAzureCredential()
keys = KeyClient(vault_url, credential)
secrets = SecretClient(vault_url, credential)
suffix = uuid.uuid4().hex[:8]

# keys: create, sign, verify, encrypt, decrypt, wrap, unwrap
key = keys.create_rsa_key(f"sample-rsa-{suffix}", size=2048)
crypto = CryptographyClient(key, credential)
digest = hashlib.sha256(b"sample").digest()
signature = crypto.sign(SignatureAlgorithm.rs256, digest).signature
assert crypto.verify(SignatureAlgorithm.rs256, digest, signature).is_valid
ciphertext = crypto.encrypt(EncryptionAlgorithm.rsa_oaep, b"plaintext").ciphertext
assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep, ciphertext).plaintext == b"plaintext"
wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32).encrypted_key
assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped).key == b"k" * 32
ec_key = keys.create_ec_key(f"sample-ec-{suffix}", curve="P-256")
ec_crypto = CryptographyClient(ec_key, credential)
assert ec_crypto.verify(
    SignatureAlgorithm.es256, digest, ec_crypto.sign(SignatureAlgorithm.es256, digest).signature
).is_valid

# rotate, backup, delete, purge, restore, delete, recover
rotated = keys.rotate_key(key.name)
assert rotated.properties.version != key.properties.version
backup = keys.backup_key(key.name)
keys.begin_delete_key(key.name).wait()
keys.purge_deleted_key(key.name)
restored = keys.restore_key_backup(backup)
assert restored.name == key.name
keys.begin_delete_key(key.name).wait()
recovered = keys.begin_recover_deleted_key(key.name).result()
assert recovered.name == key.name

# secrets: set, get, list, backup, delete, purge, restore, delete, recover
secret = secrets.set_secret(f"sample-secret-{suffix}", "sample-value")
assert secrets.get_secret(secret.name).value == "sample-value"
assert secret.name in [p.name for p in secrets.list_properties_of_secrets()]
secret_backup = secrets.backup_secret(secret.name)
secrets.begin_delete_secret(secret.name).wait()
secrets.purge_deleted_secret(secret.name)
secrets.restore_secret_backup(secret_backup)
secrets.begin_delete_secret(secret.name).wait()
secrets.begin_recover_deleted_secret(secret.name).wait()
assert secrets.get_secret(secret.name).value == "sample-value"
print("SAMPLES OK")
