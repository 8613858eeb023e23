"""Data-plane secret routes (Key Vault REST `secrets.json`, 7.x and the SDK's date-based versions).

GET of a secret is the hottest path of the twin: one token-cache lookup, one vault row, one
version row, one AES-GCM open and a JSON dump, no pydantic on the way out.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from vaultspec.twin.http.auth import DataPlane, DataPlaneCall, api_version_param, backend_of
from vaultspec.twin.http.json_body import StrictJsonRoute
from vaultspec.twin.http.models import RestoreParameters, SecretSetParameters, SecretUpdateParameters
from vaultspec.twin.http.paging import paged
from vaultspec.twin.http.responses import KV_ERRORS, json_response
from vaultspec.twin.http.schemas import (
    BackupResult,
    DeletedSecretBundle,
    DeletedSecretListResult,
    SecretBundle,
    SecretListResult,
    SecretProperties,
    doc,
)

router = APIRouter(
    tags=["secrets"], responses=KV_ERRORS, route_class=StrictJsonRoute, dependencies=[Depends(api_version_param)]
)
MAXRESULTS = Query(None, description="1..25 items per page")
SKIPTOKEN = Query(None, alias="$skiptoken")


@router.post("/secrets/restore", responses={200: doc(SecretProperties, "SecretBundle (no value)")})
async def restore_secret(
    body: RestoreParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("restore_secret_backup", None)),
) -> Response:
    """Key Vault: Restore Secret (POST /secrets/restore)."""
    return json_response(backend_of(request).secrets.restore_secret_backup(call.vault, body.value))


@router.get("/secrets", responses={200: doc(SecretListResult, "SecretListResult (no values)")})
async def get_secrets(
    request: Request,
    maxresults: int | None = MAXRESULTS,
    skiptoken: str | None = SKIPTOKEN,
    call: DataPlaneCall = Depends(DataPlane("list_properties_of_secrets", None)),
) -> Response:
    """Key Vault: Get Secrets (GET /secrets)."""
    return paged(call, request, backend_of(request).secrets.list_secrets(call.vault), maxresults, skiptoken)


@router.put("/secrets/{name}", responses={200: doc(SecretBundle)})
async def set_secret(
    name: str,
    body: SecretSetParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("set_secret")),
) -> Response:
    """Key Vault: Set Secret (PUT /secrets/{secret-name})."""
    return json_response(backend_of(request).secrets.set_secret(call.vault, name, body.dump()))


@router.delete("/secrets/{name}", responses={200: doc(DeletedSecretBundle)})
async def delete_secret(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("delete_secret"))
) -> Response:
    """Key Vault: Delete Secret (DELETE /secrets/{secret-name})."""
    return json_response(backend_of(request).secrets.delete_secret(call.vault, name))


@router.get("/secrets/{name}/versions", responses={200: doc(SecretListResult, "SecretListResult (no values)")})
async def get_secret_versions(
    name: str,
    request: Request,
    maxresults: int | None = MAXRESULTS,
    skiptoken: str | None = SKIPTOKEN,
    call: DataPlaneCall = Depends(DataPlane("list_properties_of_secret_versions")),
) -> Response:
    """Key Vault: Get Secret Versions (GET /secrets/{secret-name}/versions)."""
    return paged(
        call,
        request,
        backend_of(request).secrets.list_secret_versions(call.vault, name),
        maxresults,
        skiptoken,
    )


@router.post("/secrets/{name}/backup", responses={200: doc(BackupResult, "BackupSecretResult")})
async def backup_secret(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("backup_secret"))
) -> Response:
    """Key Vault: Backup Secret (POST /secrets/{secret-name}/backup)."""
    return json_response({"value": backend_of(request).secrets.backup_secret(call.vault, name)})


@router.get("/secrets/{name}/{version}", responses={200: doc(SecretBundle)})
async def get_secret(
    name: str, version: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_secret"))
) -> Response:
    """Key Vault: Get Secret (GET /secrets/{secret-name}/{secret-version})."""
    return json_response(backend_of(request).secrets.get_secret(call.vault, name, version))


@router.get("/secrets/{name}/", include_in_schema=False)
async def get_latest_secret(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_secret"))
) -> Response:
    """Key Vault: Get Secret, latest version (the SDK's `/secrets/{secret-name}/`)."""
    return json_response(backend_of(request).secrets.get_secret(call.vault, name, ""))


@router.get("/secrets/{name}", include_in_schema=False)
async def get_latest_secret_no_slash(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_secret"))
) -> Response:
    """Key Vault: Get Secret, latest version (`/secrets/{secret-name}`)."""
    return json_response(backend_of(request).secrets.get_secret(call.vault, name, ""))


@router.patch("/secrets/{name}/{version}", responses={200: doc(SecretProperties, "SecretBundle (no value)")})
async def update_secret(
    name: str,
    version: str,
    body: SecretUpdateParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("update_secret_properties")),
) -> Response:
    """Key Vault: Update Secret (PATCH /secrets/{secret-name}/{secret-version})."""
    return json_response(backend_of(request).secrets.update_secret_properties(call.vault, name, version, body.dump()))


@router.patch("/secrets/{name}/", include_in_schema=False)
async def update_latest_secret(
    name: str,
    body: SecretUpdateParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("update_secret_properties")),
) -> Response:
    """Key Vault: Update Secret, latest version."""
    return json_response(backend_of(request).secrets.update_secret_properties(call.vault, name, "", body.dump()))


@router.get("/deletedsecrets", responses={200: doc(DeletedSecretListResult)})
async def get_deleted_secrets(
    request: Request,
    maxresults: int | None = MAXRESULTS,
    skiptoken: str | None = SKIPTOKEN,
    call: DataPlaneCall = Depends(DataPlane("list_deleted_secrets", None)),
) -> Response:
    """Key Vault: Get Deleted Secrets (GET /deletedsecrets)."""
    return paged(call, request, backend_of(request).secrets.list_deleted_secrets(call.vault), maxresults, skiptoken)


@router.get("/deletedsecrets/{name}", responses={200: doc(DeletedSecretBundle)})
async def get_deleted_secret(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_deleted_secret"))
) -> Response:
    """Key Vault: Get Deleted Secret (GET /deletedsecrets/{secret-name})."""
    return json_response(backend_of(request).secrets.get_deleted_secret(call.vault, name))


@router.delete("/deletedsecrets/{name}", status_code=204, responses={204: {"description": "Purged"}})
async def purge_deleted_secret(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("purge_deleted_secret"))
) -> Response:
    """Key Vault: Purge Deleted Secret (DELETE /deletedsecrets/{secret-name})."""
    backend_of(request).secrets.purge_deleted_secret(call.vault, name)
    return Response(status_code=204)


@router.post("/deletedsecrets/{name}/recover", responses={200: doc(SecretProperties, "SecretBundle (no value)")})
async def recover_deleted_secret(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("recover_deleted_secret"))
) -> Response:
    """Key Vault: Recover Deleted Secret (POST /deletedsecrets/{secret-name}/recover)."""
    return json_response(backend_of(request).secrets.recover_deleted_secret(call.vault, name))
