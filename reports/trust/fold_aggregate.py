"""Which train statistic, computed by the search, best predicts a program's valid FS: the train FS, aggregates of
the walk-forward fold FS (mean, median, mean less its standard error = robust_fs, mean less half of it, the
worst fold) or the t-statistic of the daily train RankIC.

For every scored program of each run given: Spearman correlation across programs of each statistic with the
valid FS, how often each picks a top-decile valid program as its top decile, and the mean valid FS of the 10
programs it ranks highest (what a search steered by it would keep). Also prints the spread of the
valid RankIC t-statistics, which the elites' significance gate reads.

Run from the repository: python reports/trust/fold_aggregate.py RUN_DIR [RUN_DIR ...]
"""
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from factorengine.program import parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import daily_series, segment_metrics
from factorengine.store.recorded import open_run


def statistics(run_dir: Path) -> pd.DataFrame:
    """One row per scored program: its train statistics and its valid FS and RankIC t."""
    store, dataset = open_run(run_dir)
    splits, rows = dataset.splits, []
    with store, Evaluator(dataset) as evaluator:
        for node in store.nodes():
            evaluation = store.evaluation(node.node_id)
            if node.failed or node.kind == "migrant" or evaluation is None:
                continue
            values = evaluator.values(parse_program(store.program(node.program_id)), node.params)
            series = daily_series(evaluation.orientation * values, dataset.label)
            train = segment_metrics(series, splits.days("train"), 1, splits.min_coverage)
            folds = np.array([segment_metrics(series, slice(*f), 1, splits.min_coverage).fs for f in splits.folds])
            folds = np.nan_to_num(folds, nan=0.0)
            daily = series.rank_ic[splits.days("train")]
            daily = daily[~np.isnan(daily)]
            valid = segment_metrics(series, splits.days("valid"), 1, splits.min_coverage)
            se = folds.std(ddof=1) / math.sqrt(len(folds))
            rows.append({"node": node.node_id, "train_fs": train.fs, "fold_mean": folds.mean(),
                         "fold_median": np.median(folds), "robust_fs": folds.mean() - se,
                         "half_se": folds.mean() - se / 2, "fold_min": folds.min(),
                         "train_t": daily.mean() / daily.std(ddof=1) * math.sqrt(len(daily)),
                         "valid_fs": valid.fs, "valid_t": valid.rank_icir * math.sqrt(valid.n_days)})
    return pd.DataFrame(rows).dropna()


def main(run_dirs: list[str]) -> None:
    for run_dir in run_dirs:
        table = statistics(Path(run_dir))
        top = table["valid_fs"] >= table["valid_fs"].quantile(0.9)
        print(f"{run_dir}: {len(table)} programs")
        for column in ("train_fs", "fold_mean", "fold_median", "robust_fs", "half_se", "fold_min", "train_t"):
            picked = table[column] >= table[column].quantile(0.9)
            best = table.nlargest(10, column)["valid_fs"].mean()
            print(f"  {column:<11} Spearman with valid FS {table[column].corr(table['valid_fs'], method='spearman'):+.3f}"
                  f"   top decile shared with valid's {np.mean(top[picked]):.0%}   mean valid FS of its top 10 {best:.4f}")
        t = table["valid_t"]
        print(f"  valid RankIC t: median {t.median():.2f}, 90th pct {t.quantile(0.9):.2f}, max {t.max():.2f}, "
              f"share >= 2: {np.mean(t >= 2):.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])
