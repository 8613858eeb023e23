"""Hostile requests: each one gets a 4xx (never a 5xx, never a hang) and the twin keeps serving.

Oversized bodies (with and without Content-Length), malformed JSON, wrong content types, path tricks
(dot segments, encoded dots and slashes, NUL, overlong names), absurd paging, odd methods, header
and framing tricks. After every case a normal authenticated request must still succeed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.rawhttp import exchange, request_bytes
from tests.reliability.twinhttp import TwinHttp
from vaultspec.twin.testing import TWIN_VAULT

MB = 1024 * 1024
VAULT_SNI = f"{TWIN_VAULT}.vault.localhost"


@pytest.fixture(scope="module")
def objects(http: TwinHttp) -> dict[str, str]:
    """A secret and an EC key (its version addresses the raw-ASGI sign hot path)."""
    assert http.vault("PUT", "/secrets/hostile-secret", json={"value": "hostile-value"}).status_code == 200
    created = http.vault("POST", "/keys/hostile-key/create", json={"kty": "EC", "crv": "P-256"})
    assert created.status_code == 200
    return {"version": created.json()["key"]["kid"].rsplit("/", 1)[1]}


def _assert_client_error(status: int, what: str) -> None:
    assert 400 <= status < 500, f"{what}: got {status}"


# -- oversized bodies --------------------------------------------------------------------------------
def _chunks(total: int, size: int = MB) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        sent += size
        yield b"x" * size


@pytest.mark.parametrize(
    ("plane", "path"),
    [
        ("data", "/secrets/big"),
        ("data", "/keys/big/create"),
        ("arm", "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/bigvault"),
    ],
)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_20_mb_body_is_413_and_the_twin_keeps_serving(http: TwinHttp, plane: str, path: str, framing: str) -> None:
    data = b"x" * (20 * MB) if framing == "content-length" else _chunks(20 * MB)
    headers = {"Content-Type": "application/json"}
    if plane == "data":
        response = http.vault("PUT" if "secrets" in path else "POST", path, data=data, headers=headers)
    else:
        response = http.arm("PUT", path.format(sub=http.info.subscription_id), data=data, headers=headers)
    assert response.status_code == 413, response.text[:200]
    assert http.serves_normally()


def test_a_20_mb_body_without_a_token_is_refused_before_it_is_read(http: TwinHttp) -> None:
    response = http.vault("PUT", "/secrets/big", token=None, data=b"x" * (20 * MB))
    _assert_client_error(response.status_code, "20 MB without token")
    assert http.serves_normally()


def test_expect_100_continue_with_a_huge_length_is_refused_without_the_body(http: TwinHttp) -> None:
    host = f"{TWIN_VAULT}.vault.localhost:{http.info.port}"
    request = request_bytes(
        "PUT",
        "/secrets/big?api-version=7.6",
        host,
        {"Authorization": f"Bearer {http.data_token()}", "Expect": "100-continue", "Content-Length": str(2**40)},
    )
    response = exchange(http.info, request, sni=VAULT_SNI)
    assert response.status == 413
    assert http.serves_normally()


# -- malformed JSON and content types -----------------------------------------------------------------
MALFORMED = {
    "truncated-object": b'{"value": "abc',
    "not-json": b"value=abc",
    "array": b'["value"]',
    "null": b"null",
    "number": b"42",
    "empty": b"",
    "invalid-utf8": b'{"value": "\xff\xfe"}',
    "utf16": '{"value": "abc"}'.encode("utf-16"),
    "deep-nesting": b"[" * 200_000 + b"]" * 200_000,
    "huge-number": b'{"value": 1e999999}',
    "5000-digit-int": b'{"value": "x", "attributes": {"exp": ' + b"9" * 5000 + b"}}",
    "nan-in-attributes": b'{"value": "x", "attributes": {"exp": NaN}}',
    "value-not-string": b'{"value": {"nested": [1, 2, 3]}}',
    "trailing-garbage": b'{"value": "x"} trailing',
    "duplicate-keys": b'{"value": "a", "value": 5}',
    "bom-prefixed": b'\xef\xbb\xbf{"value": "x"}',
}
DECODABLE = {"utf16", "bom-prefixed"}  # RFC 8259 encodings json.loads detects: taking them is fine


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_json_is_400_on_routed_and_hot_paths(http: TwinHttp, objects: dict[str, str], case: str) -> None:
    body = MALFORMED[case]
    headers = {"Content-Type": "application/json"}
    routed = http.vault("PUT", f"/secrets/malformed-{case.replace('_', '-')}", data=body, headers=headers)
    assert routed.status_code == 400 or (case in DECODABLE and routed.status_code == 200), routed.text[:200]
    hot = http.vault("POST", f"/keys/hostile-key/{objects['version']}/sign", data=body, headers=headers)
    _assert_client_error(hot.status_code, f"sign hot path, {case}")
    arm = http.arm(
        "PUT",
        http.vault_path("malformedvault", "rg-hostile"),
        data=body.replace(b"value", b"location"),
        headers=headers,
    )
    _assert_client_error(arm.status_code, f"ARM, {case}")
    assert http.serves_normally()


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-16",
        "application/octet-stream",
        "image/png",
    ],
)
def test_a_body_that_is_not_declared_json_is_400(http: TwinHttp, content_type: str | None) -> None:
    """Only an application/json body is parsed (its charset parameter aside): anything else is 400."""
    headers = {"Content-Type": content_type} if content_type else {}
    json_declared = (content_type or "").startswith("application/json")
    for body in (b'{"value": "typed"}', b"value=typed", b"\x89PNG\r\n\x1a\n"):
        response = http.vault("PUT", "/secrets/typed", data=body, headers=headers)
        if json_declared and body.startswith(b"{"):
            assert response.status_code == 200, response.text[:200]
        else:
            assert response.status_code == 400, (content_type, body, response.text[:200])
            assert response.json()["error"]["code"] == "BadParameter"
    assert http.serves_normally()


def test_nul_bytes_inside_json_values_are_kept_exactly(http: TwinHttp) -> None:
    value = "before\u0000after"
    assert http.vault("PUT", "/secrets/nul-value", json={"value": value, "tags": {"t": "a\u0000b"}}).status_code == 200
    fetched = http.vault("GET", "/secrets/nul-value").json()
    assert fetched["value"] == value and fetched["tags"] == {"t": "a\u0000b"}


# -- path tricks ----------------------------------------------------------------------------------------------
PATH_TRICKS = [
    "/secrets/../keys",
    "/secrets/%2e%2e/keys",
    "/secrets/%2E%2E%2Fkeys",
    "/secrets/..%2f..%2f..%2fetc%2fpasswd",
    "/secrets/hostile-secret%2f..%2f..%2fkeys",
    "/secrets/hostile-secret/%2e%2e",
    "/secrets/a%2Fb%2Fc%2Fd",
    "/secrets/%00",
    "/secrets/hostile-secret%00.txt",
    "/secrets/%c0%ae%c0%ae/keys",
    "/secrets/" + "a" * 128,
    "/secrets/" + "a" * 8000,
    "/secrets/naïve",
    "/secrets/-/-/-/-/-",
    "/keys/" + "k" * 200 + "/create",
    "//secrets//hostile-secret//..//",
    "/./secrets/./hostile-secret",
    "/%2e/secrets",
    "/deletedsecrets/../../secrets/hostile-secret",
    "/secrets/hostile-secret/" + "f" * 64,
    "/keys/hostile-key/%2e%2e/sign",
]


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE", "PATCH"])
def test_path_tricks_on_the_data_plane_are_4xx(http: TwinHttp, objects: dict[str, str], method: str) -> None:
    host = f"{TWIN_VAULT}.vault.localhost:{http.info.port}"
    auth = {"Authorization": f"Bearer {http.data_token()}", "Content-Type": "application/json"}
    for path in PATH_TRICKS:
        body = b'{"value": "trick", "kty": "EC"}' if method in ("PUT", "POST", "PATCH") else b""
        response = exchange(
            http.info, request_bytes(method, f"{path}?api-version=7.6", host, auth, body), sni=VAULT_SNI
        )
        _assert_client_error(response.status, f"{method} {path}")
        assert b"hostile-value" not in response.body, path
    assert http.serves_normally()


ARM_PATH_TRICKS = [
    "/subscriptions/{sub}/resourceGroups/../../providers/Microsoft.KeyVault/vaults",
    "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/%2e%2e",
    "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/a%2Fb",
    "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/" + "v" * 5000,
    "/subscriptions/{sub}/resourceGroups/rg%00/providers/Microsoft.KeyVault/vaults/abc",
    "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/abc/keys/%2e%2e%2f",
    "/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments/..%2f..%2f",
    "/../../../etc/passwd",
    "/providers/Microsoft.Authorization/roleDefinitions/%00",
]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_path_tricks_on_arm_are_4xx(http: TwinHttp, method: str) -> None:
    host = f"localhost:{http.info.port}"
    auth = {"Authorization": f"Bearer {http.arm_token()}", "Content-Type": "application/json"}
    body = b'{"location": "westeurope", "properties": {}}' if method == "PUT" else b""
    for template in ARM_PATH_TRICKS:
        path = template.format(sub=http.info.subscription_id)
        response = exchange(http.info, request_bytes(method, f"{path}?api-version=2024-11-01", host, auth, body))
        if method == "DELETE" and response.status == 204:  # ARM: deleting what does not exist is 204
            continue
        _assert_client_error(response.status, f"{method} {path[:80]}")
    assert http.serves_normally()


@pytest.mark.parametrize(
    "host",
    [
        "twinkv.vault.localhost.evil.example",
        "evil.example",
        "a.b.vault.localhost",
        ".vault.localhost",
        "vault.localhost",
        "TWINKV.VAULT.LOCALHOST",
        "twinkv.vault.localhost:1",
        "twinkv.vault.localhost:notaport",
        "[::1]",
        "",
    ],
)
def test_odd_host_headers_never_reach_another_plane_or_fail(http: TwinHttp, objects: dict[str, str], host: str) -> None:
    auth = {"Authorization": f"Bearer {http.data_token()}"}
    response = exchange(http.info, request_bytes("GET", "/secrets/hostile-secret?api-version=7.6", host, auth))
    if host.lower().split(":")[0] == VAULT_SNI:  # the same vault, however spelled (the port is not checked)
        assert response.status == 200
    else:
        _assert_client_error(response.status, host)
        assert b"hostile-value" not in response.body
    assert http.serves_normally()


def _two_hosts(method: str, target: str, hosts: list[str], headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", *(f"Host: {h}" for h in hosts)]
    lines += [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize(
    "where",
    ["hot-path secret read", "routed secret list", "hot-path sign", "arm", "identity"],
)
@pytest.mark.parametrize("order", ["vault-then-arm", "arm-then-vault", "the-same-twice", "two-vaults"])
def test_more_than_one_host_header_is_400_on_every_path(
    http: TwinHttp, objects: dict[str, str], where: str, order: str
) -> None:
    """RFC 9112 §3.2: more than one Host is a 400. The probes found the hot paths routed by the last Host
    and the routers by the first; neither may be chosen."""
    port = http.info.port
    vault, arm, other = f"{VAULT_SNI}:{port}", f"localhost:{port}", f"othervault.vault.localhost:{port}"
    hosts = {
        "vault-then-arm": [vault, arm],
        "arm-then-vault": [arm, vault],
        "the-same-twice": [vault, vault] if where != "arm" and where != "identity" else [arm, arm],
        "two-vaults": [other, vault],
    }[order]
    data_auth = {"Authorization": f"Bearer {http.data_token()}"}
    requests_by_place = {
        "hot-path secret read": ("GET", "/secrets/hostile-secret?api-version=7.6", data_auth),
        "routed secret list": ("GET", "/secrets?api-version=7.6", data_auth),
        "hot-path sign": ("POST", f"/keys/hostile-key/{objects['version']}/sign?api-version=7.6", data_auth),
        "arm": (
            "GET",
            f"/subscriptions/{http.info.subscription_id}/providers/Microsoft.KeyVault/vaults?api-version=2024-11-01",
            {"Authorization": f"Bearer {http.arm_token()}"},
        ),
        "identity": (
            "GET",
            f"/msi/token?api-version=2019-08-01&resource={http.info.data_plane_resource}",
            {"X-IDENTITY-HEADER": http.info.identity_header()},
        ),
    }
    method, target, headers = requests_by_place[where]
    if method == "POST":
        headers = {**headers, "Content-Type": "application/json", "Content-Length": "0"}
    response = exchange(http.info, _two_hosts(method, target, hosts, headers), sni=VAULT_SNI)
    assert response.status == 400, (where, order, response.head[:200])
    assert b"hostile-value" not in response.body and b"access_token" not in response.body
    assert http.serves_normally()


def test_an_http_1_1_request_without_host_is_400(http: TwinHttp) -> None:
    request = f"GET /secrets?api-version=7.6 HTTP/1.1\r\nAuthorization: Bearer {http.data_token()}\r\n"
    response = exchange(http.info, (request + "Connection: close\r\n\r\n").encode(), sni=VAULT_SNI)
    assert response.status == 400


# -- paging ---------------------------------------------------------------------------------------------------
ABSURD_PAGING = [
    "maxresults=0",
    "maxresults=-1",
    "maxresults=26",
    "maxresults=100000000000000000000",
    "maxresults=abc",
    "maxresults=1e3",
    "maxresults=",
    "$skiptoken=-1",
    "$skiptoken=abc",
    "$skiptoken=1e3",
    "$skiptoken=" + "9" * 5000,
    "$skiptoken=%00",
    "$skiptoken=99999999999",
    "$skiptoken=" + "A" * 20000,
]


@pytest.mark.parametrize(
    "listing", ["/secrets", "/keys", "/deletedsecrets", "/deletedkeys", "/secrets/hostile-secret/versions"]
)
def test_absurd_paging_parameters_are_4xx_or_an_empty_page(
    http: TwinHttp, objects: dict[str, str], listing: str
) -> None:
    for query in ABSURD_PAGING:
        response = http.vault("GET", f"{listing}?api-version=7.6&{query}")
        if response.status_code == 200:  # a token past the end: an empty last page
            assert response.json() == {"value": [], "nextLink": None}, query
        else:
            _assert_client_error(response.status_code, f"{listing}?{query[:40]}")
    for top in ("-5", "0", "100000000000000000000", "abc", ""):
        response = http.arm(
            "GET",
            f"/subscriptions/{http.info.subscription_id}/providers/Microsoft.KeyVault/vaults?api-version=2024-11-01&$top={top}",
        )
        assert response.status_code in (200, 400), (top, response.status_code)
    assert http.serves_normally()


# -- methods and framing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "CONNECT", "PROPFIND", "HEAD", "FOO"])
def test_unexpected_methods_are_4xx(http: TwinHttp, objects: dict[str, str], method: str) -> None:
    for host, target in (
        (f"{TWIN_VAULT}.vault.localhost", "/secrets/hostile-secret?api-version=7.6"),
        ("localhost", f"/subscriptions/{http.info.subscription_id}/providers/Microsoft.KeyVault/vaults"),
    ):
        auth = {"Authorization": f"Bearer {http.data_token() if 'vault' in host else http.arm_token()}"}
        response = exchange(http.info, request_bytes(method, target, host, auth))
        if method == "HEAD" and response.status == 0:  # HEAD: status line only, nothing to misread
            continue
        _assert_client_error(response.status, f"{method} {host}")
    assert http.serves_normally()


FRAMING = {
    "content-length-and-chunked": b"PUT /secrets/smuggle?api-version=7.6 HTTP/1.1\r\nHost: {host}\r\n"
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    b"0\r\n\r\nGET /secrets HTTP/1.1\r\n\r\n",
    "two-different-content-lengths": b"PUT /secrets/smuggle?api-version=7.6 HTTP/1.1\r\nHost: {host}\r\n"
    b"Content-Length: 5\r\nContent-Length: 50\r\nConnection: close\r\n\r\nhello",
    "negative-content-length": b"PUT /secrets/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: -1\r\n"
    b"Connection: close\r\n\r\n",
    "bad-chunk-size": b"PUT /secrets/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
    b"Connection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "nul-in-request-line": b"GET /secrets/\x00 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
    "bare-lf-line-endings": b"GET /secrets HTTP/1.1\nHost: {host}\nConnection: close\n\n",
    "space-before-colon": b"GET /secrets HTTP/1.1\r\nHost : {host}\r\nConnection: close\r\n\r\n",
    "http-0.9": b"GET /secrets\r\n\r\n",
    "http-2-preface-on-1.1": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "garbage": bytes(range(256)) * 4,
    "header-without-colon": b"GET /secrets HTTP/1.1\r\nHost: {host}\r\nNoColonHere\r\nConnection: close\r\n\r\n",
    "crlf-in-header-value": b"GET /secrets HTTP/1.1\r\nHost: {host}\r\nX-A: b\r\n c\r\nConnection: close\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(FRAMING))
def test_malformed_http_framing_is_4xx_or_closed(http: TwinHttp, case: str) -> None:
    host = f"{TWIN_VAULT}.vault.localhost"
    response = exchange(http.info, FRAMING[case].replace(b"{host}", host.encode()), sni=host, timeout=20)
    assert response.status == 0 or 400 <= response.status < 500, (case, response.status, response.head[:100])
    assert http.serves_normally()


def test_an_http_1_0_request_is_answered_and_closed(http: TwinHttp) -> None:
    host = f"{TWIN_VAULT}.vault.localhost"
    request = f"GET /secrets?api-version=7.6 HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
    assert exchange(http.info, request, sni=host).status == 401


def test_pipelined_requests_are_answered_in_order(http: TwinHttp, objects: dict[str, str]) -> None:
    host = f"{TWIN_VAULT}.vault.localhost:{http.info.port}"
    auth = {"Authorization": f"Bearer {http.data_token()}"}
    first = request_bytes("GET", "/secrets/hostile-secret?api-version=7.6", host, auth, close=False)
    second = request_bytes("GET", "/secrets/nope?api-version=7.6", host, auth, close=True)
    response = exchange(http.info, first + second, sni=VAULT_SNI)
    assert response.status == 200 and b"HTTP/1.1 404" in response.body
