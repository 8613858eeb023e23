"""A per-process cache of store reads that notices every commit, whoever made it.

SQLite stays the source of truth. The cache remembers derived reads (vault rows, role assignments,
access decisions, version rows, parsed private keys) only for the database generation they were
read at. The generation is `PRAGMA data_version` on a connection of its own that never writes:
SQLite changes that value whenever any *other* connection commits, which covers this process's
per-thread connections and every other worker process alike. A moved generation empties the cache,
so a write made through one worker is seen by the next request on any worker.

Races: a reader notes the generation *before* it loads, and stores its result only if the cache
is still at that generation; a value read across a concurrent commit is therefore never kept under
the newer generation (and any later check, seeing the commit, empties the cache anyway).

`snapshot()` lets a read-only request check the generation once instead of at every read: within
it (same thread, same asyncio task), reads use the generation noted at its start, so the request
sees the store as of its own beginning, as if it had arrived a moment earlier.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_MISSING = object()
DEFAULT_LIMIT = 8192


class ReadCache:
    """Generation-checked memo of store reads (see the module docstring)."""

    def __init__(self, db_path: Path, limit: int = DEFAULT_LIMIT) -> None:
        self._watch = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._items: dict[Hashable, object] = {}
        self._limit = limit
        self._snapshot: ContextVar[int | None] = ContextVar(f"read-cache-{id(self)}", default=None)

    def generation(self) -> int:
        """The database's current generation; empties the cache when it moved."""
        with self._lock:
            (version,) = self._watch.execute("PRAGMA data_version").fetchone()
            if version != self._generation:
                self._items.clear()
                self._generation = version
            return version

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value for `key` at the current generation, else `load()` (kept if still current).

        An exception from `load` propagates and nothing is kept, so only successful reads are cached.
        """
        generation = self._snapshot.get()
        if generation is None:
            generation = self.generation()
        value = self._items.get(key, _MISSING)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
        value = load()
        with self._lock:
            if self._generation == generation:
                if len(self._items) >= self._limit:
                    self._items.clear()
                self._items[key] = value
        return value  # type: ignore[return-value]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One generation check for the whole block; only for code that does not write."""
        token = self._snapshot.set(self.generation())
        try:
            yield
        finally:
            self._snapshot.reset(token)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        with self._lock:
            self._items.clear()
            self._watch.close()
