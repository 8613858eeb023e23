"""Durable state of the twin: one SQLite file in WAL mode, secrets sealed with AES-GCM.

Invariants this module keeps:
- every acknowledged write survives SIGKILL (WAL + `synchronous=FULL`; a write commits before the
  HTTP answer is sent);
- key material and secret values are never stored in plaintext: `payload` columns hold
  `nonce || AES-GCM(master key, value, aad=row identity)`, so a sealed value cannot be moved to
  another row either. The 32-byte master key lives in `<data>/master.key` (mode 0600);
- one connection per thread (SQLite connections are not shared across threads);
- `cached()` reads go through a per-process `ReadCache` that any commit, from any connection or
  process, invalidates (`PRAGMA data_version`); reads inside a write transaction bypass it;
- the schema is versioned in `schema_migrations`; `MIGRATIONS` only ever grows.

The store knows rows, not rules: soft delete, access and validation live in `domain/`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vaultspec.twin.read_cache import ReadCache

T = TypeVar("T")

DB_FILE = "twin.db"
MASTER_KEY_FILE = "master.key"

MIGRATIONS: list[str] = [
    # 1: the whole first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE vaults (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        body TEXT NOT NULL,
        created REAL NOT NULL,
        deleted_at REAL,
        purge_at REAL
    );
    CREATE TABLE objects (
        vault TEXT NOT NULL COLLATE NOCASE,
        kind TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        deleted_at REAL,
        purge_at REAL,
        policy TEXT,
        PRIMARY KEY (vault, kind, name)
    );
    CREATE TABLE versions (
        vault TEXT NOT NULL COLLATE NOCASE,
        kind TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        version TEXT NOT NULL COLLATE NOCASE,
        seq INTEGER NOT NULL,
        meta TEXT NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY (vault, kind, name, version)
    );
    CREATE INDEX versions_by_seq ON versions (vault, kind, name, seq);
    CREATE TABLE records (
        id TEXT PRIMARY KEY COLLATE NOCASE,
        type TEXT NOT NULL COLLATE NOCASE,
        scope TEXT NOT NULL COLLATE NOCASE,
        body TEXT NOT NULL
    );
    CREATE INDEX records_by_type ON records (type, scope);
    """,
]


