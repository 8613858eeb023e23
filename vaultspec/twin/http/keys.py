"""Data-plane key routes (Key Vault REST `keys.json`, 7.x and the SDK's date-based api-versions).

Each handler names the Key Vault REST operation it implements. The latest version is addressed as
`/keys/{name}/` (what the SDK sends), `/keys/{name}` or `/keys/{name}//op` as well as by version.
"""

from fastapi import APIRouter, Depends, Query, Request, Response

from vaultspec.twin.errors import bad_parameter
from vaultspec.twin.http.auth import DataPlane, DataPlaneCall, api_version_param, backend_of, vault_caller
from vaultspec.twin.http.json_body import StrictJsonRoute
from vaultspec.twin.http.models import (
    GetRandomBytesRequest,
    KeyCreateParameters,
    KeyImportParameters,
    KeyOperationsParameters,
    KeyReleaseParameters,
    KeyRotationPolicy,
    KeySignParameters,
    KeyUpdateParameters,
    KeyVerifyParameters,
    RestoreParameters,
)
from vaultspec.twin.http.paging import paged
from vaultspec.twin.http.responses import KV_ERRORS, json_response
from vaultspec.twin.http.schemas import (
    BackupResult,
    DeletedKeyBundle,
    DeletedKeyListResult,
    KeyBundle,
    KeyListResult,
    KeyOperationResult,
    KeyRotationPolicyOut,
    KeyVerifyResult,
    doc,
)
from vaultspec.twin.tokens import Principal

router = APIRouter(
    tags=["keys"], responses=KV_ERRORS, route_class=StrictJsonRoute, dependencies=[Depends(api_version_param)]
)
MAXRESULTS = Query(None, description="1..25 items per page")
SKIPTOKEN = Query(None, alias="$skiptoken")


@router.post("/keys/restore", responses={200: doc(KeyBundle)})
async def restore_key(
    body: RestoreParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("restore_key_backup", None)),
) -> Response:
    """Key Vault: Restore Key (POST /keys/restore)."""
    return json_response(backend_of(request).keys.restore_key_backup(call.vault, body.value))


@router.get("/keys", responses={200: doc(KeyListResult)})
async def get_keys(
    request: Request,
    maxresults: int | None = MAXRESULTS,
    skiptoken: str | None = SKIPTOKEN,
    call: DataPlaneCall = Depends(DataPlane("list_properties_of_keys", None)),
) -> Response:
    """Key Vault: Get Keys (GET /keys)."""
    return paged(call, request, backend_of(request).keys.list_keys(call.vault), maxresults, skiptoken)


@router.post("/keys/{name}/create", responses={200: doc(KeyBundle)})
async def create_key(
    name: str,
    body: KeyCreateParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("create_key")),
) -> Response:
    """Key Vault: Create Key (POST /keys/{key-name}/create)."""
    return json_response(backend_of(request).keys.create_key(call.vault, name, body.dump()))


@router.put("/keys/{name}", responses={200: doc(KeyBundle)})
async def import_key(
    name: str,
    body: KeyImportParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("import_key")),
) -> Response:
    """Key Vault: Import Key (PUT /keys/{key-name})."""
    return json_response(backend_of(request).keys.import_key(call.vault, name, body.dump()))


@router.delete("/keys/{name}", responses={200: doc(DeletedKeyBundle)})
async def delete_key(name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("delete_key"))) -> Response:
    """Key Vault: Delete Key (DELETE /keys/{key-name}); the key is visible under /deletedkeys at once."""
    return json_response(backend_of(request).keys.delete_key(call.vault, name))


@router.get("/keys/{name}/versions", responses={200: doc(KeyListResult)})
async def get_key_versions(
    name: str,
    request: Request,
    maxresults: int | None = MAXRESULTS,
    skiptoken: str | None = SKIPTOKEN,
    call: DataPlaneCall = Depends(DataPlane("list_properties_of_key_versions")),
) -> Response:
    """Key Vault: Get Key Versions (GET /keys/{key-name}/versions)."""
    return paged(call, request, backend_of(request).keys.list_key_versions(call.vault, name), maxresults, skiptoken)


