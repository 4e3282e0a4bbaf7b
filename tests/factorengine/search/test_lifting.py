"""Constants an LLM writes keep their meaning: lifted knobs are tuned within ranges written into SEARCH_SPACE,
and a module-level constant is never lifted nor tuned (the scripted server answers with these programs)."""
from __future__ import annotations

from pathlib import Path

import pytest

from factorengine.cli import main
from factorengine.llm.scripted import Reply, ScriptedServer
from factorengine.program import parse_program
from factorengine.store import Store
from tests.factorengine.llm.scripts import KEY, KEY_ENV, answer_json, llm_config, mutating
from tests.factorengine.runs import evolve_args

pytestmark = pytest.mark.slow
TRIALS = 10

TAILS = '''"""The spread of the upper and lower tails of recent returns."""
from factorengine.ops import rank, ts_quantile


def factor(d):
    return rank(ts_quantile(d.returns, 20, 0.95) - ts_quantile(d.returns, 20, 0.05))
'''

FIXED_TAIL = '''"""The upper tail of recent returns, a fixed 95 % quantile."""
from factorengine.ops import rank, ts_quantile

TAIL = 0.95
SEARCH_SPACE = {"window": (10, 40)}


def factor(d, window=20):
    return rank(ts_quantile(d.returns, window, TAIL))
'''


def _idea(code: str) -> str:
    return code.splitlines()[0].strip('"')


TAILS_IDEA, FIXED_IDEA = _idea(TAILS), _idea(FIXED_TAIL)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """A run whose first two llm proposals are TAILS and FIXED_TAIL, then mutations; and its requests."""
    tmp_path = tmp_path_factory.mktemp("lifting")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "reversal.py").write_text("from factorengine.ops import delay, rank\n\nSEARCH_SPACE = {\"n\": (2, 10)}"
                                       "\n\n\ndef factor(d, n=5):\n    return -rank(d.close / delay(d.close, n))\n")
    script = iter([TAILS, FIXED_TAIL])
    mutate = mutating()

    def respond(body: dict) -> Reply:
        code = next(script, None)
        return mutate(body) if code is None else Reply(answer_json(code, _idea(code)))

    with pytest.MonkeyPatch.context() as patch, ScriptedServer(respond) as server:
        patch.setenv(KEY_ENV, KEY)
        patch.delenv("FACTORENGINE_DATA", raising=False)
        config = llm_config(tmp_path / "llm.toml", server.base_url)
        assert main([*evolve_args(tmp_path / "run", seeds, 3, trials=TRIALS), "--config", str(config)]) == 0
        return tmp_path / "run", server.requests


def _node(run_dir: Path, idea: str) -> tuple[str, dict, list[dict], tuple]:
    """The stored program of the node with this idea, its parameters, its trials' parameters and lifted knobs."""
    with Store.open(run_dir / "run.db", read_only=True) as store:
        [node] = [n for n in store.nodes() if n.idea == idea]
        trials = [t.params for t in store.trials(node.node_id)]
        return store.program(node.program_id), dict(node.params), trials, store.tuning(node.node_id).lifted


def test_a_lifted_quantile_is_tuned_within_its_declared_range(run):
    code, params, trials, lifted = _node(run[0], TAILS_IDEA)
    space = {p.name: (p.low, p.high) for p in parse_program(code).params if p.declared}
    assert space == {"window_1": (10, 40), "threshold_1": (0.9375, 0.9625), "window_2": (10, 40),
                     "threshold_2": (0.0375, 0.0625)}
    assert [(k["name"], k["value"], k["low"], k["high"]) for k in lifted] == [
        ("window_1", 20, 10, 40), ("threshold_1", 0.95, 0.9375, 0.9625),
        ("window_2", 20, 10, 40), ("threshold_2", 0.05, 0.0375, 0.0625)]
    assert len(trials) == TRIALS and len({t["threshold_1"] for t in trials}) > 1  # the tuner did move it
    assert all(0.9375 <= t["threshold_1"] <= 0.9625 and 0.0375 <= t["threshold_2"] <= 0.0625 for t in trials)
    assert f"threshold_1={params['threshold_1']!r}" in code  # the tuned default, inside its range


def test_the_stored_program_shows_its_search_space_to_later_prompts(run):
    code, _, _, _ = _node(run[0], TAILS_IDEA)
    space = ('SEARCH_SPACE = {\n    "window_1": (10, 40),\n    "threshold_1": (0.9375, 0.9625),\n'
             '    "window_2": (10, 40),\n    "threshold_2": (0.0375, 0.0625),\n}\n')
    shown = [r for r in run[1][1:] if "ts_quantile(d.returns, window_1, threshold_1)" in r["messages"][1]["content"]]
    assert space in code and shown and all(space in r["messages"][1]["content"] for r in shown)


def test_a_module_level_constant_is_never_lifted_nor_tuned(run):
    code, params, trials, lifted = _node(run[0], FIXED_IDEA)
    assert lifted == () and set(params) == {"window"} and all(set(t) == {"window"} for t in trials)
    assert "TAIL = 0.95\n" in code and "ts_quantile(d.returns, window, TAIL)" in code
