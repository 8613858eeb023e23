"""ARM routes that make the twin a cloud tools can discover and sign in to.

- `GET /metadata/endpoints?api-version=...` — ARM's metadata document (anonymous, as in Azure), in
  the shape the api-version asks for (`vaultspec.twin.domain.cloud`); `az cloud register
  --endpoint-resource-manager https://localhost:PORT/` reads it;
- Subscriptions - List / Get and Tenants - List (api-version 2022-12-01 and others): the twin's one
  subscription and tenant, which `az login --identity` lists right after it gets its token.

The twin's control plane has no RBAC of its own (every principal of the tenant acts as subscription
Owner), so every authenticated caller sees the subscription.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from vaultspec.twin.domain.cloud import metadata_document, subscription_body, tenant_body
from vaultspec.twin.http.arm_paths import arm_path_exists
from vaultspec.twin.http.auth import arm_principal, backend_of
from vaultspec.twin.http.responses import ARM_ERRORS, json_response
from vaultspec.twin.http.schemas import (
    CloudMetadata,
    Subscription,
    SubscriptionListResult,
    TenantListResult,
    doc,
)

router = APIRouter(tags=["arm-cloud"], responses=ARM_ERRORS)
_AUTHENTICATED = [Depends(arm_principal)]


@router.get(
    "/metadata/endpoints",
    responses={200: {"model": CloudMetadata | list[CloudMetadata], "description": "Cloud metadata"}},
)
async def get_metadata_endpoints(
    request: Request, api_version: str | None = Query(None, alias="api-version")
) -> Response:
    """ARM: the cloud's metadata endpoints (anonymous; 2022-09-01: one cloud, 2019-05-01: a list)."""
    request.state.plane = "arm"
    request.state.operation = "GET /metadata/endpoints"
    return json_response(metadata_document(backend_of(request).port, api_version))


@router.get("/subscriptions", dependencies=_AUTHENTICATED, responses={200: doc(SubscriptionListResult)})
async def list_subscriptions(request: Request) -> Response:
    """ARM: Subscriptions - List (2022-12-01)."""
    ids = backend_of(request).ids
    return json_response(
        {"value": [subscription_body(ids.subscription_id, ids.tenant_id)], "count": {"type": "Total", "value": 1}}
    )


@router.get(
    "/subscriptions/{subscriptionId}",
    dependencies=[*_AUTHENTICATED, Depends(arm_path_exists)],
    responses={200: doc(Subscription)},
)
async def get_subscription(subscriptionId: str, request: Request) -> Response:
    """ARM: Subscriptions - Get (400 InvalidSubscriptionId, 404 SubscriptionNotFound for any other id)."""
    ids = backend_of(request).ids
    return json_response(subscription_body(ids.subscription_id, ids.tenant_id))


@router.get("/tenants", dependencies=_AUTHENTICATED, responses={200: doc(TenantListResult)})
async def list_tenants(request: Request) -> Response:
    """ARM: Tenants - List (2022-12-01)."""
    return json_response({"value": [tenant_body(backend_of(request).ids.tenant_id)]})
