"""Invalid key and secret names: 400 BadParameter ("The request URI contains an invalid name") on every
data-plane operation that names an object, as Key Vault answers, not 404 KeyNotFound.

The probes found get/update/delete/backup/crypto answering 404 while create/import/set answered 400.
The operations come from the twin's own `/openapi.json` (every data-plane path with `{name}`), the
names from hypothesis: any characters but `/` (which would change the route; `.` and `..` are path
syntax), including control characters such as a trailing newline, non-ASCII letters, and names of
valid characters but longer than 127. The SDK clients see the same through their own calls.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from azure.core.exceptions import HttpResponseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.twinhttp import TwinHttp
from vaultspec.twin.testing import TWIN_VAULT, key_client, secret_client

VALID = re.compile(r"[0-9a-zA-Z-]{1,127}")
VERSION = "0" * 32
invalid_names = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/"), min_size=1, max_size=40),
    st.from_regex(r"[0-9a-zA-Z-]{128,160}", fullmatch=True),
    st.from_regex(r"[0-9a-zA-Z-]{1,20}\n", fullmatch=True),
).filter(lambda name: not VALID.fullmatch(name) and name not in (".", ".."))


def _named_operations(http: TwinHttp) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path, operation in http.documented_operations()
        if "{name}" in path and set(operation.get("tags", ())) & {"keys", "secrets"}
    ]


def test_an_invalid_name_is_400_bad_parameter_on_every_operation(http: TwinHttp) -> None:
    operations = _named_operations(http)
    assert len(operations) >= 25, operations  # every key and secret operation that names an object
    for method, template in operations:
        _check(http, method, template)


def _check(http: TwinHttp, method: str, template: str) -> None:
    @settings(max_examples=4, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(name=invalid_names)
    def refused(name: str) -> None:
        path = template.replace("{name}", quote(name, safe="")).replace("{version}", VERSION)
        body = {} if method in ("PUT", "POST", "PATCH") else None
        response = http.vault(method, path, json=body)
        error = response.json().get("error", {})
        assert response.status_code == 400 and error.get("code") == "BadParameter", (
            method,
            path[:120],
            response.status_code,
            response.text[:200],
        )
        assert "invalid name" in error["message"]

    refused()


CALLS: dict[str, Any] = {
    "get_key": lambda k, s, n: k.get_key(n),
    "update_key_properties": lambda k, s, n: k.update_key_properties(n, enabled=False),
    "begin_delete_key": lambda k, s, n: k.begin_delete_key(n),
    "backup_key": lambda k, s, n: k.backup_key(n),
    "get_key_rotation_policy": lambda k, s, n: k.get_key_rotation_policy(n),
    "rotate_key": lambda k, s, n: k.rotate_key(n),
    "get_deleted_key": lambda k, s, n: k.get_deleted_key(n),
    "purge_deleted_key": lambda k, s, n: k.purge_deleted_key(n),
    "get_secret": lambda k, s, n: s.get_secret(n),
    "update_secret_properties": lambda k, s, n: s.update_secret_properties(n, enabled=False),
    "begin_delete_secret": lambda k, s, n: s.begin_delete_secret(n),
    "backup_secret": lambda k, s, n: s.backup_secret(n),
    "get_deleted_secret": lambda k, s, n: s.get_deleted_secret(n),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("name", ["with_underscore", "with.dot", "x" * 128, "ümlaut"])
def test_the_sdk_gets_400_bad_parameter_for_an_invalid_name(http: TwinHttp, call: str, name: str) -> None:
    keys, secrets = key_client(http.info, TWIN_VAULT), secret_client(http.info, TWIN_VAULT)
    with pytest.raises(HttpResponseError) as refused:
        CALLS[call](keys, secrets, name)
    assert refused.value.status_code == 400 and refused.value.error.code == "BadParameter"