@router.post("/keys/{name}/backup", responses={200: doc(BackupResult, "BackupKeyResult")})
async def backup_key(name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("backup_key"))) -> Response:
    """Key Vault: Backup Key (POST /keys/{key-name}/backup)."""
    return json_response({"value": backend_of(request).keys.backup_key(call.vault, name)})


@router.post("/keys/{name}/rotate", responses={200: doc(KeyBundle)})
async def rotate_key(name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("rotate_key"))) -> Response:
    """Key Vault: Rotate Key (POST /keys/{key-name}/rotate)."""
    return json_response(backend_of(request).keys.rotate_key(call.vault, name))


@router.get("/keys/{name}/rotationpolicy", responses={200: doc(KeyRotationPolicyOut, "KeyRotationPolicy")})
async def get_key_rotation_policy(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_key_rotation_policy"))
) -> Response:
    """Key Vault: Get Key Rotation Policy (GET /keys/{key-name}/rotationpolicy)."""
    return json_response(backend_of(request).keys.get_key_rotation_policy(call.vault, name))


@router.put("/keys/{name}/rotationpolicy", responses={200: doc(KeyRotationPolicyOut, "KeyRotationPolicy")})
async def update_key_rotation_policy(
    name: str,
    body: KeyRotationPolicy,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("update_key_rotation_policy")),
) -> Response:
    """Key Vault: Update Key Rotation Policy (PUT /keys/{key-name}/rotationpolicy)."""
    return json_response(backend_of(request).keys.update_key_rotation_policy(call.vault, name, body.dump()))


@router.get("/keys/{name}/{version}", responses={200: doc(KeyBundle)})
async def get_key(
    name: str, version: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_key"))
) -> Response:
    """Key Vault: Get Key (GET /keys/{key-name}/{key-version})."""
    return json_response(backend_of(request).keys.get_key(call.vault, name, version))


@router.get("/keys/{name}/", include_in_schema=False)
async def get_latest_key(name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_key"))) -> Response:
    """Key Vault: Get Key, latest version (the SDK's `/keys/{key-name}/`)."""
    return json_response(backend_of(request).keys.get_key(call.vault, name, ""))


@router.get("/keys/{name}", include_in_schema=False)
async def get_latest_key_no_slash(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_key"))
) -> Response:
    """Key Vault: Get Key, latest version (`/keys/{key-name}`)."""
    return json_response(backend_of(request).keys.get_key(call.vault, name, ""))


@router.patch("/keys/{name}/{version}", responses={200: doc(KeyBundle)})
async def update_key(
    name: str,
    version: str,
    body: KeyUpdateParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("update_key_properties")),
) -> Response:
    """Key Vault: Update Key (PATCH /keys/{key-name}/{key-version})."""
    return json_response(backend_of(request).keys.update_key_properties(call.vault, name, version, body.dump()))


@router.patch("/keys/{name}/", include_in_schema=False)
async def update_latest_key(
    name: str,
    body: KeyUpdateParameters,
    request: Request,
    call: DataPlaneCall = Depends(DataPlane("update_key_properties")),
) -> Response:
    """Key Vault: Update Key, latest version (the SDK's `/keys/{key-name}/`)."""
    return json_response(backend_of(request).keys.update_key_properties(call.vault, name, "", body.dump()))


def _crypto_routes(op: str, operation: str, model: type, method_name: str, summary: str) -> None:
    """Register POST /keys/{name}/{version}/{op} and its latest-version alias /keys/{name}/{op}."""

    async def versioned(
        name: str,
        version: str,
        body: model,
        request: Request,
        call: DataPlaneCall = Depends(DataPlane(operation)),  # type: ignore[valid-type]
    ) -> Response:
        return json_response(getattr(backend_of(request).keys, method_name)(call.vault, name, version, body.dump()))

    async def latest(
        name: str,
        body: model,
        request: Request,
        call: DataPlaneCall = Depends(DataPlane(operation)),  # type: ignore[valid-type]
    ) -> Response:
        return json_response(getattr(backend_of(request).keys, method_name)(call.vault, name, "", body.dump()))

    versioned.__doc__ = f"Key Vault: {summary} (POST /keys/{{key-name}}/{{key-version}}/{op})."
    latest.__doc__ = f"Key Vault: {summary}, latest version (POST /keys/{{key-name}}/{op})."
    versioned.__name__ = f"{method_name}"
    latest.__name__ = f"{method_name}_latest"
    result = KeyVerifyResult if op == "verify" else KeyOperationResult
    router.add_api_route(
        f"/keys/{{name}}/{{version}}/{op}",
        versioned,
        methods=["POST"],
        name=method_name,
        responses={200: doc(result, result.__name__)},
    )
    router.add_api_route(f"/keys/{{name}}/{op}", latest, methods=["POST"], include_in_schema=False)


