"""Entry point of the policy pack: the Pulumi CLI runs this file (`--policy-pack policies`).

It only builds the pack; `PolicyPack(...)` starts the analyzer's gRPC server and blocks, so it runs
only as `__main__` and importing this module (tests, tools) serves nothing.
"""

from pulumi_policy import PolicyPack

from vaultspec.policies.pack import pack_arguments

if __name__ == "__main__":
    PolicyPack(**pack_arguments())
