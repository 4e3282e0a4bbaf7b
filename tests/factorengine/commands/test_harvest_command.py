"""`factorengine harvest` shows each stage and the progress within it on stderr while it works."""
from __future__ import annotations

import re

import pytest

from factorengine.cli import main
from factorengine.commands.harvest_command import StageLine
from tests.factorengine.commands.test_progress import Clock
from tests.factorengine.runs import synthetic_run

STAGES = ("judging the top programs on test", "choosing elites (", "exporting ", "computing the values of the ",
          "fitting LightGBM on the ", "fitting LightGBM on the 4 seed(s)", "backtesting TopkDropout")
LENIENT = ["--threshold", "inf", "--min-valid-t", "0", "--min-stable-share", "0", "--max-corr", "1",
           "--allow-level-bets", "--k", "10", "--n-drop", "2"]  # the best programs by valid FS that held their sign


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """The four seeds, tuned, on the synthetic market."""
    return synthetic_run(tmp_path_factory.mktemp("harvest_command"), 0, trials=2)


def test_a_stage_line_states_the_seconds_since_harvest_began(capsys):
    line = StageLine(clock=Clock(10.0, 12.4))
    line.stage("judging the top programs on test")
    assert capsys.readouterr().err == "[    2s] judging the top programs on test\n"


def test_progress_is_shown_at_most_once_a_second_and_when_the_stage_is_done(capsys):
    line = StageLine(clock=Clock(0.0, 0.0, 0.4, 1.0, 1.6, 1.7))
    line.stage("computing")
    for done in range(1, 5):
        line.progress(done, 4)
    assert capsys.readouterr().err.splitlines() == ["[    0s] computing", "[    0s] computing 1/4",
                                                    "[    2s] computing 3/4", "[    2s] computing 4/4"]


def test_harvest_shows_each_stage_and_its_progress(run_dir, capsys, monkeypatch):
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
    assert main(["harvest", str(run_dir), *LENIENT]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[")]
    assert all(re.match(r"\[ +\d+s\] \S", line) for line in lines)
    stages = [line.split("] ", 1)[1] for line in lines if not re.search(r" \d+/\d+$", line)]
    assert len(stages) == len(STAGES) and all(stage.startswith(words) for stage, words in zip(stages, STAGES)), stages
    judged = [re.search(r"judging the top programs on test (\d+)/(\d+)$", line) for line in lines]
    assert any(match and match[1] == match[2] for match in judged)  # a stage's last step is always shown
    assert any("fitting LightGBM on the 4 seed(s)" in line and line.endswith(" 150/150") for line in lines)
