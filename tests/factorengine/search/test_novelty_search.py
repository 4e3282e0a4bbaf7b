"""The search steers around duplicates by value and level bets (synthetic market, planted seeds)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factorengine.cli import main
from factorengine.proposers.base import Context, Proposal, Step
from factorengine.search.tree import normalize_reward
from factorengine.store import Duplicate, Store

pytestmark = pytest.mark.usefixtures("synthetic_default")
NOVEL_SEEDS = Path(__file__).with_name("novel_seeds")  # a_reversal; b_ranked_reversal, its twin; c_price_level


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A run of the four planted seeds and a few mutations."""
    run_dir = tmp_path_factory.mktemp("novelty") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FACTORENGINE_DATA", raising=False)
        assert main(["evolve", "--run-dir", str(run_dir), "--seeds", str(NOVEL_SEEDS), "--iterations", "6",
                     "--trials", "4"]) == 0
    return run_dir


def _store(run_dir: Path) -> Store:
    return Store.open(run_dir / "run.db", read_only=True)


def test_a_planted_duplicate_is_not_evaluated_again(seeded):
    with _store(seeded) as store:
        seeds = [n.idea for n in store.nodes() if n.kind == "seed"]
        [duplicate] = [e for e in store.events(Duplicate) if e.iteration == 1]
    assert seeds == ["seed a_reversal", "seed c_price_level", "seed d_close_location"]
    assert duplicate.payload.detail.startswith("ranks stocks like 'seed a_reversal' (rank correlation 1.000")
    assert duplicate.payload.of == 1
    assert duplicate.payload.evaluations == 1  # trial 0 found it: the other trials were never run


def test_a_pure_price_level_bet_is_flagged_and_its_reward_halved(seeded):
    with _store(seeded) as store:
        [node] = [n for n in store.nodes() if n.idea == "seed c_price_level"]
        profile = store.profile(node.node_id)
        robust_fs = store.evaluation(node.node_id).train.robust_fs
        outcome = store.experience(node.node_id).outcome
    assert profile.level_bet and profile.exposures["price"] == pytest.approx(1.0)
    assert node.reward == pytest.approx(normalize_reward(robust_fs, 0.1) * profile.penalty)
    assert profile.penalty <= 0.5 and "a level bet: its ranks follow log price" in outcome


def test_programs_that_are_new_are_not_flagged(seeded):
    with _store(seeded) as store:
        [node] = [n for n in store.nodes() if n.idea == "seed a_reversal"]
        profile = store.profile(node.node_id)
    assert not profile.level_bet and profile.penalty == 1.0  # the first program: no elite to crowd yet


class Recorder:
    """A proposer that records what it is shown and proposes the twin of the reversal seed."""

    def __init__(self) -> None:
        self.contexts: list[Context] = []

    def propose(self, context: Context, rng: np.random.Generator) -> Proposal:
        self.contexts.append(context)
        return Proposal((NOVEL_SEEDS / "b_ranked_reversal.py").read_text().replace("2.0", "3.0"), "twin", "wrap")

    def reflect(self, parent: Step, proposal: Proposal, outcome: str, rng: np.random.Generator) -> str:
        return ""


def test_the_proposer_is_told_about_the_duplicate(tmp_path, synthetic_dataset):
    from factorengine.config import RunConfig, override
    from factorengine.score.evaluate import Evaluator
    from factorengine.search.island import Island, Seed

    config = override(override(RunConfig(), "search", iterations=2), "tuning", n_trials=2)
    seeds = [Seed(p.stem, p.read_text()) for p in sorted(NOVEL_SEEDS.glob("*.py"))]
    recorder = Recorder()
    with Store.create(tmp_path / "run.db", config={}, fingerprint="f", seed=0) as store, \
            Evaluator(synthetic_dataset) as evaluator:
        list(Island(config=config, store=store, evaluator=evaluator, proposer=recorder, seeds=seeds).run())
    failures = [step.outcome for step in recorder.contexts[-1].failures]
    assert any(f.startswith("ranks stocks like 'seed a_reversal'") for f in failures)
    assert recorder.contexts[-1].repeated.idea == "seed a_reversal"


def test_harvest_leaves_out_level_bets_unless_allowed(seeded):
    from factorengine.harvest.elites import Requirements, harvest
    from factorengine.score.evaluate import Evaluator
    from factorengine.store.recorded import recorded_config, recorded_dataset

    with _store(seeded) as store, Evaluator(recorded_dataset(store, recorded_config(store))) as evaluator:
        [level_bet] = [n.node_id for n in store.nodes() if n.idea == "seed c_price_level"]
        strict = harvest(store, evaluator, Requirements(min_stable_share=0.0))
        allowed = harvest(store, evaluator, Requirements(min_stable_share=0.0, allow_level_bets=True))
    assert (level_bet, "a level bet (its ranks follow a price or volume level)") in strict.rejected
    assert level_bet not in {e.node.node_id for e in strict.elites}
    assert not [n for n, why in allowed.rejected if n == level_bet and "level bet" in why]


def test_null_reports_the_chance_level_and_each_program_against_it(seeded, capsys):
    import json

    assert main(["null", str(seeded), "--top", "3", "--shuffles", "5"]) == 0
    out = capsys.readouterr().out
    saved = json.loads((seeded / "null.json").read_text())
    assert "the best of" in out and "tries reaches" in out and len(saved["programs"]) == 3
    first = saved["programs"][0]
    assert first["above_chance"] == pytest.approx(first["valid_fs"] - saved["chance"]["level"])
