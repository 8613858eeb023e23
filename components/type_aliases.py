"""Children of a `KeyVault` register without pulumi-azure-native's version aliases.

Every pulumi-azure-native resource class adds an alias per API version it was ever generated for
(17 on a Key: `azure-native:keyvault/v20190901:Key`, ...), so that a stack whose state holds a resource
under a versioned type token keeps it after a program switches to the default one. The engine
resolves every alias of every resource on every run, and the Python SDK turns each into a chain of
Outputs: on the twin that is a third of a preview's time for the program (`bench/engine_up.py`).

None of them can ever match a `KeyVault` child: the component has only ever registered the default
type tokens (`azure-native:keyvault:Key`, ...), under its own parent, so no state anywhere holds a
child of it under a versioned token. Dropping them changes no URN, no input and no plan (a stack
deployed with them previews as unchanged without them, and back: tests/engine). Aliases that name
another parent, name, stack or project (what a user would declare after moving a resource) are kept.
"""

from typing import Any

import pulumi


def without_type_aliases(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """A resource transformation: drop aliases that only name another type; keep every other alias."""
    aliases = args.opts.aliases
    if not aliases:
        return None
    kept = [alias for alias in aliases if not is_type_alias(alias)]
    if len(kept) == len(aliases):
        return None
    opts = args.opts._copy()
    opts.aliases = kept or None
    return pulumi.ResourceTransformationResult(args.props, opts)


def is_type_alias(alias: Any) -> bool:
    """An `Alias` that names only a type (`Alias(type_=...)`), the shape of an SDK version alias."""
    if not isinstance(alias, pulumi.Alias):
        return False
    others = (alias.name, alias.parent, alias.stack, alias.project)
    return alias.type_ is not ... and all(value is ... for value in others)
