"""ARM list routes for `Microsoft.KeyVault/managedHSMs`: the twin has no Managed HSM, so every list
is empty, as Azure answers for a subscription without any (`az keyvault list` and
`az keyvault list-deleted` ask for vaults and Managed HSMs alike).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from vaultspec.twin.http.arm_paths import arm_path_exists
from vaultspec.twin.http.auth import arm_principal
from vaultspec.twin.http.responses import ARM_ERRORS, json_response
from vaultspec.twin.http.schemas import ManagedHsmListResult, doc

router = APIRouter(
    tags=["arm-keyvault"], responses=ARM_ERRORS, dependencies=[Depends(arm_principal), Depends(arm_path_exists)]
)
SUB = "/subscriptions/{subscriptionId}"
_EMPTY = {200: doc(ManagedHsmListResult)}


@router.get(SUB + "/providers/Microsoft.KeyVault/managedHSMs", responses=_EMPTY)
async def list_managed_hsms_by_subscription(subscriptionId: str) -> Response:
    """ARM: Managed HSMs - List By Subscription (none)."""
    return json_response({"value": []})


@router.get(SUB + "/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/managedHSMs", responses=_EMPTY)
async def list_managed_hsms_by_resource_group(subscriptionId: str, resourceGroupName: str) -> Response:
    """ARM: Managed HSMs - List By Resource Group (none)."""
    return json_response({"value": []})


@router.get(SUB + "/providers/Microsoft.KeyVault/deletedManagedHSMs", responses=_EMPTY)
async def list_deleted_managed_hsms(subscriptionId: str) -> Response:
    """ARM: Managed HSMs - List Deleted (none)."""
    return json_response({"value": []})
