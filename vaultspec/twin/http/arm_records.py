"""ARM routes for records at any scope: role assignments (api-version 2022-04-01 and others), built-in
role definitions, management locks (2020-05-01), diagnostic settings (2021-05-01-preview), and
resource groups (implicit: a vault may name any group; PUT/GET/DELETE are recorded for tools that
manage groups explicitly).

`{scope}` is any ARM resource id: a subscription, a resource group, a vault, or
`.../vaults/{v}/keys/{k}` / `.../vaults/{v}/secrets/{s}`.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from vaultspec.twin.domain.records import DIAGNOSTIC_SETTING, LOCK, ROLE_ASSIGNMENT
from vaultspec.twin.domain.roles import BUILT_IN_ROLES, ROLES_BY_GUID, arm_body
from vaultspec.twin.errors import ArmError
from vaultspec.twin.http.auth import arm_principal, backend_of
from vaultspec.twin.http.models import ArmResource
from vaultspec.twin.http.responses import ARM_ERRORS, json_response
from vaultspec.twin.http.schemas import (
    DiagnosticSetting,
    DiagnosticSettingList,
    ManagementLock,
    ManagementLockListResult,
    ResourceGroup,
    RoleAssignment,
    RoleAssignmentListResult,
    RoleDefinition,
    RoleDefinitionListResult,
    doc,
)

router = APIRouter(tags=["arm-records"], responses=ARM_ERRORS, dependencies=[Depends(arm_principal)])
ASSIGNMENTS = "/{scope:path}/providers/Microsoft.Authorization/roleAssignments"
DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions"
LOCKS = "/{scope:path}/providers/Microsoft.Authorization/locks"
DIAGNOSTICS = "/{scope:path}/providers/Microsoft.Insights/diagnosticSettings"
RESOURCE_GROUP = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
_PRINCIPAL_FILTER = re.compile(r"principalId\s+eq\s+'([^']+)'", re.IGNORECASE)


def _scope(scope: str) -> str:
    return "/" + scope.strip("/")


def _not_found(kind: str, name: str) -> ArmError:
    return ArmError(404, f"{kind}NotFound", f"The {kind} '{name}' was not found.", name)


def _record_or_404(request: Request, scope: str, record_type: str, name: str, kind: str) -> dict[str, Any]:
    records = backend_of(request).records
    record = records.get(records.record_id(_scope(scope), record_type, name))
    if record is None:
        raise _not_found(kind, name)
    return record


# -- role assignments --------------------------------------------------------------------------------
@router.put(
    ASSIGNMENTS + "/{roleAssignmentName}",
    responses={201: doc(RoleAssignment), 200: doc(RoleAssignment)},
)
async def create_role_assignment(scope: str, roleAssignmentName: str, body: ArmResource, request: Request) -> Response:
    """ARM: Role Assignments - Create (PUT {scope}/providers/.../roleAssignments/{name})."""
    record, created = backend_of(request).records.create_role_assignment(_scope(scope), roleAssignmentName, body.dump())
    return json_response(record, 201 if created else 200)


@router.get(ASSIGNMENTS + "/{roleAssignmentName}", responses={200: doc(RoleAssignment)})
async def get_role_assignment(scope: str, roleAssignmentName: str, request: Request) -> Response:
    """ARM: Role Assignments - Get."""
    return json_response(_record_or_404(request, scope, ROLE_ASSIGNMENT, roleAssignmentName, "RoleAssignment"))


@router.delete(
    ASSIGNMENTS + "/{roleAssignmentName}",
    responses={200: doc(RoleAssignment), 204: doc(None, "Did not exist")},
)
async def delete_role_assignment(scope: str, roleAssignmentName: str, request: Request) -> Response:
    """ARM: Role Assignments - Delete."""
    backend = backend_of(request)
    record_id = backend.records.record_id(_scope(scope), ROLE_ASSIGNMENT, roleAssignmentName)
    record = backend.records.get(record_id)
    if record is None:
        return Response(status_code=204)
    backend.records.delete(record_id)
    return json_response(record)


@router.get(ASSIGNMENTS, responses={200: doc(RoleAssignmentListResult)})
async def list_role_assignments(
    scope: str, request: Request, filter: str | None = Query(None, alias="$filter")
) -> Response:
    """ARM: Role Assignments - List For Scope (`$filter=atScope()` / `principalId eq '...'`)."""
    match = _PRINCIPAL_FILTER.search(filter or "")
    records = backend_of(request).records.list_role_assignments(
        _scope(scope), match.group(1) if match else None, at_scope="atscope()" in (filter or "").lower()
    )
    return json_response({"value": records})


# -- role definitions (built-in only) -----------------------------------------------------------------
def _definition(guid: str, scope: str = "") -> Response:
    role = ROLES_BY_GUID.get(guid.lower())
    if role is None:
        raise ArmError(404, "RoleDefinitionDoesNotExist", f"The role definition '{guid}' does not exist.", guid)
    return json_response(arm_body(role, scope))


def _definitions(request: Request, scope: str = "") -> Response:
    flt = request.query_params.get("$filter") or ""
    match = re.search(r"roleName\s+eq\s+'([^']+)'", flt, re.IGNORECASE)
    roles = [r for r in BUILT_IN_ROLES if not match or r.name.lower() == match.group(1).lower()]
    return json_response({"value": [arm_body(r, scope) for r in roles]})


@router.get(DEFINITIONS + "/{roleDefinitionId}", responses={200: doc(RoleDefinition)})
async def get_role_definition(roleDefinitionId: str) -> Response:
    """ARM: Role Definitions - Get (tenant scope)."""
    return _definition(roleDefinitionId)


@router.get(DEFINITIONS, responses={200: doc(RoleDefinitionListResult)})
async def list_role_definitions(request: Request) -> Response:
    """ARM: Role Definitions - List (tenant scope; `$filter=roleName eq '...'`)."""
    return _definitions(request)


@router.get("/{scope:path}" + DEFINITIONS + "/{roleDefinitionId}", responses={200: doc(RoleDefinition)})
async def get_scoped_role_definition(scope: str, roleDefinitionId: str) -> Response:
    """ARM: Role Definitions - Get (at a scope)."""
    return _definition(roleDefinitionId, _scope(scope))


@router.get("/{scope:path}" + DEFINITIONS, responses={200: doc(RoleDefinitionListResult)})
async def list_scoped_role_definitions(scope: str, request: Request) -> Response:
    """ARM: Role Definitions - List (at a scope)."""
    return _definitions(request, _scope(scope))


# -- locks ------------------------------------------------------------------------------------------------
@router.put(
    LOCKS + "/{lockName}",
    responses={200: doc(ManagementLock), 201: doc(ManagementLock)},
)
async def create_lock(scope: str, lockName: str, body: ArmResource, request: Request) -> Response:
    """ARM: Management Locks - Create Or Update By Scope."""
    record, created = backend_of(request).records.put_lock(_scope(scope), lockName, body.dump())
    return json_response(record, 201 if created else 200)


@router.get(LOCKS + "/{lockName}", responses={200: doc(ManagementLock)})
async def get_lock(scope: str, lockName: str, request: Request) -> Response:
    """ARM: Management Locks - Get By Scope."""
    return json_response(_record_or_404(request, scope, LOCK, lockName, "Lock"))


@router.delete(
    LOCKS + "/{lockName}",
    response_class=Response,
    responses={200: doc(None, "Deleted"), 204: doc(None, "Did not exist")},
)
async def delete_lock(scope: str, lockName: str, request: Request) -> Response:
    """ARM: Management Locks - Delete By Scope."""
    backend = backend_of(request)
    deleted = backend.records.delete(backend.records.record_id(_scope(scope), LOCK, lockName))
    return Response(status_code=200 if deleted else 204)


@router.get(LOCKS, responses={200: doc(ManagementLockListResult)})
async def list_locks(scope: str, request: Request) -> Response:
    """ARM: Management Locks - List By Scope."""
    return json_response({"value": backend_of(request).records.list(LOCK, _scope(scope))})


# -- diagnostic settings -------------------------------------------------------------------------------------
@router.put(DIAGNOSTICS + "/{name}", responses={200: doc(DiagnosticSetting, "DiagnosticSettingsResource")})
async def create_diagnostic_setting(scope: str, name: str, body: ArmResource, request: Request) -> Response:
    """ARM: Diagnostic Settings - Create Or Update (recorded; the twin has no Log Analytics)."""
    record, _ = backend_of(request).records.put_diagnostic_setting(_scope(scope), name, body.dump())
    return json_response(record)


@router.get(DIAGNOSTICS + "/{name}", responses={200: doc(DiagnosticSetting, "DiagnosticSettingsResource")})
async def get_diagnostic_setting(scope: str, name: str, request: Request) -> Response:
    """ARM: Diagnostic Settings - Get."""
    return json_response(_record_or_404(request, scope, DIAGNOSTIC_SETTING, name, "DiagnosticSetting"))


@router.delete(
    DIAGNOSTICS + "/{name}",
    response_class=Response,
    responses={200: doc(None, "Deleted"), 204: doc(None, "Did not exist")},
)
async def delete_diagnostic_setting(scope: str, name: str, request: Request) -> Response:
    """ARM: Diagnostic Settings - Delete."""
    backend = backend_of(request)
    deleted = backend.records.delete(backend.records.record_id(_scope(scope), DIAGNOSTIC_SETTING, name))
    return Response(status_code=200 if deleted else 204)


@router.get(DIAGNOSTICS, responses={200: doc(DiagnosticSettingList, "DiagnosticSettingsResourceCollection")})
async def list_diagnostic_settings(scope: str, request: Request) -> Response:
    """ARM: Diagnostic Settings - List."""
    return json_response({"value": backend_of(request).records.list(DIAGNOSTIC_SETTING, _scope(scope))})


# -- resource groups (implicit) ---------------------------------------------------------------------------
def _group(subscription: str, name: str, body: dict) -> dict:
    return {
        "id": f"/subscriptions/{subscription}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": body.get("location") or "local",
        "tags": body.get("tags") or {},
        "properties": {"provisioningState": "Succeeded"},
    }


@router.put(RESOURCE_GROUP, responses={200: doc(ResourceGroup), 201: doc(ResourceGroup)})
async def create_resource_group(
    subscriptionId: str, resourceGroupName: str, body: ArmResource, request: Request
) -> Response:
    """ARM: Resource Groups - Create Or Update (groups are implicit; this records one)."""
    backend = backend_of(request)
    record = _group(subscriptionId, resourceGroupName, body.dump())
    created = backend.store.get_record(record["id"]) is None
    backend.store.put_record(
        record["id"], "Microsoft.Resources/resourceGroups", f"/subscriptions/{subscriptionId}", record
    )
    return json_response(record, 201 if created else 200)


@router.get(RESOURCE_GROUP, responses={200: doc(ResourceGroup)})
async def get_resource_group(subscriptionId: str, resourceGroupName: str, request: Request) -> Response:
    """ARM: Resource Groups - Get (any name exists implicitly)."""
    record = backend_of(request).store.get_record(f"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}")
    return json_response(record or _group(subscriptionId, resourceGroupName, {}))


@router.delete(RESOURCE_GROUP, response_class=Response, responses={200: doc(None, "Deleted")})
async def delete_resource_group(subscriptionId: str, resourceGroupName: str, request: Request) -> Response:
    """ARM: Resource Groups - Delete (forgets the record; vaults are deleted one by one)."""
    backend = backend_of(request)
    group_id = f"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    backend.records.assert_unlocked(group_id, write=False)
    backend.store.delete_record(group_id)
    return Response(status_code=200)
