"""ARM routes for `Microsoft.KeyVault` (azure-mgmt-keyvault 14.1 / api-version 2026-05-15, and the
2024-11-01 pulumi-azure-native uses; every api-version is accepted).

Long-running operations answer final results (200/201 with `provisioningState: Succeeded` and no
async headers), so SDK pollers finish at once. ARM `keys` PUT is create-if-not-exist: an existing
key comes back unchanged (no new version). ARM `secrets` never return a value.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.domain.objects import attributes_out
from vaultspec.twin.domain.vaults import VAULT_TYPE, vault_id
from vaultspec.twin.errors import ArmError, KeyVaultError, arm_bad_request
from vaultspec.twin.http.arm_paths import arm_path_exists, creates_group
from vaultspec.twin.http.auth import arm_principal, backend_of
from vaultspec.twin.http.json_body import StrictJsonRoute
from vaultspec.twin.http.models import (
    ArmResource,
    CheckNameAvailabilityParameters,
    VaultAccessPolicyParameters,
)
from vaultspec.twin.http.responses import ARM_ERRORS, json_response
from vaultspec.twin.http.schemas import (
    ArmKey,
    ArmKeyListResult,
    ArmSecret,
    ArmSecretListResult,
    CheckNameAvailabilityResult,
    DeletedVault,
    DeletedVaultListResult,
    ResourceListResult,
    Vault,
    VaultAccessPolicyResult,
    VaultListResult,
    doc,
)
from vaultspec.twin.store import VaultRow, VersionRow

router = APIRouter(
    tags=["arm-keyvault"],
    responses=ARM_ERRORS,
    dependencies=[Depends(arm_principal), Depends(arm_path_exists)],
    route_class=StrictJsonRoute,
)
SUB = "/subscriptions/{subscriptionId}"
VAULTS = SUB + "/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults"
API_VERSION = Query("2026-05-15", alias="api-version")


def _vault_or_404(backend: TwinBackend, subscription: str, rg: str, name: str) -> VaultRow:
    """The active vault exactly at this subscription, group and name (ARM's 404s otherwise)."""
    return backend.scopes.vault(subscription, rg, name)


def _vault_id(row: VaultRow) -> str:
    """The vault's resource id as stored (the scope its locks and role assignments are kept under)."""
    return vault_id(row.body["subscription"], row.body["resourceGroup"], row.name)


def _from_kv(error: KeyVaultError) -> ArmError:
    return ArmError(error.status, error.code, error.message)


# -- vaults ----------------------------------------------------------------------------------------
@router.put(
    VAULTS + "/{vaultName}",
    responses={200: doc(Vault, "Vault (updated)"), 201: doc(Vault, "Vault (created)")},
)
@creates_group
async def create_or_update_vault(
    subscriptionId: str,
    resourceGroupName: str,
    vaultName: str,
    body: ArmResource,
    request: Request,
    api_version: str = API_VERSION,
) -> Response:
    """ARM: Vaults - Create Or Update (PUT .../Microsoft.KeyVault/vaults/{vaultName}); creates the group it names."""
    backend = backend_of(request)
    backend.records.assert_unlocked(vault_id(subscriptionId, resourceGroupName, vaultName), write=True)
    row, created = backend.vaults.create_or_update(
        resourceGroupName, vaultName, body.dump(), api_version, backend.ids.subscription_id
    )
    backend.scopes.ensure_group(resourceGroupName, row.body["location"])
    return json_response(backend.vaults.arm_body(row), 201 if created else 200)


@router.get(VAULTS + "/{vaultName}", responses={200: doc(Vault)})
async def get_vault(subscriptionId: str, resourceGroupName: str, vaultName: str, request: Request) -> Response:
    """ARM: Vaults - Get."""
    backend = backend_of(request)
    return json_response(backend.vaults.arm_body(_vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)))


