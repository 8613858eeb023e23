"""Access property: for random role assignments and access policies, the twin allows exactly what the
reference model (`access_reference.py`, written from Microsoft's documentation) allows.

Each example grants three fresh principals and an application random built-in roles at random scopes
(subscription, resource groups, vaults, single keys and secrets, including look-alike scopes that must
not apply) and random access-policy entries, some of them compound (`applicationId`: the application
acting for the principal), through the twin's ARM API. Then five callers (the three principals, the
application alone, and the application acting on behalf of the first principal) try every key and secret
operation on an RBAC vault and on an access-policy vault. A call counts as denied when the
twin answers 403 with ForbiddenByRbac / ForbiddenByPolicy; anything else (200, 400, 404...) means the
authorization passed. Probe bodies are chosen so that an authorized call fails validation where it
would otherwise change state (e.g. `create` with `kty: oct`), so examples stay independent.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.access_reference import OPS, ROLE_DATA_ACTIONS, PolicyEntry, RoleAssignment, allowed
from tests.reliability.twinhttp import TwinHttp

# CI runs a fixed (derandomized) sample; RELIABILITY_ACCESS_EXAMPLES=N runs N random examples instead.
EXAMPLES = int(os.environ.get("RELIABILITY_ACCESS_EXAMPLES", "20"))
RANDOM_RUN = "RELIABILITY_ACCESS_EXAMPLES" in os.environ
RG, OTHER_RG = "rg-access", "rg-access-other"
RBAC_VAULT, POLICY_VAULT, OTHER_VAULT = "accrbac", "accpolicy", "accother"
KEY, SECRET = "k1", "s1"
NO_VERSION = "0" * 32
KEY_PERMISSIONS = sorted({op.permission for op in OPS.values() if op.kind == "keys"} | {"all"})
SECRET_PERMISSIONS = sorted({op.permission for op in OPS.values() if op.kind == "secrets"} | {"all"})
DENIED = {"ForbiddenByRbac", "ForbiddenByPolicy"}

# operation -> (method, path, JSON body). Destructive calls come last (delete); purge/recover run while
# the object is active (404 when authorized); others get a body that fails validation when authorized.
PROBES: dict[str, tuple[str, str, Any]] = {
    "create_key": ("POST", f"/keys/{KEY}/create", {"kty": "oct"}),
    "import_key": ("PUT", f"/keys/{KEY}", {"key": {"kty": "oct"}}),
    "get_key": ("GET", f"/keys/{KEY}/", None),
    "list_properties_of_keys": ("GET", "/keys", None),
    "list_properties_of_key_versions": ("GET", f"/keys/{KEY}/versions", None),
    "update_key_properties": ("PATCH", f"/keys/{KEY}/", {"key_ops": ["not-an-op"]}),
    "get_deleted_key": ("GET", f"/deletedkeys/{KEY}", None),
    "list_deleted_keys": ("GET", "/deletedkeys", None),
    "recover_deleted_key": ("POST", f"/deletedkeys/{KEY}/recover", None),
    "purge_deleted_key": ("DELETE", f"/deletedkeys/{KEY}", None),
    "backup_key": ("POST", f"/keys/{KEY}/backup", None),
    "restore_key_backup": ("POST", "/keys/restore", {"value": "not-a-backup"}),
    "rotate_key": ("POST", f"/keys/{KEY}/rotate", None),
    "get_key_rotation_policy": ("GET", f"/keys/{KEY}/rotationpolicy", None),
    "update_key_rotation_policy": ("PUT", f"/keys/{KEY}/rotationpolicy", {"lifetimeActions": "nope"}),
    "encrypt": ("POST", f"/keys/{KEY}/{NO_VERSION}/encrypt", {"alg": "RSA-OAEP", "value": "AAAA"}),
    "decrypt": ("POST", f"/keys/{KEY}/decrypt", {"alg": "RSA-OAEP", "value": "AAAA"}),
    "wrap_key": ("POST", f"/keys/{KEY}/{NO_VERSION}/wrapkey", {"alg": "RSA-OAEP", "value": "AAAA"}),
    "unwrap_key": ("POST", f"/keys/{KEY}/unwrapkey", {"alg": "RSA-OAEP", "value": "AAAA"}),
    "sign": ("POST", f"/keys/{KEY}/{NO_VERSION}/sign", {"alg": "ES256", "value": "AAAA"}),  # raw-ASGI hot path
    "verify": ("POST", f"/keys/{KEY}/verify", {"alg": "ES256", "digest": "AAAA", "value": "AAAA"}),
    "release_key": ("POST", f"/keys/{KEY}/{NO_VERSION}/release", {}),
    "set_secret": ("PUT", f"/secrets/{SECRET}", {"value": 5}),
    "get_secret": ("GET", f"/secrets/{SECRET}", None),  # raw-ASGI hot path
    "list_properties_of_secrets": ("GET", "/secrets", None),
    "list_properties_of_secret_versions": ("GET", f"/secrets/{SECRET}/versions", None),
    "update_secret_properties": ("PATCH", f"/secrets/{SECRET}/", {"contentType": 5}),
    "get_deleted_secret": ("GET", f"/deletedsecrets/{SECRET}", None),
    "list_deleted_secrets": ("GET", "/deletedsecrets", None),
    "recover_deleted_secret": ("POST", f"/deletedsecrets/{SECRET}/recover", None),
    "purge_deleted_secret": ("DELETE", f"/deletedsecrets/{SECRET}", None),
    "backup_secret": ("POST", f"/secrets/{SECRET}/backup", None),
    "restore_secret_backup": ("POST", "/secrets/restore", {"value": "not-a-backup"}),
    "delete_key": ("DELETE", f"/keys/{KEY}", None),
    "delete_secret": ("DELETE", f"/secrets/{SECRET}", None),
}


Caller = tuple[str, str | None]  # (oid, appid when an application acts on behalf of oid)


@dataclass
class World:
    http: TwinHttp
    principals: list[str]  # three principals, then the application
    vault_ids: dict[str, str]
    scopes: dict[str, str]
    made: list[str]  # role assignment ids of the current example
    probers: dict[tuple[str, Caller], TwinHttp]  # (vault, caller) -> its own connection and token cache


def _vault_body(http: TwinHttp, rbac: bool, policies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "location": "westeurope",
        "properties": {
            "tenantId": http.info.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": rbac,
            "softDeleteRetentionInDays": 7,
            "accessPolicies": policies,
        },
    }


def _admin_policy(http: TwinHttp) -> dict[str, Any]:
    everything = {"keys": ["all"], "secrets": ["all"]}
    return {"tenantId": http.info.tenant_id, "objectId": http.info.default_object_id, "permissions": everything}


@pytest.fixture(scope="module")
def world(http: TwinHttp) -> Iterator[World]:
    sub = f"/subscriptions/{http.info.subscription_id}"
    vault_ids = {}
    for name, rg, rbac in ((RBAC_VAULT, RG, True), (POLICY_VAULT, RG, False), (OTHER_VAULT, OTHER_RG, True)):
        response = http.arm("PUT", http.vault_path(name, rg), json=_vault_body(http, rbac, [_admin_policy(http)]))
        assert response.status_code in (200, 201), response.text
        vault_ids[name] = response.json()["id"]
    # The default identity administers the RBAC vault (to make the objects the probes aim at).
    admin_role = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
    _assign(http, vault_ids[RBAC_VAULT], http.info.default_object_id, admin_role, str(uuid.uuid4()))
    for vault in (RBAC_VAULT, POLICY_VAULT):
        assert http.vault("POST", f"/keys/{KEY}/create", vault=vault, json={"kty": "EC"}).status_code == 200
        assert http.vault("PUT", f"/secrets/{SECRET}", vault=vault, json={"value": "v"}).status_code == 200
    # The look-alike group must exist: ARM refuses assignments at a group that does not (404).
    look_alike = http.arm("PUT", f"{sub}/resourceGroups/{RG[:-1]}", json={"location": "westeurope"})
    assert look_alike.status_code in (200, 201), look_alike.text
    rbac_vault = vault_ids[RBAC_VAULT]
    scopes = {
        "subscription": sub,
        "resource-group": f"{sub}/resourceGroups/{RG}",
        "other-resource-group": f"{sub}/resourceGroups/{OTHER_RG}",
        "resource-group-prefix": f"{sub}/resourceGroups/{RG[:-1]}",  # rg-acces: must not cover rg-access
        "rbac-vault": rbac_vault,
        "policy-vault": vault_ids[POLICY_VAULT],
        "other-vault": vault_ids[OTHER_VAULT],
        "key": f"{rbac_vault}/keys/{KEY}",
        "key-prefix-trap": f"{rbac_vault}/keys/{KEY}0",  # k10 must not cover k1
        "secret": f"{rbac_vault}/secrets/{SECRET}",
        "secret-named-like-the-key": f"{rbac_vault}/secrets/{KEY}",  # another kind, same name
        "key-in-shouting-case": f"{rbac_vault}/keys/{KEY}".upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"),
    }
    principals = [str(uuid.uuid4()) for _ in range(4)]
    application = principals[3]
    callers: list[Caller] = [(p, None) for p in principals] + [(principals[0], application)]
    probers = {(v, c): TwinHttp(http.info) for v in (RBAC_VAULT, POLICY_VAULT) for c in callers}
    state = World(http, principals, vault_ids, scopes, [], probers)
    yield state
    _clear(state)
    for prober in probers.values():
        prober.close()


def _assign(http: TwinHttp, scope: str, principal: str, role: str, name: str) -> str:
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    body = {
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principalId": principal,
            "principalType": "ServicePrincipal",
        }
    }
    response = http.arm("PUT", path, json=body, api="2022-04-01")
    assert response.status_code in (200, 201), response.text
    return path


def _clear(world: World) -> None:
    for path in world.made:
        assert world.http.arm("DELETE", path, api="2022-04-01").status_code in (200, 204)
    world.made.clear()


def _restore_objects(http: TwinHttp) -> None:
    """Bring back what an authorized delete removed in the previous example."""
    for vault in (RBAC_VAULT, POLICY_VAULT):
        if http.vault("GET", f"/keys/{KEY}/", vault=vault).status_code == 404:
            assert http.vault("POST", f"/deletedkeys/{KEY}/recover", vault=vault).status_code == 200
        if http.vault("GET", f"/secrets/{SECRET}", vault=vault).status_code == 404:
            assert http.vault("POST", f"/deletedsecrets/{SECRET}/recover", vault=vault).status_code == 200


DESTRUCTIVE = ["delete_key", "delete_secret"]
SAFE = [operation for operation in PROBES if operation not in DESTRUCTIVE]


def _probe(http: TwinHttp, vault: str, caller: Caller, operations: list[str]) -> dict[str, bool]:
    """operation -> authorized? for one caller on one vault."""
    token = http.data_token(*caller)
    seen = {}
    for operation in operations:
        method, path, body = PROBES[operation]
        response = http.vault(method, path, vault=vault, token=token, json=body)
        assert response.status_code < 500, (operation, response.status_code, response.text[:200])
        denied = response.status_code == 403 and response.json()["error"].get("innererror", {}).get("code") in DENIED
        seen[operation] = not denied
    return seen


def _observe(world: World) -> dict[tuple[str, Caller], dict[str, bool]]:
    """Every caller x vault x operation. Non-destructive probes run concurrently; the deletes run last,
    one principal after another (a concurrent purge could otherwise remove what a delete just deleted)."""
    jobs = list(world.probers)
    with ThreadPoolExecutor(max_workers=3) as pool:
        observed = dict(zip(jobs, pool.map(lambda job: _probe(world.probers[job], *job, SAFE), jobs), strict=True))
    for job in jobs:
        observed[job].update(_probe(world.probers[job], *job, DESTRUCTIVE))
    return observed


grants = st.tuples(
    st.integers(0, 3),
    st.sampled_from(sorted(ROLE_DATA_ACTIONS)),
    st.sampled_from(
        [
            "subscription",
            "resource-group",
            "other-resource-group",
            "resource-group-prefix",
            "rbac-vault",
            "policy-vault",
            "other-vault",
            "key",
            "key-prefix-trap",
            "secret",
            "secret-named-like-the-key",
            "key-in-shouting-case",
        ]
    ),
)
policy_entries = st.tuples(
    st.integers(0, 3),
    st.frozensets(st.sampled_from(KEY_PERMISSIONS), max_size=6),
    st.frozensets(st.sampled_from(SECRET_PERMISSIONS), max_size=4),
    st.booleans(),  # compound: the entry names the application too
)


def test_the_twin_allows_exactly_what_the_reference_model_allows(world: World) -> None:
    http = world.http

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM_RUN,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        assignment_specs=st.lists(grants, max_size=5, unique=True), policy_specs=st.lists(policy_entries, max_size=4)
    )
    def exactly_as_documented(
        assignment_specs: list[tuple[int, str, str]], policy_specs: list[tuple[int, frozenset[str], frozenset[str]]]
    ) -> None:
        _clear(world)
        _restore_objects(http)
        assignments = []
        for who, role, scope_name in assignment_specs:
            grant = RoleAssignment(world.principals[who], role, world.scopes[scope_name])
            if any(
                (a.principal, a.role_guid, a.scope.lower()) == (grant.principal, role, grant.scope.lower())
                for a in assignments
            ):
                continue  # ARM refuses the same (principal, role, scope) twice
            assignments.append(grant)
            world.made.append(_assign(http, grant.scope, grant.principal, role, str(uuid.uuid4())))
        application = world.principals[3]
        policies = [
            PolicyEntry(world.principals[who], keys, secrets, application if compound else None)
            for who, keys, secrets, compound in policy_specs
        ]
        entries = [_admin_policy(http)] + [
            {
                "tenantId": http.info.tenant_id,
                "objectId": p.principal,
                **({"applicationId": p.application} if p.application else {}),
                "permissions": {"keys": sorted(p.keys), "secrets": sorted(p.secrets)},
            }
            for p in policies
        ]
        patched = http.arm("PATCH", http.vault_path(POLICY_VAULT, RG), json={"properties": {"accessPolicies": entries}})
        assert patched.status_code == 200, patched.text

        mismatches = []
        for (vault, (principal, app)), seen in _observe(world).items():
            for operation, twin_allows in seen.items():
                expected = allowed(
                    rbac=vault == RBAC_VAULT,
                    vault_id=world.vault_ids[vault],
                    principal=principal,
                    operation=operation,
                    object_name=SECRET if OPS[operation].kind == "secrets" else KEY,
                    assignments=assignments,
                    policies=policies,
                    application=app,
                )
                if expected != twin_allows:
                    who = world.principals.index(principal)
                    caller = f"principal#{who}" + (" via the application" if app else "")
                    verdicts = f"twin allows: {twin_allows}, reference allows: {expected}"
                    mismatches.append(f"{vault} {caller} {operation}: {verdicts}")
        assert not mismatches, "\n".join(mismatches)

    exactly_as_documented()
