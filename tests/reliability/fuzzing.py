"""Schemathesis against the twin's served OpenAPI document, with real tokens on each plane.

`fuzz(info, ...)` loads `https://localhost:PORT/openapi.json`, and for every documented operation
generates cases (positive and negative, see schemathesis' GenerationMode) in two profiles:
`random` (every path parameter generated) and `pinned` (path parameters naming real objects, so
generated bodies reach the operations' own validation). Data-plane operations go to
`https://fuzzkv.vault.localhost:PORT` with a data-plane token, ARM ones to `https://localhost:PORT`
with a management token, the identity endpoint with its header secret. Each response must pass:
no 5xx, a documented status code, the documented content type, documented headers, and the
documented response schema. Failures are collected, not raised, so a long run counts them all.

Generated bodies are widened with lone UTF-16 surrogates (`with_lone_surrogates`): about half get one
string, a value or a key at any depth, holding a character from U+D800..U+DFFF, which JSON carries as a
`\ud800`-style escape. schemathesis (hypothesis' `text()`) never generates those by itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.twinhttp import TwinHttp

FUZZ_VAULT = "fuzzkv"
FUZZ_RG = "rg-fuzz"
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class FuzzReport:
    cases: int = 0
    server_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # one line per distinct (operation, check, status)
    unsatisfiable: list[str] = field(default_factory=list)  # operation x mode with no case to generate
    labels: list[str] = field(default_factory=list)  # every operation x mode x profile run

    def merge_failure(self, text: str) -> None:
        if text not in self.failures:
            self.failures.append(text)


LONE_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
Path = tuple[Any, ...]


def _string_places(value: Any, path: Path = ()) -> list[tuple[Path, bool]]:
    """Where strings are in a JSON value: (path, is a key) for every string value and object key."""
    if isinstance(value, str):
        return [(path, False)]
    if isinstance(value, dict):
        places = [((*path, key), True) for key in value if isinstance(key, str)]
        return places + [p for key, item in value.items() for p in _string_places(item, (*path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _string_places(item, (*path, index))]
    return []


def _replace(value: Any, place: tuple[Path, bool], spoil: Callable[[str], str]) -> Any:
    """A copy of `value` with the string at `place` passed through `spoil`."""
    path, is_key = place
    if not path:
        return spoil(value)
    head, rest = path[0], path[1:]
    if isinstance(value, list):
        return [_replace(item, (rest, is_key), spoil) if i == head else item for i, item in enumerate(value)]
    if is_key and not rest:
        return {(spoil(k) if k == head else k): v for k, v in value.items()}
    return {k: (_replace(v, (rest, is_key), spoil) if k == head else v) for k, v in value.items()}


def _spoiled(body: Any, place: tuple[Path, bool] | None, surrogate: str, at: int) -> Any:
    if place is None:  # no string to spoil: add one (a key of an object, an item of a list, or the body)
        if isinstance(body, dict):
            return {**body, surrogate: "x"}
        return [*body, surrogate] if isinstance(body, list) else surrogate
    return _replace(body, place, lambda text: text[: at % (len(text) + 1)] + surrogate + text[at % (len(text) + 1) :])


def _spoil_values(value: Any, surrogate: str) -> Any:
    """`value` with `surrogate` appended to every string value (keys left intact)."""
    if isinstance(value, str):
        return value + surrogate
    if isinstance(value, dict):
        return {key: _spoil_values(item, surrogate) for key, item in value.items()}
    if isinstance(value, list):
        return [_spoil_values(item, surrogate) for item in value]
    return value


def _is_json(body: Any) -> bool:
    return isinstance(body, dict | list | str | int | float | bool)  # not schemathesis' NotSet


def every_value_with_a_lone_surrogate(body: Any) -> st.SearchStrategy[Any]:
    """`body` with a lone surrogate in every string value (the documented fields themselves, keys intact);
    a body without strings gets one added."""
    if not _is_json(body):
        return st.just(body)
    has_strings = any(not is_key for _, is_key in _string_places(body))
    return LONE_SURROGATES.map(
        lambda surrogate: _spoil_values(body, surrogate) if has_strings else _spoiled(body, None, surrogate, 0)
    )


def one_string_with_a_lone_surrogate(body: Any) -> st.SearchStrategy[Any]:
    """`body` with a lone surrogate in one of its strings (a value or a key, any depth, any position)."""
    if not _is_json(body):
        return st.just(body)
    places = _string_places(body)
    place = st.sampled_from(places) if places else st.none()
    return st.builds(_spoiled, st.just(body), place, LONE_SURROGATES, st.integers(0, 64))


def with_lone_surrogates(body: Any) -> st.SearchStrategy[Any]:
    """`body` as generated, or (about half the time) with a lone surrogate in one of its strings."""
    spoiled = one_string_with_a_lone_surrogate(body)
    return st.booleans().flatmap(lambda spoil: spoiled if spoil else st.just(body))


def plane_of(operation: Any) -> str:
    tags = operation.definition.raw.get("tags") or []
    if "identity" in tags:
        return "identity"
    return "arm" if any(tag.startswith("arm") for tag in tags) else "data"


def prepare(http: TwinHttp) -> dict[str, str]:
    """Real objects for the pinned profile: an access-policy vault with a key and a secret.

    Idempotent, and run before every operation: a fuzzed DELETE or PUT may have deleted, purged or
    reconfigured them (a fuzzed PUT cannot turn purge protection off again, so it is kept when on)."""
    info = http.info
    path = http.vault_path(FUZZ_VAULT, FUZZ_RG)
    current = http.arm("GET", path)
    everything = {"keys": ["all"], "secrets": ["all"], "certificates": ["all"]}
    properties: dict[str, object] = {
        "tenantId": info.tenant_id,
        "sku": {"family": "A", "name": "premium"},
        "enableRbacAuthorization": False,
        "softDeleteRetentionInDays": 7,
        "accessPolicies": [{"tenantId": info.tenant_id, "objectId": info.default_object_id, "permissions": everything}],
    }
    if current.status_code == 200 and current.json()["properties"].get("enablePurgeProtection"):
        properties["enablePurgeProtection"] = True
    if current.status_code == 404:
        properties["createMode"] = "recover"  # soft-deleted by a fuzzed DELETE? bring it back
    response = http.arm("PUT", path, json={"location": "westeurope", "properties": properties})
    if response.status_code == 404:  # not soft-deleted either: create it
        properties.pop("createMode")
        response = http.arm("PUT", path, json={"location": "westeurope", "properties": properties})
    assert response.status_code in (200, 201), response.text
    version = _ensure(http, "keys", "fuzzkey", {"kty": "RSA", "key_size": 2048})
    _ensure(http, "secrets", "fuzzsecret", {"value": "fuzz"})
    return {
        "subscriptionId": info.subscription_id,
        "resourceGroupName": FUZZ_RG,
        "vaultName": FUZZ_VAULT,
        "keyName": "fuzzkey",
        "secretName": "fuzzsecret",
        "location": "westeurope",
        "version": version,
    }


def _ensure(http: TwinHttp, kind: str, name: str, create: dict[str, object]) -> str:
    """The object's latest version, after recovering or re-creating it if a fuzzed call removed it."""
    found = http.vault("GET", f"/{kind}/{name}/", vault=FUZZ_VAULT)
    if found.status_code == 404:
        http.vault("POST", f"/deleted{kind}/{name}/recover", vault=FUZZ_VAULT)
        found = http.vault("GET", f"/{kind}/{name}/", vault=FUZZ_VAULT)
    if found.status_code == 404:
        method, suffix = ("POST", "/create") if kind == "keys" else ("PUT", "")
        found = http.vault(method, f"/{kind}/{name}{suffix}", vault=FUZZ_VAULT, json=create)
    if found.status_code == 403:  # a fuzzed update disabled it
        found = http.vault("PATCH", f"/{kind}/{name}/", vault=FUZZ_VAULT, json={"attributes": {"enabled": True}})
    assert found.status_code == 200, found.text
    body = found.json()
    return str(body["key"]["kid"] if kind == "keys" else body["id"]).rsplit("/", 1)[1]


