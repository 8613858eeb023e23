"""Rules for imported keys and key exchange keys (KEKs), as Key Vault's BYOK specification sets them.

A KEK is a declared RSA-HSM key whose ops are exactly `[import]`: it is generated in the vault and
used for nothing but unwrapping BYOK blobs. An imported key names one source: a `.byok` blob (an
HSM key, wrapped for a KEK of the same vault), or private key material from Pulumi config or the
environment. What the files a spec names can tell is checked too: the blob's header names the KEK
it was wrapped for (vault and key), and a declared public key fixes the key's type, size or curve.
Secret material (config, environment) is never read here.

Each rule yields `(path, message)` relative to the vault, like `vaultspec.spec.rules`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vaultspec.byok.material import KeyMaterialError, KeyShape, load_public_key, shape_of
from vaultspec.byok.transfer import TransferBlobError, parse_kek_id, parse_transfer_blob
from vaultspec.catalog.keys import HSM_TYPES, KEK_TYPE
from vaultspec.spec.model import Key, KeyImport, Vault

Finding = tuple[tuple[str | int, ...], str]
MAX_FILE_BYTES = 64 * 1024


def kek_rules(key: Key) -> Iterator[Finding]:
    """A key with the import operation is a KEK: RSA-HSM, ops exactly [import], generated in the vault."""
    if not key.is_kek:
        return
    if key.type != KEK_TYPE:
        yield ("type",), f"a key exchange key (ops: [import]) must be {KEK_TYPE}; BYOK refuses any other KEK"
    if key.ops != ["import"]:
        yield (
            ("ops",),
            "a key exchange key's ops must be exactly [import]: Key Vault refuses BYOK with a KEK that can do "
            "anything else",
        )
    if key.import_ is not None:
        yield ("import",), "a key exchange key is generated in the vault; it cannot itself be imported"


def import_rules(key: Key, sku: str) -> Iterator[Finding]:
    """What one imported key's declaration must satisfy on its own."""
    source = key.import_
    if source is None:
        return
    if source.byok is not None:
        if key.type not in HSM_TYPES:
            yield (
                ("import", "byok"),
                f"a BYOK blob arrives as an HSM key: type must be RSA-HSM or EC-HSM, not {key.type}",
            )
        if sku != "premium":
            yield ("import", "byok"), f"BYOK needs a premium vault (this vault's sku is {sku}): the KEK is an HSM key"
        if source.kek is None:
            yield ("import",), "byok needs kek: the declared key exchange key the blob was wrapped for"
    elif source.kek is not None:
        yield ("import", "kek"), "kek applies to byok imports only"


def vault_import_rules(vault: Vault) -> Iterator[Finding]:
    """Rules that relate an imported key to the vault: its KEK, the deployer's rights, the files it names."""
    keys = {k.name.lower(): k for k in vault.keys}
    imports = False
    for index, key in enumerate(vault.keys):
        source = key.import_
        if source is None:
            continue
        imports = True
        if source.kek is not None:
            kek = keys.get(source.kek.lower())
            if kek is None:
                yield (
                    ("keys", index, "import", "kek"),
                    f"kek names key '{source.kek}', which this vault does not declare",
                )
            elif not kek.is_kek:
                yield (
                    ("keys", index, "import", "kek"),
                    f"kek names key '{kek.name}', which is not a key exchange key (type RSA-HSM, ops: [import])",
                )
        yield from ((("keys", index, *path), message) for path, message in _file_rules(source, key, vault.name))
    if imports and vault.access.deployer == "smoke":
        yield (
            ("access", "deployer"),
            "imported keys are imported through the data plane by the deploying identity, which then needs "
            "lifecycle rights (import, update, rotation policy, delete); use deployer: lifecycle (or none, and "
            "grant them yourself)",
        )


def _read(path: str, field: str) -> tuple[bytes | None, Finding | None]:
    try:
        file = Path(path)
        if file.stat().st_size > MAX_FILE_BYTES:
            return None, (("import", field), f"{path} is larger than {MAX_FILE_BYTES} bytes")
        return file.read_bytes(), None
    except OSError as error:
        return None, (("import", field), f"cannot read {path}: {error.strerror or type(error).__name__}")


def _file_rules(source: KeyImport, key: Key, vault_name: str) -> Iterator[Finding]:
    if source.byok is not None:
        data, problem = _read(source.byok, "byok")
        if problem is not None:
            yield problem
        elif data is not None:
            yield from _blob_rules(data, source.kek, vault_name)
    if source.public_key is not None:
        data, problem = _read(source.public_key, "publicKey")
        if problem is not None:
            yield problem
        elif data is not None:
            yield from _public_key_rules(data, key)


def _blob_rules(data: bytes, kek: str | None, vault_name: str) -> Iterator[Finding]:
    try:
        blob = parse_transfer_blob(data)
    except TransferBlobError as error:
        yield ("import", "byok"), str(error)
        return
    target = parse_kek_id(blob.header.kid)
    if target.vault_name.lower() != vault_name.lower():
        yield (
            ("import", "byok"),
            f"the blob was wrapped for key '{target.name}' of vault '{target.vault_name}' ({target.host}), not for a "
            f"key of this vault ('{vault_name}'): a blob imports only into the vault whose KEK wrapped it",
        )
    elif kek is not None and target.name.lower() != kek.lower():
        yield (
            ("import", "byok"),
            f"the blob was wrapped for key '{target.name}' of this vault, not for kek '{kek}'",
        )


def _public_key_rules(data: bytes, key: Key) -> Iterator[Finding]:
    try:
        shape = shape_of(load_public_key(data))
    except KeyMaterialError as error:
        yield ("import", "publicKey"), str(error)
        return
    declared = KeyShape("RSA", size=key.effective_size) if key.is_rsa else KeyShape("EC", curve=key.effective_curve)
    if shape.family != declared.family:
        yield ("type",), f"type {key.type} contradicts the declared public key, which is an {shape.family} key"
    elif shape != declared:
        field = "size" if key.is_rsa else "curve"
        written = key.size if key.is_rsa else key.curve
        default = "" if written is not None else " (the default)"
        blame: tuple[str | int, ...] = (field,) if written is not None else ("import", "publicKey")
        yield blame, f"the declared public key is {shape}, but the key declares {declared}{default}"
