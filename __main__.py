"""The Pulumi program's entry point; all logic lives in `vaultspec.program` (so tools can run it too).

`pulumi up` binds a smoke-test hook to every key and secret (vaultspec.smoke.hooks; skipped on
previews); `vaultspec plan` and `vaultspec up` run `vaultspec.program.run` themselves.
"""

from vaultspec.program import run
from vaultspec.smoke.hooks import SmokeHookFactory

run(hooks=SmokeHookFactory())
