"""The default offline backend: answers registrations as Azure Resource Manager would, no network.

ARM ids, vault/key/secret URIs and deterministic versions, what `getClientConfig` and
`getClientToken` return (the deploying identity), generated passwords. `vaultspec plan` renders
against it; the apply engine's twin backend reuses its identity and id scheme and sends each
resource to the twin instead.

`getClientToken` answers a JWT-shaped token whose claims describe the mock identity the way the
Microsoft identity platform describes the real one in an ARM token: `tid`, `oid`, `appid`, `ver`
1.0 and, for a person (`principal_type="User"`), `idtyp: user` with the delegated scope
`scp: user_impersonation`; for an application or managed identity, `idtyp: app` and no `scp`. It is
unsigned (`alg: none`): nothing offline verifies it, and it is returned as a secret like any token.
"""

from __future__ import annotations

import secrets as random_source
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from vaultspec.engine.recording import RenderedResource
from vaultspec.engine.values import Concealed, reveal

CLIENT_CONFIG = "azure-native:authorization:getClientConfig"
CLIENT_TOKEN = "azure-native:authorization:getClientToken"
ARM_AUDIENCE = "https://management.azure.com/"
TOKEN_ISSUED_AT = 1_767_225_600  # fixed, so renders stay deterministic; nothing offline checks it


@dataclass(frozen=True)
class AzureIdentity:
    """The deploying identity, as `getClientConfig` and `getClientToken` describe it."""

    tenant_id: str = "11111111-1111-1111-1111-111111111111"
    subscription_id: str = "22222222-2222-2222-2222-222222222222"
    object_id: str = "33333333-3333-3333-3333-333333333333"
    client_id: str = "44444444-4444-4444-4444-444444444444"
    principal_type: Literal["User", "ServicePrincipal"] = "ServicePrincipal"

    def client_config(self) -> dict[str, Any]:
        """`getClientConfig`'s result (wire names)."""
        return {
            "clientId": self.client_id,
            "objectId": self.object_id,
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
        }

    def token_claims(self) -> dict[str, Any]:
        """The claims of an ARM access token (v1.0) for this identity."""
        claims: dict[str, Any] = {
            "aud": ARM_AUDIENCE,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": TOKEN_ISSUED_AT,
            "nbf": TOKEN_ISSUED_AT,
            "exp": TOKEN_ISSUED_AT + 3600,
            "tid": self.tenant_id,
            "oid": self.object_id,
            "sub": self.object_id,
            "appid": self.client_id,
            "ver": "1.0",
        }
        if self.principal_type == "User":
            claims.update(idtyp="user", scp="user_impersonation")
        else:
            claims["idtyp"] = "app"
        return claims

    def client_token(self) -> str:
        """`getClientToken`'s token: an unsigned JWT carrying `token_claims()`."""
        return jwt.encode(self.token_claims(), key=None, algorithm="none")


class UnsupportedCall(Exception):
    """A provider function the offline backend cannot answer."""


_VERSION_NAMESPACE = uuid.UUID("0b8c6f2a-43f1-5e0d-9a7b-6c5d4e3f2a1b")
PASSWORD_SPECIALS = "!@#$%&*()-_=+[]{}<>:?"


