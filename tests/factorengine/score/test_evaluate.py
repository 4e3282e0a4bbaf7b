"""Evaluating programs: policy first, then the sandbox, the lookahead probe and fitness; failures are values."""
import os
from collections import Counter
from pathlib import Path

import pytest

from factorengine.config import EvaluationConfig
from factorengine.data import make_dataset, synthetic_panel
from factorengine.data.label import make_label
from factorengine.program import ProgramError, load_factor, parse_program
from factorengine.score.evaluate import Evaluator, resolve_params
from factorengine.score.fitness import score

LEAKY = sorted((Path(__file__).parent / "leaky").glob("*.py"))
HOSTILE = sorted((Path(__file__).parents[2] / "sandbox" / "hostile").glob("*.py"))
SEEDS = sorted((Path(__file__).parents[3] / "seeds").glob("*.py"))
MOMENTUM = '''"""Momentum."""
from factorengine.ops import delay

SEARCH_SPACE = {"window": (2, 30)}


def factor(d, window=5, scale=1.0):
    return scale * (d.close / delay(d.close, window) - 1)
'''


@pytest.fixture(scope="module")
def evaluator(synthetic_dataset):
    with Evaluator(synthetic_dataset, EvaluationConfig(timeout_s=3.0, memory_mb=1024)) as evaluator:
        yield evaluator


def _evaluate(evaluator, source, **params):
    program = parse_program(source)
    [result] = evaluator.evaluate(program, [params or program.defaults])
    return result


def test_resolve_params_types_overrides_by_parameter_kind():
    program = parse_program(MOMENTUM)
    assert resolve_params(program, {"window": "7", "scale": "0.5"}) == {"window": 7, "scale": 0.5}


def test_resolve_params_refuses_an_unknown_parameter():
    with pytest.raises(ProgramError, match="has no parameter 'lookback'; its parameters are window, scale"):
        resolve_params(parse_program(MOMENTUM), {"lookback": "3"})


def test_resolve_params_refuses_a_float_for_an_int_parameter():
    with pytest.raises(ProgramError, match="window takes an int"):
        resolve_params(parse_program(MOMENTUM), {"window": "2.5"})


def test_evaluate_scores_train_and_valid_of_a_clean_program(evaluator):
    result = _evaluate(evaluator, MOMENTUM)
    assert result.failure is None and result.error is None
    assert result.fitness.orientation == -1
    assert result.fitness.valid.rank_ic > 0.02
    assert result.fitness.test is None


def test_evaluate_gives_one_result_per_parameter_set(evaluator):
    program = parse_program(MOMENTUM)
    results = evaluator.evaluate(program, [{"window": 5, "scale": 1.0}, {"window": 20, "scale": 1.0}])
    assert [r.params["window"] for r in results] == [5, 20]
    assert results[0].fitness.train.fs != results[1].fitness.train.fs


def test_evaluate_matches_in_process_scoring(evaluator, synthetic_dataset):
    from factorengine.program import load_factor
    from factorengine.score.fitness import score

    values = load_factor(MOMENTUM)(synthetic_dataset.panel, window=5)
    expected = score(values, synthetic_dataset.label, synthetic_dataset.splits)
    assert _evaluate(evaluator, MOMENTUM).fitness == expected


def test_evaluate_reports_a_raising_program_as_a_failure_value(evaluator):
    result = _evaluate(evaluator, MOMENTUM.replace("return scale", "raise KeyError('boom')\n    return scale"))
    assert result.fitness is None and result.failure == "raised"
    assert "KeyError: 'boom'" in result.error


def test_evaluate_refuses_a_policy_violation_before_running(evaluator):
    result = _evaluate(evaluator, "import os\n\n\ndef factor(d):\n    return d.close\n")
    assert result.failure == "policy"
    assert result.error == ("refused by the static policy: line 1: importing 'os' is not allowed; "
                            "a factor may import only numpy, math, factorengine.ops")


SECTOR_REVERSAL = '''"""Sector-relative reversal: losers against their own sector bounce."""
from factorengine.ops import group_rank, pct_change


def factor(d, window=5):
    return -group_rank(pct_change(d.close, window), d.sector)
'''


def test_evaluate_refuses_a_group_program_on_a_panel_without_a_group_column_in_one_line(evaluator):
    result = _evaluate(evaluator, SECTOR_REVERSAL)
    assert result.failure == "policy" and "\n" not in result.error
    assert result.error.startswith("refused for this panel: line 6: the panel has no column 'sector'; its columns "
                                   "are open, high, low, close, vwap, volume, returns, none of them a group column; ")
    assert result.error.endswith("; line 6: group_rank needs a group column such as d.sector and the panel has none")


def test_evaluate_scores_a_group_program_on_a_panel_with_sectors():
    dataset = make_dataset(synthetic_panel(n_sectors=4))
    with Evaluator(dataset, EvaluationConfig(timeout_s=3.0, memory_mb=1024, n_workers=1)) as sectors:
        result = _evaluate(sectors, SECTOR_REVERSAL)
    values = load_factor(SECTOR_REVERSAL)(dataset.panel, window=5)
    assert result.failure is None
    assert result.fitness == score(values, dataset.label, dataset.splits)
    assert result.fitness.orientation == 1 and result.fitness.train.ic > 0.01  # the planted reversal, in sectors


