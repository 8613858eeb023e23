"""Keys whose material comes from outside the vault: the BYOK transfer blob and key material helpers.

- `transfer`: the `.byok` file (Key Vault's BYOK specification): parse it, wrap a key the way an HSM
  vendor's tool does, unwrap it the way the receiving HSM does;
- `material`: private keys (PEM or JWK) to import, public keys (PEM) to compare, RFC 7638 thumbprints;
- `cli`: `vaultspec byok kek-pem` and `vaultspec byok wrap`.
"""
