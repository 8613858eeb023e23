"""Response shapes of the twin, as pydantic models: documentation only (they shape /openapi.json).

Handlers build their JSON by hand (no response validation on the hot paths); these models say what
that JSON is, so a fuzzer (schemathesis' response_schema_conformance) can hold every answer to them.
Names follow Key Vault's REST spec (KeyBundle, SecretBundle, ...) and ARM's. Optional fields are the
ones the twin leaves out when unset; unknown extra fields are allowed, as clients must allow them.
`doc(Model)` is the `responses=` entry of a route.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


def doc(model: type[BaseModel] | None = None, description: str | None = None) -> dict[str, Any]:
    """A `responses=` entry: the model's schema under application/json (or no body when model is None)."""
    if model is None:
        return {"description": description or "No body", "content": {}}
    return {"model": model, "description": description or (model.__doc__ or model.__name__).strip()}


# -- errors --------------------------------------------------------------------------------------------
class _InnerError(_Shape):
    code: str


class _KeyVaultErrorDetail(_Shape):
    code: str
    message: str
    innererror: _InnerError | None = None


class KeyVaultErrorBody(_Shape):
    """Key Vault error: {error: {code, message, innererror?}}"""

    error: _KeyVaultErrorDetail


class _ArmErrorDetail(_Shape):
    code: str
    message: str
    target: str | None = None
    details: list[Any] = []


class ArmErrorBody(_Shape):
    """ARM error: {error: {code, message, target, details}}"""

    error: _ArmErrorDetail


class IdentityErrorBody(_Shape):
    """Identity endpoint error: {error, error_description}"""

    error: str
    error_description: str


# -- keys ------------------------------------------------------------------------------------------------
class KeyAttributes(_Shape):
    enabled: bool
    nbf: int | None = None
    exp: int | None = None
    created: int
    updated: int
    recoverableDays: int
    recoveryLevel: str
    exportable: bool | None = None


class JsonWebKeyOut(_Shape):
    """The public half only: never d, p, q, dp, dq, qi or k."""

    kid: str
    kty: str
    key_ops: list[str]
    n: str | None = None
    e: str | None = None
    crv: str | None = None
    x: str | None = None
    y: str | None = None


class KeyBundle(_Shape):
    """KeyBundle"""

    key: JsonWebKeyOut
    attributes: KeyAttributes
    tags: dict[str, str] | None = None
    release_policy: dict[str, Any] | None = None


class DeletedKeyBundle(KeyBundle):
    """DeletedKeyBundle"""

    recoveryId: str
    deletedDate: int
    scheduledPurgeDate: int | None = None


class KeyItem(_Shape):
    kid: str
    attributes: KeyAttributes
    tags: dict[str, str] | None = None


class DeletedKeyItem(KeyItem):
    recoveryId: str
    deletedDate: int
    scheduledPurgeDate: int | None = None


class KeyListResult(_Shape):
    """KeyListResult"""

    value: list[KeyItem]
    nextLink: str | None = None


class DeletedKeyListResult(_Shape):
    """DeletedKeyListResult"""

    value: list[DeletedKeyItem]
    nextLink: str | None = None


class BackupResult(_Shape):
    """Backup blob (opaque, base64url)"""

    value: str


class KeyOperationResult(_Shape):
    """KeyOperationResult"""

    kid: str
    value: str


class KeyVerifyResult(_Shape):
    """KeyVerifyResult"""

    value: bool


class _Trigger(_Shape):
    timeAfterCreate: str | None = None
    timeBeforeExpiry: str | None = None


class _Action(_Shape):
    type: str


class _LifetimeAction(_Shape):
    trigger: _Trigger
    action: _Action


class _RotationAttributes(_Shape):
    expiryTime: str | None = None
    created: int | None = None
    updated: int | None = None


class KeyRotationPolicyOut(_Shape):
    """KeyRotationPolicy"""

    id: str
    lifetimeActions: list[_LifetimeAction]
    attributes: _RotationAttributes


# -- secrets ----------------------------------------------------------------------------------------------
class SecretAttributes(_Shape):
    enabled: bool
    nbf: int | None = None
    exp: int | None = None
    created: int
    updated: int
    recoverableDays: int
    recoveryLevel: str


