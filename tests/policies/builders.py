"""Builders of wire-format resources (camelCase, as pulumi-azure-native 3.29 sends them).

Each builder returns a compliant resource; tests change one thing and expect one rule to object.
Everything is judged through `vaultspec.engine.analyzer`, i.e. pulumi-policy's analyzer servicer
fed real AnalyzeRequest / AnalyzeStackRequest messages.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import proto

from vaultspec.catalog.keys import IMPORTED_KEY_TYPE
from vaultspec.engine.analyzer import Verdict

STACK = "urn:pulumi:prod::vaultspec::"
COMPONENT = "vaultspec:index:KeyVault"
DAY = 86_400
RESOURCE_GROUP = "rg-payments"
SUBSCRIPTION = "11111111-2222-4333-8444-555555555555"
WORKSPACE = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-obs/providers/Microsoft.OperationalInsights/workspaces/law"
)
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"


def component_urn(name: str) -> str:
    return f"{STACK}{COMPONENT}::{name}"


def child_urn(component: str, resource_type: str, name: str) -> str:
    return f"{STACK}{COMPONENT}${resource_type}::{name}"


def vault_arm_id(vault_name: str, group: str = RESOURCE_GROUP) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{vault_name}"


def role_id(guid: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def resource(
    resource_type: str,
    name: str,
    inputs: dict[str, Any],
    *,
    parent: str | None = "payments",
    dependencies: Iterable[str] = (),
    property_dependencies: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    urn = child_urn(parent, resource_type, name) if parent else f"{STACK}{resource_type}::{name}"
    return {
        "type": resource_type,
        "name": name,
        "urn": urn,
        "parent": component_urn(parent) if parent else None,
        "inputs": inputs,
        "dependencies": list(dependencies),
        "property_dependencies": property_dependencies or {},
    }


def component(name: str = "payments") -> dict[str, Any]:
    return {"type": COMPONENT, "name": name, "urn": component_urn(name), "parent": None, "inputs": {}}


def vault(name: str = "payments", vault_name: str = "payments-kv", **properties: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "sku": {"family": "A", "name": "premium"},
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enablePurgeProtection": True,
        "enableRbacAuthorization": True,
        "publicNetworkAccess": "Disabled",
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "networkAcls": {"defaultAction": "Deny", "bypass": "None", "ipRules": [], "virtualNetworkRules": []},
    }
    body.update(properties)
    inputs = {
        "vaultName": vault_name,
        "resourceGroupName": RESOURCE_GROUP,
        "location": "westeurope",
        "tags": {"owner": "platform"},
        "properties": body,
    }
    return resource("azure-native:keyvault:Vault", f"{name}-vault", inputs, parent=name)


def key(
    name: str = "signing", *, owner: dict[str, Any] | None = None, component_name: str = "payments", **properties: Any
) -> dict[str, Any]:
    now = int(time.time())
    body: dict[str, Any] = {
        "kty": "RSA-HSM",
        "keySize": 3072,
        "keyOps": ["sign", "verify"],
        "attributes": {"enabled": True, "expires": now + 200 * DAY, "notBefore": now - DAY},
        "rotationPolicy": {
            "attributes": {"expiryTime": "P1Y"},
            "lifetimeActions": [
                {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}},
                {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}},
            ],
        },
    }
    body.update(properties)
    owner = owner or vault(component_name)
    inputs = {
        "vaultName": owner["inputs"]["vaultName"],
        "resourceGroupName": RESOURCE_GROUP,
        "keyName": name,
        "tags": {},
        "properties": body,
    }
    return resource(
        "azure-native:keyvault:Key",
        f"{component_name}-{name}",
        inputs,
        parent=component_name,
        dependencies=[owner["urn"]],
        property_dependencies={"vaultName": [owner["urn"]]},
    )


def imported_key(
    name: str = "imported",
    *,
    source: str = "byok",
    owner: dict[str, Any] | None = None,
    material: str = "[secret]",
    **properties: Any,
) -> dict[str, Any]:
    """vaultspec's ImportedKey as the component renders it: a Key's wire inputs plus its import source."""
    item = key(name, owner=owner, **properties)
    item["type"] = IMPORTED_KEY_TYPE
    item["urn"] = child_urn("payments", IMPORTED_KEY_TYPE, item["name"])
    item["inputs"].update(
        vaultUri="https://payments-kv.vault.azure.net",
        keyUri=f"https://payments-kv.vault.azure.net/keys/{name}",
        **{"import": {"source": source, "fingerprint": "sha256:abc"}},
    )
    item["inputs"]["byok" if source == "byok" else "material"] = "{}" if source == "byok" else material
    return item


def secret(name: str = "db-password", *, value: str = "[secret]", **properties: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "value": value,
        "contentType": "text/plain",
        "attributes": {"enabled": True, "expires": int(time.time()) + 100 * DAY},
    }
    body.update(properties)
    owner = vault()
    inputs = {
        "vaultName": owner["inputs"]["vaultName"],
        "resourceGroupName": RESOURCE_GROUP,
        "secretName": name,
        "tags": {},
        "properties": body,
    }
    return resource(
        "azure-native:keyvault:Secret",
        f"payments-{name}",
        inputs,
        dependencies=[owner["urn"]],
        property_dependencies={"vaultName": [owner["urn"]]},
    )


def diagnostic_setting(
    owner: dict[str, Any] | None = None, *, component_name: str = "payments", **inputs: Any
) -> dict[str, Any]:
    owner = owner or vault()
    body: dict[str, Any] = {
        "name": "vaultspec-audit",
        "resourceUri": vault_arm_id(owner["inputs"]["vaultName"]),
        "workspaceId": WORKSPACE,
        "logs": [{"categoryGroup": "audit", "enabled": True}],
        "metrics": [{"category": "AllMetrics", "enabled": True}],
    }
    body.update(inputs)
    return resource(
        "azure-native:monitor:DiagnosticSetting",
        f"{owner['name']}-audit",
        body,
        parent=component_name,
        dependencies=[owner["urn"]],
        property_dependencies={"resourceUri": [owner["urn"]]},
    )


def role_assignment(
    name: str = "api-crypto-user",
    *,
    role: str = CRYPTO_USER,
    principal_type: str | None = "ServicePrincipal",
    owner: dict[str, Any] | None = None,
    **inputs: Any,
) -> dict[str, Any]:
    owner = owner or vault()
    body: dict[str, Any] = {
        "principalId": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "roleDefinitionId": role_id(role),
        "scope": vault_arm_id(owner["inputs"]["vaultName"]),
        "roleAssignmentName": "5f0b7b4e-9d2a-5c1e-8f3a-2b4c6d8e0f1a",
    }
    if principal_type is not None:
        body["principalType"] = principal_type
    body.update(inputs)
    return resource(
        "azure-native:authorization:RoleAssignment",
        f"payments-{name}",
        body,
        dependencies=[owner["urn"]],
        property_dependencies={"scope": [owner["urn"]]},
    )


def compliant_stack() -> list[dict[str, Any]]:
    """One vault with a key, a secret, a role assignment and its audit logs: no rule objects."""
    owner = vault()
    return [
        component(),
        owner,
        key(owner=owner),
        secret(),
        role_assignment(owner=owner),
        diagnostic_setting(owner),
    ]


def with_tags(item: dict[str, Any], **tags: str) -> dict[str, Any]:
    changed = copy.deepcopy(item)
    changed["inputs"].setdefault("tags", {}).update(tags)
    return changed


def findings(verdicts: list[Verdict], policy: str) -> list[Verdict]:
    return [verdict for verdict in verdicts if verdict.policy == policy]


def analyze_request(item: dict[str, Any]) -> proto.AnalyzeRequest:
    """The AnalyzeRequest the engine sends for `item` (inputs as a protobuf Struct)."""
    properties = struct_pb2.Struct()
    properties.update(item["inputs"])
    return proto.AnalyzeRequest(
        urn=item["urn"],
        type=item["type"],
        name=item["name"],
        properties=properties,
        options=proto.AnalyzerResourceOptions(parent=item.get("parent") or ""),
    )
