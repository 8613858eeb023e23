"""Key Vault list pages: `{value, nextLink}` with an absolute nextLink on the vault's own authority.

The SDK follows nextLink's scheme, host and path, re-quotes its query (parse_qs + quote) and sets
api-version itself; the skiptoken is a plain decimal offset, which survives that round trip.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from vaultspec.twin.domain.objects import MAX_PAGE, page
from vaultspec.twin.http.auth import DataPlaneCall
from vaultspec.twin.http.responses import json_response


def paged(
    call: DataPlaneCall, request: Request, items: list[Any], maxresults: int | None, skiptoken: str | None
) -> Response:
    chunk, token = page(items, maxresults, skiptoken)
    next_link = None
    if token is not None:
        api = request.query_params.get("api-version", "7.6")
        size = maxresults or MAX_PAGE
        next_link = f"{call.vault.url}{request.url.path}?api-version={api}&$skiptoken={token}&maxresults={size}"
    return json_response({"value": chunk, "nextLink": next_link})
