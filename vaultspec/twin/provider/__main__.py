"""`python -m vaultspec.twin.provider {azure-native|random} [engine flags] <engine address>`: serve one plugin."""

from __future__ import annotations

import sys

from vaultspec.twin.provider.plumbing import serve


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("azure-native", "random"):
        sys.exit("usage: python -m vaultspec.twin.provider {azure-native|random} <engine address>")
    if argv[0] == "random":
        from vaultspec.twin.provider.random_password import PLUGIN
    else:
        from vaultspec.twin.provider.azure_native import PLUGIN
    serve(PLUGIN, argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
