"""The router dependency every ARM route runs after authentication: the path's subscription, resource
group and `{scope}` exist (`vaultspec.twin.domain.scopes`), before the route reads or changes anything.

Being a dependency of the routers themselves (not of each route), a route added later is checked too:
a request under a subscription or group that does not hold a resource never reaches it. The resolved
`{scope}` (names as created) is left in `request.state.arm_scope` for the extension-resource routes.
Routes that create the group they name (vault PUT, resource group PUT) are marked `@creates_group`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from vaultspec.twin.http.auth import backend_of

F = TypeVar("F", bound=Callable[..., Any])


def creates_group(endpoint: F) -> F:
    """Mark a route whose resource group need not exist yet (the route creates it)."""
    endpoint.creates_group = True  # type: ignore[attr-defined]
    return endpoint


def arm_path_exists(request: Request) -> None:
    """404 SubscriptionNotFound / ResourceGroupNotFound / ResourceNotFound (400 for malformed ids)."""
    params = request.path_params
    scopes = backend_of(request).scopes
    if "subscriptionId" in params:
        scopes.check_subscription(params["subscriptionId"])
        route = request.scope.get("route")
        if "resourceGroupName" in params and not getattr(getattr(route, "endpoint", None), "creates_group", False):
            scopes.check_group(params["subscriptionId"], params["resourceGroupName"])
    if "scope" in params:
        request.state.arm_scope = scopes.resolve(params["scope"])
