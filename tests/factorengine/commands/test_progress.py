"""The live progress line: best programs carried over a resume, named when they differ, time elapsed and left."""
from __future__ import annotations

import math

from factorengine.commands.progress import Progress, ProgressLines
from factorengine.search.island import Standing, StepResult

RESUMED = Standing(total=25, first=5, best_robust=(0.5, 3), best_valid=(0.4, 3))  # 5 iterations were done before


class Clock:
    """A clock that reads the times it is given."""

    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0)


def _line(progress: Progress, result: StepResult, capsys) -> str:
    progress.show(result)
    return capsys.readouterr().err.strip()


def test_progress_after_a_resume_starts_from_the_best_already_stored(capsys):
    progress = Progress(RESUMED, prefix="island 0: ", clock=Clock(0.0, 30.0))
    line = _line(progress, StepResult(5, 9, None, 0.3, 0.2, 1.0), capsys)
    assert line.startswith("island 0: iter 6/25  best robust train FS 0.5000 valid FS 0.4000 (node 3)  ")


def test_progress_names_both_programs_when_the_best_train_and_valid_fs_differ(capsys):
    progress = Progress(RESUMED, prefix="island 0: ", clock=Clock(0.0, 30.0))
    line = _line(progress, StepResult(5, 9, None, 0.45, 0.6, 1.0), capsys)
    assert "best robust train FS 0.5000 (node 3), best valid FS 0.6000 (node 9)  " in line


def test_progress_of_a_new_run_says_nothing_is_scored_until_something_is(capsys):
    progress = Progress(Standing(10, 0, (-math.inf, None), (-math.inf, None)), prefix="x: ", clock=Clock(0.0, 1.0))
    assert "best FS: none scored yet" in _line(progress, StepResult(0, 1, "timeout", math.nan, math.nan, 1.0), capsys)


def test_progress_estimates_time_left_from_the_iterations_done_since_start(capsys):
    progress = Progress(RESUMED, prefix="island 0: ", clock=Clock(0.0, 60.0, 150.0))
    first = _line(progress, StepResult(5, 9, None, 0.3, 0.2, 60.0), capsys)
    assert first.endswith("1m00s elapsed, ~19m00s left")  # 1 iteration in 60 s, 19 to go
    second = _line(progress, StepResult(6, 10, None, 0.3, 0.2, 90.0), capsys)
    assert second.endswith("2m30s elapsed, ~22m30s left")  # 2 in 150 s, 18 to go


def test_progress_made_when_the_first_iteration_ends_counts_that_iteration_s_time(capsys):
    progress = Progress(RESUMED, prefix="island 0: ", clock=Clock(100.0, 100.0))
    line = _line(progress, StepResult(5, 9, None, 0.3, 0.2, 30.0, trials=15), capsys)
    assert "  2.0 programs/min  0.50 trials/s  " in line and "30s elapsed" in line


def test_progress_lines_start_an_island_anew_when_it_restarts_from_another_standing(capsys):
    lines = ProgressLines(several=True)
    lines(1, Standing(25, 0, (-math.inf, None), (-math.inf, None)), StepResult(0, 9, None, 0.3, 0.2, 1.0))
    lines(1, RESUMED, StepResult(5, 9, None, 0.3, 0.2, 1.0))  # the restarted worker resumed at iteration 5

    assert [line.split("  ")[0] for line in capsys.readouterr().err.splitlines()] == [
        "island 1: iter 1/25", "island 1: iter 6/25"]
