"""`vaultspec byok`: the two steps of a BYOK transfer that happen outside the spec.

    vaultspec byok kek-pem --vault-url URL --name KEK [--version V] [--out FILE]
    vaultspec byok wrap --kek-pem FILE --kek-id KID --key FILE --out FILE [--public-key FILE]

`kek-pem` downloads a key exchange key's public key (PEM) and prints its full key id: the two inputs
of an HSM vendor's BYOK tool. It refuses a key that is not a KEK (RSA-HSM, key_ops exactly
`[import]`), since the vault would refuse any blob wrapped for it. Identity: DefaultAzureCredential;
against the twin, `eval "$(vaultspec twin env)"` first.

`wrap` does what a vendor's BYOK tool does (`CKM_RSA_AES_KEY_WRAP`, see `vaultspec.byok.transfer`)
for a private key held in software (PEM or JWK file): the result imports like any `.byok` file, but the
key was NOT born in an HSM; it existed in plaintext on this machine. Use it for keys that already live
in software (migrations, tests), never as a substitute for an HSM when HSM-born keys are required.

Exit codes: 0 done; 1 the vault refused or the key is not a KEK; 2 usage or unreadable input.
Private key material is never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

import typer
from azure.core.exceptions import HttpResponseError

from vaultspec import localhost
from vaultspec.byok.material import KeyMaterialError, load_private_key, load_public_key, public_pem, shape_of
from vaultspec.byok.transfer import TransferBlobError, wrap_target_key
from vaultspec.catalog.keys import KEK_OPS, KEK_TYPE

T = TypeVar("T")
byok_app = typer.Typer(
    help="Bring your own key: fetch a KEK's public key for the HSM vendor's tool, or wrap a software key.",
    no_args_is_help=True,
)
EXIT_REFUSED, EXIT_USAGE = 1, 2
NOT_HSM_BORN = (
    "note: this key was held in software and wrapped here; the vault will hold it as an HSM key, but it was "
    "not HSM-born (its private half existed in plaintext outside an HSM)."
)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _read(path: Path, load: Callable[[Path], T]) -> T:
    """`load(path)`, or exit 2 naming the file and what is wrong with it (never its content)."""
    try:
        return load(path)
    except OSError as error:
        raise _fail(f"cannot read {path}: {error.strerror or type(error).__name__}", EXIT_USAGE) from None
    except (KeyMaterialError, UnicodeDecodeError) as error:
        reason = str(error) if isinstance(error, KeyMaterialError) else "not a text file"
        raise _fail(f"{path}: {reason}", EXIT_USAGE) from None


def _tool_version() -> str:
    try:
        return version("vaultspec")
    except PackageNotFoundError:
        return "unknown"


@byok_app.command("kek-pem")
def kek_pem(
    vault_url: Annotated[str, typer.Option("--vault-url", help="The vault, e.g. https://NAME.vault.azure.net")],
    name: Annotated[str, typer.Option("--name", help="The key exchange key's name.")],
    key_version: Annotated[str | None, typer.Option("--version", help="A KEK version (default: current).")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the PEM here; the key id goes to stdout (default: PEM to stdout)."),
    ] = None,
) -> None:
    """Download a KEK's public key (PEM) and print its full key id, for the HSM vendor's BYOK tool."""
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.keys import KeyClient

    from vaultspec.smoke.cli import UsageError, check_url
    from vaultspec.smoke.public_key import public_key_of

    try:
        url = check_url(vault_url)
    except UsageError as error:
        raise _fail(str(error), EXIT_USAGE) from None
    if localhost.is_localhost_name(urlsplit(url).hostname):
        localhost.install()
    try:
        with DefaultAzureCredential() as credential, KeyClient(url, credential) as client:
            key = client.get_key(name, key_version)
    except HttpResponseError as error:
        code = getattr(error.error, "code", None) or error.reason
        raise _fail(f"{url}: cannot read key '{name}': {error.status_code} {code}", EXIT_REFUSED) from None
    kty = str(getattr(key.key_type, "value", key.key_type))
    ops = [str(getattr(op, "value", op)) for op in key.key_operations or []]
    if kty != KEK_TYPE or ops != list(KEK_OPS):
        raise _fail(
            f"key '{name}' is {kty} with key_ops {ops}: not a key exchange key ({KEK_TYPE}, key_ops exactly "
            "['import']); Key Vault would refuse a blob wrapped for it",
            EXIT_REFUSED,
        )
    pem = public_pem(public_key_of(key.key))
    if out is None:
        typer.echo(pem, nl=False)
        typer.echo(f"kid: {key.id}", err=True)
        return
    out.write_text(pem)
    typer.echo(f"wrote {out}: public key of KEK {key.id}", err=True)
    typer.echo(key.id)


@byok_app.command("wrap")
def wrap(
    kek_pem_file: Annotated[Path, typer.Option("--kek-pem", help="The KEK's public key (from `kek-pem`).")],
    kek_id: Annotated[str, typer.Option("--kek-id", help="The KEK's full key id, with version (from `kek-pem`).")],
    key_file: Annotated[Path, typer.Option("--key", help="The private key to transfer (PEM or JWK file).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the .byok file.")],
    public_key_out: Annotated[
        Path | None,
        typer.Option("--public-key", help="Also write the key's public half here (PEM, for import.publicKey)."),
    ] = None,
    generator: Annotated[
        str | None, typer.Option("--generator", help="The blob's generator field (default: vaultspec, software key).")
    ] = None,
) -> None:
    """Wrap a software-held private key for a KEK as a .byok file, exactly as an HSM vendor's BYOK tool does.

    The key was NOT born in an HSM: it existed in plaintext here. The vault will hold it as an HSM key.
    """
    kek = _read(kek_pem_file, lambda path: load_public_key(path.read_bytes()))
    target = _read(key_file, lambda path: load_private_key(path.read_text()))
    label = generator or f"vaultspec {_tool_version()} byok wrap; software key (not HSM-born)"
    try:
        blob = wrap_target_key(target, kek, kek_id, label)  # type: ignore[arg-type]
    except TransferBlobError as error:
        raise _fail(str(error), EXIT_USAGE) from None
    out.write_bytes(blob)
    if public_key_out is not None:
        public_key_out.write_text(public_pem(target))
    typer.echo(f"wrote {out}: {shape_of(target)} key wrapped for KEK {kek_id}", err=True)
    typer.echo(NOT_HSM_BORN, err=True)
