"""Authentication and authorization of each call, as FastAPI dependencies.

Data plane (`NAME.vault.localhost`): no bearer token -> 401 with the Key Vault challenge
`Bearer authorization="https://login.windows.net/<tenant>", resource="https://vault.localhost:<port>"`
(answered before the body is looked at: the SDK's first request has none); a token that fails
validation (signature, RS256, issuer, data-plane audience, tenant, time) -> the same 401. Then the
vault must exist (404 VaultNotFound), and `TwinBackend.authorize` decides (403 ForbiddenBy*).

ARM (`localhost`): a token with a management audience; data-plane tokens are refused and vice versa.
The twin's control plane does not model control-plane RBAC: every authenticated principal of the
tenant acts as subscription Owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from vaultspec.twin.domain.access import OPERATIONS
from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.domain.objects import VaultRef
from vaultspec.twin.errors import ArmError, KeyVaultError
from vaultspec.twin.store import VaultRow
from vaultspec.twin.tokens import InvalidToken, Principal

VAULT_SUFFIX = ".vault.localhost"
ARM_AUDIENCES = frozenset(
    {
        "https://management.azure.com",
        "https://management.azure.com/",
        "https://management.core.windows.net/",
        "https://management.core.windows.net",
    }
)


class Unauthorized(KeyVaultError):
    """401 with the Bearer challenge header (built by the app's exception handler)."""

    def __init__(self, message: str) -> None:
        super().__init__(401, "Unauthorized", message)


def backend_of(request: Request) -> TwinBackend:
    return request.app.state.backend


def vault_name_of(request: Request) -> str | None:
    """`kv1.vault.localhost:8443` -> `kv1`; None for hosts that are not vaults."""
    host = request.headers.get("host", "").lower()
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if host.endswith(VAULT_SUFFIX) and len(host) > len(VAULT_SUFFIX):
        name = host[: -len(VAULT_SUFFIX)]
        return name if "." not in name else None
    return None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def challenge_header(backend: TwinBackend) -> str:
    return (
        f'Bearer authorization="https://login.windows.net/{backend.ids.tenant_id}", '
        f'resource="{backend.data_plane_audience}"'
    )


@dataclass(frozen=True)
class DataPlaneCall:
    """An authenticated, authorized data-plane call on one vault."""

    vault: VaultRef
    row: VaultRow
    principal: Principal


def authenticate(backend: TwinBackend, authorization: str | None) -> Principal:
    """The caller of a data-plane request, from its Authorization header (401 otherwise)."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("AKV10000: Request is missing a Bearer or PoP token.")
    try:
        return backend.tokens.validate(token, backend.data_plane_audiences)
    except InvalidToken as exc:
        raise Unauthorized(f"AKV10022: Invalid token: {exc}.") from exc


def authorize(
    backend: TwinBackend,
    principal: Principal,
    vault_name: str | None,
    operation: str,
    object_name: str | None,
    client: str,
) -> DataPlaneCall:
    """Find the vault (404 VaultNotFound) and decide (403 ForbiddenBy*)."""
    row = backend.vaults.active(vault_name) if vault_name else None
    if row is None:
        raise KeyVaultError(404, "VaultNotFound", f"The vault '{vault_name or ''}' does not exist.")
    decision = backend.authorize(row, principal, operation, object_name, client)
    if not decision.allowed:
        raise KeyVaultError(403, "Forbidden", decision.message, decision.inner_code)
    return DataPlaneCall(backend.vaults.ref(row), row, principal)


def data_plane_principal(request: Request) -> Principal:
    principal = authenticate(backend_of(request), request.headers.get("authorization"))
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
        client = request.client.host if request.client else "127.0.0.1"
        return authorize(backend_of(request), principal, name, self.operation, object_name, client)


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