class SecretProperties(_Shape):
    """SecretBundle without its value (update, recover, restore)"""

    id: str
    attributes: SecretAttributes
    contentType: str | None = None
    tags: dict[str, str] | None = None


class SecretBundle(SecretProperties):
    """SecretBundle"""

    value: str


class DeletedSecretBundle(SecretProperties):
    """DeletedSecretBundle (no value)"""

    recoveryId: str
    deletedDate: int
    scheduledPurgeDate: int | None = None


class SecretListResult(_Shape):
    """SecretListResult (no values)"""

    value: list[SecretProperties]
    nextLink: str | None = None


class DeletedSecretListResult(_Shape):
    """DeletedSecretListResult"""

    value: list[DeletedSecretBundle]
    nextLink: str | None = None


# -- ARM ----------------------------------------------------------------------------------------------------
class _Sku(_Shape):
    family: str
    name: str


class _AccessPolicyEntry(_Shape):
    tenantId: str
    objectId: str
    permissions: dict[str, list[str]]
    applicationId: Any = None


class VaultProperties(_Shape):
    tenantId: str
    sku: _Sku
    accessPolicies: list[_AccessPolicyEntry]
    vaultUri: str
    provisioningState: str
    enableSoftDelete: bool
    softDeleteRetentionInDays: int
    enableRbacAuthorization: bool
    enablePurgeProtection: bool | None = None
    publicNetworkAccess: str
    networkAcls: dict[str, Any] | None = None


class _SystemData(_Shape):
    createdAt: str
    createdByType: str


class Vault(_Shape):
    """Vault"""

    id: str
    name: str
    type: str
    location: str
    tags: dict[str, str]
    systemData: _SystemData
    properties: VaultProperties


class VaultListResult(_Shape):
    """VaultListResult"""

    value: list[Vault]


class _GenericResource(_Shape):
    id: str
    name: str
    type: str
    location: str | None = None
    tags: dict[str, str] | None = None


class ResourceListResult(_Shape):
    """ResourceListResult"""

    value: list[_GenericResource]


class _AccessPolicyProperties(_Shape):
    accessPolicies: list[_AccessPolicyEntry]


class VaultAccessPolicyResult(_Shape):
    """VaultAccessPolicyParameters"""

    id: str
    name: str
    type: str
    location: str
    properties: _AccessPolicyProperties


class _DeletedVaultProperties(_Shape):
    vaultId: str
    location: str
    deletionDate: str
    scheduledPurgeDate: str
    tags: dict[str, str]
    purgeProtectionEnabled: bool


class DeletedVault(_Shape):
    """DeletedVault"""

    id: str
    name: str
    type: str
    properties: _DeletedVaultProperties


class DeletedVaultListResult(_Shape):
    """DeletedVaultListResult"""

    value: list[DeletedVault]


class CheckNameAvailabilityResult(_Shape):
    """CheckNameAvailabilityResult"""

    nameAvailable: bool
    reason: str | None = None
    message: str | None = None


class _ArmKeyAttributes(_Shape):
    enabled: bool | None = None
    nbf: int | None = None
    exp: int | None = None
    created: int | None = None
    updated: int | None = None
    recoveryLevel: str | None = None
    exportable: bool | None = None


class _ArmKeyProperties(_Shape):
    attributes: _ArmKeyAttributes
    kty: str
    keyOps: list[str]
    keyUri: str
    keyUriWithVersion: str
    keySize: int | None = None
    curveName: str | None = None
    rotationPolicy: dict[str, Any] | None = None
    release_policy: dict[str, Any] | None = None


class ArmKey(_Shape):
    """Key (ARM; keyUri, never key material)"""

    id: str
    name: str
    type: str
    location: str
    tags: dict[str, str]
    properties: _ArmKeyProperties


class ArmKeyListResult(_Shape):
    """KeyListResult (ARM)"""

    value: list[ArmKey]


class _ArmSecretAttributes(_Shape):
    enabled: bool | None = None
    nbf: int | None = None
    exp: int | None = None
    created: int | None = None
    updated: int | None = None


class _ArmSecretProperties(_Shape):
    attributes: _ArmSecretAttributes
    secretUri: str
    secretUriWithVersion: str
    contentType: str | None = None