def fuzz(
    http: TwinHttp,
    *,
    examples: int,
    derandomize: bool = True,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    shrink: bool = True,
    planes: tuple[str, ...] = ("data", "arm", "identity"),
    seed: int | None = None,
) -> FuzzReport:
    """Run every operation (of `planes`) x mode x profile for `examples` cases each; return what happened."""
    schema = load_schema(http)

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
        return with_lone_surrogates(body)

    session = requests.Session()
    session.trust_env = False
    report = FuzzReport()
    for result in schema.get_all_operations():
        operation = result.ok()
        if plane_of(operation) not in planes:
            continue
        target, pins = aim(http, operation, session)
        has_body = bool(operation.definition.raw.get("requestBody"))
        for mode in modes:
            if mode == GenerationMode.NEGATIVE and not has_body:
                continue  # negating only path/query strings mostly yields unsatisfiable searches, not cases
            profiles: list[dict[str, str] | None] = [None, pins] if pins else [None]
            for profile in profiles:
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=profile)
                checks = CONFORMANCE + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
                run_settings = settings(
                    max_examples=examples,
                    deadline=None,
                    derandomize=derandomize,
                    database=None,
                    phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else []),
                    suppress_health_check=list(HealthCheck),
                )
                label = f"{operation.method.upper()} {operation.path} [{mode.value}]"
                run_seed = None if seed is None or derandomize else seed + len(report.labels)
                report.labels.append(label)
                _run(label, strategy, run_settings, run_seed, target, checks, report)
    session.close()
    return report