_crypto_routes("encrypt", "encrypt", KeyOperationsParameters, "encrypt", "Encrypt")
_crypto_routes("decrypt", "decrypt", KeyOperationsParameters, "decrypt", "Decrypt")
_crypto_routes("wrapkey", "wrap_key", KeyOperationsParameters, "wrap_key", "Wrap Key")
_crypto_routes("unwrapkey", "unwrap_key", KeyOperationsParameters, "unwrap_key", "Unwrap Key")
_crypto_routes("sign", "sign", KeySignParameters, "sign", "Sign")
_crypto_routes("verify", "verify", KeyVerifyParameters, "verify", "Verify")
_crypto_routes("release", "release_key", KeyReleaseParameters, "release_key", "Release")


@router.get("/deletedkeys", responses={200: doc(DeletedKeyListResult)})
async def get_deleted_keys(
    request: Request,
    maxresults: int | None = MAXRESULTS,
    skiptoken: str | None = SKIPTOKEN,
    call: DataPlaneCall = Depends(DataPlane("list_deleted_keys", None)),
) -> Response:
    """Key Vault: Get Deleted Keys (GET /deletedkeys)."""
    return paged(call, request, backend_of(request).keys.list_deleted_keys(call.vault), maxresults, skiptoken)


@router.get("/deletedkeys/{name}", responses={200: doc(DeletedKeyBundle)})
async def get_deleted_key(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("get_deleted_key"))
) -> Response:
    """Key Vault: Get Deleted Key (GET /deletedkeys/{key-name})."""
    return json_response(backend_of(request).keys.get_deleted_key(call.vault, name))


@router.delete("/deletedkeys/{name}", status_code=204, responses={204: {"description": "Purged"}})
async def purge_deleted_key(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("purge_deleted_key"))
) -> Response:
    """Key Vault: Purge Deleted Key (DELETE /deletedkeys/{key-name})."""
    backend_of(request).keys.purge_deleted_key(call.vault, name)
    return Response(status_code=204)


@router.post("/deletedkeys/{name}/recover", responses={200: doc(KeyBundle)})
async def recover_deleted_key(
    name: str, request: Request, call: DataPlaneCall = Depends(DataPlane("recover_deleted_key"))
) -> Response:
    """Key Vault: Recover Deleted Key (POST /deletedkeys/{key-name}/recover)."""
    return json_response(backend_of(request).keys.recover_deleted_key(call.vault, name))


_RNG_ON_A_VAULT = (
    "Random bytes (/rng) are a Managed HSM operation; a key vault does not serve them "
    "(use https://<hsm>.managedhsm.azure.net)."
)


@router.post("/rng", responses={400: KV_ERRORS[400]})
async def get_random_bytes(body: GetRandomBytesRequest, principal: Principal = Depends(vault_caller)) -> Response:
    """Key Vault: Get Random Bytes (POST /rng), which keys.json describes for Managed HSM only: a key vault
    answers 400 (the service's HTTP 400 the SDK passes through, Azure/azure-sdk-for-rust#1271)."""
    raise bad_parameter(_RNG_ON_A_VAULT)


@router.get("/rng", include_in_schema=False)
async def get_random_bytes_by_get(principal: Principal = Depends(vault_caller)) -> Response:
    """GET /rng is no operation anywhere: on a key vault it gets the same 400 as POST (the twin's choice)."""
    raise bad_parameter(_RNG_ON_A_VAULT)
