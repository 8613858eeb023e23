"""ARM records that live at any scope: role assignments, management locks, diagnostic settings.

- Role assignments (`Microsoft.Authorization/roleAssignments/{guid}`) feed RBAC decisions in
  `access.py`. Validation as ARM does it: the name is a GUID, the role definition is a known
  built-in role (`/providers/...` or `/subscriptions/{s}/providers/...` form), the principal id is a
  GUID; the same (principal, role, scope) twice under another name is 409 RoleAssignmentExists and
  an existing assignment cannot be changed (400 RoleAssignmentUpdateNotPermitted).
- Locks (`Microsoft.Authorization/locks/{name}`) are enforced as Azure enforces them: a CanNotDelete
  lock at a scope or above blocks DELETE of the resources under it (409 ScopeLocked), ReadOnly also
  blocks PUT/PATCH/POST writes. Locks never affect the data plane.
- Diagnostic settings (`Microsoft.Insights/diagnosticSettings/{name}`) are accepted and recorded
  (the twin has no Log Analytics; its own audit log is the AuditEvent analogue).

Scopes arrive resolved (`vaultspec.twin.domain.scopes`): they exist, in their canonical form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vaultspec.twin.domain.access import Assignment, scope_covers
from vaultspec.twin.domain.roles import ROLES_BY_GUID, role_guid_from_id
from vaultspec.twin.domain.vaults import is_guid
from vaultspec.twin.errors import ArmError, arm_bad_request
from vaultspec.twin.store import Store

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
LOCK = "Microsoft.Authorization/locks"
DIAGNOSTIC_SETTING = "Microsoft.Insights/diagnosticSettings"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def normalise_scope(scope: str) -> str:
    return "/" + scope.strip("/")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


class RecordService:
    """Role assignments, locks and diagnostic settings over the store's `records` table."""

    def __init__(self, store: Store, subscription_id: str, default_object_id: str) -> None:
        self.store = store
        self.subscription_id = subscription_id
        self.default_object_id = default_object_id

    # -- role assignments ------------------------------------------------------------------------
    def assignments(self) -> list[Assignment]:
        return [Assignment.from_arm(body) for _, body in self.store.list_records(ROLE_ASSIGNMENT)]

    def create_role_assignment(self, scope: str, name: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        scope = normalise_scope(scope)
        if not is_guid(name):
            raise arm_bad_request(
                f"The role assignment name '{name}' is not a valid GUID.", name, "InvalidRoleAssignmentId"
            )
        props = (body or {}).get("properties")
        if not isinstance(props, dict):
            raise arm_bad_request("properties is required", "properties")
        role_id = props.get("roleDefinitionId")
        guid = role_guid_from_id(role_id) if isinstance(role_id, str) else ""
        if guid not in ROLES_BY_GUID:
            raise ArmError(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{guid or role_id}' does not exist.",
                "properties.roleDefinitionId",
            )
        principal = props.get("principalId")
        if not is_guid(principal):
            raise arm_bad_request(
                "properties.principalId must be a GUID", "properties.principalId", "InvalidPrincipalId"
            )
        principal_type = props.get("principalType") or "ServicePrincipal"
        if principal_type not in PRINCIPAL_TYPES:
            raise arm_bad_request(
                f"properties.principalType must be one of {', '.join(PRINCIPAL_TYPES)}",
                "properties.principalType",
            )
        record_id = f"{scope.rstrip('/')}/providers/{ROLE_ASSIGNMENT}/{name}".replace("//", "/")
        existing = self.store.get_record(record_id)
        wanted = (principal.lower(), guid, scope.lower())
        if existing is not None:
            have = Assignment.from_arm(existing)
            if (have.principal_id, have.role_guid, have.scope) != wanted:
                raise ArmError(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                    name,
                )
            return existing, False
        for _, other in self.store.list_records(ROLE_ASSIGNMENT):
            a = Assignment.from_arm(other)
            if (a.principal_id, a.role_guid, a.scope) == wanted:
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.", other["id"])
        stamp = _now()
        record = {
            "id": record_id,
            "name": name,
            "type": ROLE_ASSIGNMENT,
            "properties": {
                "roleDefinitionId": (
                    f"/subscriptions/{self.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
                ),
                "principalId": principal,
                "principalType": principal_type,
                "scope": scope,
                "condition": props.get("condition"),
                "conditionVersion": props.get("conditionVersion"),
                "description": props.get("description"),
                "createdOn": stamp,
                "updatedOn": stamp,
                "createdBy": self.default_object_id,
                "updatedBy": self.default_object_id,
            },
        }
        self.store.put_record(record_id, ROLE_ASSIGNMENT, scope, record)
        return record, True

    def list_role_assignments(
        self, scope: str, principal_filter: str | None = None, at_scope: bool = False
    ) -> list[dict[str, Any]]:
        """Assignments that apply at `scope` (at or above it) and, unless `at_scope`, below it."""
        scope = normalise_scope(scope)
        out = []
        for stored_scope, body in self.store.list_records(ROLE_ASSIGNMENT):
            applies = scope_covers(stored_scope, scope) or (not at_scope and scope_covers(scope, stored_scope))
            if not applies:
                continue
            if principal_filter and body["properties"]["principalId"].lower() != principal_filter.lower():
                continue
            out.append(body)
        return out

    # -- generic scoped records (locks, diagnostic settings, role assignments by id) --------------
    def record_id(self, scope: str, record_type: str, name: str) -> str:
        return f"{normalise_scope(scope).rstrip('/')}/providers/{record_type}/{name}"

    def get(self, record_id: str) -> dict[str, Any] | None:
        return self.store.get_record(record_id)

    def delete(self, record_id: str) -> bool:
        return self.store.delete_record(record_id)

    def list(self, record_type: str, scope: str) -> list[dict[str, Any]]:
        scope = normalise_scope(scope)
        return [body for stored, body in self.store.list_records(record_type) if scope_covers(scope, stored)]

    def put_lock(self, scope: str, name: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        props = (body or {}).get("properties")
        if not isinstance(props, dict):
            raise arm_bad_request("properties is required", "properties")
        level = str(props.get("level", ""))
        if level not in ("CanNotDelete", "ReadOnly"):
            raise arm_bad_request(
                "properties.level must be CanNotDelete or ReadOnly", "properties.level", "LockLevelInvalid"
            )
        return self._put(
            scope,
            LOCK,
            name,
            {"level": level, "notes": props.get("notes"), "owners": props.get("owners") or []},
        )

    def put_diagnostic_setting(self, scope: str, name: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        props = (body or {}).get("properties")
        if not isinstance(props, dict):
            raise arm_bad_request("properties is required", "properties")
        destinations = (
            "workspaceId",
            "storageAccountId",
            "eventHubAuthorizationRuleId",
            "marketplacePartnerId",
        )
        if not any(props.get(d) for d in destinations):
            raise arm_bad_request(
                "A diagnostic setting needs at least one destination (workspaceId, storageAccountId, "
                "eventHubAuthorizationRuleId or marketplacePartnerId).",
                "properties",
            )
        for field in ("logs", "metrics"):
            if props.get(field) is not None and not isinstance(props[field], list):
                raise arm_bad_request(f"properties.{field} must be a list", f"properties.{field}")
        return self._put(scope, DIAGNOSTIC_SETTING, name, props)

    def _put(self, scope: str, record_type: str, name: str, props: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        if not name or "/" in name:
            raise arm_bad_request(f"'{name}' is not a valid name", "name")
        record_id = self.record_id(scope, record_type, name)
        created = self.store.get_record(record_id) is None
        record = {"id": record_id, "name": name, "type": record_type, "properties": props}
        self.store.put_record(record_id, record_type, normalise_scope(scope), record)
        return record, created

    # -- lock enforcement --------------------------------------------------------------------------
    def assert_unlocked(self, resource_id: str, write: bool) -> None:
        """Raise 409 ScopeLocked if a lock at or above `resource_id` forbids this change."""
        blocking = []
        for stored_scope, body in self.store.list_records(LOCK):
            level = body["properties"]["level"]
            if scope_covers(stored_scope, resource_id) and (level == "ReadOnly" or not write):
                blocking.append(stored_scope)
        if blocking:
            operation = "write" if write else "delete"
            scopes = ",".join(f"'{s}'" for s in blocking)
            raise ArmError(
                409,
                "ScopeLocked",
                f"The scope '{resource_id}' cannot perform {operation} operation because following "
                "scope(s) are "
                f"locked: {scopes}. Please remove the lock and try again.",
                resource_id,
            )
