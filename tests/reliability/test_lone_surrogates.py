"""Lone UTF-16 surrogates in JSON bodies: every operation answers a 4xx, never a 500, and keeps the
keep-alive connection open.

The probes sent `{"value":"\\ud800"}` as a secret (data plane and ARM): 500 with a traceback and a dropped
connection. JSON carries such a character as an escape; Python decodes it into a string no UTF-8
encoder takes. The class: a lone surrogate in any string of any body. For every operation of the twin's
own `/openapi.json` that takes a JSON body (data plane, ARM), hypothesis generates bodies (schemathesis,
valid ones, so they reach each operation's own handling) and puts a lone surrogate into every string
value, or into one string anywhere (a value or a key, any depth); the path parameters name real
objects. Every answer must be a 4xx with a JSON error body, sent over the same connection as the next
request. Raw CESU-8 bytes and a body that is a lone surrogate itself go to the raw-ASGI hot paths too.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.reliability.fuzzing import (
    FUZZ_VAULT,
    Target,
    aim,
    every_value_with_a_lone_surrogate,
    load_schema,
    one_string_with_a_lone_surrogate,
    plane_of,
)
from tests.reliability.twinhttp import TwinHttp

SPOILERS = {
    "every-string-value": every_value_with_a_lone_surrogate,
    "one-string-anywhere": one_string_with_a_lone_surrogate,
}


def _operations_with_bodies(http: TwinHttp) -> list[Any]:
    schema = load_schema(http)
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.definition.raw.get("requestBody") and plane_of(op) != "identity"]


def _one_connection(http: TwinHttp) -> requests.Session:
    """A session that keeps exactly one connection, so a dropped connection fails the next request."""
    session = requests.Session()
    session.trust_env = False
    session.verify = http.info.ca_bundle
    session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0))
    return session


@pytest.mark.parametrize("spoiler", sorted(SPOILERS))
def test_a_lone_surrogate_in_any_body_is_4xx_and_keeps_the_connection(http: TwinHttp, spoiler: str) -> None:
    operations = _operations_with_bodies(http)
    assert len(operations) >= 25, [op.path for op in operations]  # every documented body, both planes
    session = _one_connection(http)
    answered: dict[str, int] = {}
    for operation in operations:
        target, pins = aim(http, operation, session)
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=pins)
        spoil = SPOILERS[spoiler]
        cases = strategy.flatmap(lambda case, spoil=spoil: spoil(case.body).map(lambda body: (case, body)))
        label = f"{operation.method.upper()} {operation.path}"
        answered[label] = _refused_every_time(cases, target, session, label)
    labels = {f"{o.method.upper()} {o.path}" for o in operations}
    assert set(answered) == labels, sorted(labels - set(answered))
    data_token = {"Authorization": f"Bearer {http.data_token()}"}
    after = session.get(f"{http.info.vault_url(FUZZ_VAULT)}/secrets?api-version=7.6", headers=data_token)
    assert after.status_code == 200  # the one connection still serves
    session.close()


def _refused_every_time(cases: Any, target: Target, session: requests.Session, label: str) -> int:
    """Send every drawn (case, spoiled body); each must be a 4xx with a JSON error. The last status."""
    statuses: list[int] = []

    @settings(max_examples=3, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(drawn=cases)
    def refused(drawn: tuple[Any, Any]) -> None:
        case, body = drawn
        request = case.as_transport_kwargs(base_url=target.base_url, headers=target.headers)
        request.pop("data", None)
        request["json"] = body  # requests writes lone surrogates as \udXXX escapes
        response = session.request(**request, timeout=60)
        assert 400 <= response.status_code < 500, (label, response.status_code, response.text[:300])
        assert response.headers.get("connection", "").lower() != "close", label
        assert "error" in response.json(), label
        statuses.append(response.status_code)

    refused()
    return statuses[-1]


def _version(http: TwinHttp) -> str:
    created = http.vault("POST", "/keys/surrogate-key/create", json={"kty": "EC", "crv": "P-256"})
    return str(created.json()["key"]["kid"]).rsplit("/", 1)[1]


@pytest.mark.parametrize(
    "body",
    [
        b'{"value": "\\ud800"}',
        b'{"value": "a\\udfffb"}',
        b'{"value": "\\udc00\\ud800"}',  # a pair in the wrong order is two lone surrogates
        b'{"value": "\xed\xa0\x80"}',  # CESU-8 bytes of U+D800 (invalid UTF-8)
        b'{"\\ud800": "x", "value": "ok"}',
        b'"\\ud800"',
    ],
    ids=["escape", "inside", "reversed-pair", "cesu-8-bytes", "in-a-key", "the-whole-body"],
)
def test_hot_paths_and_routes_refuse_lone_surrogates_in_raw_bodies(http: TwinHttp, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    session = _one_connection(http)
    token = {"Authorization": f"Bearer {http.data_token()}", **headers}
    arm = {"Authorization": f"Bearer {http.arm_token()}", **headers}
    vault = http.info.vault_url(http.default_vault)
    arm_secret = f"{http.info.arm_url}{http.vault_path(http.default_vault, 'vaultspec-twin')}/secrets/surrogate"
    sign_body = body.replace(b'"value"', b'"alg": "ES256", "value"', 1) if body.startswith(b"{") else body
    for url, payload, auth in (
        (f"{vault}/secrets/surrogate?api-version=7.6", body, token),  # routed
        (f"{vault}/keys/surrogate-key/{_version(http)}/sign?api-version=7.6", sign_body, token),  # hot path
        (f"{arm_secret}?api-version=2024-11-01", b'{"properties": ' + body + b"}", arm),  # ARM
    ):
        method = "POST" if url.split("?")[0].endswith("/sign") else "PUT"
        response = session.request(method, url, data=payload, headers=auth, timeout=30)
        assert 400 <= response.status_code < 500, (url, response.status_code, response.text[:300])
    assert session.get(f"{vault}/secrets/surrogate?api-version=7.6", headers=token).status_code == 404
    session.close()
