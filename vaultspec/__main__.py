"""`python -m vaultspec` runs the CLI."""

from vaultspec.cli import main

main()
