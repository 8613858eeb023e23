"""The component provider host: serves `KeyVault`, `VaultKey` and `VaultSecret` to other Pulumi languages.

Pulumi runs this file as the provider plugin (see PulumiPlugin.yaml); `pulumi package add`
asks it for its schema, inferred from the components' annotations (committed as
`components/schema.json`, from which the TypeScript and Go SDKs are generated). Importing this
module starts nothing; only running it as a program starts the host.

This is the program of every other language, as `vaultspec.program` is the Python one, so it
wires what that program wires: the smoke tests, bound as resource hooks to every key and secret
the components create. The engine runs hooks a component provider registers (its callback
server lives in this process), so a TypeScript or Go `pulumi up` proves each created or updated
key and secret on the data plane, as a Python one does. Stack config `vaultspec:smoke false`
turns them off (a private vault deployed from outside its network, where the data plane is out
of reach; run `vaultspec smoke` from inside instead).

The Python language host runs this file as `python <this folder>`, which puts this folder first
on `sys.path`, where `secrets.py` would shadow the standard library's `secrets` (imported by
pydantic among others) and break every import. The folder is dropped from `sys.path` before
anything else is imported: the components are imported as the package `vaultspec.components`.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from collections.abc import Callable  # noqa: E402
from importlib.metadata import version  # noqa: E402
from typing import Any  # noqa: E402

import pulumi  # noqa: E402
from pulumi.provider import main  # noqa: E402
from pulumi.provider.experimental.component import ComponentProvider  # noqa: E402

from vaultspec.components import KeyVault, VaultKey, VaultSecret  # noqa: E402
from vaultspec.components.hooks import ObjectHookFactory  # noqa: E402

PROVIDER_NAME = "vaultspec"
PROVIDER_VERSION = version("vaultspec")
COMPONENTS = [KeyVault, VaultKey, VaultSecret]
SMOKE_CONFIG = "smoke"  # stack config vaultspec:smoke (default true)


def smoke_hooks() -> ObjectHookFactory | None:
    """The smoke hooks of the component one Construct call builds, unless stack config `vaultspec:smoke` is false."""
    if pulumi.Config(PROVIDER_NAME).get_bool(SMOKE_CONFIG) is False:
        return None
    from vaultspec.smoke.hooks import SmokeHookFactory

    return SmokeHookFactory()


def with_smoke_hooks(component: type[pulumi.ComponentResource]) -> Callable[..., pulumi.ComponentResource]:
    def construct(name: str, args: Any, opts: pulumi.ResourceOptions | None) -> pulumi.ComponentResource:
        return component(name, args, opts, hooks=smoke_hooks())  # type: ignore[call-arg]

    return construct


class ComponentHost(ComponentProvider):
    """Pulumi's component provider for `COMPONENTS`, whose Construct also passes them the smoke hooks.

    The schema is inferred from the component classes themselves (a subclass would lose the
    docstrings of their outputs); only the constructors Construct calls are wrapped.
    """

    def __init__(self) -> None:
        super().__init__(COMPONENTS, PROVIDER_NAME, version=PROVIDER_VERSION)
        self._components = {name: with_smoke_hooks(component) for name, component in self._components.items()}


if __name__ == "__main__":
    main(ComponentHost(), sys.argv[1:])
