"""Keep one run in one SQLite file: config, programs, tree nodes, evaluations, experience, events, progress.

- Every write happens inside `with store.transaction():` (BEGIN IMMEDIATE): an iteration's rows and its
  progress marker commit together, so a killed run loses at most the iteration in flight.
- WAL journal, `synchronous=FULL`: WAL with NORMAL never corrupts the file but a power loss can undo the last
  commits; FULL costs one fsync (milliseconds) per iteration (seconds), and a committed iteration stays so.
- One writer at a time (others wait up to `BUSY_TIMEOUT_S`); readers, also other processes opening with
  `read_only=True`, see the last commit and never block the writer. One Store per process; never fork one.
- JSON columns use `json.dumps(allow_nan=True)`: NaN and ±inf round-trip exactly (tokens `NaN`, `Infinity`).
  REAL columns store NaN as NULL: `reward` reads NULL back as NaN; `train_fs`/`valid_fs` (ordering copies of
  metrics[segment]["fs"]) stay NULL. Test metrics have their own column, returned only with `include_test`.
- `PRAGMA user_version` is the schema version, `PRAGMA application_id` marks a FactorEngine run;
  `MIGRATIONS[v]` upgrades version v to v + 1 in one transaction (creating a run is the migration from 0).
- Opening never creates, repairs or replaces a file: anything wrong is a `StoreError` saying what to do.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, Sequence
from urllib.parse import quote

import numpy as np

from factorengine.errors import FactorEngineError

__all__ = ["SCHEMA_VERSION", "EvaluationRow", "EventRow", "ExperienceRow", "LLMCallRow", "LLMTotals", "ProfileRow", "NodeRow", "RunInfo", "Store",
           "StoreError", "TrialRow", "TuningRow"]

log = logging.getLogger(__name__)

RUN_DATABASE = "run.db"  # the store's file name inside a run directory
SCHEMA_VERSION = 4
APPLICATION_ID = 0x46456E67  # "FEng": tells a run database from any other SQLite file
BUSY_TIMEOUT_S = 60.0
_TABLES = frozenset({"run", "programs", "nodes", "evaluations", "experience", "events", "islands", "tunings",
                     "trials", "llm_calls", "profiles"})
_SEGMENTS = ("train", "valid")  # the segments `metrics` may hold; "test" has its own column
_ORDER_BY = {"train": "e.train_fs", "valid": "e.valid_fs"}

Clock = Callable[[], float]
Params = Mapping[str, "int | float"]


class StoreError(FactorEngineError):
    """A run database that cannot be used as asked; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class RunInfo:
    """The run's single header row; `created_at` is seconds since the epoch."""

    created_at: float
    config: Mapping[str, Any]
    fingerprint: str
    seed: int
    notes: str
    schema_version: int


@dataclass(frozen=True)
class NodeRow:
    """A tree node: an evaluated program, its lineage and its normalized search reward."""

    node_id: int
    parent_id: int | None  # None: a child of the (virtual) root
    island: int
    iteration: int
    depth: int
    program_id: str
    params: Params
    idea: str
    kind: str  # "seed", "migrant" or the mutation kind
    reward: float  # 0 for failed programs, NaN if unknown
    failed: bool
    created_at: float | None = None  # seconds since the epoch; None on input: now, by the store's clock


@dataclass(frozen=True)
class EvaluationRow:
    """How a node's program scored with the node's params."""

    node_id: int
    status: str  # "ok" or the failure kind
    failure_reason: str | None
    metrics: Mapping[str, Mapping[str, float]]  # "train"/"valid" -> metric -> value; empty when failed
    test_metrics: Mapping[str, float] | None  # None unless read with `include_test=True`
    orientation: int | None  # +1/-1, None when failed
    seconds: float


@dataclass(frozen=True)
class ExperienceRow:
    """What a node changed relative to its parent, why, and what happened: text for the next prompts."""

    node_id: int
    change: str
    why: str
    outcome: str
    category: str = ""  # the proposer's label for the idea (momentum, reversal, ...)
    lesson: str = ""  # the reflection on the outcome: why the change helped or hurt