class ArmSecret(_Shape):
    """Secret (ARM; the value is write-only and never returned)"""

    id: str
    name: str
    type: str
    location: str
    tags: dict[str, str]
    properties: _ArmSecretProperties


class ArmSecretListResult(_Shape):
    """SecretListResult (ARM)"""

    value: list[ArmSecret]


class _RoleAssignmentProperties(_Shape):
    roleDefinitionId: str
    principalId: str
    principalType: str
    scope: str
    condition: str | None = None
    conditionVersion: str | None = None
    description: str | None = None
    createdOn: str | None = None
    updatedOn: str | None = None
    createdBy: str | None = None
    updatedBy: str | None = None


class RoleAssignment(_Shape):
    """RoleAssignment"""

    id: str
    name: str
    type: str
    properties: _RoleAssignmentProperties


class RoleAssignmentListResult(_Shape):
    """RoleAssignmentListResult"""

    value: list[RoleAssignment]


class _Permission(_Shape):
    actions: list[str]
    notActions: list[str]
    dataActions: list[str]
    notDataActions: list[str]


class _RoleDefinitionProperties(_Shape):
    roleName: str
    description: str
    type: str
    assignableScopes: list[str]
    permissions: list[_Permission]


class RoleDefinition(_Shape):
    """RoleDefinition"""

    id: str
    name: str
    type: str
    properties: _RoleDefinitionProperties


class RoleDefinitionListResult(_Shape):
    """RoleDefinitionListResult"""

    value: list[RoleDefinition]


class _LockProperties(_Shape):
    level: str
    notes: Any = None
    owners: list[Any] = []


class ManagementLock(_Shape):
    """ManagementLock"""

    id: str
    name: str
    type: str
    properties: _LockProperties


class ManagementLockListResult(_Shape):
    """ManagementLockListResult"""

    value: list[ManagementLock]


class DiagnosticSetting(_Shape):
    """DiagnosticSettingsResource"""

    id: str
    name: str
    type: str
    properties: dict[str, Any]


class DiagnosticSettingList(_Shape):
    """DiagnosticSettingsResourceCollection"""

    value: list[DiagnosticSetting]


class _ResourceGroupProperties(_Shape):
    provisioningState: str


class ResourceGroup(_Shape):
    """ResourceGroup"""

    id: str
    name: str
    type: str
    location: str
    tags: dict[str, Any]
    properties: _ResourceGroupProperties


# -- the twin as a cloud: metadata, subscriptions, tenants, Managed HSM lists ----------------------------
class _CloudAuthentication(_Shape):
    loginEndpoint: str
    audiences: list[str]


class CloudMetadata(_Shape):
    """ARM metadata document (2022-09-01: one cloud; 2019-05-01: a list; 1.0: Azure Stack's shape)"""

    authentication: _CloudAuthentication
    name: str | None = None
    resourceManager: str | None = None
    suffixes: dict[str, str] = {}


class _SubscriptionPolicies(_Shape):
    locationPlacementId: str
    quotaId: str
    spendingLimit: str


class Subscription(_Shape):
    """Subscription"""

    id: str
    subscriptionId: str
    tenantId: str
    displayName: str
    state: str
    authorizationSource: str
    managedByTenants: list[dict[str, str]]
    subscriptionPolicies: _SubscriptionPolicies


class SubscriptionListResult(_Shape):
    """SubscriptionListResult"""

    value: list[Subscription]


class _Tenant(_Shape):
    id: str
    tenantId: str
    tenantCategory: str
    displayName: str
    domains: list[str]
    defaultDomain: str
    tenantType: str


class TenantListResult(_Shape):
    """TenantListResult"""

    value: list[_Tenant]


class ManagedHsmListResult(_Shape):
    """ManagedHsmListResult / DeletedManagedHsmListResult (always empty: the twin has no Managed HSM)"""

    value: list[dict[str, Any]]


# -- identity ----------------------------------------------------------------------------------------------
class TokenResponse(_Shape):
    """{access_token, expires_on, resource, token_type, client_id}"""

    access_token: str
    expires_on: str
    resource: str
    token_type: str
    client_id: str
