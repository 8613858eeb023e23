"""The deploying identity's principal type, read from its own token, so one spec serves people and pipelines.

A role assignment names the principal's type, and ARM refuses a wrong one (`UnmatchedPrincipalType`):
a person deploying after `az login` is a `User`, a pipeline's service principal (OIDC, secret or
certificate) or managed identity is a `ServicePrincipal`. `getClientConfig` gives the object id but not
the type, so the component asks the provider for the deployer's ARM token
(`azure-native:authorization:getClientToken`) and reads its claims (Microsoft identity platform,
"Access token claims reference" and "Optional claims reference", learn.microsoft.com/entra/identity-platform):

1. `idtyp`: `app` for an app-only token ("the most accurate way for an API to determine if a token is
   an app token or an app+user token"), `user` for a delegated one;
2. else `scp`: delegated permissions, "only included for user tokens" -> User;
3. else an app-only token (client credentials carry `roles`, if anything, never `scp`) -> ServicePrincipal,
   provided it names a client at all (`appid` in v1.0 tokens, `azp` in v2.0, or `oid`).

The signature is not checked (the provider just obtained the token, and nothing here is authorized
by it). The token stays a secret Output and never appears in a message; only the type, which is not
sensitive, is unsecreted for the role assignments' `principalType`.
"""

from typing import Any

import jwt
import pulumi
from pulumi_azure_native import authorization

USER = "User"
SERVICE_PRINCIPAL = "ServicePrincipal"
DEPLOYER_PRINCIPAL_TYPES = (USER, SERVICE_PRINCIPAL)
SET_IT = "set access.deployer_principal_type (spec: access.deployerPrincipalType) to User or ServicePrincipal"


class DeployerIdentityError(Exception):
    """The deploying identity's type cannot be told from its token; the message never holds the token."""


def principal_type_of_claims(claims: dict[str, Any]) -> str:
    """`User` or `ServicePrincipal` from an ARM access token's claims (see the module docstring)."""
    identity_type = str(claims.get("idtyp") or "").lower()
    if identity_type == "app":
        return SERVICE_PRINCIPAL
    if identity_type == "user":
        return USER
    if claims.get("scp"):
        return USER
    if any(claims.get(claim) for claim in ("appid", "azp", "oid")):
        return SERVICE_PRINCIPAL
    raise DeployerIdentityError(
        "the deploying identity's token names neither a user (idtyp, scp) nor an application (appid, azp, oid); "
        + SET_IT
    )


def principal_type_of_token(token: str) -> str:
    """`User` or `ServicePrincipal` for a JWT access token (signature not verified: see the module docstring)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise DeployerIdentityError(f"the deploying identity's token is not a readable JWT; {SET_IT}") from None
    return principal_type_of_claims(claims)


def deployer_principal_type(parent: pulumi.Resource) -> pulumi.Output[str]:
    """The deployer's principal type, from the token `azure-native:authorization:getClientToken` returns."""
    result = authorization.get_client_token_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    token = pulumi.Output.secret(result.token)
    return pulumi.Output.unsecret(token.apply(principal_type_of_token))
