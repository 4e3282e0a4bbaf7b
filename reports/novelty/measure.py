"""Measure runs for issue 10, the same way for runs made before and after the novelty gate existed.

For each run: sandbox evaluations (tuning trials, plus trials of proposals screened out as duplicates), the
share of them spent on value duplicates (a program whose fingerprint correlates at |r| >= 0.99 with an earlier
program's in the same run, found again here by recomputing every program's values), the best valid FS, and the
mean test FS of the top-10 programs by valid FS, with and without the level bets (found here again too); a
program whose test FS is undefined (NaN: a near-constant factor, say) counts as 0 there, and is counted.

    python reports/novelty/measure.py /tmp/measure/before-0 /tmp/measure/before-1 ...
"""
from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

from factorengine.config import NoveltyConfig
from factorengine.program import ProgramError, parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.score.novelty import Crowd, Profiler
from factorengine.store import RUN_DATABASE, Duplicate, Store
from factorengine.store.recorded import recorded_config, recorded_dataset


def measure(run_dir: Path) -> dict[str, float]:
    """The figures of one run."""
    with Store.open(run_dir / RUN_DATABASE) as store:  # read-write: a run made before profiles is migrated
        config = recorded_config(store)
        dataset = recorded_dataset(store, config)
        trials: dict[int, int] = {}
        for trial in store.trials():
            trials[trial.node_id] = trials.get(trial.node_id, 0) + 1
        screened = sum(e.payload.evaluations for e in store.events(Duplicate))
        crowd, profiler = Crowd(NoveltyConfig()), Profiler(dataset)
        spent, level_bets, rows = 0, set(), []
        nodes = sorted((n for n in store.nodes() if not n.failed and n.kind != "migrant"), key=lambda n: n.iteration)
        with Evaluator(dataset) as evaluator:
            for node in nodes:
                code = store.program(node.program_id)
                try:
                    profile = profiler.profile(evaluator.values(parse_program(code), node.params))
                except ProgramError:
                    continue
                if crowd.duplicate(profile) is not None:
                    spent += trials.get(node.node_id, 1)
                if profile.level_exposure[1] >= NoveltyConfig().level_threshold:
                    level_bets.add(node.node_id)
                crowd.add(node.node_id, profile, code)
                evaluation = store.evaluation(node.node_id, include_test=True)
                rows.append((node.node_id, evaluation.valid.fs, evaluation.test.fs))
    evaluations = sum(trials.values()) + screened
    ranked = sorted((r for r in rows if not math.isnan(r[1])), key=lambda r: (-r[1], r[0]))
    honest = [r for r in ranked if r[0] not in level_bets]
    return {"evaluations": evaluations, "duplicate_share": (spent + screened) / evaluations,
            "best_valid_fs": ranked[0][1], "top10_test_fs": _mean_test(ranked[:10]),
            "top10_test_fs_no_level_bets": _mean_test(honest[:10]),
            "undefined_test_fs": sum(math.isnan(r[2]) for r in ranked[:10]),
            "level_bets": len(level_bets), "programs": len(rows)}


def _mean_test(rows: list[tuple[int, float, float]]) -> float:
    return statistics.fmean(0.0 if math.isnan(r[2]) else r[2] for r in rows)


def main(run_dirs: list[str]) -> None:
    """Print one Markdown row per run."""
    print("| run | evaluations | on duplicates | best valid FS | top-10 mean test FS | same, level bets out | "
          "top-10 with no test FS | level bets / programs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run_dir in run_dirs:
        m = measure(Path(run_dir))
        print(f"| {Path(run_dir).name} | {m['evaluations']:,} | {m['duplicate_share']:.1%} | {m['best_valid_fs']:.4f} | "
              f"{m['top10_test_fs']:+.4f} | {m['top10_test_fs_no_level_bets']:+.4f} | {m['undefined_test_fs']} | "
              f"{m['level_bets']} / {m['programs']} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