@router.patch(VAULTS + "/{vaultName}", responses={200: doc(Vault)})
async def update_vault(
    subscriptionId: str,
    resourceGroupName: str,
    vaultName: str,
    body: ArmResource,
    request: Request,
    api_version: str = API_VERSION,
) -> Response:
    """ARM: Vaults - Update (PATCH)."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    backend.records.assert_unlocked(_vault_id(row), write=True)
    return json_response(backend.vaults.arm_body(backend.vaults.update(row, body.dump(), api_version)))


@router.delete(
    VAULTS + "/{vaultName}",
    response_class=Response,
    responses={200: doc(None, "Deleted"), 204: doc(None, "Did not exist")},
)
async def delete_vault(subscriptionId: str, resourceGroupName: str, vaultName: str, request: Request) -> Response:
    """ARM: Vaults - Delete (soft delete: the name stays reserved until purge; 204 when no such vault)."""
    backend = backend_of(request)
    try:
        row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    except ArmError as exc:
        if exc.code == "ResourceNotFound":  # the group exists (checked by the router): nothing to delete
            return Response(status_code=204)
        raise
    backend.records.assert_unlocked(_vault_id(row), write=False)
    backend.vaults.delete(row)
    return Response(status_code=200)


def _list(backend: TwinBackend, rows: list[VaultRow], top: int | None) -> Response:
    bodies = [backend.vaults.arm_body(r) for r in rows]
    if top is not None:
        bodies = bodies[: max(top, 0)]
    return json_response({"value": bodies})


@router.get(VAULTS, responses={200: doc(VaultListResult)})
async def list_vaults_by_resource_group(
    subscriptionId: str, resourceGroupName: str, request: Request, top: int | None = Query(None, alias="$top")
) -> Response:
    """ARM: Vaults - List By Resource Group."""
    backend = backend_of(request)
    return _list(backend, backend.vaults.list(resourceGroupName), top)


@router.get(SUB + "/providers/Microsoft.KeyVault/vaults", responses={200: doc(VaultListResult)})
async def list_vaults_by_subscription(
    subscriptionId: str, request: Request, top: int | None = Query(None, alias="$top")
) -> Response:
    """ARM: Vaults - List By Subscription."""
    backend = backend_of(request)
    return _list(backend, backend.vaults.list(), top)


@router.get(SUB + "/resources", responses={200: doc(ResourceListResult)})
async def list_resources(
    subscriptionId: str, request: Request, top: int | None = Query(None, alias="$top")
) -> Response:
    """ARM: Vaults - List (legacy `resources?$filter=resourceType eq 'Microsoft.KeyVault/vaults'`)."""
    backend = backend_of(request)
    flt = (request.query_params.get("$filter") or "").lower()
    rows = backend.vaults.list() if not flt or VAULT_TYPE.lower() in flt else []
    bodies = [
        {k: v for k, v in backend.vaults.arm_body(r).items() if k in ("id", "name", "type", "location", "tags")}
        for r in rows
    ]
    return json_response({"value": bodies[:top] if top is not None else bodies})


@router.put(
    VAULTS + "/{vaultName}/accessPolicies/{operationKind}",
    responses={200: doc(VaultAccessPolicyResult, "VaultAccessPolicyParameters")},
)
async def update_access_policy(
    subscriptionId: str,
    resourceGroupName: str,
    vaultName: str,
    operationKind: str,
    body: VaultAccessPolicyParameters,
    request: Request,
) -> Response:
    """ARM: Vaults - Update Access Policy (add | replace | remove)."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    vid = _vault_id(row)
    backend.records.assert_unlocked(vid, write=True)
    policies = backend.vaults.update_access_policy(row, operationKind, body.dump())
    return json_response(
        {
            "id": f"{vid}/accessPolicies/{operationKind.lower()}",
            "name": operationKind.lower(),
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "location": row.body["location"],
            "properties": {"accessPolicies": policies},
        }
    )


# -- deleted vaults, name availability -----------------------------------------------------------------
@router.get(
    SUB + "/providers/Microsoft.KeyVault/deletedVaults",
    responses={200: doc(DeletedVaultListResult)},
)
async def list_deleted_vaults(subscriptionId: str, request: Request) -> Response:
    """ARM: Vaults - List Deleted."""
    backend = backend_of(request)
    return json_response({"value": [backend.vaults.deleted_body(r) for r in backend.vaults.list_deleted()]})


