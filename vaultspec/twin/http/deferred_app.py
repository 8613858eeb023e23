"""An ASGI app built in a background thread, so a fresh twin answers before FastAPI has loaded.

Importing FastAPI, pydantic and the routers costs most of a cold start (~0.7 s of CPU here), yet the
edge (`edge.TwinEdge`) answers the SDK's first calls — the 401 challenge on a secret read, the
identity token, the secret read or sign itself — without them. `DeferredApp.start()` begins the
build as soon as the server listens; a request that needs the routers before they are ready awaits
the build (on the event loop, so other requests keep being served) and is then answered normally.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send


class DeferredApp:
    """ASGI app whose real app comes from `build()`, run once in a daemon thread."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._future: concurrent.futures.Future[ASGIApp] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Begin building (idempotent)."""
        with self._lock:
            if self._future is not None:
                return
            self._future = concurrent.futures.Future()
        threading.Thread(target=self._run, name="twin-routers", daemon=True).start()

    def _run(self) -> None:
        assert self._future is not None
        try:
            app = self._build()
        except BaseException as exc:  # surfaces in every request that needs the app
            self._future.set_exception(exc)
            return
        self._app = app
        self._future.set_result(app)

    def ready(self) -> ASGIApp:
        """Block until built (for code outside the event loop, e.g. tests)."""
        self.start()
        assert self._future is not None
        return self._future.result()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app
        if app is None:
            self.start()
            assert self._future is not None
            app = await asyncio.wrap_future(self._future)
        await app(scope, receive, send)
