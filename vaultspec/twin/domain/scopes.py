"""ARM paths resolved as ARM resolves them: subscription, then resource group, then resource.

Every ARM route names a subscription and usually a resource group and a resource; a request reaches a
resource only when each exists exactly as named (compared case-insensitively, as ARM compares them).
Otherwise ARM answers, in this order:

- `404 SubscriptionNotFound` "The subscription 'S' could not be found." (a twin has one subscription;
  a subscription id that is not a GUID: `400 InvalidSubscriptionId`);
- `404 ResourceGroupNotFound` "Resource group 'G' could not be found.";
- `404 ResourceNotFound` "The Resource 'Microsoft.KeyVault/vaults/V' under resource group 'G' was not
  found. ..." (the message ARM gives for a role assignment whose scope names a missing resource,
  Azure/azure-cli#15243).

Resource groups exist once created (`PUT /subscriptions/S/resourceGroups/G`) or once a vault is created in
them: the twin creates the group a vault names (Azure would answer ResourceGroupNotFound; a deployment
would have created the group first). `{scope}` paths of extension resources (role assignments, locks,
diagnostic settings) must be resource ids: `/subscriptions/S`, `.../resourceGroups/G`, or a resource
below `/providers/`, in type/name pairs and without `.` or `..` segments (else `400 InvalidScope`); the
top-level resource must exist (nested ones such as `vaults/V/keys/K` are not looked up, as ARM checks
only the top-level resource of a scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vaultspec.twin.domain.vaults import VAULT_TYPE, is_guid
from vaultspec.twin.errors import ArmError
from vaultspec.twin.store import Store, VaultRow

RESOURCE_GROUP = "Microsoft.Resources/resourceGroups"
NOT_FOUND_HELP = "For more details please go to https://aka.ms/ARMResourceNotFoundFix"


def subscription_not_found(subscription: str) -> ArmError:
    return ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")


def resource_group_not_found(group: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")


def resource_not_found(resource_type: str, name: str, group: str | None) -> ArmError:
    where = f" under resource group '{group}'" if group is not None else ""
    return ArmError(
        404, "ResourceNotFound", f"The Resource '{resource_type}/{name}'{where} was not found. {NOT_FOUND_HELP}", name
    )


def invalid_scope(scope: str, why: str) -> ArmError:
    return ArmError(400, "InvalidScope", f"The scope '{scope[:512]}' is not a valid resource id: {why}.", "scope")


def group_id(subscription: str, group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}"


@dataclass(frozen=True)
class ParsedScope:
    """A syntactically valid scope: its subscription, group and provider part (namespace, type, name, ...)."""

    subscription: str
    group: str | None
    provider: tuple[str, ...]  # () for a subscription or group scope


def parse_scope(scope: str) -> ParsedScope:
    """Check the shape of an ARM resource id (400 InvalidScope), without looking anything up."""
    segments = scope.strip("/").split("/")
    if any(s in ("", ".", "..") for s in segments):
        raise invalid_scope(scope, "empty, '.' and '..' segments are not allowed")
    if len(segments) < 2 or segments[0].lower() != "subscriptions":
        raise invalid_scope(scope, "it must start with /subscriptions/{subscriptionId}")
    subscription, rest = segments[1], segments[2:]
    group = None
    if len(rest) >= 2 and rest[0].lower() == "resourcegroups":
        group, rest = rest[1], rest[2:]
    if rest:
        if rest[0].lower() != "providers" or len(rest) < 4:
            raise invalid_scope(scope, "a resource is /providers/{namespace}/{type}/{name}")
        if len(rest) % 2 != 0:
            raise invalid_scope(scope, "it should have an even number of parts (type/name pairs)")
    return ParsedScope(subscription, group, tuple(rest[1:]))


class ArmScopes:
    """Resolves subscriptions, resource groups and scopes of one twin (one subscription)."""

    def __init__(self, store: Store, subscription_id: str) -> None:
        self.store = store
        self.subscription_id = subscription_id

    # -- subscription and groups ---------------------------------------------------------------
    def check_subscription(self, subscription: str) -> str:
        """The twin's subscription id when `subscription` names it (any case), else 400/404."""
        if not is_guid(subscription):
            raise ArmError(
                400,
                "InvalidSubscriptionId",
                f"The provided subscription identifier '{subscription[:64]}' is malformed or invalid.",
            )
        if subscription.lower() != self.subscription_id.lower():
            raise subscription_not_found(subscription)
        return self.subscription_id

    def _group_records(self) -> list[dict[str, Any]]:
        return [body for _, body in self.store.list_records(RESOURCE_GROUP)]

    def group_name(self, group: str) -> str | None:
        """The group's name as created, if it exists (recorded, or holding an active vault)."""
        wanted = group.lower()
        for body in self._group_records():
            if str(body.get("name", "")).lower() == wanted:
                return str(body["name"])
        for row in self.store.list_vaults():
            if row.deleted_at is None and row.body["resourceGroup"].lower() == wanted:
                return str(row.body["resourceGroup"])
        return None

    def check_group(self, subscription: str, group: str) -> str:
        """The group's canonical name (404 SubscriptionNotFound / ResourceGroupNotFound otherwise)."""
        self.check_subscription(subscription)
        name = self.group_name(group)
        if name is None:
            raise resource_group_not_found(group)
        return name

    def put_group(self, group: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Record a resource group (created, or updated under the name it was created with)."""
        existing = self.group_name(group)
        name = existing or group
        record = {
            "id": group_id(self.subscription_id, name),
            "name": name,
            "type": RESOURCE_GROUP,
            "location": body.get("location") or "local",
            "tags": body.get("tags") or {},
            "properties": {"provisioningState": "Succeeded"},
        }
        recorded = self.get_group(name)
        if recorded is not None and not body.get("location"):
            record["location"] = recorded["location"]
        self.store.put_record(record["id"], RESOURCE_GROUP, f"/subscriptions/{self.subscription_id}", record)
        return record, existing is None

    def get_group(self, group: str) -> dict[str, Any] | None:
        wanted = group.lower()
        return next((b for b in self._group_records() if str(b.get("name", "")).lower() == wanted), None)

    def ensure_group(self, group: str, location: str) -> None:
        """A vault PUT names `group`: record it if it does not exist yet (the twin's implicit groups)."""
        if self.group_name(group) is None:
            self.put_group(group, {"location": location})

    def forget_group(self, group: str) -> None:
        record = self.get_group(group)
        if record is not None:
            self.store.delete_record(record["id"])

    # -- vaults and scopes ---------------------------------------------------------------------
    def vault(self, subscription: str, group: str, name: str) -> VaultRow:
        """The active vault `name` in exactly this subscription and group (404 in ARM's order otherwise)."""
        canonical_group = self.check_group(subscription, group)
        row = self.store.get_vault(name.lower())
        if row is None or row.deleted_at is not None or row.body["resourceGroup"].lower() != group.lower():
            raise resource_not_found(VAULT_TYPE, name, canonical_group)
        if row.body["subscription"].lower() != subscription.lower():
            raise resource_not_found(VAULT_TYPE, name, canonical_group)
        return row

    def resolve(self, scope: str) -> str:
        """The canonical form of an existing scope (names as created), or the ARM error saying why not."""
        parsed = parse_scope(scope)
        subscription = self.check_subscription(parsed.subscription)
        base = f"/subscriptions/{subscription}"
        if parsed.group is None:
            if parsed.provider:  # subscription-level resources: the twin hosts none
                raise resource_not_found(f"{parsed.provider[0]}/{parsed.provider[1]}", parsed.provider[2], None)
            return base
        group = self.check_group(subscription, parsed.group)
        base = group_id(subscription, group)
        if not parsed.provider:
            return base
        namespace, kind, name, *nested = parsed.provider
        if f"{namespace}/{kind}".lower() != VAULT_TYPE.lower():
            raise resource_not_found(f"{namespace}/{kind}", name, group)
        row = self.vault(subscription, group, name)
        return "/".join([base, "providers", VAULT_TYPE, row.name, *nested])
