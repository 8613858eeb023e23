"""Token abuse: every forged, stale, misdirected or malformed credential is 401 with the Bearer challenge.

Each case is tried on the data plane (a routed call, GET /secrets, and the raw-ASGI hot path,
GET /secrets/{name}) and on ARM. Cases that need a valid signature on wrong claims are signed with
the twin's own token key (read from its data dir): that isolates the claim check under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.client import HTTPSConnection
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.reliability.twinhttp import ARM_RESOURCE, TwinHttp
from vaultspec.twin.server import TwinInfo, stop
from vaultspec.twin.testing import start_twin, use_identity_of
from vaultspec.twin.tokens import SIGNING_KEY_FILE, TokenAuthority

PLANES = ("data", "arm")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def hs256(secret: bytes, claims: dict[str, Any]) -> str:
    """HS256 by hand (PyJWT refuses to use a PEM public key as an HMAC secret, attackers do not)."""
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


@dataclass
class OtherTwin:
    """A second twin: its own token key, its own tenant."""

    data_dir: Path
    http: TwinHttp


@dataclass
class Forge:
    """What a case may use: the twin, its key, a realistic claim set for the plane, a genuine token."""

    info: TwinInfo
    http: TwinHttp
    plane: str
    own_key: rsa.RSAPrivateKey
    other_twin: OtherTwin | None

    @property
    def audience(self) -> str:
        return self.info.data_plane_resource if self.plane == "data" else ARM_RESOURCE

    @property
    def genuine(self) -> str:
        return self.http.data_token() if self.plane == "data" else self.http.arm_token()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": f"https://sts.windows.net/{self.info.tenant_id}/",
            "aud": self.audience,
            "tid": self.info.tenant_id,
            "oid": self.info.default_object_id,
            "appid": self.info.default_object_id,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def own(self, alg: str = "RS256", headers: dict[str, Any] | None = None, **overrides: Any) -> str:
        """Signed with the twin's real key: only the claims (or the algorithm) are wrong."""
        return jwt.encode(self.claims(**overrides), self.own_key, algorithm=alg, headers=headers)

    def public_key_bytes(self, encoding: str) -> bytes:
        public = self.own_key.public_key()
        if encoding == "pem-spki":
            return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        if encoding == "pem-pkcs1":
            return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        if encoding == "der-spki":
            return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if encoding == "ssh":
            return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        return public.public_numbers().n.to_bytes(256, "big")


def _other(forge: Forge) -> OtherTwin:
    assert forge.other_twin is not None
    return forge.other_twin


def _foreign_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def _flip(token: str, part: int, index: int = 5) -> str:
    pieces = token.split(".")
    chars = list(pieces[part])
    chars[index] = "A" if chars[index] != "A" else "B"
    pieces[part] = "".join(chars)
    return ".".join(pieces)


