"""Known truth: on the synthetic market, the elites' selection keeps the planted signals and rejects noise."""
import math

import numpy as np
import pytest

from factorengine.data import PLANTED_SIGNALS
from factorengine.harvest.elites import Requirements, harvest
from factorengine.program import parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.search.iteration import evaluation_row
from factorengine.store import NodeRow, Store

N_NOISE = 120
FIELDS = ("open", "high", "low", "close", "vwap")


def noise_programs(n: int, seed: int = 0) -> list[str]:
    """Random formulas unrelated to the label: a price hashed through a sine, some smoothed over a window."""
    rng = np.random.default_rng(seed)
    programs = []
    for k in range(n):
        field, scale, phase, window = rng.choice(FIELDS), rng.uniform(50, 500), rng.uniform(0, 6), rng.integers(1, 10)
        programs.append(f'"""Noise {k}: a hash of {field}."""\nimport numpy as np\nfrom factorengine.ops import ts_mean\n\n\n'
                        f"def factor(d, window={window}):\n"
                        f"    return ts_mean(np.sin(d.{field} * {scale:.3f} + {phase:.3f}), window)\n")
    return programs


@pytest.fixture(scope="module")
def pool(tmp_path_factory, synthetic_dataset):
    """A run store holding the planted programs (nodes 1, 2) and the noise programs (nodes 3...), all scored."""
    path = tmp_path_factory.mktemp("truth") / "run.db"
    sources = [s.program for s in PLANTED_SIGNALS] + noise_programs(N_NOISE)
    with Store.create(path, config={}, fingerprint="f", seed=0) as store, Evaluator(synthetic_dataset) as evaluator:
        for node_id, source in enumerate(sources, start=1):
            program = parse_program(source)
            [evaluation] = evaluator.evaluate(program, [program.defaults])
            with store.transaction():
                store.add_program(program.program_id, source)
                store.add_node(NodeRow(node_id, None, 0, node_id, 1, program.program_id, program.defaults,
                                       f"program {node_id}", "seed", 0.0, evaluation.fitness is None))
                store.add_evaluation(evaluation_row(node_id, evaluation))
    return path


@pytest.mark.slow
def test_the_planted_signals_are_kept_and_at_least_95_percent_of_the_noise_is_rejected(pool, synthetic_dataset):
    everyone = Requirements(threshold=math.inf, top=len(PLANTED_SIGNALS) + N_NOISE)  # every program faces the gates
    with Store.open(pool, read_only=True) as store, Evaluator(synthetic_dataset) as evaluator:
        assert not any(n.failed for n in store.nodes())
        chosen = harvest(store, evaluator, everyone)
    kept = {e.node.node_id for e in chosen.elites}
    planted = set(range(1, len(PLANTED_SIGNALS) + 1))
    assert planted <= kept
    assert len(kept - planted) <= 0.05 * N_NOISE
