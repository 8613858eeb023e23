"""How the stand-in providers reach the twin: the deploying identity, ARM and the data plane.

The engine starts provider plugins with its own environment, which `vaultspec up` sets:
`VAULTSPEC_TWIN_DATA` names the data dir of the running twin (its `twin.json` gives the ARM URL,
CA bundle, identity endpoint and subscription). The deploying identity is the twin's managed identity
(App Service style, like azure-native's MSI login), so every call is authorized by the twin exactly as
a real deployment's calls are authorized by Azure.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from azure.identity import ManagedIdentityCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient

from vaultspec import localhost
from vaultspec.twin.provider.arm_client import ARM_SCOPE, ArmClient
from vaultspec.twin.provider.plumbing import ProviderError
from vaultspec.twin.server import TwinInfo, find_running

DATA_DIR_VARIABLE = "VAULTSPEC_TWIN_DATA"


@dataclass
class Twin:
    """The twin the plugin deploys to, as its default identity."""

    info: TwinInfo

    @cached_property
    def credential(self) -> ManagedIdentityCredential:
        os.environ["IDENTITY_ENDPOINT"] = self.info.identity_endpoint
        os.environ["IDENTITY_HEADER"] = self.info.identity_header()
        return ManagedIdentityCredential(connection_verify=self.info.ca_bundle)

    @cached_property
    def arm(self) -> ArmClient:
        return ArmClient(self.info.arm_url, self.credential, self.info.ca_bundle)

    @property
    def subscription_id(self) -> str:
        return self.info.subscription_id

    def vault_url(self, vault_name: str) -> str:
        return self.info.vault_url(vault_name)

    def key_client(self, vault_name: str) -> KeyClient:
        """The data plane's key client of a vault, as the deploying identity."""
        return KeyClient(self.vault_url(vault_name), self.credential, connection_verify=self.info.ca_bundle)

    def secret_client(self, vault_name: str) -> SecretClient:
        return SecretClient(self.vault_url(vault_name), self.credential, connection_verify=self.info.ca_bundle)

    def client_config(self) -> dict[str, str]:
        """What `authorization:getClientConfig` answers: the identity in the deploying token's claims."""
        claims = token_claims(self.credential.get_token(ARM_SCOPE).token)
        return {
            "clientId": str(claims.get("appid") or claims.get("azp") or claims.get("oid") or ""),
            "objectId": str(claims.get("oid") or ""),
            "subscriptionId": self.subscription_id,
            "tenantId": str(claims.get("tid") or self.info.tenant_id),
        }

    def client_token(self, endpoint: str | None) -> str:
        """What `authorization:getClientToken` answers: an access token for ARM (or `endpoint`)."""
        scope = f"{endpoint.rstrip('/')}/.default" if endpoint else ARM_SCOPE
        return self.credential.get_token(scope).token


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT the identity endpoint issued (read, not verified: the twin verifies them)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


_TWIN: Twin | None = None


def twin() -> Twin:
    """The twin named by VAULTSPEC_TWIN_DATA (connected once per plugin process)."""
    global _TWIN
    if _TWIN is None:
        data = os.environ.get(DATA_DIR_VARIABLE)
        if not data:
            raise ProviderError(
                f"{DATA_DIR_VARIABLE} is not set: the twin's provider plugins only run under `vaultspec up`, "
                "which points them at a running twin"
            )
        info = find_running(Path(data))
        if info is None:
            raise ProviderError(f"no twin is running for {data}; start it with `vaultspec twin serve --data {data}`")
        localhost.install()
        _TWIN = Twin(info)
    return _TWIN
