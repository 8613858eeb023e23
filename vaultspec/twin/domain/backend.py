"""The twin's backend: one object holding every domain service over one data dir.

moto calls this the backend: pure state and rules, no HTTP. The HTTP layer (`vaultspec.twin.http`)
parses requests, calls these services and shapes answers. Identities (tenant, subscription and the
default identity's object id) are created once per data dir and kept in the store, so tokens,
role assignments and ids stay valid across restarts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from vaultspec.twin.domain.access import OPERATIONS, Assignment, Decision, decide
from vaultspec.twin.domain.audit import AuditLog
from vaultspec.twin.domain.keys import KeyService
from vaultspec.twin.domain.objects import VaultRef, backup_key_from_master
from vaultspec.twin.domain.records import RecordService
from vaultspec.twin.domain.roles import ROLES_BY_NAME
from vaultspec.twin.domain.scopes import ArmScopes
from vaultspec.twin.domain.secrets import SecretService
from vaultspec.twin.domain.vaults import VaultService, vault_id
from vaultspec.twin.store import MASTER_KEY_FILE, Store, VaultRow
from vaultspec.twin.tokens import Principal, TokenAuthority

DEFAULT_RESOURCE_GROUP = "vaultspec-twin"
DEFAULT_LOCATION = "local"


@dataclass(frozen=True)
class DataPlaneAccess:
    """What one data-plane call may do: its vault (None: no such active vault) and the decision."""

    row: VaultRow | None
    ref: VaultRef | None
    decision: Decision


@dataclass(frozen=True)
class Identities:
    tenant_id: str
    subscription_id: str
    default_object_id: str


def load_identities(store: Store) -> Identities:
    """Tenant, subscription and default identity of this data dir (made once, then fixed)."""
    values = {}
    for key in ("tenant_id", "subscription_id", "default_object_id"):
        value = store.get_meta(key)
        if value is None:
            value = str(uuid.uuid4())
            store.set_meta(key, value)
        values[key] = value
    return Identities(**values)


class TwinBackend:
    """All domain services of one twin (one data dir, one port)."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.store = Store(self.data_dir)
        self.ids = load_identities(self.store)
        backup_key = backup_key_from_master((self.data_dir / MASTER_KEY_FILE).read_bytes())
        self.tokens = TokenAuthority(self.data_dir, self.ids.tenant_id)
        self.vaults = VaultService(self.store, port, self.ids.subscription_id)
        self.keys = KeyService(self.store, backup_key)
        self.secrets = SecretService(self.store, backup_key)
        self.records = RecordService(self.store, self.ids.subscription_id, self.ids.default_object_id)
        self.scopes = ArmScopes(self.store, self.ids.subscription_id)
        self.audit = AuditLog(self.data_dir)
        self._audiences = frozenset({self.data_plane_audience, self.data_plane_audience + "/"})

    @property
    def data_plane_audience(self) -> str:
        return f"https://vault.localhost:{self.port}"

    @property
    def data_plane_audiences(self) -> frozenset[str]:
        return self._audiences

    # -- access ----------------------------------------------------------------------------------
    def _current_assignments(self) -> list[Assignment]:
        """Role assignments, re-read only after a commit (cheap hot path)."""
        return self.store.cached(("assignments",), self.records.assignments)

    def access(
        self, vault_name: str, principal: Principal, operation: str, object_name: str | None, caller_ip: str
    ) -> DataPlaneAccess:
        """The vault and the decision for one data-plane call, remembered until the next commit anywhere.

        Everything a decision depends on (vault row: access policies, RBAC flag, firewall; role
        assignments) lives in the store, so the store's generation is the right invalidation.
        """
        key = ("access", vault_name.lower(), principal.object_id, principal.app_id, operation, object_name, caller_ip)
        return self.store.cached(key, lambda: self._access(vault_name, principal, operation, object_name, caller_ip))

    def _access(
        self, vault_name: str, principal: Principal, operation: str, object_name: str | None, caller_ip: str
    ) -> DataPlaneAccess:
        row = self.vaults.active(vault_name)
        if row is None:
            return DataPlaneAccess(None, None, Decision(False))
        decision = self.authorize(row, principal, operation, object_name, caller_ip)
        return DataPlaneAccess(row, self.vaults.ref(row), decision)

    def authorize(
        self, vault: VaultRow, principal: Principal, operation: str, object_name: str | None, caller_ip: str
    ) -> Decision:
        body = vault.body
        return decide(
            vault_name=vault.name,
            vault_location=body["location"],
            vault_id=vault_id(body["subscription"], body["resourceGroup"], vault.name),
            properties=body["properties"],
            principal_id=principal.object_id,
            app_id=principal.app_id,
            issuer=self.tokens.issuer,
            operation=OPERATIONS[operation],
            object_name=object_name,
            caller_ip=caller_ip,
            assignments=self._current_assignments() if body["properties"].get("enableRbacAuthorization") else (),
        )

    # -- bootstrap ---------------------------------------------------------------------------------
    def ensure_admin_vault(self, name: str) -> VaultRow:
        """`twin serve --vault NAME`: a premium RBAC vault where the default identity is Key Vault
        Administrator. Created (and the role granted) if missing, recovered if soft-deleted, left alone
        otherwise: the grant is made once, when the vault is created, so removing it sticks across restarts."""
        existing = self.store.get_vault(name.lower())
        if existing is not None and existing.deleted_at is None:
            return existing
        body = {
            "location": DEFAULT_LOCATION,
            "properties": {
                "tenantId": self.ids.tenant_id,
                "sku": {"family": "A", "name": "premium"},
                "enableRbacAuthorization": True,
                "softDeleteRetentionInDays": 7,
                "createMode": "recover" if existing is not None else "default",
            },
        }
        row, _ = self.vaults.create_or_update(DEFAULT_RESOURCE_GROUP, name, body, "2024-11-01")
        self.scopes.ensure_group(DEFAULT_RESOURCE_GROUP, DEFAULT_LOCATION)
        scope = vault_id(row.body["subscription"], row.body["resourceGroup"], row.name)
        admin = ROLES_BY_NAME["Key Vault Administrator"]
        wanted = Assignment(scope.lower(), self.ids.default_object_id.lower(), admin.guid)
        if existing is None and wanted not in self.records.assignments():
            self.records.create_role_assignment(
                scope,
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{self.ids.default_object_id}|{admin.guid}")),
                {
                    "properties": {
                        "roleDefinitionId": admin.id,
                        "principalId": self.ids.default_object_id,
                        "principalType": "ServicePrincipal",
                    }
                },
            )
        return row

    def close(self) -> None:
        self.audit.close()
        self.store.close()
