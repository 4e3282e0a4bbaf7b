"""`factorengine status`: a run's progress counted from its recorded seeds and every island's committed iterations."""
from __future__ import annotations

import math

from factorengine.cli import main
from factorengine.commands.status_command import next_step, summary_lines
from factorengine.config import DataConfig, RunConfig, as_dict, override
from factorengine.data import make_dataset, synthetic_panel
from factorengine.store import Seeds, Store
from factorengine.store.recorded import segments_event
from tests.factorengine.runs import ROOT, evolve_args


def _stopped_run(path, config: RunConfig, progress: dict[int, int]) -> Store:
    """A run of 60 seeds stopped (Ctrl-C) with islands at the given last committed iterations, nothing scored."""
    store = Store.create(path, config=as_dict(config), fingerprint="f", seed=0)
    with store.transaction():
        store.add_event(Seeds(tuple((f"seed_{i}", "def factor(d):\n    return d.close\n") for i in range(60))))
        for island, iteration in progress.items():
            store.set_progress(island, iteration)
    return store


def test_status_after_ctrl_c_counts_the_recorded_seeds_and_the_iterations_done(tmp_path):
    config = override(RunConfig(), "search", iterations=200)
    with _stopped_run(tmp_path / "run.db", config, {0: 5}) as store:
        assert summary_lines(store, 10)[2] == "iterations done: 6 of 60 seeds + 200 search"


def test_status_of_several_islands_sums_their_iterations(tmp_path):
    config = override(override(RunConfig(), "search", iterations=200), "islands", n_islands=2, split_seeds=True)
    with _stopped_run(tmp_path / "run.db", config, {0: 40, 1: 9}) as store:
        assert summary_lines(store, 10)[2] == "iterations done: 51 of 60 seeds dealt out + 200 search on each of 2 islands"


def test_status_names_each_segment_s_first_and_last_day_under_the_data_line(tmp_path):
    dataset = make_dataset(synthetic_panel(n_days=60, n_stocks=10), DataConfig(folds=2))
    with _stopped_run(tmp_path / "run.db", RunConfig(), {0: 5}) as store:
        with store.transaction():
            store.add_event(segments_event(dataset))
        assert summary_lines(store, 10)[1] == ("segments: train 2016-01-04..2016-02-22 (36 days, 2 folds); "
                                               "valid 2016-02-24..2016-03-09 (11 days); "
                                               "test 2016-03-11..2016-03-25 (11 days)")


def test_status_of_a_run_begun_before_segments_were_recorded_says_so(tmp_path):
    with _stopped_run(tmp_path / "run.db", RunConfig(), {0: 5}) as store:
        assert summary_lines(store, 10)[1].startswith("segments: not recorded (")


def test_the_next_step_of_a_run_not_harvested_is_harvest(tmp_path):
    assert next_step(tmp_path) == (f"next: factorengine harvest {tmp_path} (factorengine resume {tmp_path} "
                                   "continues an unfinished search)")


def test_the_next_step_of_a_harvested_run_is_its_report(tmp_path):
    (tmp_path / "harvest").mkdir()
    (tmp_path / "harvest" / "results.json").write_text("{}")
    assert next_step(tmp_path) == f"next: factorengine report {tmp_path}"


def test_status_and_resume_of_a_run_stopped_before_its_seeds_were_recorded_say_so_in_one_line(tmp_path, capsys):
    from factorengine.cli import main
    from factorengine.data import synthetic_panel

    fingerprint = synthetic_panel(seed=RunConfig().data.synthetic_seed).fingerprint()
    Store.create(tmp_path / "run.db", config=as_dict(RunConfig()), fingerprint=fingerprint, seed=0).close()
    assert (main(["status", str(tmp_path)]), main(["resume", str(tmp_path)])) == (2, 2)
    err = capsys.readouterr().err.splitlines()
    assert [line.endswith("the run stopped before it recorded its seeds; start it again with factorengine evolve")
            for line in err] == [True, True]


TWO_DAYS = '''"""Scored on two days only: its values are missing everywhere else."""
import numpy as np


def factor(d, window=1):
    values = np.full(d.close.shape, np.nan)
    values[10:12] = d.returns[10:12]
    values[500:502] = d.returns[500:502]
    return values
'''


def test_a_program_scored_on_two_days_heads_neither_status_nor_the_progress_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a_two_days.py").write_text(TWO_DAYS)
    (seeds / "b_close_location.py").write_text((ROOT / "seeds" / "close_location.py").read_text())
    assert main(evolve_args(tmp_path / "run", seeds, 0, trials=0)) == 0
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith("iter 2/2")]
    assert main(["status", str(tmp_path / "run"), "--top", "1"]) == 0
    top_row = capsys.readouterr().out.split(" idea\n")[1].splitlines()[0]
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        two_days = store.evaluation(1)
    assert two_days.status == "ok" and two_days.train.n_days == 2 and math.isnan(two_days.fs("train"))
    assert top_row.split()[0] == "2" and "(node 2)" in progress[0] and "(node 1)" not in progress[0]
