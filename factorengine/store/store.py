"""Keep one run in one SQLite file: config, programs, tree nodes, evaluations, experience, events, progress.

- Every write happens inside `with store.transaction():` (BEGIN IMMEDIATE): an iteration's rows and its
  progress marker commit together, so a killed run loses at most the iteration in flight.
- WAL journal, `synchronous=FULL`: WAL with NORMAL never corrupts the file but a power loss can undo the last
  commits; FULL costs one fsync (milliseconds) per iteration (seconds), and a committed iteration stays so.
- One writer at a time (others wait up to `BUSY_TIMEOUT_S`); readers, also other processes opening with
  `read_only=True`, see the last commit and never block the writer. One Store per process; never fork one.
  A read-only Store may be used by several threads one at a time (the caller serializes them, as the dashboard
  does); `snapshot()` makes several reads see one commit.
- JSON columns keep NaN and ±inf exactly (see `schema.dumps`). REAL columns store NaN as NULL: `reward` reads
  NULL back as NaN; `train_fs`/`valid_fs` (ordering copies of the train and valid FS) stay NULL. Train and
  valid metrics share the `metrics` column; test metrics have their own, returned only with `include_test`.
- The file format, its versions and migrations, and what opening checks: see `factorengine.store.schema`.
- A replica (`Store.replica`) is an in-memory copy, made from the writer's `image`, for a process that must
  not open the file (an island on another machine): each of its transactions is sent (`Commit`) to the writer,
  which applies it (`apply`) before the replica commits it too, so the file holds everything the replica does.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

import numpy as np

from factorengine.score.failure import FailureKind
from factorengine.score.metrics import SegmentMetrics
from factorengine.store.commit import Commit, Statement
from factorengine.store.events import Event, EventRow, decode_event, encode_event
from factorengine.store.rows import (OK, EvaluationRow, ExperienceRow, LLMCallRow, LLMTotals, LLMUse, NodeRow,
                                     ProfileRow, RunInfo, Status, TrialRow, TuningRow)
from factorengine.store.schema import Clock, StoreError, atomic, build, dumps, open_connection, remove_database

__all__ = ["RUN_DATABASE", "Store"]

RUN_DATABASE = "run.db"  # the store's file name inside a run directory
Send = Callable[[Commit], None]  # returns once the run's writer committed it
_WAL_VERSIONS = slice(18, 20)  # the header's file format bytes: 2, 2 in WAL mode, which memory cannot hold
_ORDER_BY = {"train": "e.train_fs", "valid": "e.valid_fs"}
E = TypeVar("E", bound=Event)


class Store:
    """One run's database. Make one with `Store.create` or `Store.open`; use it as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool, clock: Clock,
                 send: Send | None = None) -> None:
        self._conn = conn
        self._read_only = read_only
        self._clock = clock
        self._in_transaction = False
        self._send = send
        self._written: list[Statement] = []
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
        remove_database(temporary)
        try:
            build(temporary, (config, fingerprint, seed, notes), clock)
            os.link(temporary, path)
        except FileExistsError as error:
            raise StoreError(f"{path} appeared while this run was being created; it was left as it is") from error
        finally:
            remove_database(temporary)
        return cls.open(path, clock=clock)

    @classmethod
    def open(cls, path: str | os.PathLike, *, read_only: bool = False, clock: Clock = time.time) -> Store:
        """Open an existing run database, migrating an older schema unless `read_only`."""
        path = Path(path)
        return cls(open_connection(path, read_only=read_only), path, read_only=read_only, clock=clock)

    @classmethod
    def replica(cls, image: bytes, send: Send | None, *, clock: Clock = time.time) -> Store:
        """An in-memory store holding `image` (a writer's `image()`) whose every transaction goes to `send` before
        it commits (None: a read-only copy)."""
        copy = bytearray(image)
        copy[_WAL_VERSIONS] = b"\x01\x01"
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.deserialize(bytes(copy))
        conn.execute("PRAGMA foreign_keys = ON")
        return cls(conn, Path(":memory:"), read_only=send is None, clock=clock, send=send)

    def image(self) -> bytes:
        """The whole database as committed, as bytes (what `Store.replica` starts from)."""
        with contextlib.closing(sqlite3.connect(":memory:")) as copy:
            self._conn.backup(copy)  # through SQLite, so the WAL's pages are in it
            return copy.serialize()

    def apply(self, commit: Commit) -> None:
        """Write what a replica's transaction wrote, in one transaction."""
        with self.transaction():
            for statement in commit.statements:
                self._write(statement.sql, statement.args, "a replica's commit")

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
        self._written = []
        try:
            with atomic(self._conn):
                yield
                if self._send is not None and self._written:
                    self._send(Commit(tuple(self._written)))
        finally:
            self._in_transaction = False

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Let every read inside the block see the same commit, whatever a writer commits meanwhile."""
        if self._in_transaction:
            raise StoreError("a snapshot cannot open inside a transaction, which already sees one state")
        self._conn.execute("BEGIN")  # deferred: the first read fixes the commit the block sees
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

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
                     dumps(node.params), node.idea, node.kind, node.reward, int(node.failed), created_at),
                    f"node {node.node_id}")
        return node.node_id

    def add_evaluation(self, row: EvaluationRow) -> None:
        """Store a node's evaluation: train and valid metrics in `metrics`, test in its own column."""
        shown = {segment: _stored(metrics) for segment, metrics in (("train", row.train), ("valid", row.valid))
                 if metrics is not None}
        test = None if row.test is None else dumps(_stored(row.test))
        self._write("INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.node_id, row.status, row.failure_reason, dumps(shown), test,
                     *(None if metrics is None else metrics.fs for metrics in (row.train, row.valid)),
                     row.orientation, row.seconds), f"the evaluation of node {row.node_id}")

    def set_test(self, node_id: int, metrics: SegmentMetrics) -> None:
        """Record a node's test metrics, which harvest scores after the search (the search never does)."""
        self._write("UPDATE evaluations SET test_metrics = ? WHERE node_id = ?",
                    (dumps(_stored(metrics)), node_id), f"the test metrics of node {node_id}")

    def add_experience(self, row: ExperienceRow) -> None:
        """Store the experience record of a node."""
        self._write("INSERT INTO experience VALUES (?, ?, ?, ?, ?, ?)",
                    (row.node_id, row.change, row.why, row.outcome, row.category, row.lesson),
                    f"the experience of node {row.node_id}")

    def add_tuning(self, row: TuningRow, trials: Sequence[TrialRow]) -> None:
        """Store how a node was tuned and its trial ledger."""
        self._write("INSERT INTO tunings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.node_id, row.proposed_id, dumps(row.lifted), row.n_trials, row.best_trial,
                     *map(_null_nan, (row.default_fs, row.best_fs, row.neighbour_drop)), row.stop, row.seconds),
                    f"the tuning of node {row.node_id}")
        for t in trials:
            self._write("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (t.node_id, t.number, dumps(t.params), _null_nan(t.train_fs), t.status, t.failure_reason,
                         t.repeat_of, t.seconds), f"trial {t.number} of node {t.node_id}")

    def add_llm_call(self, row: LLMCallRow) -> None:
        """Store an LLM call under its key; a call stored again (a retry of a failed one) replaces it."""
        self._write("INSERT OR REPLACE INTO llm_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.key, row.purpose, row.island, row.model, dumps(row.request), row.content, row.finish_reason,
                     row.error, row.prompt_tokens, row.completion_tokens, row.cost_usd, row.seconds, self._clock()),
                    f"LLM call {row.key}")

    def add_profile(self, row: ProfileRow) -> None:
        """Store a node's novelty profile."""
        self._write("INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (row.node_id, np.asarray(row.fingerprint, dtype=np.float32).tobytes(), dumps(row.exposures),
                     int(row.level_bet), _null_nan(row.structural), _null_nan(row.correlation), row.penalty),
                    f"the profile of node {row.node_id}")

    def add_event(self, event: Event, *, island: int | None = None, iteration: int | None = None) -> int:
        """Append an event stamped by the store's clock; return its sequence number."""
        kind, payload = encode_event(event)
        cursor = self._write("INSERT INTO events (time, island, iteration, kind, payload) VALUES (?, ?, ?, ?, ?)",
                             (self._clock(), island, iteration, kind, payload), f"event {kind}")
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
        shown = {segment: _metrics(metrics) for segment, metrics in json.loads(row[3]).items()}
        test = _metrics(json.loads(row[4])) if include_test and row[4] is not None else None
        return EvaluationRow(row[0], _status(row[1]), row[2], shown.get("train"), shown.get("valid"), test,
                             row[5], row[6])

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
        return [TrialRow(r[0], r[1], json.loads(r[2]), _nan_null(r[3]), _status(r[4]), *r[5:]) for r in rows]

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
        """Return the number of LLM calls, failed ones, tokens and cost so far, calls per purpose and calls and cost
        per model."""
        calls, failed, tokens, cost = self._row(
            "SELECT COUNT(*), COUNT(*) - COUNT(content), COALESCE(SUM(prompt_tokens + completion_tokens), 0), "
            "COALESCE(SUM(cost_usd), 0.0) FROM llm_calls")
        by_purpose = dict(self._conn.execute("SELECT purpose, COUNT(*) FROM llm_calls GROUP BY purpose ORDER BY 1"))
        by_model = {model: (n, usd) for model, n, usd in self._conn.execute(
            "SELECT model, COUNT(*), COALESCE(SUM(cost_usd), 0.0) FROM llm_calls GROUP BY model ORDER BY 1")}
        return LLMTotals(calls, failed, tokens, cost, MappingProxyType(by_purpose), MappingProxyType(by_model))

    def llm_uses(self) -> list[LLMUse]:
        """Every LLM call's time, purpose, tokens, cost and success, oldest first."""
        rows = self._conn.execute("SELECT created_at, purpose, prompt_tokens + completion_tokens, cost_usd, "
                                  "content IS NULL FROM llm_calls ORDER BY created_at, key")
        return [LLMUse(time, purpose, tokens, cost, bool(failed)) for time, purpose, tokens, cost, failed in rows]

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the run (SQLite's `data_version`)."""
        return self._row("PRAGMA data_version")[0]

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

    def events(self, kind: type[E] | None = None) -> list[EventRow[E]]:
        """Return all events (or those of one event class) in sequence order."""
        where, args = ("", ()) if kind is None else ("WHERE kind = ?", (kind.kind,))
        rows = self._conn.execute(f"SELECT * FROM events {where} ORDER BY seq", args)
        return [EventRow(*row[:4], decode_event(row[4], row[5])) for row in rows]

    def count_failures_by_kind(self) -> dict[FailureKind, int]:
        """Return the number of failed evaluations per failure kind."""
        rows = self._conn.execute("SELECT status, COUNT(*) FROM evaluations WHERE status != ? "
                                  "GROUP BY status ORDER BY status", (OK,))
        return {FailureKind(status): count for status, count in rows}

    def latest_failures(self, per_kind: int) -> dict[FailureKind, list[tuple[int, str | None]]]:
        """The `per_kind` newest failed evaluations of each failure kind as (node_id, reason), newest first."""
        rows = self._conn.execute(
            "SELECT node_id, status, failure_reason FROM (SELECT node_id, status, failure_reason, ROW_NUMBER() OVER "
            "(PARTITION BY status ORDER BY node_id DESC) AS newest FROM evaluations WHERE status != ?) "
            "WHERE newest <= ? ORDER BY status, node_id DESC", (OK, per_kind))
        latest: dict[FailureKind, list[tuple[int, str | None]]] = {}
        for node_id, status, reason in rows:
            latest.setdefault(FailureKind(status), []).append((node_id, reason))
        return latest

    def _write(self, sql: str, args: tuple, what: str) -> sqlite3.Cursor:
        if not self._in_transaction:
            raise StoreError(f"cannot store {what} outside `with store.transaction():`; "
                             "an iteration's rows commit together")
        if self._send is not None:
            self._written.append(Statement(sql, args))
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


def _status(stored: str) -> Status:
    return OK if stored == OK else FailureKind(stored)


def _null_nan(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


def _nan_null(value: float | None) -> float:
    return math.nan if value is None else value


def _stored(metrics: SegmentMetrics) -> dict:
    """The JSON form of segment metrics; a segment without folds is written as before folds existed."""
    stored = asdict(metrics)
    if not metrics.folds:
        del stored["folds"]
    return stored


def _metrics(stored: dict) -> SegmentMetrics:
    """Segment metrics from their JSON form (folds come back as a list; runs before folds have none)."""
    return SegmentMetrics(**{**stored, "folds": tuple(stored.get("folds", ()))})
