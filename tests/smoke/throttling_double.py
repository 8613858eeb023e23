"""A tiny HTTPS stand-in for one Key Vault secret that answers 429 first, because the twin never throttles.

It speaks just enough of the data plane for the official SDK: the 401 challenge (resource
`https://vault.localhost:<port>`, so the SDK's challenge verification passes), then
`GET /secrets/<name>/` answered `429 Retry-After: 1` the first `throttle` times and with a SecretBundle
after. Tokens are not validated (the twin's identity endpoint issues them for any resource). TLS uses
the twin's server certificate, which covers `*.vault.localhost`.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ThrottlingDouble:
    def __init__(self, cert: str, key: str, tenant: str, secret: str, value: str, throttle: int = 1) -> None:
        self.secret, self.value, self.throttle, self.tenant = secret, value, throttle, tenant
        self.log: list[tuple[str, int]] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                double.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def vault_url(self) -> str:
        return f"https://throttled.vault.localhost:{self.port}"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0].rstrip("/")
        if "authorization" not in {k.lower() for k in request.headers}:
            challenge = (
                f'Bearer authorization="https://login.windows.net/{self.tenant}", '
                f'resource="https://vault.localhost:{self.port}"'
            )
            return self.reply(request, path, 401, {"error": {"code": "Unauthorized"}}, {"WWW-Authenticate": challenge})
        if path != f"/secrets/{self.secret}":
            return self.reply(request, path, 404, {"error": {"code": "SecretNotFound", "message": "not found"}})
        if sum(1 for p, status in self.log if p == path and status == 429) < self.throttle:
            body = {"error": {"code": "Throttled", "message": "Too many requests."}}
            return self.reply(request, path, 429, body, {"Retry-After": "1"})
        bundle = {
            "value": self.value,
            "id": f"{self.vault_url}/secrets/{self.secret}/0123456789abcdef0123456789abcdef",
            "contentType": "text/plain",
            "attributes": {"enabled": True, "created": 1700000000, "updated": 1700000000},
        }
        return self.reply(request, path, 200, bundle)

    def reply(
        self, request: BaseHTTPRequestHandler, path: str, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        self.log.append((path, status))
        data = json.dumps(body).encode()
        request.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def __enter__(self) -> ThrottlingDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
