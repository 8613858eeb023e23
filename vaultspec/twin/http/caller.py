"""Who is calling and may they: the data plane's authentication and authorization, without FastAPI.

Data plane (`NAME.vault.localhost`): no bearer token -> 401 with the Key Vault challenge
`Bearer authorization="https://login.windows.net/<tenant>", resource="https://vault.localhost:<port>"`
(answered before the body is looked at: the SDK's first request has none), where <tenant> is the vault's
`tenantId` (the twin's tenant for a vault that does not exist); a token that fails validation
(signature, RS256, issuer, data-plane audience, time) -> the same 401, and so does a valid token of
another tenant than the vault's (`AKV10032: Invalid issuer`, as Key Vault answers a vault whose
tenantId is not the caller's: the SDK's TROUBLESHOOTING.md). The twin issues tokens for its own tenant
only, so a vault with a foreign tenantId is unreachable on the data plane, as it is in Azure from any
other tenant. Then the request must name a well-formed api-version (400 BadParameter), an object name
must be valid (400 BadParameter "The request URI contains an invalid name", which Key Vault answers for
every operation, not only create/import/set), the vault must exist (404 VaultNotFound), and the backend
decides (403 ForbiddenBy*).

Both the raw-ASGI hot paths and the FastAPI dependencies (`auth.DataPlane`) use these functions,
so this module imports nothing of FastAPI: the twin answers its first requests before FastAPI loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from vaultspec.twin.domain.access import OPERATIONS
from vaultspec.twin.domain.backend import TwinBackend
from vaultspec.twin.domain.objects import VaultRef, check_name
from vaultspec.twin.errors import KeyVaultError, bad_parameter
from vaultspec.twin.store import VaultRow
from vaultspec.twin.tokens import InvalidToken, Principal

VAULT_SUFFIX = ".vault.localhost"


class Unauthorized(KeyVaultError):
    """401 with the Bearer challenge header (built by whoever answers)."""

    def __init__(self, message: str) -> None:
        super().__init__(401, "Unauthorized", message)


def vault_name_from_host(host: str) -> str | None:
    """`kv1.vault.localhost:8443` -> `kv1`; None for hosts that are not vaults."""
    host = host.lower()
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if host.endswith(VAULT_SUFFIX) and len(host) > len(VAULT_SUFFIX):
        name = host[: -len(VAULT_SUFFIX)]
        return name if "." not in name else None
    return None


def vault_tenant(backend: TwinBackend, vault_name: str | None) -> str:
    """The tenant a vault's data plane belongs to: its `tenantId`, or the twin's for an unknown vault."""
    row = backend.vaults.active(vault_name) if vault_name else None
    return str(row.body["properties"]["tenantId"]) if row is not None else backend.ids.tenant_id


def challenge_header(backend: TwinBackend, vault_name: str | None) -> str:
    return (
        f'Bearer authorization="https://login.windows.net/{vault_tenant(backend, vault_name)}", '
        f'resource="{backend.data_plane_audience}"'
    )


API_VERSION_RE = re.compile(r"(\d+\.\d+|\d{4}-\d{2}-\d{2})(-preview(\.\d+)?)?")
LATEST_API_VERSION = "7.6"


def check_api_version(query_string: bytes) -> None:
    """Every data-plane request names one well-formed api-version (400 BadParameter otherwise).

    Malformed: Key Vault's own answer, "The specified version (X) is not recognized. Consider using the
    latest supported version (Y)." (Azure/azure-sdk-for-net#14789). Missing: the REST specs mark the
    parameter required; the message is the twin's. A well-formed version the twin has not heard of is
    served as the latest (lenient, so newer SDKs work; Key Vault refuses versions it does not know).
    """
    values = parse_qs(query_string.decode("latin-1"), keep_blank_values=True).get("api-version", [])
    if not values or values == [""]:
        raise bad_parameter(
            f"The api-version query parameter is missing: every request names one (?api-version={LATEST_API_VERSION})."
        )
    if len(values) > 1 or not API_VERSION_RE.fullmatch(values[0]):
        raise bad_parameter(
            f"The specified version ({','.join(v[:64] for v in values)}) is not recognized. Consider using the "
            f"latest supported version ({LATEST_API_VERSION})."
        )


@dataclass(frozen=True)
class DataPlaneCall:
    """An authenticated, authorized data-plane call on one vault."""

    vault: VaultRef
    row: VaultRow
    principal: Principal


def authenticate(backend: TwinBackend, authorization: str | None, vault_name: str | None) -> Principal:
    """The caller of a data-plane request on `vault_name`, from its Authorization header (401 otherwise,
    also for a token of another tenant than the vault's)."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("AKV10000: Request is missing a Bearer or PoP token.")
    try:
        principal = backend.tokens.validate(token, backend.data_plane_audiences)
    except InvalidToken as exc:
        raise Unauthorized(f"AKV10022: Invalid token: {exc}.") from exc
    tenant = vault_tenant(backend, vault_name)
    if principal.tenant_id.lower() != tenant.lower():
        raise Unauthorized(
            f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{tenant}/, "
            f"found https://sts.windows.net/{principal.tenant_id}/."
        )
    return principal


def authorize(
    backend: TwinBackend,
    principal: Principal,
    vault_name: str | None,
    operation: str,
    object_name: str | None,
    client: str,
) -> DataPlaneCall:
    """Check the object name (400 BadParameter, for every operation), find the vault (404 VaultNotFound)
    and decide (403 ForbiddenBy*)."""
    if object_name is not None:
        check_name(object_name, OPERATIONS[operation].kind.removesuffix("s"))
    access = backend.access(vault_name, principal, operation, object_name, client) if vault_name else None
    if access is None or access.row is None or access.ref is None:
        raise KeyVaultError(404, "VaultNotFound", f"The vault '{vault_name or ''}' does not exist.")
    decision = access.decision
    if not decision.allowed:
        raise KeyVaultError(403, "Forbidden", decision.message, decision.inner_code)
    return DataPlaneCall(access.ref, access.row, principal)