@dataclass(frozen=True)
class LLMCallRow:
    """One answered (or given-up) request to the LLM, stored under the hash of its content.

    request: the JSON body sent (never a key or header); content: the answer, None when the call failed
    (`error` says why); cost_usd from the configured price table.
    """

    key: str
    purpose: str
    island: int | None
    model: str
    request: Mapping[str, Any]
    content: str | None
    finish_reason: str | None
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    seconds: float


@dataclass(frozen=True, eq=False)
class ProfileRow:
    """How new a node's program is: its value fingerprint, level exposures and the reward penalty they set.

    structural / correlation: the largest structural similarity and |value correlation| to the island's best
    programs when the node was added; penalty: the factor its reward was multiplied by.
    """

    node_id: int
    fingerprint: np.ndarray  # float32, see factorengine.score.novelty
    exposures: Mapping[str, float]
    level_bet: bool
    structural: float
    correlation: float
    penalty: float


@dataclass(frozen=True)
class LLMTotals:
    """What the LLM calls of a run added up to (replayed calls included)."""

    calls: int
    failed: int
    tokens: int
    cost_usd: float
    by_purpose: Mapping[str, int]


@dataclass(frozen=True)
class TuningRow:
    """How a node's parameters were tuned: the program as proposed, the knobs lifted, the study's outcome."""

    node_id: int
    proposed_id: str  # program id before lifting and tuning
    lifted: tuple[Mapping[str, Any], ...]  # each {"name", "value", "line", "context", "reason"}
    n_trials: int
    best_trial: int | None  # None when no trial scored
    default_fs: float  # train FS of trial 0 (the proposed defaults); NaN when it failed
    best_fs: float
    neighbour_drop: float  # relative fall of train FS around the best trial; NaN when unknown
    stop: str  # "budget", "patience" or "refused"
    seconds: float


@dataclass(frozen=True)
class TrialRow:
    """One tuning trial of a node: parameters, train FS (NaN when failed) and status."""

    node_id: int
    number: int
    params: Params
    train_fs: float
    status: str  # "ok" or the failure kind
    failure_reason: str | None
    repeat_of: int | None  # the earlier trial with the same parameters (not run again)
    seconds: float


@dataclass(frozen=True)
class EventRow:
    """One machine-readable event; `seq` orders events, `time` is seconds since the epoch."""

    seq: int
    time: float
    island: int | None
    iteration: int | None
    kind: str
    payload: Mapping[str, Any]


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


def _create_v1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1:  # not executescript: it would COMMIT the surrounding transaction
        conn.execute(statement)


_SCHEMA_V2 = (
    """CREATE TABLE tunings (node_id INTEGER PRIMARY KEY REFERENCES nodes (node_id), proposed_id TEXT NOT NULL,
        lifted TEXT NOT NULL, n_trials INTEGER NOT NULL, best_trial INTEGER, default_fs REAL, best_fs REAL,
        neighbour_drop REAL, stop TEXT NOT NULL, seconds REAL NOT NULL)""",
    """CREATE TABLE trials (node_id INTEGER NOT NULL REFERENCES nodes (node_id), number INTEGER NOT NULL,
        params TEXT NOT NULL, train_fs REAL, status TEXT NOT NULL, failure_reason TEXT, repeat_of INTEGER,
        seconds REAL NOT NULL, PRIMARY KEY (node_id, number))""",
)


