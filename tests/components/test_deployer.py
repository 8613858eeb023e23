"""The deploying identity's principal type comes from its own token, so people and pipelines share one spec.

Rendered under the offline Azure mock, whose `getClientToken` answers a JWT describing its identity as
the Microsoft identity platform would (a user: `idtyp: user`, `scp`; an application: `idtyp: app`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from vaultspec.components.deployer import DeployerIdentityError, principal_type_of_claims, principal_type_of_token
from vaultspec.engine.azure_mock import CLIENT_TOKEN, AzureIdentity, AzureMockBackend
from vaultspec.engine.recording import Rendering
from vaultspec.engine.values import printable

from .conftest import ROLE

RBAC_VAULT = """\
- name: alpha-kv
  access: {model: rbac}
  keys: [{name: k1, type: RSA-HSM, ops: [sign, verify]}]
"""
APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


class CountingBackend(AzureMockBackend):
    """The Azure mock, counting the identity functions it is asked."""

    def __init__(self, identity: AzureIdentity) -> None:
        super().__init__(identity)
        self.calls: list[str] = []

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(token)
        return super().call(token, args)


def deployer_types(rendering: Rendering) -> set[str]:
    return {r.inputs["principalType"] for r in rendering.of_type(ROLE) if r.name.endswith("/deployer")}


@pytest.mark.parametrize("principal_type", ["User", "ServicePrincipal"])
def test_the_deployers_assignments_take_the_type_its_token_shows(
    render_vaults: Callable[..., Rendering], principal_type: str
):
    backend = CountingBackend(AzureIdentity(principal_type=principal_type))
    rendering = render_vaults(RBAC_VAULT, backend=backend)
    assert deployer_types(rendering) == {principal_type}
    assert CLIENT_TOKEN in backend.calls


def test_a_given_principal_type_wins_and_no_token_is_asked_for(render_vaults: Callable[..., Rendering]):
    backend = CountingBackend(AzureIdentity(principal_type="User"))
    given = RBAC_VAULT.replace("{model: rbac}", "{model: rbac, deployerPrincipalType: ServicePrincipal}")
    rendering = render_vaults(given, backend=backend)
    assert deployer_types(rendering) == {"ServicePrincipal"}
    assert CLIENT_TOKEN not in backend.calls


@pytest.mark.parametrize(
    "access",
    ["{model: accessPolicies}", "{model: rbac, deployer: none}"],
)
def test_no_token_is_asked_for_when_the_deployer_gets_no_role(render_vaults: Callable[..., Rendering], access: str):
    backend = CountingBackend(AzureIdentity(principal_type="User"))
    render_vaults(RBAC_VAULT.replace("{model: rbac}", access), backend=backend)
    assert CLIENT_TOKEN not in backend.calls


def test_the_token_never_reaches_the_rendering(render_vaults: Callable[..., Rendering]):
    identity = AzureIdentity(principal_type="User")
    rendering = render_vaults(RBAC_VAULT, backend=AzureMockBackend(identity))
    token = identity.client_token()
    everything = json.dumps(
        [printable(r.inputs) for r in rendering.resources] + [printable(r.outputs) for r in rendering.resources]
    )
    assert token not in everything and token not in " ".join(m.message for m in rendering.messages)


def test_the_mock_token_describes_its_identity_as_the_identity_platform_would():
    user = jwt.decode(AzureIdentity(principal_type="User").client_token(), options={"verify_signature": False})
    app = jwt.decode(AzureIdentity().client_token(), options={"verify_signature": False})
    assert (user["idtyp"], user["scp"]) == ("user", "user_impersonation")
    assert app["idtyp"] == "app" and "scp" not in app
    assert user["oid"] == app["oid"] == AzureIdentity().object_id and user["aud"] == "https://management.azure.com/"


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"idtyp": "app", "oid": "x"}, "ServicePrincipal"),  # app-only: service principal or managed identity
        ({"idtyp": "user", "scp": "user_impersonation"}, "User"),  # `az login` as a person
        ({"scp": "user_impersonation", "oid": "x"}, "User"),  # no idtyp (an optional claim): delegated scopes
        ({"appid": APP_ID, "oid": "x", "roles": ["x"]}, "ServicePrincipal"),  # no idtyp, no scp: app-only
        ({"azp": APP_ID, "oid": "x"}, "ServicePrincipal"),  # a v2.0 app-only token
        ({"idtyp": "App", "scp": "ignored"}, "ServicePrincipal"),  # idtyp decides first
    ],
)
def test_principal_type_of_claims(claims: dict[str, Any], expected: str):
    assert principal_type_of_claims(claims) == expected


def test_a_token_without_any_identity_claim_asks_for_the_type_to_be_set():
    with pytest.raises(DeployerIdentityError, match="deployer_principal_type"):
        principal_type_of_claims({"aud": "https://management.azure.com/"})


def test_an_unreadable_token_is_an_error_that_never_repeats_it():
    canary = "not-a-jwt-canary-5f0e1d2c"
    with pytest.raises(DeployerIdentityError) as raised:
        principal_type_of_token(canary)
    assert canary not in str(raised.value) and raised.value.__cause__ is None
