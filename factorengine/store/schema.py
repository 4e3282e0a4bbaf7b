"""The run database file: its tables, schema version, migrations, and how a file is built, checked and opened.

- `PRAGMA user_version` is the schema version, `PRAGMA application_id` marks a FactorEngine run;
  `MIGRATIONS[v]` upgrades version v to v + 1 in one transaction (creating a run is the migration from 0).
- Opening never creates, repairs or replaces a file: anything wrong is a `StoreError` saying what to do.
- JSON columns use `json.dumps(allow_nan=True)` (`dumps`): NaN and ±inf round-trip exactly (tokens `NaN`,
  `Infinity`); keys are sorted, so a value is always stored as the same text.
"""
from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import quote

from factorengine.errors import FactorEngineError

__all__ = ["APPLICATION_ID", "BUSY_TIMEOUT_S", "MIGRATIONS", "SCHEMA_VERSION", "StoreError", "atomic", "build",
           "dumps", "open_connection", "remove_database"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
APPLICATION_ID = 0x46456E67  # "FEng": tells a run database from any other SQLite file
BUSY_TIMEOUT_S = 60.0
_TABLES = frozenset({"run", "programs", "nodes", "evaluations", "experience", "events", "islands", "tunings",
                     "trials", "llm_calls", "profiles"})

Clock = Callable[[], float]


class StoreError(FactorEngineError):
    """A run database that cannot be used as asked; the message says what is wrong and what to do."""


_SCHEMA_V1 = (
    """CREATE TABLE run (id INTEGER PRIMARY KEY CHECK (id = 1), created_at REAL NOT NULL, config TEXT NOT NULL,
        fingerprint TEXT NOT NULL, seed INTEGER NOT NULL, notes TEXT NOT NULL)""",
    "CREATE TABLE programs (program_id TEXT PRIMARY KEY, code TEXT NOT NULL)",
    """CREATE TABLE nodes (node_id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES nodes (node_id),
        island INTEGER NOT NULL, iteration INTEGER NOT NULL, depth INTEGER NOT NULL,
        program_id TEXT NOT NULL REFERENCES programs (program_id), params TEXT NOT NULL, idea TEXT NOT NULL,
        kind TEXT NOT NULL, reward REAL, failed INTEGER NOT NULL CHECK (failed IN (0, 1)),
        created_at REAL NOT NULL)""",
    "CREATE INDEX nodes_by_island ON nodes (island, node_id)",
    "CREATE INDEX nodes_by_parent ON nodes (parent_id)",
    """CREATE TABLE evaluations (node_id INTEGER PRIMARY KEY REFERENCES nodes (node_id), status TEXT NOT NULL,
        failure_reason TEXT, metrics TEXT NOT NULL, test_metrics TEXT, train_fs REAL, valid_fs REAL,
        orientation INTEGER, seconds REAL NOT NULL)""",
    "CREATE INDEX evaluations_by_status ON evaluations (status)",
    """CREATE TABLE experience (node_id INTEGER PRIMARY KEY REFERENCES nodes (node_id), change TEXT NOT NULL,
        why TEXT NOT NULL, outcome TEXT NOT NULL)""",
    """CREATE TABLE events (seq INTEGER PRIMARY KEY, time REAL NOT NULL, island INTEGER, iteration INTEGER,
        kind TEXT NOT NULL, payload TEXT NOT NULL)""",
    "CREATE INDEX events_by_kind ON events (kind, seq)",
    "CREATE TABLE islands (island INTEGER PRIMARY KEY, last_completed_iteration INTEGER NOT NULL)",
)

_SCHEMA_V2 = (
    """CREATE TABLE tunings (node_id INTEGER PRIMARY KEY REFERENCES nodes (node_id), proposed_id TEXT NOT NULL,
        lifted TEXT NOT NULL, n_trials INTEGER NOT NULL, best_trial INTEGER, default_fs REAL, best_fs REAL,
        neighbour_drop REAL, stop TEXT NOT NULL, seconds REAL NOT NULL)""",
    """CREATE TABLE trials (node_id INTEGER NOT NULL REFERENCES nodes (node_id), number INTEGER NOT NULL,
        params TEXT NOT NULL, train_fs REAL, status TEXT NOT NULL, failure_reason TEXT, repeat_of INTEGER,
        seconds REAL NOT NULL, PRIMARY KEY (node_id, number))""",
)

_SCHEMA_V3 = (
    "ALTER TABLE experience ADD COLUMN category TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE experience ADD COLUMN lesson TEXT NOT NULL DEFAULT ''",
    """CREATE TABLE llm_calls (key TEXT PRIMARY KEY, purpose TEXT NOT NULL, island INTEGER, model TEXT NOT NULL,
        request TEXT NOT NULL, content TEXT, finish_reason TEXT, error TEXT, prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, seconds REAL NOT NULL, created_at REAL NOT NULL)""",
)

_SCHEMA_V4 = (
    """CREATE TABLE profiles (node_id INTEGER PRIMARY KEY REFERENCES nodes (node_id), fingerprint BLOB NOT NULL,
        exposures TEXT NOT NULL, level_bet INTEGER NOT NULL, structural REAL, correlation REAL,
        penalty REAL NOT NULL)""",
)


def _statements(statements: tuple[str, ...]) -> Callable[[sqlite3.Connection], None]:
    """A migration that executes `statements` one by one (not executescript: it would COMMIT the transaction)."""
    def migrate(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)
    return migrate


# MIGRATIONS[v] turns a version-v database into version v + 1; it runs inside the caller's transaction.
MIGRATIONS: Mapping[int, Callable[[sqlite3.Connection], None]] = MappingProxyType({0: _statements(_SCHEMA_V1),
                                                                                   1: _statements(_SCHEMA_V2),
                                                                                   2: _statements(_SCHEMA_V3),
                                                                                   3: _statements(_SCHEMA_V4)})


def dumps(value: Any) -> str:
    """The JSON text a value is stored as: NaN and ±inf kept, keys sorted, numpy numbers as plain ones."""
    return json.dumps(value, allow_nan=True, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable: store plain numbers, strings, lists, dicts")


@contextlib.contextmanager
def atomic(conn: sqlite3.Connection) -> Iterator[None]:
    """Commit the block's statements at once (BEGIN IMMEDIATE), or roll them back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    committed = False
    try:
        yield
        conn.execute("COMMIT")
        committed = True
    finally:
        if not committed and conn.in_transaction:
            conn.execute("ROLLBACK")


def open_connection(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """Connect to the run database at `path`, checked and migrated to SCHEMA_VERSION (unless `read_only`)."""
    if not path.is_file():
        raise StoreError(f"no run database at {path}: check the run directory (a run is created by `evolve`)")
    conn = _connect(path, "ro" if read_only else "rw")
    with contextlib.ExitStack() as on_error:
        on_error.callback(conn.close)
        version = _validate(conn, path)
        if version < SCHEMA_VERSION:
            _upgrade(conn, path, version, read_only)
        _check_contents(conn, path)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
        on_error.pop_all()
    return conn


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.absolute()))}?mode={mode}"  # mode=rw/ro never creates a missing file
    try:
        # a reader may serve several threads in turn (the dashboard's); a writer stays with the thread that opened it
        return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=mode != "ro")
    except sqlite3.OperationalError as error:
        raise StoreError(f"cannot open run database {path}: {error}") from error


def _validate(conn: sqlite3.Connection, path: Path) -> int:
    """Check that `conn` holds an intact FactorEngine run without writing anything; return its version."""
    untouched = "The file was left untouched: restore it from a backup or start a new run."
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} cannot be read as a SQLite database ({error}): it is truncated, corrupted "
                         f"or not a run database. {untouched}") from error
    if problems != ["ok"]:
        raise StoreError(f"{path} is corrupted: {'; '.join(problems).replace(chr(10), ' ')}. {untouched}")
    if application_id != APPLICATION_ID:
        raise StoreError(f"{path} is a SQLite database but not a FactorEngine run "
                         f"(application_id {application_id:#x}, expected {APPLICATION_ID:#x})")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} was written by a newer FactorEngine (schema version {version}; this one "
                         f"reads up to {SCHEMA_VERSION}); upgrade FactorEngine to open it")
    return version


def _upgrade(conn: sqlite3.Connection, path: Path, version: int, read_only: bool) -> None:
    missing = [v for v in range(version, SCHEMA_VERSION) if v not in MIGRATIONS]
    if missing or read_only:
        why = "opened read-only" if not missing else f"no migration from schema version {missing[0]}"
        raise StoreError(f"{path} has schema version {version}, this FactorEngine uses {SCHEMA_VERSION}, and it "
                         f"cannot be migrated here ({why}); open it read-write with a FactorEngine that migrates it")
    try:
        with atomic(conn):
            _migrate(conn, version)
    except sqlite3.Error as error:
        raise StoreError(f"migrating {path} from schema version {version} failed ({error}); "
                         "the file was left as it was") from error
    log.info("migrated %s from schema version %d to %d", path, version, SCHEMA_VERSION)


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](conn)
    conn.execute(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")


def _check_contents(conn: sqlite3.Connection, path: Path) -> None:
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(_TABLES - present) or ([] if conn.execute("SELECT 1 FROM run").fetchone() else ["run row"])
    if missing:
        raise StoreError(f"{path} lacks {', '.join(missing)}: the file is damaged or was edited. "
                         "It was left untouched: restore it from a backup or start a new run.")


def build(path: Path, header: tuple[Mapping[str, Any], str, int, str], clock: Clock) -> None:
    """Write a new run database at `path` with the run row (config, fingerprint, seed, notes) in one commit."""
    config, fingerprint, seed, notes = header
    conn = _connect(path, "rwc")
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        with atomic(conn):
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            _migrate(conn, 0)
            conn.execute("INSERT INTO run VALUES (1, ?, ?, ?, ?, ?)",
                         (clock(), dumps(dict(config)), fingerprint, int(seed), notes))
    finally:
        conn.close()


def remove_database(path: Path) -> None:
    """Delete the database at `path` with its WAL and shared-memory files, if they exist."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