@router.get(
    SUB + "/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}",
    responses={200: doc(DeletedVault)},
)
async def get_deleted_vault(subscriptionId: str, location: str, vaultName: str, request: Request) -> Response:
    """ARM: Vaults - Get Deleted."""
    backend = backend_of(request)
    return json_response(backend.vaults.deleted_body(backend.vaults.get_deleted(subscriptionId, vaultName, location)))


@router.post(
    SUB + "/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}/purge",
    response_class=Response,
    responses={200: doc(None, "Purged")},
)
async def purge_deleted_vault(subscriptionId: str, location: str, vaultName: str, request: Request) -> Response:
    """ARM: Vaults - Purge Deleted (refused while purge protection holds)."""
    backend_of(request).vaults.purge_deleted(subscriptionId, vaultName, location)
    return Response(status_code=200)


@router.post(
    SUB + "/providers/Microsoft.KeyVault/checkNameAvailability",
    responses={200: doc(CheckNameAvailabilityResult)},
)
async def check_name_availability(
    subscriptionId: str, body: CheckNameAvailabilityParameters, request: Request
) -> Response:
    """ARM: Vaults - Check Name Availability."""
    return json_response(backend_of(request).vaults.check_name_availability(body.dump()))


# -- ARM keys ----------------------------------------------------------------------------------------------
def _arm_key(backend: TwinBackend, row: VaultRow, version: VersionRow, with_version: bool = False) -> dict[str, Any]:
    vref = backend.vaults.ref(row)
    meta = version.meta
    base_id = f"{vault_id(row.body['subscription'], row.body['resourceGroup'], row.name)}/keys/{version.name}"
    attrs = attributes_out(meta["attributes"], vref)
    props: dict[str, Any] = {
        "attributes": {
            k: attrs[k]
            for k in ("enabled", "nbf", "exp", "created", "updated", "recoveryLevel", "exportable")
            if k in attrs
        },
        "kty": meta["kty"],
        "keyOps": meta["key_ops"],
        "keyUri": f"{vref.url}/keys/{version.name}",
        "keyUriWithVersion": f"{vref.url}/keys/{version.name}/{version.version}",
    }
    if meta["kty"].startswith("RSA"):
        props["keySize"] = meta["key_size"]
    else:
        props["curveName"] = meta["jwk"]["crv"]
    obj = backend.store.get_object(row.name, "key", version.name)
    if obj is not None and obj.policy:
        props["rotationPolicy"] = obj.policy
    if meta.get("release_policy"):
        props["release_policy"] = meta["release_policy"]
    return {
        "id": f"{base_id}/versions/{version.version}" if with_version else base_id,
        "name": version.version if with_version else version.name,
        "type": "Microsoft.KeyVault/vaults/keys/versions" if with_version else "Microsoft.KeyVault/vaults/keys",
        "location": row.body["location"],
        "tags": meta.get("tags") or {},
        "properties": props,
    }


