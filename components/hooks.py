"""The seam for resource hooks on keys and secrets (the smoke tests bind here).

A component takes an optional `hooks` factory; for every key and secret it creates, it calls the
factory with a `HookTarget` and binds the returned `ResourceHookBinding` (or nothing) to that
Key or Secret resource. The factory runs inside the component constructor, so hooks are built
lazily, per object, and never at import time (a `ResourceHook` made before the runtime is
configured fails later with "The Pulumi CLI does not support resource hooks").

Hooks go on the Key/Secret children, not on the component: a component's own events fire before
its children exist. Keys and secrets depend on the deployer's data-plane grants, so an
`after_create` hook can use the data plane as soon as it runs (RBAC propagation aside).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi


@dataclass(frozen=True)
class HookTarget:
    """What a hook factory is asked to bind: one key or secret of one vault."""

    component: str
    """Logical name of the component creating the object."""
    vault_name: str
    """Azure name of the vault holding the object."""
    kind: Literal["key", "secret"]
    name: str
    """The key's or secret's name in the vault."""
    declaration: Mapping[str, Any] = field(default_factory=dict)
    """The object's arguments (`KeyArgs` / `SecretArgs`); a secret's `value` holds its source, never plain text."""

    @property
    def hook_name(self) -> str:
        """A name unique per program for a hook bound to this object (hook names must be unique)."""
        return f"{self.component}/{self.kind}s/{self.name}"


ObjectHookFactory = Callable[[HookTarget], pulumi.ResourceHookBinding | None]
"""Returns the hooks to bind to one key or secret, or None for none."""


def bind_hooks(factory: ObjectHookFactory | None, target: HookTarget) -> pulumi.ResourceHookBinding | None:
    return factory(target) if factory is not None else None
