"""The island search end to end on the synthetic market: it runs, finds signal, and resumes exactly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from factorengine.cli import main
from factorengine.store import OK, Duplicate, Store
from tests.factorengine.runs import ROOT, SEEDS, evolve_args, run_tree, write_panel

pytestmark = pytest.mark.usefixtures("synthetic_default")


def test_evolve_grows_a_tree_and_status_reads_it(tmp_path, seeds_dir, capsys):
    assert main(evolve_args(tmp_path / "run", seeds_dir, 12)) == 0
    tree = run_tree(tmp_path / "run")
    assert [row[4] for row in tree[:4]] == ["seed"] * 4
    assert len(tree) >= 4 + 12 * 0.5
    assert main(["status", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "valid FS, best / mean: seeds" in out and "iterations done: 16 of 4 seeds + 12 search" in out


def test_evolve_refuses_an_existing_run(tmp_path, seeds_dir, capsys):
    assert main(evolve_args(tmp_path / "run", seeds_dir, 1)) == 0
    assert main(evolve_args(tmp_path / "run", seeds_dir, 1)) == 2
    assert "already" in capsys.readouterr().err


def test_resume_after_sigkill_reaches_the_same_tree(tmp_path, seeds_dir):
    iterations = 40
    assert main(evolve_args(tmp_path / "straight", seeds_dir, iterations)) == 0
    command = [sys.executable, "-m", "factorengine.cli", *evolve_args(tmp_path / "killed", seeds_dir, iterations)]
    env = {k: v for k, v in os.environ.items() if k != "FACTORENGINE_DATA"}
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, cwd=ROOT)
    database = tmp_path / "killed" / "run.db"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            with Store.open(database, read_only=True) as store:
                if store.progress(0) >= 15:
                    break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with Store.open(database, read_only=True) as store:
        stopped_at = store.progress(0)
    assert 15 <= stopped_at < len(SEEDS) + iterations - 1
    assert main(["resume", str(tmp_path / "killed")]) == 0
    assert run_tree(tmp_path / "killed") == run_tree(tmp_path / "straight")


def test_resume_refuses_changed_data(tmp_path, seeds_dir, capsys):
    data = tmp_path / "panel.csv"
    from factorengine.data import synthetic_panel

    panel = synthetic_panel(n_days=200, n_stocks=40)
    write_panel(panel, data)
    assert main(evolve_args(tmp_path / "run", seeds_dir, 1) + ["--data", str(data)]) == 0
    write_panel(synthetic_panel(n_days=200, n_stocks=40, seed=5), data)
    assert main(["resume", str(tmp_path / "run")]) == 2
    assert "the data under this run changed" in capsys.readouterr().err


def test_resume_reports_a_corrupted_database(tmp_path, seeds_dir, capsys):
    assert main(evolve_args(tmp_path / "run", seeds_dir, 1)) == 0
    database = tmp_path / "run" / "run.db"
    content = database.read_bytes()
    database.write_bytes(content[: len(content) // 2])
    assert main(["resume", str(tmp_path / "run")]) == 2
    assert "error:" in capsys.readouterr().err
    assert database.read_bytes() == content[: len(content) // 2]


def test_search_recovers_a_planted_signal_the_seeds_miss(tmp_path, seeds_dir):
    from factorengine.data import PLANTED_SIGNALS, make_dataset, synthetic_panel
    from factorengine.program import load_factor
    from factorengine.score.fitness import score

    dataset = make_dataset(synthetic_panel())
    planted = max(score(load_factor(s.program)(dataset.panel), dataset.label, dataset.splits).valid.rank_ic
                  for s in PLANTED_SIGNALS)
    assert main(evolve_args(tmp_path / "run", seeds_dir, 60)) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        rank_ic: dict[bool, list[float]] = {True: [], False: []}
        for node in store.nodes():
            if not node.failed:
                rank_ic[node.kind == "seed"].append(store.evaluation(node.node_id).valid.rank_ic)
    assert max(rank_ic[True]) < 0.7 * planted <= max(rank_ic[False])


def test_patience_stops_a_run_and_survives_a_resume(tmp_path, seeds_dir):
    config = tmp_path / "run.toml"
    config.write_text("[search]\npatience = 3\n")
    straight = evolve_args(tmp_path / "straight", seeds_dir, 40) + ["--config", str(config)]
    assert main(straight) == 0
    with Store.open(tmp_path / "straight" / "run.db", read_only=True) as store:
        stopped = store.progress(0)
    assert stopped < len(SEEDS) + 40 - 1
    assert main(["resume", str(tmp_path / "straight")]) == 0
    with Store.open(tmp_path / "straight" / "run.db", read_only=True) as store:
        assert store.progress(0) == stopped


def test_resume_reopens_the_synthetic_market_of_the_run(tmp_path, seeds_dir):
    config = tmp_path / "run.toml"
    config.write_text("[data]\nsynthetic_seed = 3\n")
    assert main(evolve_args(tmp_path / "run", seeds_dir, 2) + ["--config", str(config)]) == 0
    assert main(["resume", str(tmp_path / "run"), "--iterations", "3"]) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        assert store.progress(0) == len(SEEDS) + 3 - 1


def test_resume_progress_line_starts_from_the_best_already_stored(tmp_path, seeds_dir, capsys):
    assert main(evolve_args(tmp_path / "run", seeds_dir, 2, trials=0)) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        stored = max(store.evaluation(n.node_id).train.robust_fs for n in store.nodes() if not n.failed)
    capsys.readouterr()
    assert main(["resume", str(tmp_path / "run"), "--iterations", "3"]) == 0
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("iter ")]
    assert line.startswith(f"iter {len(SEEDS) + 3}/{len(SEEDS) + 3}  best robust train FS ")
    assert float(line.split("best robust train FS ")[1].split()[0]) >= round(stored, 4)
    assert " elapsed, ~0s left" in line


def test_every_program_is_stored_tuned_with_its_trial_ledger(tmp_path, seeds_dir, capsys):
    from factorengine.program import parse_program

    assert main(evolve_args(tmp_path / "run", seeds_dir, 6, trials=6)) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        nodes = [n for n in store.nodes() if not n.failed]
        assert len(nodes) >= 6
        for node in nodes:
            tuning, trials = store.tuning(node.node_id), store.trials(node.node_id)
            best = trials[tuning.best_trial]
            assert tuning.n_trials == len(trials) <= 6 and trials[0].train_fs == tuning.default_fs
            assert node.params == best.params == parse_program(store.program(node.program_id)).defaults
            assert store.evaluation(node.node_id).train.fs == best.train_fs == tuning.best_fs
    assert main(["status", str(tmp_path / "run")]) == 0
    assert "tuning gain in train FS over the proposed defaults: median +" in capsys.readouterr().out


def test_zero_trials_turns_tuning_off(tmp_path, seeds_dir, capsys):
    assert main(evolve_args(tmp_path / "run", seeds_dir, 2, trials=0)) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        assert store.tunings() == [] and store.trials() == [] and len(store.nodes()) >= 4
    assert main(["status", str(tmp_path / "run")]) == 0
    assert "tuning: off" in capsys.readouterr().out


FEW_STOCKS = '''"""Values for the 5-15 % most traded stocks only: never the 30 a day needs to be scored."""
import numpy as np

from factorengine.ops import rank, ts_mean

SEARCH_SPACE = {"cut": (0.85, 0.95)}


def factor(d, window=5, cut=0.9):
    return np.where(rank(d.volume) > cut, ts_mean(d.returns, window), np.nan)
'''


def test_a_program_that_runs_but_cannot_be_scored_is_stored_as_scored_with_no_fs(tmp_path, seeds_dir):
    (seeds_dir / "flat.py").write_text(FEW_STOCKS)
    assert main(evolve_args(tmp_path / "run", seeds_dir, 2, trials=3)) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        [flat] = [n for n in store.nodes() if n.idea == "seed flat"]
        evaluation = store.evaluation(flat.node_id)
        assert evaluation.status == OK and evaluation.valid.fs != evaluation.valid.fs
        assert store.tuning(flat.node_id).best_trial is None and flat.reward == 0.0


def test_the_evaluation_budget_stops_the_search_within_one_program_of_it(tmp_path, seeds_dir):
    assert main(evolve_args(tmp_path / "run", seeds_dir, 50, trials=4) + ["--max-evaluations", "30"]) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        spent = len(store.trials()) + sum(e.payload.evaluations for e in store.events(Duplicate))
        done = store.progress(0)
    assert 30 <= spent < 30 + 4 and done < len(SEEDS) + 50 - 1
    assert main(["resume", str(tmp_path / "run"), "--max-evaluations", "40"]) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        assert 40 <= len(store.trials()) + sum(e.payload.evaluations for e in store.events(Duplicate)) < 44


def test_random_selection_edits_only_seeds(tmp_path, seeds_dir):
    config = tmp_path / "random.toml"
    config.write_text('[search]\nselection = "random"\n')
    assert main(evolve_args(tmp_path / "run", seeds_dir, 12, trials=2) + ["--config", str(config)]) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        nodes = {n.node_id: n for n in store.nodes()}
    edits = [n for n in nodes.values() if n.kind != "seed"]
    assert len(edits) >= 6
    assert all(nodes[n.parent_id].kind == "seed" and n.depth == 2 for n in edits)
    assert len({n.parent_id for n in edits}) >= 2


def test_the_search_never_scores_the_test_segment(tmp_path, seeds_dir):
    assert main(evolve_args(tmp_path / "run", seeds_dir, 6)) == 0
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        evaluations = [store.evaluation(node.node_id, include_test=True) for node in store.nodes()]
    assert [e.test for e in evaluations] == [None] * len(evaluations)
    assert any(e.valid is not None for e in evaluations)
