"""How good a factor looks by chance: labels shuffled across stocks within each day, and significance
deflated for the number of programs and trials a run tried.

A run that tries N parameter sets keeps the best; even on labels with no signal its best valid FS is the
maximum of N noisy draws. The shuffles measure the spread of a program's valid FS on such labels; the chance
level is the expected maximum of N draws from that spread (N = the trials in the run's ledger). The
deflated t-statistic maps the family-wise p-value of a daily RankIC t-statistic among N tries,
p = 1 - Phi(t) ** N (Sidak), back to a z-score: above 1.645 is significant at 5 % after the search.
Trials are correlated, so N overstates the independent tries and both figures are conservative in that
respect. But a within-day shuffle also breaks what stocks share on a day, so a factor's daily RankIC varies
far less on shuffled labels than on real ones: the shuffled chance level is the lenient test, the deflated
t (which uses the factor's own daily variation) the strict one.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from factorengine.data import Dataset
    from factorengine.data.label import Label

NULL_RESULTS = "null.json"  # where `factorengine null` leaves its results in a run directory
EULER_GAMMA = 0.5772156649015329
SIGNIFICANT_T = 1.645  # one-sided 5 %


@dataclass(frozen=True)
class Significance:
    """A factor's valid RankIC t-statistic and what is left of it after N tries."""

    t: float
    deflated_t: float
    p: float  # family-wise: the chance that the best of N null factors does at least this well

    @property
    def significant(self) -> bool:
        """Whether the factor beats the best of N null factors at 5 %."""
        return self.deflated_t > SIGNIFICANT_T


@dataclass(frozen=True)
class ChanceLevel:
    """Valid FS on shuffled labels: its spread over programs and shuffles, and the expected best of N tries."""

    null_mean: float
    null_std: float
    tries: int
    level: float  # expected maximum valid FS of `tries` programs on labels with no signal
    null_fs: Mapping[str, Sequence[float]]  # program name -> valid FS per shuffle


def expected_max_normal(n: int) -> float:
    """E[max of n independent standard normals] (Bailey and Lopez de Prado's approximation; 0 for n = 1)."""
    if n <= 1:
        return 0.0
    inverse = statistics.NormalDist().inv_cdf
    return (1 - EULER_GAMMA) * inverse(1 - 1 / n) + EULER_GAMMA * inverse(1 - 1 / (n * math.e))


def significance(daily_rank_ic: np.ndarray, tries: int) -> Significance:
    """Deflate the t-statistic of an oriented daily RankIC series for the best of `tries` factors."""
    daily = daily_rank_ic[~np.isnan(daily_rank_ic)]
    if len(daily) < 2 or daily.std(ddof=1) == 0:
        return Significance(math.nan, math.nan, 1.0)
    t = float(daily.mean() / daily.std(ddof=1) * math.sqrt(len(daily)))
    normal = statistics.NormalDist()
    log_cdf = math.log(max(normal.cdf(t), 1e-300))
    p = -math.expm1(max(1, tries) * log_cdf)  # 1 - Phi(t) ** N without losing the small p-values
    deflated = normal.inv_cdf(min(max(1 - p, 1e-16), 1 - 1e-16))
    return Significance(t, deflated, p)


def shuffled(label: Label, rng: np.random.Generator) -> Label:
    """The label with each day's known values (and their ranks) permuted across that day's stocks."""
    from factorengine.data.label import Label  # the data libraries: see chance_level

    keys = rng.random(label.values.shape)
    keys[~label.known] = np.inf  # unknown cells sort last: each day keeps its pattern of known stocks
    source = np.argsort(keys, axis=1)
    target = np.argsort(~label.known, axis=1, kind="stable")
    rows = np.arange(len(keys))[:, None]
    values, ranks = np.full_like(label.values, np.nan), np.full_like(label.ranks, np.nan)
    values[rows, target] = label.values[rows, source]
    ranks[rows, target] = label.ranks[rows, source]
    return Label(values, ranks, label.known)


def chance_level(factors: Mapping[str, np.ndarray], dataset: Dataset, tries: int, shuffles: int = 50,
                 seed: int = 0) -> ChanceLevel:
    """Valid FS of oriented factors [T, N] on `shuffles` shuffled labels, and the expected best of `tries`."""
    # the data libraries load here, not on import: reading a harvest's results (the dashboard) needs numpy alone
    from factorengine.data.label import Label
    from factorengine.score.fitness import daily_series, segment_metrics

    days = dataset.splits.days("valid")
    label = dataset.label
    valid = Label(label.values[days], label.ranks[days], label.known[days])
    rng = np.random.default_rng(seed)
    null: dict[str, list[float]] = {name: [] for name in factors}
    for _ in range(shuffles):
        noise = shuffled(valid, rng)
        for name, values in factors.items():
            series = daily_series(values[days], noise)
            null[name].append(segment_metrics(series, slice(None)).fs)
    pooled = [fs for draws in null.values() for fs in draws if not math.isnan(fs)]
    mean = statistics.fmean(pooled) if pooled else math.nan
    std = statistics.stdev(pooled) if len(pooled) > 1 else math.nan
    return ChanceLevel(mean, std, tries, mean + std * expected_max_normal(tries), null)