def _add_tuning_v2(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V2:
        conn.execute(statement)


_SCHEMA_V3 = (
    "ALTER TABLE experience ADD COLUMN category TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE experience ADD COLUMN lesson TEXT NOT NULL DEFAULT ''",
    """CREATE TABLE llm_calls (key TEXT PRIMARY KEY, purpose TEXT NOT NULL, island INTEGER, model TEXT NOT NULL,
        request TEXT NOT NULL, content TEXT, finish_reason TEXT, error TEXT, prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, seconds REAL NOT NULL, created_at REAL NOT NULL)""",
)


def _add_llm_v3(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V3:
        conn.execute(statement)


_SCHEMA_V4 = (
    """CREATE TABLE profiles (node_id INTEGER PRIMARY KEY REFERENCES nodes (node_id), fingerprint BLOB NOT NULL,
        exposures TEXT NOT NULL, level_bet INTEGER NOT NULL, structural REAL, correlation REAL,
        penalty REAL NOT NULL)""",
)


def _add_profiles_v4(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V4:
        conn.execute(statement)


# MIGRATIONS[v] turns a version-v database into version v + 1; it runs inside the caller's transaction.
MIGRATIONS: Mapping[int, Callable[[sqlite3.Connection], None]] = MappingProxyType({0: _create_v1,
                                                                                   1: _add_tuning_v2,
                                                                                   2: _add_llm_v3,
                                                                                   3: _add_profiles_v4})


class Store:
    """One run's database. Make one with `Store.create` or `Store.open`; use it as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool, clock: Clock) -> None:
        self._conn = conn
        self._read_only = read_only
        self._clock = clock
        self._in_transaction = False
        self.path = path

    @classmethod
    def create(cls, path: str | os.PathLike, *, config: Mapping[str, Any], fingerprint: str, seed: int,
               notes: str = "", clock: Clock = time.time) -> Store:
        """Create a run database at `path`, refusing if anything is there already.

        Built under a temporary name, then hard-linked into place: `path` holds a complete run or nothing,
        and a run created concurrently at the same path is never overwritten.
        """
        path = Path(path)
        if not path.parent.is_dir():
            raise StoreError(f"cannot create {path}: the directory {path.parent} does not exist")
        for existing in (path, Path(f"{path}-wal")):
            if os.path.lexists(existing):
                raise StoreError(f"{existing} already exists: a run is never overwritten; resume it, "
                                 "or choose a new run directory")
        temporary = path.with_name(f".{path.name}.creating-{os.getpid()}")
        _remove_database(temporary)
        try:
            _build(temporary, (config, fingerprint, seed, notes), clock)
            os.link(temporary, path)
        except FileExistsError as error:
            raise StoreError(f"{path} appeared while this run was being created; it was left as it is") from error
        finally:
            _remove_database(temporary)
        return cls.open(path, clock=clock)

    @classmethod
    def open(cls, path: str | os.PathLike, *, read_only: bool = False, clock: Clock = time.time) -> Store:
        """Open an existing run database, migrating an older schema unless `read_only`."""
        path = Path(path)
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
        return cls(conn, path, read_only=read_only, clock=clock)

    def close(self) -> None:
        """Close the connection; uncommitted work (there is none outside `transaction()`) is dropped."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit everything written inside the block at once, or nothing if the block raises."""
        if self._read_only:
            raise StoreError(f"{self.path} was opened read-only; open it read-write to write")
        if self._in_transaction:
            raise StoreError("transactions do not nest: one iteration is one transaction")
        self._in_transaction = True
        try:
            with _atomic(self._conn):
                yield
        finally:
            self._in_transaction = False

    # Writers: each must run inside `transaction()`.

    def add_program(self, program_id: str, code: str) -> None:
        """Store `code` under its content id; storing the same pair again changes nothing."""
        self._write("INSERT INTO programs VALUES (?, ?) ON CONFLICT (program_id) DO NOTHING",
                    (program_id, code), f"program {program_id}")
        if self.program(program_id) != code:
            raise StoreError(f"program {program_id} is already stored with different code: "
                             "a program id must be the content hash of its code")

    def add_node(self, node: NodeRow) -> int:
        """Store a node under the caller's `node_id` (explicit ids keep resumed runs identical); return it."""
        created_at = self._clock() if node.created_at is None else node.created_at
        self._write("INSERT INTO nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (node.node_id, node.parent_id, node.island, node.iteration, node.depth, node.program_id,
                     _dumps(node.params), node.idea, node.kind, node.reward, int(node.failed), created_at),
                    f"node {node.node_id}")
        return node.node_id

    def add_evaluation(self, row: EvaluationRow) -> None:
        """Store a node's evaluation; `metrics` may hold only train and valid, test goes in `test_metrics`."""
        extra = sorted(set(row.metrics) - set(_SEGMENTS))
        if extra:
            raise StoreError(f"evaluation of node {row.node_id}: `metrics` holds {extra}; only {list(_SEGMENTS)} "
                             "go there, test metrics go in `test_metrics` so proposers never see them")
        fs = [row.metrics.get(segment, {}).get("fs") for segment in _SEGMENTS]
        test = None if row.test_metrics is None else _dumps(row.test_metrics)
        self._write("INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.node_id, row.status, row.failure_reason, _dumps(row.metrics), test, *fs,
                     row.orientation, row.seconds), f"the evaluation of node {row.node_id}")

    def add_experience(self, row: ExperienceRow) -> None:
        """Store the experience record of a node."""
        self._write("INSERT INTO experience VALUES (?, ?, ?, ?, ?, ?)",
                    (row.node_id, row.change, row.why, row.outcome, row.category, row.lesson),
                    f"the experience of node {row.node_id}")

    def add_tuning(self, row: TuningRow, trials: Sequence[TrialRow]) -> None:
        """Store how a node was tuned and its trial ledger."""
        self._write("INSERT INTO tunings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.node_id, row.proposed_id, _dumps(row.lifted), row.n_trials, row.best_trial,
                     *map(_null_nan, (row.default_fs, row.best_fs, row.neighbour_drop)), row.stop, row.seconds),
                    f"the tuning of node {row.node_id}")
        for t in trials:
            self._write("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (t.node_id, t.number, _dumps(t.params), _null_nan(t.train_fs), t.status, t.failure_reason,
                         t.repeat_of, t.seconds), f"trial {t.number} of node {t.node_id}")

    def add_llm_call(self, row: LLMCallRow) -> None:
        """Store an LLM call under its key; a call stored again (a retry of a failed one) replaces it."""
        self._write("INSERT OR REPLACE INTO llm_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.key, row.purpose, row.island, row.model, _dumps(row.request), row.content, row.finish_reason,
                     row.error, row.prompt_tokens, row.completion_tokens, row.cost_usd, row.seconds, self._clock()),
                    f"LLM call {row.key}")

    def add_profile(self, row: ProfileRow) -> None:
        """Store a node's novelty profile."""
        self._write("INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (row.node_id, np.asarray(row.fingerprint, dtype=np.float32).tobytes(), _dumps(row.exposures),
                     int(row.level_bet), _null_nan(row.structural), _null_nan(row.correlation), row.penalty),
                    f"the profile of node {row.node_id}")

    def add_event(self, kind: str, payload: Mapping[str, Any] | None = None, *, island: int | None = None,
                  iteration: int | None = None) -> int:
        """Append an event stamped by the store's clock; return its sequence number."""
        cursor = self._write("INSERT INTO events (time, island, iteration, kind, payload) VALUES (?, ?, ?, ?, ?)",
                             (self._clock(), island, iteration, kind, _dumps(payload or {})), f"event {kind}")
        return int(cursor.lastrowid)

    def set_progress(self, island: int, iteration: int) -> None:
        """Record `iteration` as the last one `island` completed; commit it with that iteration's rows."""
        self._write("INSERT INTO islands VALUES (?, ?) ON CONFLICT (island) DO UPDATE "
                    "SET last_completed_iteration = excluded.last_completed_iteration",
                    (island, iteration), f"the progress of island {island}")

    # Readers: each sees the last committed state (plus this connection's own open transaction).

    def run_info(self) -> RunInfo:
        """Return the run's header: config, data fingerprint, seed."""
        created_at, config, *rest = self._row("SELECT created_at, config, fingerprint, seed, notes, "
                                              "(SELECT user_version FROM pragma_user_version) FROM run")
        return RunInfo(created_at, json.loads(config), *rest)

    def check_fingerprint(self, expected: str) -> None:
        """Raise unless the run was recorded on data with fingerprint `expected`."""
        recorded = self.run_info().fingerprint
        if recorded != expected:
            raise StoreError(f"the data under this run changed: recorded {recorded}, now {expected}; "
                             "use the original data or start a new run")

    def program(self, program_id: str) -> str | None:
        """Return the code stored under `program_id`, or None."""
        row = self._row("SELECT code FROM programs WHERE program_id = ?", program_id)
        return None if row is None else row[0]

    def nodes(self, island: int | None = None) -> list[NodeRow]:
        """Return all nodes (or one island's) in node_id order."""
        where, args = ("", ()) if island is None else ("WHERE island = ?", (island,))
        rows = self._conn.execute(f"SELECT * FROM nodes {where} ORDER BY node_id", args)
        return [_node(row) for row in rows]

    def evaluation(self, node_id: int, *, include_test: bool = False) -> EvaluationRow | None:
        """Return a node's evaluation, or None; test metrics only with `include_test` (harvest, reports)."""
        row = self._row("SELECT node_id, status, failure_reason, metrics, test_metrics, orientation, seconds "
                        "FROM evaluations WHERE node_id = ?", node_id)
        if row is None:
            return None
        test = json.loads(row[4]) if include_test and row[4] is not None else None
        return EvaluationRow(row[0], row[1], row[2], json.loads(row[3]), test, row[5], row[6])

    def experience(self, node_id: int) -> ExperienceRow | None:
        """Return a node's experience record, or None."""
        row = self._row("SELECT * FROM experience WHERE node_id = ?", node_id)
        return None if row is None else ExperienceRow(*row)

    def tuning(self, node_id: int) -> TuningRow | None:
        """Return how a node was tuned, or None (tuning off, or a node that was never tuned)."""
        row = self._row("SELECT * FROM tunings WHERE node_id = ?", node_id)
        if row is None:
            return None
        return TuningRow(row[0], row[1], tuple(json.loads(row[2])), row[3], row[4], *map(_nan_null, row[5:8]),
                         row[8], row[9])

    def tunings(self) -> list[TuningRow]:
        """Return every node's tuning record in node_id order."""
        ids = [row[0] for row in self._conn.execute("SELECT node_id FROM tunings ORDER BY node_id")]
        return [self.tuning(node_id) for node_id in ids]

    def trials(self, node_id: int | None = None) -> list[TrialRow]:
        """Return the trial ledger (or one node's trials) in (node_id, number) order."""
        where, args = ("", ()) if node_id is None else ("WHERE node_id = ?", (node_id,))
        rows = self._conn.execute(f"SELECT * FROM trials {where} ORDER BY node_id, number", args)
        return [TrialRow(r[0], r[1], json.loads(r[2]), _nan_null(r[3]), *r[4:]) for r in rows]

    def profiles(self, island: int | None = None) -> dict[int, ProfileRow]:
        """Every node's novelty profile (or one island's), by node_id."""
        where, args = ("", ()) if island is None else ("WHERE n.island = ?", (island,))
        rows = self._conn.execute(f"SELECT p.* FROM profiles p JOIN nodes n USING (node_id) {where} "
                                  "ORDER BY node_id", args)
        return {row[0]: _profile(row) for row in rows}

    def profile(self, node_id: int) -> ProfileRow | None:
        """A node's novelty profile, or None (failed, or stored before profiles existed)."""
        row = self._row("SELECT * FROM profiles WHERE node_id = ?", node_id)
        return None if row is None else _profile(row)

    def llm_call(self, key: str) -> LLMCallRow | None:
        """Return the stored LLM call with this content key, or None."""
        row = self._row("SELECT * FROM llm_calls WHERE key = ?", key)
        return None if row is None else LLMCallRow(*row[:4], json.loads(row[4]), *row[5:12])

    def llm_totals(self) -> LLMTotals:
        """Return the number of LLM calls, failed ones, tokens and cost so far, and calls per purpose."""
        calls, failed, tokens, cost = self._row(
            "SELECT COUNT(*), COUNT(*) - COUNT(content), COALESCE(SUM(prompt_tokens + completion_tokens), 0), "
            "COALESCE(SUM(cost_usd), 0.0) FROM llm_calls")
        by_purpose = dict(self._conn.execute("SELECT purpose, COUNT(*) FROM llm_calls GROUP BY purpose ORDER BY 1"))
        return LLMTotals(calls, failed, tokens, cost, MappingProxyType(by_purpose))

    def progress(self, island: int) -> int:
        """Return the last iteration `island` committed, -1 if none."""
        row = self._row("SELECT last_completed_iteration FROM islands WHERE island = ?", island)
        return -1 if row is None else row[0]

    def top_nodes(self, k: int, by: str = "valid", *, island: int | None = None) -> list[NodeRow]:
        """Return up to `k` successful nodes by descending FS on segment `by` (ties: node_id); NaN FS left out."""
        if by not in _ORDER_BY:
            raise ValueError(f"by must be one of {sorted(_ORDER_BY)}, got {by!r}")
        where, args = ("", ()) if island is None else ("AND n.island = ?", (island,))
        rows = self._conn.execute(
            f"SELECT n.* FROM nodes n JOIN evaluations e USING (node_id) WHERE e.status = 'ok' "
            f"AND {_ORDER_BY[by]} IS NOT NULL {where} ORDER BY {_ORDER_BY[by]} DESC, n.node_id LIMIT ?",
            (*args, k))
        return [_node(row) for row in rows]

    def events(self, kind: str | None = None) -> list[EventRow]:
        """Return all events (or those of one kind) in sequence order."""
        where, args = ("", ()) if kind is None else ("WHERE kind = ?", (kind,))
        rows = self._conn.execute(f"SELECT * FROM events {where} ORDER BY seq", args)
        return [EventRow(*row[:5], json.loads(row[5])) for row in rows]

    def count_failures_by_kind(self) -> dict[str, int]:
        """Return the number of failed evaluations per failure kind."""
        rows = self._conn.execute("SELECT status, COUNT(*) FROM evaluations WHERE status != 'ok' "
                                  "GROUP BY status ORDER BY status")
        return dict(rows.fetchall())

    def _write(self, sql: str, args: tuple, what: str) -> sqlite3.Cursor:
        if not self._in_transaction:
            raise StoreError(f"cannot store {what} outside `with store.transaction():`; "
                             "an iteration's rows commit together")
        try:
            return self._conn.execute(sql, args)
        except sqlite3.IntegrityError as error:
            raise StoreError(f"cannot store {what}: {error}") from error

    def _row(self, sql: str, *args: Any) -> tuple | None:
        return self._conn.execute(sql, args).fetchone()