@dataclass(frozen=True)
class Target:
    """Where and how one operation's cases are sent."""

    base_url: str
    headers: dict[str, str]
    ca_bundle: str
    session: requests.Session


def load_schema(http: TwinHttp) -> Any:
    """The twin's served OpenAPI document as a schemathesis schema."""
    return schemathesis.openapi.from_dict(http.session.get(f"{http.info.arm_url}/openapi.json", timeout=30).json())


def aim(http: TwinHttp, operation: Any, session: requests.Session) -> tuple[Target, dict[str, str]]:
    """Where `operation` goes (its plane's host and credentials) and the path parameters that name real
    objects (`prepare`, run first: the pinned profile)."""
    info = http.info
    pinned = prepare(http)
    plane = plane_of(operation)
    if plane == "data":
        base_url = info.vault_url(FUZZ_VAULT)
        headers = {"Authorization": f"Bearer {http.data_token()}"}
    elif plane == "arm":
        base_url = info.arm_url
        headers = {"Authorization": f"Bearer {http.arm_token()}"}
    else:
        base_url = info.arm_url
        headers = {"X-IDENTITY-HEADER": info.identity_header()}
    names = {p.name for p in operation.path_parameters}
    if plane == "data" and "name" in names:
        object_name = "fuzzsecret" if "/secrets" in operation.path else "fuzzkey"
        pins: dict[str, str] = {"name": object_name}
        if "version" in names:
            pins["version"] = pinned["version"] if object_name == "fuzzkey" else ""
            pins = {k: v for k, v in pins.items() if v}
    else:
        pins = {k: v for k, v in pinned.items() if k in names}
    return Target(base_url, headers, info.ca_bundle, session), pins


def _run(
    label: str,
    strategy: Any,
    run_settings: settings,
    run_seed: int | None,
    target: Target,
    checks: list[Any],
    report: FuzzReport,
) -> None:
    """Send every generated case; count it, and record each failed check once per (label, status, check)."""

    @run_settings
    @given(case=strategy)
    def one(case: Any) -> None:
        response = case.call(
            base_url=target.base_url,
            session=target.session,
            headers=target.headers,
            verify=target.ca_bundle,
            timeout=60,
        )
        report.cases += 1
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            report.server_errors += 1
        try:
            case.validate_response(response, checks=checks, headers=target.headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                title = getattr(failure, "title", type(failure).__name__)
                report.merge_failure(f"{label} -> {response.status_code}: {title}")

    test = one if run_seed is None else hypothesis_seed(run_seed)(one)
    try:
        test()
    except Unsatisfiable:  # e.g. negative mode for an operation whose inputs cannot be made invalid
        report.unsatisfiable.append(label)
