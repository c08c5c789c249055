"""The sandbox's one storage layer: a SQLite database, its clock and its id generator.

State lives in memory, or in a file (``--state``) so that it survives restarts. Every
service keeps its tables here; a single lock serialises access, as SQLite wants.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

MAX_CLOCK_OFFSET_SECONDS = 100 * 365.25 * 86400  # far from datetime's year 9999, whatever "now" is
# Deterministic mode starts every clock here and every id counter at a fixed value.
DETERMINISTIC_EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (kind TEXT PRIMARY KEY, next INTEGER NOT NULL);
"""


class Store:
    def __init__(self, path: str = ":memory:", *, deterministic: bool = False, clock_offset: float = 0.0):
        self.path = path
        self.deterministic = deterministic
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)
        if clock_offset and self.get_meta("clock_offset_seconds") is None:
            # a sandbox that starts in the past (a demo that plays days up to now): its clock then
            # moves only forward, as always
            self.set_meta("clock_offset_seconds", repr(float(clock_offset)))
        self.clock = Clock(self)

    def add_schema(self, sql: str) -> None:
        with self.lock:
            self.db.executescript(sql)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: all of it is written, or none of it."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def db_rows(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """Like query, as plain tuples: faster for rows read by position in hot paths."""
        with self.lock:
            cursor = self.db.execute(sql, params)
            cursor.row_factory = None
            return cursor.fetchall()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self.db.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def next_ids(self, kind: str, count: int = 1, *, start: int = 1) -> range:
        """Reserve ``count`` consecutive integer ids of ``kind``."""
        with self.lock:
            row = self.db.execute("SELECT next FROM counters WHERE kind = ?", (kind,)).fetchone()
            first = row["next"] if row else start
            self.db.execute(
                "INSERT INTO counters(kind, next) VALUES(?, ?) ON CONFLICT(kind) DO UPDATE SET next = excluded.next",
                (kind, first + count),
            )
            return range(first, first + count)

    def next_id(self, kind: str, *, start: int = 1) -> int:
        return self.next_ids(kind, 1, start=start)[0]

    def new_uuid(self, kind: str) -> str:
        """A random uuid4, or in deterministic mode one derived from a counter."""
        if not self.deterministic:
            return str(uuid.uuid4())
        n = self.next_id("uuid:" + kind)
        digest = hashlib.sha256(f"{kind}:{n}".encode()).digest()[:16]
        return str(uuid.UUID(bytes=digest, version=4))

    def close(self) -> None:
        with self.lock:
            self.db.close()


class Clock:
    """Wall time, or a frozen time in deterministic mode; both can be moved forward."""

    def __init__(self, store: Store):
        self._store = store
        # Read once: every answer's Date header asks the time, and only advance() moves it.
        self._offset = timedelta(seconds=float(store.get_meta("clock_offset_seconds", "0")))

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        base = DETERMINISTIC_EPOCH if self._store.deterministic else datetime.now(UTC)
        return base + self.offset

    def check_step(self, seconds: float) -> float:
        """``seconds`` if the clock may move by it; ValueError saying why not otherwise."""
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
            raise ValueError("the sandbox clock moves by a finite number of seconds")
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        if self.offset.total_seconds() + seconds > MAX_CLOCK_OFFSET_SECONDS:
            raise ValueError(
                f"the sandbox clock moves at most {MAX_CLOCK_OFFSET_SECONDS:.0f} s (100 years) from where it started"
            )
        return float(seconds)

    def advance(self, seconds: float) -> datetime:
        self.check_step(seconds)
        total = self.offset.total_seconds() + seconds
        self._store.set_meta("clock_offset_seconds", repr(total))
        self._offset = timedelta(seconds=total)
        return self.now()

    @staticmethod
    def parse(text: str) -> datetime:
        """The inverse of :meth:`iso`."""
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    def iso(self, when: datetime | None = None) -> str:
        """8x8's timestamp shape: 2022-04-18T07:39:55.52Z."""
        when = when or self.now()
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-4] + "Z"