class AzureMockBackend:
    """Answers like Azure Resource Manager would, without any network: ids, URIs, generated values."""

    def __init__(self, identity: AzureIdentity | None = None) -> None:
        self.identity = identity or AzureIdentity()

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        answer = identity_function(self.identity, token)
        if answer is None:
            raise UnsupportedCall(f"offline rendering cannot answer the function {token}")
        return answer

    def create(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        handler = self._handlers.get(resource.type)
        if handler is None:
            return f"{resource.name}-id", dict(resource.inputs)
        return handler(self, resource.inputs)

    def vault_id(self, resource_group: str, vault: str) -> str:
        return (
            f"/subscriptions/{self.identity.subscription_id}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.KeyVault/vaults/{vault}"
        )

    def _vault(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        name = plain["vaultName"]
        extra = {"vaultUri": f"https://{name}.vault.azure.net/", "provisioningState": "Succeeded"}
        if "accessPolicies" not in (plain.get("properties") or {}):
            extra["accessPolicies"] = []  # what Azure holds after the provider's create
        outputs = {
            "name": name,
            "type": "Microsoft.KeyVault/vaults",
            "location": inputs.get("location"),
            "tags": inputs.get("tags", {}),
            "properties": _extend(inputs.get("properties"), extra),
            "azureApiVersion": "2024-11-01",
        }
        return self.vault_id(plain["resourceGroupName"], name), outputs

    def _key(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        vault, name = plain["vaultName"], plain["keyName"]
        key_id = f"{self.vault_id(plain['resourceGroupName'], vault)}/keys/{name}"
        uri = f"https://{vault}.vault.azure.net/keys/{name}"
        properties = plain.get("properties") or {}
        concealed = isinstance(inputs.get("properties"), Concealed)
        flattened = {k: Concealed(v) if concealed else v for k, v in properties.items() if k != "attributes"}
        outputs = {
            "name": name,
            "type": "Microsoft.KeyVault/vaults/keys",
            "tags": inputs.get("tags", {}),
            "keyUri": uri,
            "keyUriWithVersion": f"{uri}/{uuid.uuid5(_VERSION_NAMESPACE, key_id).hex}",
            **flattened,
            "attributes": {**properties.get("attributes", {}), "recoveryLevel": "Recoverable"},
            "azureApiVersion": "2024-11-01",
        }
        return key_id, outputs

    def _secret(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        vault, name = plain["vaultName"], plain["secretName"]
        secret_id = f"{self.vault_id(plain['resourceGroupName'], vault)}/secrets/{name}"
        uri = f"https://{vault}.vault.azure.net/secrets/{name}"
        # ARM never returns a secret's value; nothing else in a secret's properties is sensitive.
        properties = {k: v for k, v in (plain.get("properties") or {}).items() if k != "value"}
        properties.update(secretUri=uri, secretUriWithVersion=f"{uri}/{uuid.uuid5(_VERSION_NAMESPACE, secret_id).hex}")
        outputs = {
            "name": name,
            "type": "Microsoft.KeyVault/vaults/secrets",
            "tags": inputs.get("tags", {}),
            "properties": properties,
            "azureApiVersion": "2024-11-01",
        }
        return secret_id, outputs

    def _role_assignment(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        name = plain.get("roleAssignmentName") or str(uuid.uuid4())
        outputs = {**inputs, "name": name, "type": "Microsoft.Authorization/roleAssignments"}
        return f"{plain['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}", outputs

    def _diagnostic_setting(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        name = plain.get("name", "default")
        outputs = {**inputs, "type": "Microsoft.Insights/diagnosticSettings"}
        return f"{plain['resourceUri']}/providers/Microsoft.Insights/diagnosticSettings/{name}", outputs

    def _lock(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        name = plain.get("lockName", "lock")
        outputs = {**inputs, "name": name, "type": "Microsoft.Authorization/locks"}
        return f"{plain['scope']}/providers/Microsoft.Authorization/locks/{name}", outputs

    def _random_password(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        plain = reveal(inputs)
        alphabet = string.ascii_letters + string.digits + (PASSWORD_SPECIALS if plain.get("special", True) else "")
        value = "".join(random_source.choice(alphabet) for _ in range(int(plain.get("length", 32))))
        return "none", {**inputs, "result": Concealed(value)}

    _handlers: dict[str, Callable[[AzureMockBackend, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
        "azure-native:keyvault:Vault": _vault,
        "azure-native:keyvault:Key": _key,
        "azure-native:keyvault:Secret": _secret,
        "azure-native:authorization:RoleAssignment": _role_assignment,
        "azure-native:monitor:DiagnosticSetting": _diagnostic_setting,
        "azure-native:authorization:ManagementLockByScope": _lock,
        "random:index/randomPassword:RandomPassword": _random_password,
    }


def identity_function(identity: AzureIdentity, token: str) -> dict[str, Any] | None:
    """The answer of a provider function that describes the deploying identity, or None for any other."""
    if token == CLIENT_CONFIG:
        return identity.client_config()
    if token == CLIENT_TOKEN:
        return {"token": Concealed(identity.client_token())}
    return None


class IdentityFunctions:
    """A backend that also answers the identity functions from its `identity` when it does not itself.

    The offline apply engine's twin backend answers `getClientConfig` only; the components also ask
    for `getClientToken` (the deployer's principal type). Both describe the same identity, so any
    backend that holds one can answer both. (The real engine's twin provider answers them itself.)
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def create(self, resource: RenderedResource) -> tuple[str, dict[str, Any]]:
        return self.backend.create(resource)

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.backend.call(token, args)
        except UnsupportedCall:
            identity = getattr(self.backend, "identity", None)
            answer = identity_function(identity, token) if isinstance(identity, AzureIdentity) else None
            if answer is None:
                raise
            return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def _extend(value: Any, extra: dict[str, Any]) -> Any:
    """A dict (possibly concealed as a whole) with `extra` keys added, its secretness kept."""
    if isinstance(value, Concealed):
        return Concealed({**(reveal(value) or {}), **extra})
    return {**(value or {}), **extra}
