#!/usr/bin/env bash
# The BYOK how-to, on the local twin: KEK -> kek-pem -> two local keys -> wrap -> import -> smoke.
# Run from anywhere: ./examples/byok/howto.sh  (after `make venv`). Everything it makes stays in this
# folder (git-ignored): private/ (the demo's software keys), transfer/ (blobs and public keys), byok.yaml,
# .vaultspec/twin (this example's own twin, its Pulumi state and passphrase), Pulumi.byok.yaml.
set -euo pipefail
cd "$(dirname "$0")"
BIN="${BIN:-../../.venv/bin}"
DATA="${DATA:-.vaultspec/twin}"
VAULT=byok-example-kv
mkdir -p private transfer

# 1. The vault and its key exchange key (RSA-HSM, ops [import]), generated in the vault.
cp kek.yaml byok.yaml
"$BIN/vaultspec" up byok.yaml --data "$DATA"
eval "$("$BIN/vaultspec" twin env --data "$DATA")"
URL="https://$VAULT.vault.localhost:$(cat "$DATA/port")"

# 2. The KEK's public key (PEM) and full key id: the inputs of an HSM vendor's BYOK tool.
KID=$("$BIN/vaultspec" byok kek-pem --vault-url "$URL" --name kek --out transfer/kek.pem)

# 3. The keys to transfer. In production they are born in your HSM; here they are made in software.
"$BIN/python" - <<'PY'
from pathlib import Path
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

for name, key in (("signing-rsa", rsa.generate_private_key(65537, 3072)), ("signing-ec", ec.generate_private_key(ec.SECP256R1()))):
    path = Path("private") / f"{name}.key.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    path.chmod(0o600)
PY

# 4. Wrap each key for the KEK (what the vendor's tool does; these keys are NOT HSM-born).
for key in signing-rsa signing-ec; do
  "$BIN/vaultspec" byok wrap --kek-pem transfer/kek.pem --kek-id "$KID" --key "private/$key.key.pem" \
    --out "transfer/$key.byok" --public-key "transfer/$key.pub.pem"
done

# 5. The spec gains the two keys with their import: (blob, KEK, public key).
cat imports.yaml >> byok.yaml
"$BIN/vaultspec" validate byok.yaml

# 6. Import them, then smoke: the vault's keys are exactly the local ones (public key, signatures).
"$BIN/vaultspec" up byok.yaml --data "$DATA"