@router.put(VAULTS + "/{vaultName}/keys/{keyName}", responses={200: doc(ArmKey, "Key")})
async def create_key_if_not_exist(
    subscriptionId: str,
    resourceGroupName: str,
    vaultName: str,
    keyName: str,
    body: ArmResource,
    request: Request,
) -> Response:
    """ARM: Keys - Create If Not Exist (an existing key is returned unchanged)."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    backend.records.assert_unlocked(_vault_id(row), write=True)
    vref = backend.vaults.ref(row)
    try:
        existing = backend.store.get_object(row.name, "key", keyName)
        if existing is None or existing.deleted_at is not None:
            props = (body.properties or {}) if isinstance(body.properties, dict) else {}
            attrs = props.get("attributes") or {}
            if not isinstance(attrs, dict):
                raise arm_bad_request("properties.attributes must be an object", "properties.attributes")
            request_body = {
                "kty": props.get("kty"),
                "key_size": props.get("keySize"),
                "crv": props.get("curveName"),
                "key_ops": props.get("keyOps"),
                "attributes": {k: attrs.get(k) for k in ("enabled", "nbf", "exp", "exportable") if k in attrs},
                "tags": body.tags,
                "release_policy": props.get("release_policy"),
            }
            if not request_body["kty"]:
                raise arm_bad_request("properties.kty is required", "properties.kty")
            backend.keys.create_key(vref, keyName, request_body)
            if props.get("rotationPolicy"):
                backend.keys.update_key_rotation_policy(vref, keyName, props["rotationPolicy"])
        version = backend.keys.objects.version(vref, keyName)
    except KeyVaultError as exc:
        raise _from_kv(exc) from exc
    return json_response(_arm_key(backend, row, version))


@router.get(VAULTS + "/{vaultName}/keys/{keyName}", responses={200: doc(ArmKey, "Key")})
async def get_arm_key(
    subscriptionId: str, resourceGroupName: str, vaultName: str, keyName: str, request: Request
) -> Response:
    """ARM: Keys - Get (latest version)."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    try:
        version = backend.keys.objects.version(backend.vaults.ref(row), keyName)
    except KeyVaultError as exc:
        raise ArmError(404, "ResourceNotFound", f"The key '{keyName}' was not found.", keyName) from exc
    return json_response(_arm_key(backend, row, version))


@router.get(VAULTS + "/{vaultName}/keys", responses={200: doc(ArmKeyListResult, "KeyListResult")})
async def list_arm_keys(subscriptionId: str, resourceGroupName: str, vaultName: str, request: Request) -> Response:
    """ARM: Keys - List."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    rows = backend.keys.objects.list_active(backend.vaults.ref(row))
    return json_response({"value": [_arm_key(backend, row, v) for v in rows]})


@router.get(VAULTS + "/{vaultName}/keys/{keyName}/versions", responses={200: doc(ArmKeyListResult, "KeyListResult")})
async def list_arm_key_versions(
    subscriptionId: str, resourceGroupName: str, vaultName: str, keyName: str, request: Request
) -> Response:
    """ARM: Keys - List Versions."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    try:
        rows = backend.keys.objects.list_versions(backend.vaults.ref(row), keyName)
    except KeyVaultError as exc:
        raise ArmError(404, "ResourceNotFound", f"The key '{keyName}' was not found.", keyName) from exc
    return json_response({"value": [_arm_key(backend, row, v, with_version=True) for v in rows]})