def _node(row: tuple) -> NodeRow:
    reward = math.nan if row[9] is None else row[9]
    return NodeRow(*row[:6], json.loads(row[6]), row[7], row[8], reward, bool(row[10]), row[11])


def _profile(row: tuple) -> ProfileRow:
    return ProfileRow(row[0], np.frombuffer(row[1], dtype=np.float32), json.loads(row[2]), bool(row[3]),
                      _nan_null(row[4]), _nan_null(row[5]), row[6])


def _null_nan(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


def _nan_null(value: float | None) -> float:
    return math.nan if value is None else value


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable: store plain numbers, strings, lists, dicts")


@contextlib.contextmanager
def _atomic(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    committed = False
    try:
        yield
        conn.execute("COMMIT")
        committed = True
    finally:
        if not committed and conn.in_transaction:
            conn.execute("ROLLBACK")


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.absolute()))}?mode={mode}"  # mode=rw/ro never creates a missing file
    try:
        return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
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
        with _atomic(conn):
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


def _build(path: Path, header: tuple[Mapping[str, Any], str, int, str], clock: Clock) -> None:
    config, fingerprint, seed, notes = header
    conn = _connect(path, "rwc")
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        with _atomic(conn):
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            _migrate(conn, 0)
            conn.execute("INSERT INTO run VALUES (1, ?, ?, ?, ?, ?)",
                         (clock(), _dumps(dict(config)), fingerprint, int(seed), notes))
    finally:
        conn.close()


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