def write_private_file(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 from the start (no window where others can read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_master_key(data_dir: Path) -> bytes:
    """Read (or create once) the 32-byte master key that seals every payload."""
    path = data_dir / MASTER_KEY_FILE
    if not path.exists():
        write_private_file(path, os.urandom(32))
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path}: master key must be exactly 32 bytes, found {len(key)}")
    return key


class Sealer:
    """AES-256-GCM sealing bound to an identity string (the AAD)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, aad: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, aad.encode())

    def open(self, sealed: bytes, aad: str) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], aad.encode())


@dataclass(frozen=True)
class VersionRow:
    """One version of a key or secret as stored (payload still sealed)."""

    vault: str
    kind: str
    name: str
    version: str
    seq: int
    meta: dict[str, Any]
    payload: bytes


@dataclass(frozen=True)
class ObjectRow:
    """A key or secret as a whole: its deletion state and rotation policy."""

    vault: str
    kind: str
    name: str
    deleted_at: float | None
    purge_at: float | None
    policy: dict[str, Any] | None


@dataclass(frozen=True)
class VaultRow:
    name: str
    body: dict[str, Any]
    created: float
    deleted_at: float | None
    purge_at: float | None


def _aad(vault: str, kind: str, name: str, version: str) -> str:
    return f"{vault.lower()}/{kind}/{name.lower()}/{version.lower()}"


class Store:
    """SQLite persistence with sealed payloads; see the module docstring for the invariants."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DB_FILE
        self.sealer = Sealer(load_master_key(self.data_dir))
        self._local = threading.local()
        self._owner = threading.get_ident()
        self._migrate()
        self.cache = ReadCache(self.path)

    # -- connections and transactions -------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT (durable once this block exits)."""
        conn = self.conn()
        if conn.in_transaction:  # nested use joins the outer transaction
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def cached(self, key: Any, load: Callable[[], T]) -> T:
        """`load()` memoised until the next commit anywhere (see `ReadCache`); uncached inside a write."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.in_transaction:
            return load()
        return self.cache.get(key, load)

    def close(self) -> None:
        """Close the calling thread's connection; from the thread that opened the store, the cache's too."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if threading.get_ident() == self._owner:
            self.cache.close()

    def _migrate(self) -> None:
        conn = self.conn()
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied REAL)")
        with self.transaction():
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for number, script in enumerate(MIGRATIONS, start=1):
                if number in done:
                    continue
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, strftime('%s','now'))", (number,))

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.conn().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- vaults -----------------------------------------------------------------------------
    def get_vault(self, name: str) -> VaultRow | None:
        row = (
            self.conn()
            .execute("SELECT name, body, created, deleted_at, purge_at FROM vaults WHERE name=?", (name,))
            .fetchone()
        )
        return VaultRow(row[0], json.loads(row[1]), row[2], row[3], row[4]) if row else None

    def list_vaults(self) -> list[VaultRow]:
        rows = self.conn().execute("SELECT name, body, created, deleted_at, purge_at FROM vaults ORDER BY name")
        return [VaultRow(r[0], json.loads(r[1]), r[2], r[3], r[4]) for r in rows]

    def put_vault(self, row: VaultRow) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO vaults VALUES (?, ?, ?, ?, ?)",
                (row.name.lower(), json.dumps(row.body), row.created, row.deleted_at, row.purge_at),
            )

    def purge_vault(self, name: str) -> None:
        """Remove a vault and everything in it (its keys, secrets and their versions)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM vaults WHERE name=?", (name,))
            conn.execute("DELETE FROM objects WHERE vault=?", (name,))
            conn.execute("DELETE FROM versions WHERE vault=?", (name,))

    # -- keys and secrets -------------------------------------------------------------------
    def get_object(self, vault: str, kind: str, name: str) -> ObjectRow | None:
        row = (
            self.conn()
            .execute(
                "SELECT vault, kind, name, deleted_at, purge_at, policy FROM objects "
                "WHERE vault=? AND kind=? AND name=?",
                (vault, kind, name),
            )
            .fetchone()
        )
        return _object(row) if row else None

    def list_objects(self, vault: str, kind: str, deleted: bool) -> list[ObjectRow]:
        clause = "IS NOT NULL" if deleted else "IS NULL"
        rows = self.conn().execute(
            "SELECT vault, kind, name, deleted_at, purge_at, policy FROM objects "
            f"WHERE vault=? AND kind=? AND deleted_at {clause} ORDER BY name COLLATE NOCASE",
            (vault, kind),
        )
        return [_object(r) for r in rows]

    def put_object(self, row: ObjectRow) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?)",
                (
                    row.vault,
                    row.kind,
                    row.name,
                    row.deleted_at,
                    row.purge_at,
                    json.dumps(row.policy) if row.policy is not None else None,
                ),
            )

    def purge_object(self, vault: str, kind: str, name: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM objects WHERE vault=? AND kind=? AND name=?", (vault, kind, name))
            conn.execute("DELETE FROM versions WHERE vault=? AND kind=? AND name=?", (vault, kind, name))

    def add_version(
        self, vault: str, kind: str, name: str, version: str, meta: dict[str, Any], plaintext: bytes
    ) -> VersionRow:
        """Append a version (sealing its payload) and make sure its object row exists."""
        sealed = self.sealer.seal(plaintext, _aad(vault, kind, name, version))
        with self.transaction() as conn:
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM versions WHERE vault=? AND kind=? AND name=?",
                (vault, kind, name),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (vault, kind, name, version, seq, json.dumps(meta), sealed),
            )
            conn.execute("INSERT OR IGNORE INTO objects (vault, kind, name) VALUES (?, ?, ?)", (vault, kind, name))
        return VersionRow(vault, kind, name, version, seq, meta, sealed)

    def update_version_meta(self, row: VersionRow, meta: dict[str, Any]) -> VersionRow:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE versions SET meta=? WHERE vault=? AND kind=? AND name=? AND version=?",
                (json.dumps(meta), row.vault, row.kind, row.name, row.version),
            )
        return VersionRow(row.vault, row.kind, row.name, row.version, row.seq, meta, row.payload)

    def get_version(self, vault: str, kind: str, name: str, version: str = "") -> VersionRow | None:
        """One version; the latest when `version` is empty."""
        conn = self.conn()
        if version:
            row = conn.execute(
                "SELECT vault, kind, name, version, seq, meta, payload FROM versions "
                "WHERE vault=? AND kind=? AND name=? AND version=?",
                (vault, kind, name, version),
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT vault, kind, name, version, seq, meta, payload FROM versions "
                "WHERE vault=? AND kind=? AND name=? ORDER BY seq DESC LIMIT 1",
                (vault, kind, name),
            ).fetchone()
        return _version(row) if row else None

    def list_versions(self, vault: str, kind: str, name: str) -> list[VersionRow]:
        rows = self.conn().execute(
            "SELECT vault, kind, name, version, seq, meta, payload FROM versions "
            "WHERE vault=? AND kind=? AND name=? ORDER BY seq",
            (vault, kind, name),
        )
        return [_version(r) for r in rows]

    def open_payload(self, row: VersionRow) -> bytes:
        return self.sealer.open(row.payload, _aad(row.vault, row.kind, row.name, row.version))

    # -- ARM records (role assignments, locks, diagnostic settings, ...) ----------------------
    def put_record(self, record_id: str, record_type: str, scope: str, body: dict[str, Any]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                (record_id, record_type, scope, json.dumps(body)),
            )

    def get_record(self, record_id: str) -> dict[str, Any] | None:
        row = self.conn().execute("SELECT body FROM records WHERE id=?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def delete_record(self, record_id: str) -> bool:
        with self.transaction() as conn:
            deleted = conn.execute("DELETE FROM records WHERE id=?", (record_id,)).rowcount > 0
        return deleted

    def list_records(self, record_type: str) -> list[tuple[str, dict[str, Any]]]:
        rows = (
            self.conn().execute("SELECT scope, body FROM records WHERE type=? ORDER BY id", (record_type,)).fetchall()
        )
        return [(r[0], json.loads(r[1])) for r in rows]


def _object(row: tuple) -> ObjectRow:
    return ObjectRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]) if row[5] else None)


def _version(row: tuple) -> VersionRow:
    return VersionRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6])
