"""Vaults as ARM resources (`Microsoft.KeyVault/vaults`): validation, lifecycle, deleted vaults.

Validation follows Azure: names `^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$` without `--` (and global:
one name, one vault, even in another resource group, even while soft-deleted); `tenantId` a GUID;
`sku` `{family: A, name: standard|premium}`; `softDeleteRetentionInDays` 7-90 and fixed once set;
soft delete cannot be disabled; purge protection cannot be turned off once on; `createMode: recover`
restores a soft-deleted vault with its keys and secrets; network ACL and access-policy shapes (GUIDs for
access-policy tenantId, objectId and applicationId: 400 "An invalid value was provided for 'accessPolicies'").
`enableRbacAuthorization` defaults to true from api-version 2026-02-01 on (Microsoft's change of
default) and to false before. Answers are final (`provisioningState: Succeeded`), so ARM pollers
finish at once.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import time
import uuid
from typing import Any

from vaultspec.catalog.permissions import (
    CERTIFICATE_PERMISSIONS,
    KEY_PERMISSIONS,
    SECRET_PERMISSIONS,
    STORAGE_PERMISSIONS,
)
from vaultspec.twin.domain.geographies import location_name
from vaultspec.twin.domain.objects import VaultRef
from vaultspec.twin.errors import ArmError, arm_bad_request
from vaultspec.twin.store import Store, VaultRow

VAULT_TYPE = "Microsoft.KeyVault/vaults"
NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
# Permission names ARM accepts in an access policy entry, compared case-insensitively.
_PERMISSIONS = {
    "keys": {p.lower() for p in KEY_PERMISSIONS},
    "secrets": {p.lower() for p in SECRET_PERMISSIONS},
    "certificates": {p.lower() for p in CERTIFICATE_PERMISSIONS},
    "storage": {p.lower() for p in STORAGE_PERMISSIONS},
}
RBAC_DEFAULT_FROM = "2026-02-01"
_POLICY_IDENTITY = ("tenantId", "objectId", "applicationId")  # what makes two access policy entries the same


def vault_id(subscription: str, resource_group: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{VAULT_TYPE}/{name}"


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat().replace("+00:00", "Z")


def is_guid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def check_vault_name(name: str) -> None:
    if not NAME_RE.fullmatch(name) or "--" in name:
        raise ArmError(
            400,
            "VaultNameNotValid",
            f"The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric "
            "characters. The name must begin with a letter, end with a letter or digit, and not contain "
            "consecutive hyphens.",
            name,
        )


def validate_access_policies(policies: Any, field: str = "properties.accessPolicies") -> list[dict[str, Any]]:
    if policies is None:
        return []
    if not isinstance(policies, list):
        raise arm_bad_request(f"{field} must be a list", field)
    if len(policies) > 1024:
        raise arm_bad_request("A vault can have at most 1024 access policies", field)
    out = []
    for index, policy in enumerate(policies):
        where = f"{field}[{index}]"
        if not isinstance(policy, dict):
            raise arm_bad_request(f"{where} must be an object", where)
        for identity in ("tenantId", "objectId", "applicationId"):
            value = policy.get(identity)
            if (identity != "applicationId" or value) and not is_guid(value):
                # Key Vault's answer to an objectId that is no GUID (Azure/azure-cli#18430), naming the field
                raise arm_bad_request(
                    f"An invalid value was provided for 'accessPolicies': {where}.{identity} must be a GUID.",
                    f"{where}.{identity}",
                )
        permissions = policy.get("permissions")
        if not isinstance(permissions, dict):
            raise arm_bad_request(f"{where}.permissions is required", f"{where}.permissions")
        clean: dict[str, list[str]] = {}
        for kind, values in permissions.items():
            if kind not in _PERMISSIONS:
                raise arm_bad_request(f"{where}.permissions.{kind} is not a permission kind", f"{where}.permissions")
            if not isinstance(values, list):
                raise arm_bad_request(f"{where}.permissions.{kind} must be a list", f"{where}.permissions.{kind}")
            for value in values:
                if str(value).lower() not in _PERMISSIONS[kind]:
                    raise arm_bad_request(
                        f"{where}.permissions.{kind} contains an invalid value '{value}'",
                        f"{where}.permissions.{kind}",
                    )
            clean[kind] = [str(v) for v in values]
        entry = {"tenantId": policy["tenantId"], "objectId": policy["objectId"], "permissions": clean}
        if policy.get("applicationId"):
            entry["applicationId"] = policy["applicationId"]
        out.append(entry)
    return out


def _validate_network_acls(acls: Any) -> dict[str, Any] | None:
    field = "properties.networkAcls"
    if acls is None:
        return None
    if not isinstance(acls, dict):
        raise arm_bad_request(f"{field} must be an object", field)
    default = str(acls.get("defaultAction", "Allow"))
    if default.lower() not in ("allow", "deny"):
        raise arm_bad_request(f"{field}.defaultAction must be Allow or Deny", f"{field}.defaultAction")
    bypass = str(acls.get("bypass", "AzureServices"))
    if bypass.lower() not in ("azureservices", "none"):
        raise arm_bad_request(f"{field}.bypass must be AzureServices or None", f"{field}.bypass")
    for rule_list in ("ipRules", "virtualNetworkRules"):
        if not isinstance(acls.get(rule_list) or [], list):
            raise arm_bad_request(f"{field}.{rule_list} must be a list", f"{field}.{rule_list}")
    rules = []
    for index, rule in enumerate(acls.get("ipRules") or []):
        value = rule.get("value") if isinstance(rule, dict) else None
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError as exc:
            raise arm_bad_request(
                f"{field}.ipRules[{index}].value '{value}' is not an IPv4 address or CIDR range",
                f"{field}.ipRules[{index}].value",
            ) from exc
        rules.append({"value": str(value)})
    vnets = []
    for index, rule in enumerate(acls.get("virtualNetworkRules") or []):
        if not isinstance(rule, dict) or not isinstance(rule.get("id"), str) or "/subnets/" not in rule["id"].lower():
            raise arm_bad_request(
                f"{field}.virtualNetworkRules[{index}].id must be a subnet resource id",
                f"{field}.virtualNetworkRules[{index}].id",
            )
        vnets.append(
            {
                "id": rule["id"],
                "ignoreMissingVnetServiceEndpoint": bool(rule.get("ignoreMissingVnetServiceEndpoint")),
            }
        )
    return {
        "bypass": "AzureServices" if bypass.lower() == "azureservices" else "None",
        "defaultAction": "Deny" if default.lower() == "deny" else "Allow",
        "ipRules": rules,
        "virtualNetworkRules": vnets,
    }


class VaultService:
    """ARM lifecycle of vaults, and the vault view the data plane uses."""

    def __init__(self, store: Store, port: int, subscription_id: str) -> None:
        self.store = store
        self.port = port
        self.subscription_id = subscription_id

    def url(self, name: str) -> str:
        return f"https://{name.lower()}.vault.localhost:{self.port}"

    # -- data plane view -----------------------------------------------------------------------
    def active(self, name: str) -> VaultRow | None:
        """The vault unless missing or soft-deleted (cached until the next commit; do not mutate it)."""
        return self.store.cached(("active-vault", name.lower()), lambda: self._active(name))

    def _active(self, name: str) -> VaultRow | None:
        row = self.store.get_vault(name.lower())
        return row if row is not None and row.deleted_at is None else None

    def ref(self, row: VaultRow) -> VaultRef:
        props = row.body["properties"]
        return VaultRef(
            name=row.name,
            url=self.url(row.name),
            retention_days=int(props.get("softDeleteRetentionInDays") or 90),
            purge_protection=bool(props.get("enablePurgeProtection")),
            premium=str(props.get("sku", {}).get("name", "")).lower() == "premium",
            subscription=str(row.body["subscription"]),
            location=str(row.body["location"]),
        )

    # -- ARM shapes -----------------------------------------------------------------------------
    def arm_body(self, row: VaultRow) -> dict[str, Any]:
        body = row.body
        props = dict(body["properties"])
        props["vaultUri"] = self.url(row.name) + "/"
        props["provisioningState"] = "Succeeded"
        props.setdefault("enableSoftDelete", True)
        props.setdefault("publicNetworkAccess", "Enabled")
        return {
            "id": vault_id(body["subscription"], body["resourceGroup"], row.name),
            "name": row.name,
            "type": VAULT_TYPE,
            "location": body["location"],
            "tags": body.get("tags") or {},
            "systemData": {"createdAt": _iso(row.created), "createdByType": "Application"},
            "properties": props,
        }

    def deleted_body(self, row: VaultRow) -> dict[str, Any]:
        body = row.body
        location = body["location"]
        return {
            "id": (
                f"/subscriptions/{body['subscription']}/providers/Microsoft.KeyVault/locations/{location}"
                f"/deletedVaults/{row.name}"
            ),
            "name": row.name,
            "type": "Microsoft.KeyVault/deletedVaults",
            "properties": {
                "vaultId": vault_id(body["subscription"], body["resourceGroup"], row.name),
                "location": location,
                "deletionDate": _iso(row.deleted_at or 0),
                "scheduledPurgeDate": _iso(row.purge_at or 0),
                "tags": body.get("tags") or {},
                "purgeProtectionEnabled": bool(body["properties"].get("enablePurgeProtection")),
            },
        }

    # -- validation -----------------------------------------------------------------------------
    def _validate_properties(
        self, props: dict[str, Any], current: dict[str, Any] | None, api_version: str, merge: bool = False
    ) -> dict[str, Any]:
        out = dict(current or {}) if merge else {}
        if current is not None and not merge:  # PUT replaces, but fixed settings carry over when omitted
            for fixed in ("softDeleteRetentionInDays", "enablePurgeProtection", "enableRbacAuthorization"):
                if fixed in current:
                    out[fixed] = current[fixed]
        out.update({k: v for k, v in props.items() if k not in ("vaultUri", "provisioningState", "hsmPoolResourceId")})
        if not is_guid(out.get("tenantId")):
            raise arm_bad_request("properties.tenantId must be a GUID", "properties.tenantId")
        sku = out.get("sku")
        if (
            not isinstance(sku, dict)
            or str(sku.get("name", "")).lower() not in ("standard", "premium")
            or str(sku.get("family", "A")).upper() != "A"
        ):
            raise arm_bad_request("properties.sku must be {family: A, name: standard|premium}", "properties.sku")
        out["sku"] = {"family": "A", "name": str(sku["name"]).lower()}
        if out.get("enableSoftDelete") is False:
            raise arm_bad_request(
                "Soft delete is always enabled and cannot be disabled.", "properties.enableSoftDelete"
            )
        out["enableSoftDelete"] = True
        days = out.get("softDeleteRetentionInDays", 90)
        if isinstance(days, bool) or not isinstance(days, int) or not 7 <= days <= 90:
            raise arm_bad_request(
                "properties.softDeleteRetentionInDays must be an integer from 7 to 90",
                "properties.softDeleteRetentionInDays",
            )
        if current is not None and days != current.get("softDeleteRetentionInDays", 90):
            raise arm_bad_request(
                "The soft delete retention period cannot be changed once the vault is created.",
                "properties.softDeleteRetentionInDays",
            )
        out["softDeleteRetentionInDays"] = days
        if (
            current is not None
            and current.get("enablePurgeProtection")
            and out.get("enablePurgeProtection") is not True
        ):
            raise arm_bad_request(
                'The property "enablePurgeProtection" cannot be set to false. Enabling purge protection '
                "for a vault is an irreversible action.",
                "properties.enablePurgeProtection",
            )
        if out.get("enablePurgeProtection") is not True:
            out.pop("enablePurgeProtection", None)
        if "enableRbacAuthorization" not in out or out["enableRbacAuthorization"] is None:
            out["enableRbacAuthorization"] = api_version >= RBAC_DEFAULT_FROM
        if not isinstance(out["enableRbacAuthorization"], bool):
            raise arm_bad_request("properties.enableRbacAuthorization must be a boolean")
        out["accessPolicies"] = validate_access_policies(out.get("accessPolicies"))
        acls = _validate_network_acls(out.get("networkAcls"))
        if acls is None:
            out.pop("networkAcls", None)
        else:
            out["networkAcls"] = acls
        access = str(out.get("publicNetworkAccess", "Enabled"))
        if access.lower() not in ("enabled", "disabled", "securedbyperimeter"):
            raise arm_bad_request("properties.publicNetworkAccess must be Enabled or Disabled")
        out["publicNetworkAccess"] = (
            access.capitalize() if access.lower() != "securedbyperimeter" else "SecuredByPerimeter"
        )
        for flag in ("enabledForDeployment", "enabledForDiskEncryption", "enabledForTemplateDeployment"):
            if flag in out and not isinstance(out[flag], bool):
                raise arm_bad_request(f"properties.{flag} must be a boolean", f"properties.{flag}")
        out.pop("createMode", None)
        return out

    @staticmethod
    def _tags(tags: Any) -> dict[str, str]:
        if tags is None:
            return {}
        if not isinstance(tags, dict) or len(tags) > 50:
            raise arm_bad_request("tags must be an object with at most 50 entries", "tags")
        for key, value in tags.items():
            if not isinstance(value, str) or len(key) > 512 or len(value) > 256:
                raise arm_bad_request(f"tag '{key[:64]}' must have a string value of at most 256 characters", "tags")
        return tags

    # -- verbs ----------------------------------------------------------------------------------
    def create_or_update(
        self,
        resource_group: str,
        name: str,
        body: dict[str, Any],
        api_version: str,
        subscription: str | None = None,
    ) -> tuple[VaultRow, bool]:
        """PUT .../vaults/{name}: create, update, or recover (`createMode: recover`)."""
        check_vault_name(name)
        subscription = subscription or self.subscription_id
        if not isinstance(body, dict):
            raise arm_bad_request("The request body must be a JSON object")
        props = body.get("properties")
        if not isinstance(props, dict):
            raise arm_bad_request("properties is required", "properties")
        location = body.get("location")
        existing = self.store.get_vault(name.lower())
        create_mode = str(props.get("createMode") or "default").lower()
        if create_mode not in ("default", "recover"):
            raise arm_bad_request("properties.createMode must be default or recover", "properties.createMode")
        if existing is not None and (
            existing.body["resourceGroup"].lower() != resource_group.lower()
            or existing.body["subscription"].lower() != subscription.lower()
        ):
            state = " in deleted state" if existing.deleted_at is not None else ""
            raise ArmError(409, "VaultAlreadyExists", f"The vault name '{name}' is already in use{state}.", name)
        if existing is not None and existing.deleted_at is not None:
            if create_mode != "recover":
                raise ArmError(
                    409,
                    "ConflictError",
                    "Exist soft deleted vault with the same name. "
                    f"A vault with the name '{name}' already exists "
                    "in deleted state. Recover it with createMode 'recover' or purge it first.",
                    name,
                )
            recovered = VaultRow(existing.name, existing.body, existing.created, None, None)
            self.store.put_vault(recovered)
            return recovered, True
        if create_mode == "recover" and existing is None:
            raise ArmError(404, "DeletedVaultNotFound", f"No soft-deleted vault named '{name}' to recover.", name)
        if not isinstance(location, str) or not location:
            raise arm_bad_request("location is required", "location")
        current = existing.body["properties"] if existing else None
        clean = self._validate_properties(props, current, api_version)
        stored = {
            "subscription": subscription,
            "resourceGroup": existing.body["resourceGroup"] if existing else resource_group,
            "location": existing.body["location"] if existing else location_name(location),
            "tags": self._tags(body.get("tags")),
            "properties": clean,
        }
        row = VaultRow(name.lower(), stored, existing.created if existing else time.time(), None, None)
        self.store.put_vault(row)
        return row, existing is None

    def update(self, row: VaultRow, body: dict[str, Any], api_version: str) -> VaultRow:
        """PATCH .../vaults/{name} of a resolved vault (`ArmScopes.vault`): merge the given properties and tags."""
        if not isinstance(body, dict):
            raise arm_bad_request("The request body must be a JSON object")
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise arm_bad_request("properties must be an object", "properties")
        stored = dict(row.body)
        stored["properties"] = self._validate_properties(props, row.body["properties"], api_version, merge=True)
        if "tags" in body:
            stored["tags"] = self._tags(body["tags"])
        updated = VaultRow(row.name, stored, row.created, None, None)
        self.store.put_vault(updated)
        return updated

    def delete(self, row: VaultRow) -> None:
        """DELETE .../vaults/{name} of a resolved vault: soft delete (name reserved, contents recoverable)."""
        days = int(row.body["properties"].get("softDeleteRetentionInDays") or 90)
        stamp = time.time()
        self.store.put_vault(VaultRow(row.name, row.body, row.created, stamp, stamp + days * 86400))

    def list(self, resource_group: str | None = None) -> list[VaultRow]:
        rows = [r for r in self.store.list_vaults() if r.deleted_at is None]
        if resource_group is not None:
            rows = [r for r in rows if r.body["resourceGroup"].lower() == resource_group.lower()]
        return rows

    def update_access_policy(self, row: VaultRow, kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """PUT .../vaults/{name}/accessPolicies/{add|replace|remove} of a resolved vault."""
        kind = kind.lower()
        if kind not in ("add", "replace", "remove"):
            raise arm_bad_request("operationKind must be add, replace or remove", "operationKind")
        incoming = validate_access_policies((body.get("properties") or {}).get("accessPolicies"))
        policies = [dict(p) for p in row.body["properties"].get("accessPolicies") or []]

        def same(a: dict[str, Any], b: dict[str, Any]) -> bool:  # one entry per (tenant, object, application)
            return all(str(a.get(k) or "").lower() == str(b.get(k) or "").lower() for k in _POLICY_IDENTITY)

        for policy in incoming:
            match = next((p for p in policies if same(p, policy)), None)
            if kind == "replace":
                policies = [p for p in policies if not same(p, policy)] + [policy]
            elif kind == "add":
                if match is None:
                    policies.append(policy)
                else:
                    for perm_kind, values in policy["permissions"].items():
                        have = match["permissions"].setdefault(perm_kind, [])
                        have.extend(v for v in values if v.lower() not in {h.lower() for h in have})
            elif match is not None:
                for perm_kind, values in policy["permissions"].items():
                    drop = {v.lower() for v in values}
                    match["permissions"][perm_kind] = [
                        v for v in match["permissions"].get(perm_kind, []) if v.lower() not in drop
                    ]
                if not any(match["permissions"].values()):
                    policies = [p for p in policies if not same(p, match)]
        stored = dict(row.body)
        stored["properties"] = {**row.body["properties"], "accessPolicies": policies}
        self.store.put_vault(VaultRow(row.name, stored, row.created, None, None))
        return policies

    # -- deleted vaults --------------------------------------------------------------------------
    def _expire(self) -> None:
        for row in self.store.list_vaults():
            if row.deleted_at is not None and row.purge_at is not None and row.purge_at <= time.time():
                self.store.purge_vault(row.name)

    def list_deleted(self) -> list[VaultRow]:
        self._expire()
        return [r for r in self.store.list_vaults() if r.deleted_at is not None]

    def get_deleted(self, subscription: str, name: str, location: str) -> VaultRow:
        self._expire()
        row = self.store.get_vault(name.lower())
        if (
            row is None
            or row.deleted_at is None
            or row.body["subscription"].lower() != subscription.lower()
            or row.body["location"].lower() != location_name(location)
        ):
            raise ArmError(404, "ResourceNotFound", f"The deleted vault '{name}' was not found in '{location}'.", name)
        return row

    def purge_deleted(self, subscription: str, name: str, location: str) -> None:
        row = self.get_deleted(subscription, name, location)
        if row.body["properties"].get("enablePurgeProtection"):
            raise ArmError(
                409,
                "ConflictError",
                f"Vault '{name}' has purge protection enabled and cannot be purged before its scheduled purge date.",
                name,
            )
        self.store.purge_vault(row.name)

    def check_name_availability(self, body: dict[str, Any]) -> dict[str, Any]:
        name = str((body or {}).get("name") or "")
        kind = str((body or {}).get("type") or "")
        if kind.lower() != VAULT_TYPE.lower():
            raise arm_bad_request(f"type must be {VAULT_TYPE}", "type")
        try:
            check_vault_name(name)
        except ArmError as exc:
            return {"nameAvailable": False, "reason": "AccountNameInvalid", "message": exc.message}
        row = self.store.get_vault(name.lower())
        if row is not None:
            return {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"The vault name '{name}' is already in use."
                + (" It is in a soft-deleted state." if row.deleted_at is not None else ""),
            }
        return {"nameAvailable": True}
