"""ARM routes for records at any scope: role assignments (api-version 2022-04-01 and others), built-in
role definitions, management locks (2020-05-01), diagnostic settings (2021-05-01-preview), and
resource groups (implicit: a vault may name any group; PUT/GET/DELETE are recorded for tools that
manage groups explicitly).

`{scope}` is an ARM resource id that exists: a subscription, a resource group, a vault, or
`.../vaults/{v}/keys/{k}` / `.../vaults/{v}/secrets/{s}` (`vaultspec.twin.domain.scopes`; the router's
`arm_path_exists` resolves it, and records are kept under the scope's canonical form, names as created).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from vaultspec.twin.domain.records import DIAGNOSTIC_SETTING, LOCK, ROLE_ASSIGNMENT
from vaultspec.twin.domain.roles import BUILT_IN_ROLES, ROLES_BY_GUID, arm_body
from vaultspec.twin.domain.vaults import vault_id
from vaultspec.twin.errors import ArmError
from vaultspec.twin.http.arm_paths import arm_path_exists, creates_group
from vaultspec.twin.http.auth import arm_principal, backend_of
from vaultspec.twin.http.json_body import StrictJsonRoute
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

router = APIRouter(
    tags=["arm-records"],
    responses=ARM_ERRORS,
    dependencies=[Depends(arm_principal), Depends(arm_path_exists)],
    route_class=StrictJsonRoute,
)
ASSIGNMENTS = "/{scope:path}/providers/Microsoft.Authorization/roleAssignments"
DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions"
LOCKS = "/{scope:path}/providers/Microsoft.Authorization/locks"
DIAGNOSTICS = "/{scope:path}/providers/Microsoft.Insights/diagnosticSettings"
RESOURCE_GROUP = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
_PRINCIPAL_FILTER = re.compile(r"principalId\s+eq\s+'([^']+)'", re.IGNORECASE)


def _scope(request: Request) -> str:
    """The route's `{scope}`, resolved by the router's `arm_path_exists` (names as created)."""
    return str(request.state.arm_scope)


def _not_found(kind: str, name: str) -> ArmError:
    return ArmError(404, f"{kind}NotFound", f"The {kind} '{name}' was not found.", name)


def _record_or_404(request: Request, record_type: str, name: str, kind: str) -> dict[str, Any]:
    records = backend_of(request).records
    record = records.get(records.record_id(_scope(request), record_type, name))
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
    record, created = backend_of(request).records.create_role_assignment(
        _scope(request), roleAssignmentName, body.dump()
    )
    return json_response(record, 201 if created else 200)


@router.get(ASSIGNMENTS + "/{roleAssignmentName}", responses={200: doc(RoleAssignment)})
async def get_role_assignment(scope: str, roleAssignmentName: str, request: Request) -> Response:
    """ARM: Role Assignments - Get."""
    return json_response(_record_or_404(request, ROLE_ASSIGNMENT, roleAssignmentName, "RoleAssignment"))


@router.delete(
    ASSIGNMENTS + "/{roleAssignmentName}",
    responses={200: doc(RoleAssignment), 204: doc(None, "Did not exist")},
)
async def delete_role_assignment(scope: str, roleAssignmentName: str, request: Request) -> Response:
    """ARM: Role Assignments - Delete."""
    backend = backend_of(request)
    record_id = backend.records.record_id(_scope(request), ROLE_ASSIGNMENT, roleAssignmentName)
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
        _scope(request), match.group(1) if match else None, at_scope="atscope()" in (filter or "").lower()
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
async def get_scoped_role_definition(scope: str, roleDefinitionId: str, request: Request) -> Response:
    """ARM: Role Definitions - Get (at a scope)."""
    return _definition(roleDefinitionId, _scope(request))


@router.get("/{scope:path}" + DEFINITIONS, responses={200: doc(RoleDefinitionListResult)})
async def list_scoped_role_definitions(scope: str, request: Request) -> Response:
    """ARM: Role Definitions - List (at a scope)."""
    return _definitions(request, _scope(request))


# -- locks ------------------------------------------------------------------------------------------------
@router.put(
    LOCKS + "/{lockName}",
    responses={200: doc(ManagementLock), 201: doc(ManagementLock)},
)
async def create_lock(scope: str, lockName: str, body: ArmResource, request: Request) -> Response:
    """ARM: Management Locks - Create Or Update By Scope."""
    record, created = backend_of(request).records.put_lock(_scope(request), lockName, body.dump())
    return json_response(record, 201 if created else 200)


@router.get(LOCKS + "/{lockName}", responses={200: doc(ManagementLock)})
async def get_lock(scope: str, lockName: str, request: Request) -> Response:
    """ARM: Management Locks - Get By Scope."""
    return json_response(_record_or_404(request, LOCK, lockName, "Lock"))


@router.delete(
    LOCKS + "/{lockName}",
    response_class=Response,
    responses={200: doc(None, "Deleted"), 204: doc(None, "Did not exist")},
)
async def delete_lock(scope: str, lockName: str, request: Request) -> Response:
    """ARM: Management Locks - Delete By Scope."""
    backend = backend_of(request)
    deleted = backend.records.delete(backend.records.record_id(_scope(request), LOCK, lockName))
    return Response(status_code=200 if deleted else 204)


@router.get(LOCKS, responses={200: doc(ManagementLockListResult)})
async def list_locks(scope: str, request: Request) -> Response:
    """ARM: Management Locks - List By Scope."""
    return json_response({"value": backend_of(request).records.list(LOCK, _scope(request))})


# -- diagnostic settings -------------------------------------------------------------------------------------
@router.put(DIAGNOSTICS + "/{name}", responses={200: doc(DiagnosticSetting, "DiagnosticSettingsResource")})
async def create_diagnostic_setting(scope: str, name: str, body: ArmResource, request: Request) -> Response:
    """ARM: Diagnostic Settings - Create Or Update (recorded; the twin has no Log Analytics)."""
    record, _ = backend_of(request).records.put_diagnostic_setting(_scope(request), name, body.dump())
    return json_response(record)


@router.get(DIAGNOSTICS + "/{name}", responses={200: doc(DiagnosticSetting, "DiagnosticSettingsResource")})
async def get_diagnostic_setting(scope: str, name: str, request: Request) -> Response:
    """ARM: Diagnostic Settings - Get."""
    return json_response(_record_or_404(request, DIAGNOSTIC_SETTING, name, "DiagnosticSetting"))


@router.delete(
    DIAGNOSTICS + "/{name}",
    response_class=Response,
    responses={200: doc(None, "Deleted"), 204: doc(None, "Did not exist")},
)
async def delete_diagnostic_setting(scope: str, name: str, request: Request) -> Response:
    """ARM: Diagnostic Settings - Delete."""
    backend = backend_of(request)
    deleted = backend.records.delete(backend.records.record_id(_scope(request), DIAGNOSTIC_SETTING, name))
    return Response(status_code=200 if deleted else 204)


@router.get(DIAGNOSTICS, responses={200: doc(DiagnosticSettingList, "DiagnosticSettingsResourceCollection")})
async def list_diagnostic_settings(scope: str, request: Request) -> Response:
    """ARM: Diagnostic Settings - List."""
    return json_response({"value": backend_of(request).records.list(DIAGNOSTIC_SETTING, _scope(request))})


# -- resource groups ----------------------------------------------------------------------------------------
@router.put(RESOURCE_GROUP, responses={200: doc(ResourceGroup), 201: doc(ResourceGroup)})
@creates_group
async def create_resource_group(
    subscriptionId: str, resourceGroupName: str, body: ArmResource, request: Request
) -> Response:
    """ARM: Resource Groups - Create Or Update."""
    record, created = backend_of(request).scopes.put_group(resourceGroupName, body.dump())
    return json_response(record, 201 if created else 200)


@router.get(RESOURCE_GROUP, responses={200: doc(ResourceGroup)})
async def get_resource_group(subscriptionId: str, resourceGroupName: str, request: Request) -> Response:
    """ARM: Resource Groups - Get (404 ResourceGroupNotFound, from the router, when it does not exist)."""
    scopes = backend_of(request).scopes
    record = scopes.get_group(resourceGroupName)
    if record is None:  # a group that holds vaults but was never recorded (data dirs from older twins)
        record, _ = scopes.put_group(resourceGroupName, {})
    return json_response(record)


@router.delete(RESOURCE_GROUP, response_class=Response, responses={200: doc(None, "Deleted")})
async def delete_resource_group(subscriptionId: str, resourceGroupName: str, request: Request) -> Response:
    """ARM: Resource Groups - Delete: its vaults are deleted (soft delete) with it; a lock on the group or on
    any of its vaults refuses the whole deletion (409 ScopeLocked)."""
    backend = backend_of(request)
    vaults = backend.vaults.list(resourceGroupName)
    backend.records.assert_unlocked(
        f"/subscriptions/{backend.ids.subscription_id}/resourceGroups/{resourceGroupName}", write=False
    )
    for row in vaults:
        backend.records.assert_unlocked(
            vault_id(row.body["subscription"], row.body["resourceGroup"], row.name), write=False
        )
    for row in vaults:
        backend.vaults.delete(row)
    backend.scopes.forget_group(resourceGroupName)
    return Response(status_code=200)