@router.get(VAULTS + "/{vaultName}/keys/{keyName}/versions/{keyVersion}", responses={200: doc(ArmKey, "Key")})
async def get_arm_key_version(
    subscriptionId: str,
    resourceGroupName: str,
    vaultName: str,
    keyName: str,
    keyVersion: str,
    request: Request,
) -> Response:
    """ARM: Keys - Get Version."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    try:
        version = backend.keys.objects.version(backend.vaults.ref(row), keyName, keyVersion)
    except KeyVaultError as exc:
        raise ArmError(
            404, "ResourceNotFound", f"The key version '{keyName}/{keyVersion}' was not found.", keyName
        ) from exc
    return json_response(_arm_key(backend, row, version, with_version=True))


# -- ARM secrets -------------------------------------------------------------------------------------------
def _arm_secret(backend: TwinBackend, row: VaultRow, version: VersionRow) -> dict[str, Any]:
    vref = backend.vaults.ref(row)
    meta = version.meta
    attrs = attributes_out(meta["attributes"], vref)
    props: dict[str, Any] = {
        "attributes": {k: attrs[k] for k in ("enabled", "nbf", "exp", "created", "updated") if k in attrs},
        "secretUri": f"{vref.url}/secrets/{version.name}",
        "secretUriWithVersion": f"{vref.url}/secrets/{version.name}/{version.version}",
    }
    if meta.get("contentType") is not None:
        props["contentType"] = meta["contentType"]
    return {
        "id": vault_id(row.body["subscription"], row.body["resourceGroup"], row.name) + f"/secrets/{version.name}",
        "name": version.name,
        "type": "Microsoft.KeyVault/vaults/secrets",
        "location": row.body["location"],
        "tags": meta.get("tags") or {},
        "properties": props,
    }


def _secret_write(
    request: Request, subscriptionId: str, rg: str, vault: str, name: str, body: ArmResource, patch: bool
) -> Response:
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, rg, vault)
    backend.records.assert_unlocked(_vault_id(row), write=True)
    vref = backend.vaults.ref(row)
    props = body.properties if isinstance(body.properties, dict) else {}
    raw_attrs = props.get("attributes") or {}
    if not isinstance(raw_attrs, dict):
        raise arm_bad_request("properties.attributes must be an object", "properties.attributes")
    attrs = {k: v for k, v in raw_attrs.items() if k in ("enabled", "nbf", "exp")}
    created = False
    try:
        existing = backend.store.get_object(row.name, "secret", name)
        exists = existing is not None and existing.deleted_at is None
        if patch and not exists:
            raise ArmError(404, "ResourceNotFound", f"The secret '{name}' was not found.", name)
        if props.get("value") is not None:
            backend.secrets.set_secret(
                vref,
                name,
                {
                    "value": props["value"],
                    "contentType": props.get("contentType"),
                    "attributes": attrs,
                    "tags": body.tags,
                },
            )
            created = not exists
        elif not exists:
            raise arm_bad_request("properties.value is required to create a secret", "properties.value")
        else:
            backend.secrets.update_secret_properties(
                vref,
                name,
                "",
                {"contentType": props.get("contentType"), "attributes": attrs, "tags": body.tags},
            )
        version = backend.secrets.objects.version(vref, name)
    except KeyVaultError as exc:
        raise _from_kv(exc) from exc
    return json_response(_arm_secret(backend, row, version), 201 if created else 200)


@router.put(
    VAULTS + "/{vaultName}/secrets/{secretName}",
    responses={200: doc(ArmSecret, "Secret"), 201: doc(ArmSecret, "Secret")},
)
async def create_or_update_arm_secret(
    subscriptionId: str,
    resourceGroupName: str,
    vaultName: str,
    secretName: str,
    body: ArmResource,
    request: Request,
) -> Response:
    """ARM: Secrets - Create Or Update (the value is write-only)."""
    return _secret_write(request, subscriptionId, resourceGroupName, vaultName, secretName, body, patch=False)


@router.patch(VAULTS + "/{vaultName}/secrets/{secretName}", responses={200: doc(ArmSecret, "Secret")})
async def update_arm_secret(
    subscriptionId: str,
    resourceGroupName: str,
    vaultName: str,
    secretName: str,
    body: ArmResource,
    request: Request,
) -> Response:
    """ARM: Secrets - Update."""
    return _secret_write(request, subscriptionId, resourceGroupName, vaultName, secretName, body, patch=True)


@router.get(VAULTS + "/{vaultName}/secrets/{secretName}", responses={200: doc(ArmSecret, "Secret")})
async def get_arm_secret(
    subscriptionId: str, resourceGroupName: str, vaultName: str, secretName: str, request: Request
) -> Response:
    """ARM: Secrets - Get (never the value)."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    try:
        version = backend.secrets.objects.version(backend.vaults.ref(row), secretName)
    except KeyVaultError as exc:
        raise ArmError(404, "ResourceNotFound", f"The secret '{secretName}' was not found.", secretName) from exc
    return json_response(_arm_secret(backend, row, version))


@router.get(VAULTS + "/{vaultName}/secrets", responses={200: doc(ArmSecretListResult, "SecretListResult")})
async def list_arm_secrets(
    subscriptionId: str,
    resourceGroupName: str,
    vaultName: str,
    request: Request,
    top: int | None = Query(None, alias="$top"),
) -> Response:
    """ARM: Secrets - List."""
    backend = backend_of(request)
    row = _vault_or_404(backend, subscriptionId, resourceGroupName, vaultName)
    rows = backend.secrets.objects.list_active(backend.vaults.ref(row))
    bodies = [_arm_secret(backend, row, v) for v in rows]
    return json_response({"value": bodies[:top] if top is not None else bodies})
