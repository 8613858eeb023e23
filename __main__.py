"""The Pulumi program's entry point; all logic lives in `vaultspec.program` (so tools can run it too)."""

from vaultspec.program import run

run()