def _swap_payload(token: str, claims: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def _jwk_header(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    return {"jwk": {"kty": "RSA", "n": b64(numbers.n.to_bytes(256, "big")), "e": b64(numbers.e.to_bytes(3, "big"))}}


# Each case builds the Authorization header value (None: no header at all) or full request extras.
TOKEN_CASES: dict[str, Callable[[Forge], str]] = {
    # -- signatures -------------------------------------------------------------------------------
    "foreign-key": lambda f: jwt.encode(f.claims(), _foreign_rsa(), algorithm="RS256"),
    "foreign-key-same-kid": lambda f: jwt.encode(
        f.claims(), _foreign_rsa(), algorithm="RS256", headers={"kid": jwt.get_unverified_header(f.genuine)["kid"]}
    ),
    "foreign-key-in-jwk-header": lambda f: (
        lambda key: jwt.encode(f.claims(), key, algorithm="RS256", headers=_jwk_header(key))
    )(_foreign_rsa()),
    "foreign-key-jku-header": lambda f: jwt.encode(
        f.claims(), _foreign_rsa(), algorithm="RS256", headers={"jku": "https://attacker.example/keys"}
    ),
    "foreign-key-kid-path-trick": lambda f: jwt.encode(
        f.claims(), _foreign_rsa(), algorithm="RS256", headers={"kid": "../../../../dev/null"}
    ),
    "signature-bit-flipped": lambda f: _flip(f.genuine, 2),
    "signature-stripped": lambda f: f.genuine.rsplit(".", 1)[0] + ".",
    "payload-swapped-other-oid": lambda f: _swap_payload(f.genuine, f.claims(oid=str(uuid.uuid4()))),
    "payload-swapped-longer-exp": lambda f: _swap_payload(f.genuine, f.claims(exp=int(time.time()) + 10**6)),
    "header-bit-flipped": lambda f: _flip(f.genuine, 0, 3),
    # -- algorithms --------------------------------------------------------------------------------
    "alg-none": lambda f: compact({"alg": "none", "typ": "JWT"}, f.claims()),
    "alg-None": lambda f: compact({"alg": "None", "typ": "JWT"}, f.claims()),
    "alg-NONE-with-old-signature": lambda f: compact(
        {"alg": "NONE"}, f.claims(), base64.urlsafe_b64decode(f.genuine.split(".")[2] + "==")
    ),
    "alg-missing": lambda f: compact({"typ": "JWT"}, f.claims()),
    "hs256-with-public-pem-spki": lambda f: hs256(f.public_key_bytes("pem-spki"), f.claims()),
    "hs256-with-public-pem-pkcs1": lambda f: hs256(f.public_key_bytes("pem-pkcs1"), f.claims()),
    "hs256-with-public-der": lambda f: hs256(f.public_key_bytes("der-spki"), f.claims()),
    "hs256-with-public-ssh": lambda f: hs256(f.public_key_bytes("ssh"), f.claims()),
    "hs256-with-modulus": lambda f: hs256(f.public_key_bytes("n"), f.claims()),
    "hs256-with-empty-secret": lambda f: hs256(b"", f.claims()),
    "rs512-own-key": lambda f: f.own(alg="RS512"),
    "ps256-own-key": lambda f: f.own(alg="PS256"),
    "es256-foreign-key": lambda f: jwt.encode(f.claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"),
    # -- time --------------------------------------------------------------------------------------
    "expired": lambda f: f.own(exp=int(time.time()) - 1),
    "expired-long-ago": lambda f: f.own(iat=1_000_000, nbf=1_000_000, exp=1_000_600),
    "not-yet-valid-nbf": lambda f: f.own(nbf=int(time.time()) + 3600),
    "issued-in-the-future": lambda f: f.own(iat=int(time.time()) + 3600),
    "exp-not-a-number": lambda f: f.own(exp="tomorrow"),
    "missing-exp": lambda f: jwt.encode({k: v for k, v in f.claims().items() if k != "exp"}, f.own_key, "RS256"),
    "missing-nbf": lambda f: jwt.encode({k: v for k, v in f.claims().items() if k != "nbf"}, f.own_key, "RS256"),
    "missing-iat": lambda f: jwt.encode({k: v for k, v in f.claims().items() if k != "iat"}, f.own_key, "RS256"),
    # -- audience ----------------------------------------------------------------------------------
    "aud-public-key-vault": lambda f: f.own(aud="https://vault.azure.net"),
    "aud-other-port": lambda f: f.own(aud=f"https://vault.localhost:{f.info.port + 1}"),
    "aud-other-plane": lambda f: f.own(aud=ARM_RESOURCE if f.plane == "data" else f.info.data_plane_resource),
    "aud-list-of-both-planes": lambda f: f.own(aud=[f.info.data_plane_resource, ARM_RESOURCE]),
    "aud-missing": lambda f: jwt.encode({k: v for k, v in f.claims().items() if k != "aud"}, f.own_key, "RS256"),
    "aud-graph": lambda f: f.own(aud="https://graph.microsoft.com"),
    "genuine-token-of-other-plane": lambda f: f.http.arm_token() if f.plane == "data" else f.http.data_token(),
    # -- issuer and tenant -------------------------------------------------------------------------
    "iss-other-tenant": lambda f: f.own(iss=f"https://sts.windows.net/{uuid.uuid4()}/"),
    "iss-v2-endpoint": lambda f: f.own(iss=f"https://login.microsoftonline.com/{f.info.tenant_id}/v2.0"),
    "iss-missing": lambda f: jwt.encode({k: v for k, v in f.claims().items() if k != "iss"}, f.own_key, "RS256"),
    "tid-other-tenant": lambda f: f.own(tid=str(uuid.uuid4())),
    "tid-missing": lambda f: f.own(tid=None),
    "oid-missing": lambda f: f.own(oid=None),
    "oid-empty": lambda f: f.own(oid=""),
    # -- other twins -------------------------------------------------------------------------------
    "token-of-another-twin": lambda f: _other(f).http.token(f.audience),
    "another-twins-key-our-claims": lambda f: TokenAuthority(_other(f).data_dir, f.info.tenant_id).issue(
        f.audience, f.info.default_object_id
    )[0],
    # -- malformed ---------------------------------------------------------------------------------
    "empty-after-scheme": lambda f: "",
    "not-a-jwt": lambda f: "not-a-jwt",
    "two-segments": lambda f: ".".join(f.genuine.split(".")[:2]),
    "four-segments": lambda f: f.genuine + ".AAAA",
    "truncated-half": lambda f: f.genuine[: len(f.genuine) // 2],
    "truncated-last-char": lambda f: f.genuine[:-1],
    "header-not-json": lambda f: f"{b64(b'{not json')}.{f.genuine.split('.', 1)[1]}",
    "payload-not-json": lambda f: f"{f.genuine.split('.')[0]}.{b64(b'[1,2')}.{f.genuine.split('.')[2]}",
    "payload-a-list": lambda f: compact({"alg": "RS256"}, [f.claims()]),  # type: ignore[arg-type]
    "non-ascii": lambda f: "é" * 40,
    "oversized-16k": lambda f: f.genuine + "A" * 16_000,
    "oversized-claims-16k-foreign-key": lambda f: jwt.encode(f.claims(pad="x" * 16_000), _foreign_rsa(), "RS256"),
    "base64-garbage": lambda f: b64(bytes(range(256))) + "." + b64(bytes(range(255, -1, -1))) + ".AA",
}

# Whole Authorization header values that are not `Bearer <token>` of a valid token.
HEADER_CASES: dict[str, Callable[[Forge], dict[str, str]]] = {
    "no-authorization-header": lambda f: {},
    "bearer-without-token": lambda f: {"Authorization": "Bearer"},
    "bearer-only-spaces": lambda f: {"Authorization": "Bearer    "},
    "basic-scheme": lambda f: {"Authorization": "Basic " + base64.b64encode(b"user:pass").decode()},
    "basic-scheme-carrying-token": lambda f: {"Authorization": f"Basic {f.genuine}"},
    "pop-scheme": lambda f: {"Authorization": f"PoP {f.genuine}"},
    "token-without-scheme": lambda f: {"Authorization": f.genuine},
    "token-then-garbage": lambda f: {"Authorization": f"Bearer {f.genuine} extra"},
    "token-in-x-authorization": lambda f: {"X-Authorization": f"Bearer {f.genuine}"},
    "token-in-cookie": lambda f: {"Cookie": f"access_token={f.genuine}"},
    "token-in-x-ms-authorization-auxiliary": lambda f: {"x-ms-authorization-auxiliary": f"Bearer {f.genuine}"},
}


@pytest.fixture(scope="module")
def other_twin(tmp_path_factory: pytest.TempPathFactory, twin: TwinInfo) -> Iterator[OtherTwin]:
    """A second twin (own data dir: own key, own tenant); its tokens must mean nothing to ours."""
    data = tmp_path_factory.mktemp("other-twin")
    other = start_twin(data)
    use_identity_of(twin)  # start_twin pointed this process's credentials at the other twin
    other_http = TwinHttp(other)
    yield OtherTwin(data, other_http)
    other_http.close()
    stop(data)


@pytest.fixture(scope="module")
def own_key(twin: TwinInfo) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((Path(twin.data_dir) / SIGNING_KEY_FILE).read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _forge(
    plane: str, twin: TwinInfo, http: TwinHttp, own_key: rsa.RSAPrivateKey, other_twin: OtherTwin | None
) -> Forge:
    return Forge(twin, http, plane, own_key, other_twin)


def _arm_list_path(info: TwinInfo) -> str:
    return f"/subscriptions/{info.subscription_id}/providers/Microsoft.KeyVault/vaults"


def _assert_refused(http: TwinHttp, plane: str, headers: dict[str, str], secret_name: str) -> None:
    """401 with the plane's Bearer challenge, and the credential never echoed back."""
    credential = headers.get("Authorization", "") or next(iter(headers.values()), "")
    responses = (
        [
            http.vault("GET", "/secrets", token=None, headers=headers),
            http.vault("GET", f"/secrets/{secret_name}", token=None, headers=headers),
        ]
        if plane == "data"
        else [http.arm("GET", _arm_list_path(http.info), token=None, headers=headers)]
    )
    for response in responses:
        assert response.status_code == 401, (response.request.url, response.text)
        challenge = response.headers.get("WWW-Authenticate", "")
        assert challenge.startswith("Bearer "), challenge
        if plane == "data":
            assert challenge == (
                f'Bearer authorization="https://login.windows.net/{http.info.tenant_id}", '
                f'resource="{http.info.data_plane_resource}"'
            )
            assert response.json()["error"]["code"] == "Unauthorized"
        else:
            assert response.json()["error"]["code"] in ("AuthenticationFailed", "InvalidAuthenticationToken")
        if len(credential) > 16:
            assert credential.split()[-1][-16:] not in response.text


@pytest.fixture(scope="module")
def secret_name(http: TwinHttp) -> str:
    response = http.vault("PUT", "/secrets/abuse-target", json={"value": "target-value"})
    assert response.status_code == 200
    return "abuse-target"


@pytest.mark.parametrize("plane", PLANES)
def test_the_genuine_token_is_accepted_control(
    plane: str, twin: TwinInfo, http: TwinHttp, own_key: rsa.RSAPrivateKey, secret_name: str
) -> None:
    """Without this the refusals below could pass against a twin that refuses everything."""
    forge = _forge(plane, twin, http, own_key, None)
    for token in (forge.genuine, forge.own()):
        if plane == "data":
            assert http.vault("GET", f"/secrets/{secret_name}", token=token).json()["value"] == "target-value"
        else:
            assert http.arm("GET", _arm_list_path(twin), token=token).status_code == 200


@pytest.mark.parametrize("plane", PLANES)
@pytest.mark.parametrize("case", sorted(TOKEN_CASES))
def test_abused_token_is_refused_with_the_challenge(
    plane: str,
    case: str,
    twin: TwinInfo,
    http: TwinHttp,
    own_key: rsa.RSAPrivateKey,
    other_twin: OtherTwin,
    secret_name: str,
) -> None:
    token = TOKEN_CASES[case](_forge(plane, twin, http, own_key, other_twin))
    _assert_refused(http, plane, {"Authorization": f"Bearer {token}"}, secret_name)


@pytest.mark.parametrize("plane", PLANES)
@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_token_in_the_wrong_header_form_is_refused_with_the_challenge(
    plane: str, case: str, twin: TwinInfo, http: TwinHttp, own_key: rsa.RSAPrivateKey, secret_name: str
) -> None:
    _assert_refused(http, plane, HEADER_CASES[case](_forge(plane, twin, http, own_key, None)), secret_name)


@pytest.mark.parametrize("plane", PLANES)
def test_token_in_the_query_string_is_refused(
    plane: str, twin: TwinInfo, http: TwinHttp, own_key: rsa.RSAPrivateKey, secret_name: str
) -> None:
    genuine = _forge(plane, twin, http, own_key, None).genuine
    if plane == "data":
        response = http.vault("GET", f"/secrets?api-version=7.6&access_token={genuine}", token=None)
    else:
        response = http.arm("GET", f"{_arm_list_path(twin)}?api-version=2024-11-01&access_token={genuine}", token=None)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_nul_byte_in_the_authorization_header_is_refused_by_the_http_parser(http: TwinHttp, secret_name: str) -> None:
    """A NUL is not allowed in a header value (RFC 9110 §5.5): 400 from the parser, before any token check."""
    token = http.data_token()
    poisoned = {"Authorization": f"Bearer {token[:20]}\x00{token[20:]}"}
    response = http.vault("GET", f"/secrets/{secret_name}", token=None, headers=poisoned)
    assert response.status_code == 400 and "target-value" not in response.text
    assert http.serves_normally()


def test_a_second_authorization_header_cannot_smuggle_a_token(http: TwinHttp, secret_name: str) -> None:
    """Two Authorization headers: the twin reads the first; a bad first one is refused, whatever follows."""
    info = http.info
    context = ssl.create_default_context(cafile=info.ca_bundle)
    context.check_hostname = False  # connecting by address; the certificate is still verified against the CA
    connection = HTTPSConnection("127.0.0.1", info.port, context=context, timeout=30)
    connection.putrequest("GET", f"/secrets/{secret_name}?api-version=7.6", skip_host=True)
    connection.putheader("Host", f"twinkv.vault.localhost:{info.port}")
    connection.putheader("Authorization", "Bearer forged.token.value")
    connection.putheader("Authorization", f"Bearer {http.data_token()}")
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 401 and b"target-value" not in body
