"""Request bodies parsed as JSON that the twin can store and echo: no lone UTF-16 surrogates.

Python's `json` turns the escape `"\\ud800"` (and, reading bytes, the CESU-8 bytes `ED A0 80`) into a
`str` holding a lone surrogate, which no UTF-8 encoder accepts: a secret value like that reached the
domain and gave a 500 with a traceback (and a dropped keep-alive connection). RFC 8259 §8.2 leaves such
strings' behaviour unpredictable; the twin refuses them with a 4xx, whatever field they are in (keys too).

`loads` is the one parser of request bodies: the raw-ASGI hot paths call it, and every FastAPI route is a
`StrictJsonRoute`, whose requests parse their body with it (`create_routers` refuses a route that is not).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

# Only bodies with a surrogate escape, a non-ASCII byte or a NUL (UTF-16/32) can hold a lone surrogate.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89abcdefABCDEF]|[\x00\x80-\xff]")
LONE_SURROGATE = "The request body is not valid: a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)."


class BodyRejected(StarletteHTTPException):
    """A request body that is not acceptable JSON (400; the handlers shape it per plane)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


def loads(body: bytes) -> Any:
    """`json.loads`, refusing (ValueError) a body any of whose strings holds a lone surrogate."""
    value = json.loads(body)
    if _MAYBE_SURROGATE.search(body):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(LONE_SURROGATE) from exc
    return value


class _StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = loads(await self.body())
            except ValueError as exc:
                if str(exc) == LONE_SURROGATE:
                    raise BodyRejected(LONE_SURROGATE) from exc
                raise  # FastAPI answers other decoding errors itself (400)
        return self._json


class StrictJsonRoute(APIRoute):
    """A FastAPI route whose request body is parsed by `loads` (FastAPI's documented custom-route hook)."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictJsonRequest(request.scope, request.receive))

        return strict
