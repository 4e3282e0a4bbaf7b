"""Daily RankIC and the fitness score against pandas, alphalens and the cost of one argsort of the panel."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from factorengine.bench.measure import BenchError, Ratio, SuiteResult, Target, measure
from factorengine.bench.runtime import BenchInput
from factorengine.data import SEGMENTS
from factorengine.program import load_factor
from factorengine.score.fitness import TRAIN_VALID, daily_rank_ic, daily_series, score

FACTOR = "reversal_5d"  # the seed whose values are scored


def long_frame(values: np.ndarray, label: np.ndarray, dates: np.ndarray) -> pd.DataFrame:
    """Factor and forward return as alphalens' factor_data: index (date, asset), rows with both known."""
    days, stocks = values.shape
    index = pd.MultiIndex.from_arrays([pd.DatetimeIndex(np.repeat(dates, stocks)), np.tile(np.arange(stocks), days)],
                                      names=["date", "asset"])
    frame = pd.DataFrame({"1D": label.ravel(), "factor": values.ravel()}, index=index)
    return frame[np.isfinite(frame["1D"]) & np.isfinite(frame["factor"])]


def pandas_rank_ic(frame: pd.DataFrame) -> pd.Series:
    """Per-day Spearman correlation the way pandas users write it."""
    return frame.groupby(level="date").apply(lambda day: day["factor"].corr(day["1D"], method="spearman"))


def fitness_suite(bench: BenchInput) -> SuiteResult:
    """Time our daily RankIC and full FS of one seed's values against the references; their values must agree."""
    try:
        from alphalens.performance import factor_information_coefficient
    except ImportError as exc:
        raise BenchError("the fitness suite compares against alphalens: pip install -e '.[bench]'") from exc
    dataset, repeat = bench.dataset, bench.repeat
    values = load_factor(bench.programs[FACTOR].source, FACTOR)(dataset.panel)
    frame = long_frame(values, dataset.label.values, dataset.panel.dates)
    ours = daily_rank_ic(values, dataset.label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # alphalens' pandas deprecation notices
        alphalens = factor_information_coefficient(frame)["1D"]
    _check_agree(ours, dataset.panel.dates, {"pandas per-day corr(method='spearman')": pandas_rank_ic(frame),
                                             "alphalens factor_information_coefficient": alphalens})
    rank_ic = measure("our daily RankIC (fitness.daily_rank_ic)", lambda: daily_rank_ic(values, dataset.label), repeat)
    series = measure("our daily IC, RankIC, rank autocorrelation, coverage (fitness.daily_series)",
                     lambda: daily_series(values, dataset.label), repeat)
    fs = measure("our FS on train, valid and test (fitness.score)",
                 lambda: score(values, dataset.label, dataset.splits, segments=SEGMENTS), repeat)
    searched = measure("our FS on train and valid (what the search scores a program on)",
                       lambda: score(values, dataset.label, dataset.splits, segments=TRAIN_VALID), repeat)
    argsort = measure("one np.argsort of the panel along stocks", lambda: np.argsort(values, axis=1), repeat)
    by_pandas = measure("pandas per-day corr(method='spearman')", lambda: pandas_rank_ic(frame), min(repeat, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_alphalens = measure("alphalens factor_information_coefficient",
                               lambda: factor_information_coefficient(frame), min(repeat, 3))
    floor = Ratio("RankIC: one argsort's time / ours (>= 0.5: within 2x of it)", argsort, rank_ic)
    vs_pandas = Ratio("RankIC: ours vs pandas per-day spearman", by_pandas, rank_ic)
    vs_alphalens = Ratio("RankIC: ours vs alphalens factor_information_coefficient", by_alphalens, rank_ic)
    unscored_test = Ratio("a program's final score: train and valid only vs train, valid and test", fs, searched)
    return SuiteResult([rank_ic, series, fs, searched, argsort, by_pandas, by_alphalens],
                       [floor, vs_pandas, vs_alphalens, unscored_test], [
        Target("RankIC within 2x of one np.argsort of the panel (argsort time / ours)", floor.median, 0.5,
               "besides ranking the factor, each scored day re-ranks the label over the stocks it shares and "
               "computes the Pearson IC too"),
        Target("RankIC >= 20x faster than alphalens", vs_alphalens.median, 20.0,
               "alphalens calls scipy once per day; missing this means our RankIC regressed (see the argsort "
               "floor above)")])


def _check_agree(ours: np.ndarray, dates: np.ndarray, references: dict[str, pd.Series]) -> None:
    """Every reference's daily RankIC equals ours on the days we score (at least 30 stocks)."""
    scored = ~np.isnan(ours)
    for name, series in references.items():
        theirs = series.reindex(pd.DatetimeIndex(dates)).to_numpy()
        if not np.allclose(ours[scored], theirs[scored], rtol=1e-9, atol=1e-12):
            raise BenchError(f"{name} disagrees with our daily RankIC: the timings would compare different things")
