"""The run database file: refusals of bad files, migrations step by step, and the pragmas it is opened with."""
import os
import shutil
import sqlite3

import pytest

from factorengine.store import ExperienceRow, Store, StoreError, schema
from tests.factorengine.store.sample import EXPERIENCE, iteration, node, ok

CURRENT = schema.SCHEMA_VERSION


def test_open_refuses_a_missing_file_without_creating_it(tmp_path):
    with pytest.raises(StoreError, match="no run database at .*missing.db"):
        Store.open(tmp_path / "missing.db")
    assert list(tmp_path.iterdir()) == []


def test_open_refuses_a_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "run.db"
    path.write_text("date,symbol,close\n2020-01-02,AAPL,75.09\n" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="cannot be read as a SQLite database .*file is not a database"):
        Store.open(path)
    assert path.read_bytes() == before


def test_open_refuses_a_truncated_database_and_leaves_it_untouched(run_path, tmp_path):
    with Store.open(run_path) as store:
        for i in range(2, 202):
            iteration(store, node(i, parent_id=1, iteration=i, program_id=f"p{i}"), ok(i))
    truncated = tmp_path / "truncated.db"
    shutil.copyfile(run_path, truncated)
    os.truncate(truncated, truncated.stat().st_size // 2)
    before = truncated.read_bytes()
    with pytest.raises(StoreError, match="truncated.db .*(truncated|corrupted).*left untouched"):
        Store.open(truncated)
    assert truncated.read_bytes() == before


def test_open_reports_a_corrupted_page_and_leaves_the_file_untouched(run_path):
    with Store.open(run_path) as store:
        for i in range(2, 202):
            iteration(store, node(i, parent_id=1, iteration=i, program_id=f"p{i}"), ok(i))
    with run_path.open("r+b") as file:  # overwrite the third page (a b-tree page) with garbage
        file.seek(2 * 4096)
        file.write(b"\xa5" * 4096)
    before = run_path.read_bytes()
    with pytest.raises(StoreError, match="run.db is corrupted: .*Page 3.*left untouched"):
        Store.open(run_path)
    assert run_path.read_bytes() == before


def test_open_refuses_another_applications_sqlite_database(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE prices (symbol TEXT, close REAL)")
    conn.close()
    with pytest.raises(StoreError, match="a SQLite database but not a FactorEngine run"):
        Store.open(path)


def test_open_refuses_a_database_missing_tables(run_path):
    with sqlite3.connect(run_path) as conn:
        conn.execute("DROP TABLE experience")
    conn.close()
    with pytest.raises(StoreError, match=r"lacks experience: the file is damaged"):
        Store.open(run_path)


def test_open_refuses_a_database_from_a_newer_schema(run_path):
    with sqlite3.connect(run_path) as conn:
        conn.execute(f"PRAGMA user_version = {CURRENT + 1}")
    conn.close()
    with pytest.raises(StoreError, match=f"written by a newer FactorEngine .*schema version {CURRENT + 1}.*upgrade"):
        Store.open(run_path)


def _add_notes(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, text TEXT NOT NULL)")


def test_open_migrates_an_older_schema_step_by_step(run_path, monkeypatch):
    monkeypatch.setattr(schema, "SCHEMA_VERSION", CURRENT + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", {**schema.MIGRATIONS, CURRENT: _add_notes})
    with Store.open(run_path) as store:
        assert store.run_info().schema_version == CURRENT + 1
        assert [node.node_id for node in store.nodes()] == [1]
    with sqlite3.connect(run_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM notes").fetchone() == (0,)
    conn.close()


def _downgrade_to_v2(conn: sqlite3.Connection) -> None:
    """Make today's database a version-2 one: no profiles, no LLM calls, no experience category and lesson."""
    conn.execute("DROP TABLE profiles")
    conn.execute("DROP TABLE llm_calls")
    conn.execute("ALTER TABLE experience DROP COLUMN lesson")
    conn.execute("ALTER TABLE experience DROP COLUMN category")
    conn.execute("PRAGMA user_version = 2")


def test_a_version_1_run_gains_the_tuning_and_llm_tables_and_keeps_its_nodes(run_path):
    with sqlite3.connect(run_path) as conn:  # the version-1 schema is version 2 without the tuning tables
        _downgrade_to_v2(conn)
        conn.execute("DROP TABLE trials")
        conn.execute("DROP TABLE tunings")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with Store.open(run_path) as store:
        assert store.run_info().schema_version == CURRENT
        assert [node.node_id for node in store.nodes()] == [1]
        assert store.tunings() == [] and store.trials() == [] and store.llm_totals().calls == 0


def test_a_version_2_run_keeps_its_experience_with_an_empty_category_and_lesson(run_path):
    with sqlite3.connect(run_path) as conn:
        _downgrade_to_v2(conn)
    conn.close()
    with Store.open(run_path) as store:
        assert store.run_info().schema_version == CURRENT
        assert store.experience(1) == ExperienceRow(1, *EXPERIENCE)


def test_open_refuses_an_older_schema_it_cannot_migrate_and_changes_nothing(run_path, monkeypatch):
    monkeypatch.setattr(schema, "SCHEMA_VERSION", CURRENT + 1)
    with pytest.raises(StoreError, match=f"schema version {CURRENT}.*uses {CURRENT + 1}.*no migration from "
                                         f"schema version {CURRENT}"):
        Store.open(run_path)
    monkeypatch.setattr(schema, "MIGRATIONS", {**schema.MIGRATIONS, CURRENT: _add_notes})
    with pytest.raises(StoreError, match="opened read-only"):
        Store.open(run_path, read_only=True)
    with sqlite3.connect(run_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (CURRENT,)
    conn.close()


def test_failed_migration_leaves_the_file_at_its_old_version(run_path, monkeypatch):
    def broken(conn):
        _add_notes(conn)
        conn.execute("CREATE TABLE notes (note_id INTEGER)")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", CURRENT + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", {**schema.MIGRATIONS, CURRENT: broken})
    with pytest.raises(StoreError, match=f"migrating .* from schema version {CURRENT} failed .*left as it was"):
        Store.open(run_path)
    with sqlite3.connect(run_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (CURRENT,)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'notes'").fetchone() is None
    conn.close()


def test_database_is_wal_with_full_sync_and_foreign_keys(run_path):
    with Store.open(run_path) as store:
        pragmas = [store._conn.execute(f"PRAGMA {name}").fetchone()[0]
                   for name in ("journal_mode", "synchronous", "foreign_keys")]
    assert pragmas == ["wal", 2, 1]
