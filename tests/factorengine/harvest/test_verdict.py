"""The verdict: the elites' model less the seeds' in mean daily RankIC on test, with a moving-block bootstrap
interval, in words."""
from __future__ import annotations

import numpy as np

from factorengine.harvest.verdict import Difference, Verdict, block_bootstrap_means, difference, verdict

DAILY_SD = 0.15  # the daily RankIC spread of a factor on the real panel


def _ar1(phi: float, n_days: int, rng: np.random.Generator) -> np.ndarray:
    """A zero-mean AR(1) series with standard deviation DAILY_SD whatever `phi`."""
    shocks = rng.normal(0, DAILY_SD * np.sqrt(1 - phi ** 2), n_days)
    series = np.empty(n_days)
    series[0] = rng.normal(0, DAILY_SD)
    for t in range(1, n_days):
        series[t] = phi * series[t - 1] + shocks[t]
    return series


def test_the_block_bootstrap_interval_covers_the_true_difference_of_autocorrelated_series():
    rng = np.random.default_rng(0)
    intervals = [difference(0.01 + _ar1(0.5, 500, rng), np.zeros(500), np.random.default_rng(k)) for k in range(100)]
    covered = sum(d.low <= 0.01 <= d.high for d in intervals)
    assert 85 <= covered <= 99


def test_the_interval_is_wider_the_stronger_the_autocorrelation():
    widths = {}
    for phi in (0.0, 0.8):
        d = difference(_ar1(phi, 750, np.random.default_rng(5)), np.zeros(750), np.random.default_rng(0))
        widths[phi] = d.high - d.low
    # the standard error of the mean grows by sqrt((1 + phi) / (1 - phi)) = 3 at phi 0.8
    assert 0.02 < widths[0.0] < 0.03 and widths[0.8] > 2 * widths[0.0]


def test_blocks_are_runs_of_consecutive_days():
    means = block_bootstrap_means(np.arange(42.0), np.random.default_rng(0), block_days=21, resamples=1000)
    assert means.shape == (1000,) and means.min() >= 10 and means.max() <= 31  # each resample: two runs of 21


def test_the_verdict_says_better_worse_or_not_distinguishable():
    rng = np.random.default_rng(1)
    seeds = rng.normal(0.005, DAILY_SD, 750)
    noise = rng.normal(0, 0.02, 750)
    words = {name: difference(seeds + shift + noise, seeds, np.random.default_rng(0)).word
             for name, shift in (("up", 0.01), ("flat", 0.0), ("down", -0.01))}
    assert words == {"up": "better", "flat": "not distinguishable", "down": "worse"}


def test_days_without_a_rank_ic_on_either_side_are_left_out():
    ours, theirs = np.array([0.1, np.nan, 0.3, 0.2, 0.0]), np.array([0.0, 0.1, np.nan, 0.1, 0.0])
    d = difference(ours, theirs, np.random.default_rng(0))
    assert d.n_days == 3 and d.mean == (0.1 + 0.1 + 0.0) / 3


def test_the_verdict_line_heads_with_lightgbm_and_adds_the_rank_average():
    line = Verdict("2022-01-03", "2024-12-31", {"LightGBM": Difference(0.0012, -0.0021, 0.0046, 700),
                                                "rank average": Difference(0.0008, -0.0020, 0.0035, 700)}).line()
    assert line == ("verdict: on test 2022-01-03..2024-12-31 the elites' LightGBM is not distinguishable from the "
                    "seeds' (mean daily RankIC +0.0012, 95 % interval -0.0021 to +0.0046; rank average: +0.0008, "
                    "-0.0020 to +0.0035, not distinguishable)")
    better = Verdict("2022-01-03", "2024-12-31", {"LightGBM": Difference(0.01, 0.002, 0.02, 700)}).line()
    assert better.startswith("verdict: on test 2022-01-03..2024-12-31 the elites' LightGBM is better than the seeds'")


def test_the_verdict_pairs_each_combiner_of_the_elites_with_the_seeds_and_is_deterministic():
    rng = np.random.default_rng(2)
    daily = {(factors, combiner): rng.normal(0, DAILY_SD, 300)
             for factors in ("elites", "seeds") for combiner in ("LightGBM", "rank average")}
    dates = np.arange("2022-01-03", 300, dtype="datetime64[D]")[:300]
    first = verdict(daily, dates)
    assert first == verdict(daily, dates) and list(first.differences) == ["LightGBM", "rank average"]
    assert (first.first_day, first.last_day) == ("2022-01-03", str(dates[-1]))
    assert first.differences["rank average"].mean == (daily["elites", "rank average"]
                                                      - daily["seeds", "rank average"]).mean()