@pytest.mark.parametrize("path", LEAKY, ids=lambda p: p.stem)
def test_check_lookahead_refuses_every_leaky_program_without_the_static_policy(evaluator, path):
    program = parse_program(path.read_text(), str(path))
    kind, reason = evaluator.check_lookahead(program, program.defaults)
    assert kind == "lookahead" and reason.startswith("lookahead: the value on ")


def test_evaluate_refuses_a_leaky_program(evaluator):
    result = _evaluate(evaluator, LEAKY[0].read_text())
    assert result.failure in ("policy", "lookahead")


def test_evaluate_accepts_every_seed_without_a_lookahead_refusal(evaluator):
    failures = {}
    for path in SEEDS:
        program = parse_program(path.read_text(), str(path))
        [result] = evaluator.evaluate(program, [program.defaults], name=path.stem)
        if result.failure:
            failures[path.stem] = result.error
    assert failures == {}


def _expectation(path: Path) -> str:
    return path.read_text().splitlines()[1].removeprefix("# expect: ")


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_evaluate_contains_every_hostile_program(evaluator, path):
    program = parse_program(path.read_text(), str(path))
    [result] = evaluator.evaluate(program, [{}])
    expected = _expectation(path)
    assert result.fitness is None
    assert result.failure in ({"timeout", "cpu"} if expected == "timeout" else {expected}), result.error
    clean = _evaluate(evaluator, MOMENTUM)
    assert clean.failure is None and clean.fitness.valid.rank_ic > 0.02


def test_hostile_suite_leaves_no_processes_and_no_shared_memory(synthetic_dataset):
    from tests.sandbox.test_limits import children_of, memfds

    before_children, before_memfds = children_of(os.getpid()), memfds()
    with Evaluator(synthetic_dataset, EvaluationConfig(timeout_s=1.0, memory_mb=512)) as evaluator:
        for path in HOSTILE:
            program = parse_program(path.read_text(), str(path))
            evaluator.check_lookahead(program, {})  # straight into the sandbox, no static policy
    assert children_of(os.getpid()) <= before_children  # earlier tests' workers may exit meanwhile
    assert not Counter(memfds()) - Counter(before_memfds)  # none left; an earlier one may be freed meanwhile
    assert not [name for name in os.listdir("/dev/shm") if "sandbox" in name]


def test_evaluate_many_gives_the_same_results_in_order_as_evaluate(evaluator):
    program = parse_program(MOMENTUM)
    broken = parse_program("import os\n\n\ndef factor(d):\n    return d.close\n")
    jobs = [("a", program, {"window": 5, "scale": 1.0}), ("b", broken, {}), ("c", program, {"window": 9, "scale": 1.0})]
    many = evaluator.evaluate_many(jobs)
    one_by_one = [evaluator.evaluate(p, [params], name=name)[0] for name, p, params in jobs]
    assert [r.name for r in many] == ["a", "b", "c"]
    assert [r.fitness for r in many] == [r.fitness for r in one_by_one]
    assert many[1].failure == "policy"


def test_a_run_without_the_probe_scores_every_seed_as_a_full_run_does(evaluator):
    jobs = [(path.stem, parse_program(path.read_text(), str(path))) for path in SEEDS]
    full = evaluator.evaluate_many([(name, program, program.defaults) for name, program in jobs])
    heads = [evaluator.evaluate(program, [program.defaults], probe=False)[0] for _, program in jobs]
    for name, (a, b) in zip([name for name, _ in jobs], zip(full, heads)):
        for segment in ("train", "valid"):
            x, y = getattr(a.fitness, segment), getattr(b.fitness, segment)
            assert [x.fs, x.ic, x.rank_ic, x.turnover, *x.folds] == pytest.approx(
                [y.fs, y.ic, y.rank_ic, y.turnover, *y.folds], rel=1e-9, nan_ok=True), (name, segment)


def test_a_run_without_the_probe_computes_only_the_days_it_scores(evaluator, synthetic_dataset):
    train_end = synthetic_dataset.splits.days("train").stop
    program = parse_program(MOMENTUM.replace("    return", f"    assert len(d.close) == {train_end}\n    return"))
    [trial] = evaluator.evaluate(program, [program.defaults], segments=("train",), probe=False)
    assert trial.failure is None and trial.fitness.valid is None


def test_a_sampled_evaluation_scores_every_kth_stock_alone_probed_or_not(evaluator, synthetic_dataset):
    program = parse_program(MOMENTUM)  # time-series operators only: a stock's values do not depend on the others
    values = evaluator.values(program, program.defaults)[:, ::2]
    expected = score(values, make_label(synthetic_dataset.label.values[:, ::2]), synthetic_dataset.splits,
                     segments=("train",)).train
    for probe in (True, False):
        [trial] = evaluator.submit(program, [program.defaults], segments=("train",), probe=probe, every=2).result()
        assert [trial.fitness.train.fs, *trial.fitness.train.folds] == pytest.approx([expected.fs, *expected.folds],
                                                                                     rel=1e-12)
