"""Authentication and authorization of each call, as FastAPI dependencies.

The data-plane rules themselves live in `caller` (no FastAPI there, so the raw hot paths share them);
this module re-exports them and adds the dependencies the routers declare.

ARM (`localhost`): a token with a management audience; data-plane tokens are refused and vice versa.
The twin's control plane does not model control-plane RBAC: every authenticated principal of the
tenant acts as subscription Owner.
"""

from __future__ import annotations

from fastapi import Query, Request

from vaultspec.twin.domain.access import OPERATIONS
from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.errors import ArmError, KeyVaultError
from vaultspec.twin.http.caller import (
    API_VERSION_RE,
    VAULT_SUFFIX,
    DataPlaneCall,
    Unauthorized,
    authenticate,
    authorize,
    challenge_header,
    check_api_version,
    vault_name_from_host,
)
from vaultspec.twin.tokens import InvalidToken, Principal

__all__ = [
    "ARM_AUDIENCES",
    "VAULT_SUFFIX",
    "DataPlane",
    "DataPlaneCall",
    "Unauthorized",
    "api_version_param",
    "arm_principal",
    "authenticate",
    "authorize",
    "backend_of",
    "bearer_token",
    "challenge_header",
    "data_plane_principal",
    "vault_caller",
    "vault_name_of",
]

ARM_AUDIENCES = frozenset(
    {
        "https://management.azure.com",
        "https://management.azure.com/",
        "https://management.core.windows.net/",
        "https://management.core.windows.net",
    }
)


def backend_of(request: Request) -> TwinBackend:
    return request.app.state.backend


def vault_name_of(request: Request) -> str | None:
    """`kv1.vault.localhost:8443` -> `kv1`; None for hosts that are not vaults."""
    return vault_name_from_host(request.headers.get("host", ""))


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def data_plane_principal(request: Request) -> Principal:
    principal = authenticate(backend_of(request), request.headers.get("authorization"), vault_name_of(request))
    request.state.principal = principal.object_id
    request.state.app_id = principal.app_id
    return principal


class DataPlane:
    """Dependency: `Depends(DataPlane("sign"))` authenticates, finds the vault, authorizes."""

    def __init__(self, operation: str, object_param: str | None = "name") -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation}")
        self.operation = operation
        self.audit_name = OPERATIONS[operation].audit_name
        self.object_param = object_param

    async def __call__(self, request: Request) -> DataPlaneCall:
        state = request.state
        state.plane = "data"
        state.operation = self.audit_name
        name = vault_name_of(request)
        state.vault = name
        object_name = request.path_params.get(self.object_param) if self.object_param else None
        state.object = object_name
        principal = data_plane_principal(request)
        check_api_version(request.scope.get("query_string", b""))
        client = request.client.host if request.client else "127.0.0.1"
        return authorize(backend_of(request), principal, name, self.operation, object_name, client)


def api_version_param(
    api_version: str = Query(
        ...,
        alias="api-version",
        pattern=f"^{API_VERSION_RE.pattern}$",
        description="Key Vault REST api-version, e.g. 7.6 or 2025-07-01 (required)",
    ),
) -> None:
    """Router dependency of the data plane: documents the required api-version (what `check_api_version`
    enforces, with Key Vault's messages, after authentication)."""


def vault_caller(request: Request) -> Principal:
    """Dependency of data-plane calls that authorize nothing (a Managed HSM operation sent to a vault):
    the caller is authenticated, the api-version is well formed and the vault exists (404 otherwise)."""
    state = request.state
    state.plane = "data"
    name = vault_name_of(request)
    state.vault = name
    principal = data_plane_principal(request)
    check_api_version(request.scope.get("query_string", b""))
    if name is None or backend_of(request).vaults.active(name) is None:
        raise KeyVaultError(404, "VaultNotFound", f"The vault '{name or ''}' does not exist.")
    return principal


def arm_principal(request: Request) -> Principal:
    """Dependency for every ARM route: a valid management-audience token."""
    state = request.state
    state.plane = "arm"
    route = request.scope.get("route")
    state.operation = f"{request.method} {route.path if route else request.url.path}"
    state.object = request.url.path
    backend = backend_of(request)
    token = bearer_token(request)
    if token is None:
        raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    try:
        principal = backend.tokens.validate(token, ARM_AUDIENCES)
    except InvalidToken as exc:
        raise ArmError(401, "InvalidAuthenticationToken", f"The access token is invalid: {exc}.") from exc
    state.principal = principal.object_id
    state.app_id = principal.app_id
    return principal
