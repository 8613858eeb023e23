"""How pulumi-azure-native turns a resource's inputs into ARM requests, and ARM answers into outputs.

The twin's stand-in provider must talk to the twin the way the provider talks to Azure, so this table
mirrors the provider's metadata for the types vaultspec uses: path parameters go into the URL,
the remaining inputs form the body (under `properties` where the SDK flattens them), and the
response is reshaped into the SDK's outputs (flattened the same way); `inputs_of` goes back from an
ARM answer to the SDK's inputs (refresh and import). Inputs that ARM cannot change force a
replacement (`force_new`). Keys and secrets have no ARM DELETE; the provider deletes them through the
data plane (`custom_keyvault.go`), and so does the stand-in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

DeleteVia = Literal["arm", "data-plane-key", "data-plane-secret"]
API_VERSION_INPUT = "azureApiVersion"  # added to the inputs by the provider's Check, never sent to ARM


@dataclass(frozen=True)
class ArmResourceType:
    """One azure-native resource type: its REST path, API version and input layout."""

    token: str
    api_version: str
    path: str  # with {param} placeholders named as the SDK's inputs (plus {subscriptionId})
    flattened: bool  # inputs other than path/top-level ones live under body["properties"]
    flat_outputs: bool  # the SDK lifts response["properties"] to the top level of its outputs
    top_level: tuple[str, ...] = ()  # inputs sent at the top level of the body
    delete_via: DeleteVia = "arm"
    # SDK names that differ from ARM's JSON names (swagger x-ms-client-name), by the object's path in the body
    renames: tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], ...] = ()
    # The SDK's inputs other than path parameters, as a tree (a leaf is None): what `inputs_of` reconstructs
    input_schema: dict[str, Any] | None = None
    # Inputs ARM cannot change in place (besides the path parameters): a change replaces the resource
    force_new: tuple[str, ...] = ()
    # Outputs ARM computes, unknown in a preview's predicted outputs
    computed: tuple[str, ...] = ("id", "name", "type")

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(part[1:-1] for part in self.path.split("/") if part.startswith("{") and part.endswith("}"))

    def url_path(self, inputs: dict[str, Any], subscription_id: str) -> str:
        """The resource's ARM path (no host, no query); raises KeyError naming a missing path input."""
        values = {"subscriptionId": subscription_id}
        for param in self.path_params:
            if param == "subscriptionId":
                continue
            value = inputs.get(param)
            if not isinstance(value, str) or not value:
                raise KeyError(param)
            values[param] = value.strip("/") if param in ("scope", "resourceUri") else value
        path = self.path
        for param, value in values.items():
            path = path.replace("{" + param + "}", value)
        return path if path.startswith("/") else "/" + path

    def request_body(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The PUT body: everything but path parameters (and the provider's own `azureApiVersion`),
        nested under `properties` where flattened."""
        rest = {k: copy.deepcopy(v) for k, v in inputs.items() if k not in self.path_params and k != API_VERSION_INPUT}
        if self.flattened:
            body = {k: rest.pop(k) for k in self.top_level if k in rest}
            body["properties"] = rest
        else:
            body = rest
        for path, pairs in self.renames:
            _rename(body, path, dict(pairs))
        return body

    def outputs(self, response: dict[str, Any]) -> dict[str, Any]:
        """ARM's answer shaped as the SDK's outputs (flattened `properties` where the SDK flattens)."""
        shaped = copy.deepcopy(response)
        for path, pairs in self.renames:
            _rename(shaped, path, {wire: sdk for sdk, wire in pairs})
        if self.flat_outputs:
            properties = shaped.pop("properties", None) or {}
            shaped = {**properties, **shaped}
        shaped[API_VERSION_INPUT] = self.api_version
        return shaped

    def inputs_of(self, arm_id: str, response: dict[str, Any]) -> dict[str, Any]:
        """The SDK inputs an ARM answer stands for: path parameters from the id, the rest from the body."""
        inputs = self.path_values(arm_id)
        body = copy.deepcopy(response)
        for path, pairs in self.renames:
            _rename(body, path, {wire: sdk for sdk, wire in pairs})
        if self.flattened:
            body = {**(body.get("properties") or {}), **{k: body[k] for k in self.top_level if k in body}}
        inputs.update(_prune(body, self.input_schema or {}))
        return inputs

    def path_values(self, arm_id: str) -> dict[str, str]:
        """Path parameters read back from an ARM id (case of the id kept); scope-like ones take the prefix."""
        pattern = [p for p in self.path.split("/") if p]
        parts = [p for p in arm_id.split("/") if p]
        values: dict[str, str] = {}
        if pattern[0] in ("{scope}", "{resourceUri}"):  # the scope is everything before the fixed tail
            tail = len(pattern) - 1
            values[pattern[0][1:-1]] = "/" + "/".join(parts[: len(parts) - tail])
            pattern, parts = pattern[1:], parts[len(parts) - tail :]
        for want, have in zip(pattern, parts, strict=False):
            if want.startswith("{") and want != "{subscriptionId}":
                values[want[1:-1]] = have
        return values


def _prune(value: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """The parts of `value` the schema names (a None leaf takes the whole value)."""
    pruned: dict[str, Any] = {}
    for key, inner in schema.items():
        if not isinstance(value, dict) or value.get(key) is None:
            continue
        pruned[key] = value[key] if inner is None else _prune(value[key], inner)
    return pruned


def _rename(body: dict[str, Any], path: tuple[str, ...], names: dict[str, str]) -> None:
    """Rename keys of the object at `path` in place (missing objects are left alone)."""
    target: Any = body
    for part in path:
        target = target.get(part) if isinstance(target, dict) else None
    if isinstance(target, dict):
        for old, new in names.items():
            if old in target:
                target[new] = target.pop(old)


# KeyAttributes / SecretAttributes: `nbf`/`exp` on the wire, `notBefore`/`expires` in the SDK
_ATTRIBUTE_TIMES = ((("properties", "attributes"), (("notBefore", "nbf"), ("expires", "exp"))),)

_VAULT_PROPERTIES = (
    "tenantId",
    "sku",
    "accessPolicies",
    "enabledForDeployment",
    "enabledForDiskEncryption",
    "enabledForTemplateDeployment",
    "enableSoftDelete",
    "softDeleteRetentionInDays",
    "enableRbacAuthorization",
    "enablePurgeProtection",
    "networkAcls",
    "publicNetworkAccess",
)
VAULT = ArmResourceType(
    token="azure-native:keyvault:Vault",
    api_version="2024-11-01",
    path="/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}",
    flattened=False,
    flat_outputs=False,
    input_schema={"location": None, "tags": None, "properties": dict.fromkeys(_VAULT_PROPERTIES)},
    computed=("id", "name", "type", "properties.vaultUri", "properties.hsmPoolResourceId"),
)
KEY = ArmResourceType(
    token="azure-native:keyvault:Key",
    api_version="2024-11-01",
    path="/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/keys/{keyName}",
    flattened=False,
    flat_outputs=True,
    renames=_ATTRIBUTE_TIMES,
    delete_via="data-plane-key",
    input_schema={
        "tags": None,
        "properties": {
            "kty": None,
            "keySize": None,
            "curveName": None,
            "keyOps": None,
            "attributes": dict.fromkeys(("enabled", "notBefore", "expires", "exportable")),
            "rotationPolicy": None,
            "releasePolicy": None,
        },
    },
    computed=("id", "name", "type", "keyUri", "keyUriWithVersion"),
)
SECRET = ArmResourceType(
    token="azure-native:keyvault:Secret",
    api_version="2024-11-01",
    path="/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}",
    flattened=False,
    flat_outputs=False,
    renames=_ATTRIBUTE_TIMES,
    delete_via="data-plane-secret",
    input_schema={
        "tags": None,
        "properties": {
            "value": None,  # never returned by ARM: refresh keeps the declared value
            "contentType": None,
            "attributes": dict.fromkeys(("enabled", "notBefore", "expires")),
        },
    },
    computed=("id", "name", "type", "properties.secretUri", "properties.secretUriWithVersion"),
)
ROLE_ASSIGNMENT = ArmResourceType(
    token="azure-native:authorization:RoleAssignment",
    api_version="2022-04-01",
    path="{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
    flattened=True,
    flat_outputs=True,
    input_schema=dict.fromkeys(
        ("principalId", "roleDefinitionId", "principalType", "description", "condition", "conditionVersion")
    ),
    force_new=("principalId",),  # azure-native's forceNewMap (scope is a path parameter)
)
DIAGNOSTIC_SETTING = ArmResourceType(
    token="azure-native:monitor:DiagnosticSetting",  # pulumi-azure-native 3.x (was insights in 2.x)
    api_version="2021-05-01-preview",
    path="{resourceUri}/providers/Microsoft.Insights/diagnosticSettings/{name}",
    flattened=True,
    flat_outputs=True,
    input_schema=dict.fromkeys(
        (
            "workspaceId",
            "storageAccountId",
            "eventHubAuthorizationRuleId",
            "eventHubName",
            "serviceBusRuleId",
            "marketplacePartnerId",
            "logAnalyticsDestinationType",
            "logs",
            "metrics",
        )
    ),
)
MANAGEMENT_LOCK = ArmResourceType(
    token="azure-native:authorization:ManagementLockByScope",
    api_version="2020-05-01",
    path="{scope}/providers/Microsoft.Authorization/locks/{lockName}",
    flattened=True,
    flat_outputs=True,
    input_schema=dict.fromkeys(("level", "notes", "owners")),
)

ARM_TYPES: dict[str, ArmResourceType] = {
    t.token: t for t in (VAULT, KEY, SECRET, ROLE_ASSIGNMENT, DIAGNOSTIC_SETTING, MANAGEMENT_LOCK)
}


def arm_type(token: str) -> ArmResourceType | None:
    return ARM_TYPES.get(token)
