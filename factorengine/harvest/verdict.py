"""Whether the elites' model beats the seeds' on test: the difference of their mean daily RankIC, paired by day, with
a 95 % moving-block bootstrap interval, in words.

Daily RankICs are autocorrelated (factors and market regimes persist for weeks), so resampling single days would
make the interval too narrow; resampling blocks of BLOCK_DAYS consecutive days (about a trading month) keeps that
dependence. The interval is the 2.5 and 97.5 % percentiles of RESAMPLES bootstrap means drawn with a fixed seed,
so a harvest's verdict is the same every time it is computed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping

import numpy as np

BLOCK_DAYS = 21
RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0
Word = Literal["better", "worse", "not distinguishable"]
PHRASES: Mapping[Word, str] = {"better": "better than", "worse": "worse than",
                               "not distinguishable": "not distinguishable from"}


@dataclass(frozen=True)
class Difference:
    """One model's mean daily RankIC less another's over the `n_days` days both were scored, and its interval."""

    mean: float
    low: float
    high: float
    n_days: int

    @property
    def word(self) -> Word:
        """Better when the whole interval is above 0, worse when it is below 0, else not distinguishable."""
        return "better" if self.low > 0 else "worse" if self.high < 0 else "not distinguishable"


@dataclass(frozen=True)
class Verdict:
    """The elites' models against the seeds' on the test days, by combiner; the first combiner is the headline."""

    first_day: str
    last_day: str
    differences: Mapping[str, Difference]  # combiner ("LightGBM", "rank average") -> elites' less seeds'

    def line(self) -> str:
        """The verdict in one line beginning `verdict:`."""
        (headline, first), *others = self.differences.items()
        rest = "".join(f"; {name}: {d.mean:+.4f}, {d.low:+.4f} to {d.high:+.4f}, {d.word}" for name, d in others)
        return (f"verdict: on test {self.first_day}..{self.last_day} the elites' {headline} is "
                f"{PHRASES[first.word]} the seeds' (mean daily RankIC {first.mean:+.4f}, "
                f"{CONFIDENCE * 100:.0f} % interval {first.low:+.4f} to {first.high:+.4f}{rest})")


def block_bootstrap_means(values: np.ndarray, rng: np.random.Generator, block_days: int = BLOCK_DAYS,
                          resamples: int = RESAMPLES) -> np.ndarray:
    """Means [resamples] of `values` [n] resampled as runs of `block_days` consecutive values (moving blocks)."""
    n = len(values)
    block = min(block_days, n)
    starts = rng.integers(0, n - block + 1, size=(resamples, -(-n // block)))
    picks = (starts[:, :, None] + np.arange(block)).reshape(resamples, -1)[:, :n]
    return values[picks].mean(axis=1)


def difference(ours: np.ndarray, theirs: np.ndarray, rng: np.random.Generator) -> Difference:
    """Mean of `ours` - `theirs` (daily series [T]) over the days both are known, with its bootstrap interval."""
    both = ~np.isnan(ours) & ~np.isnan(theirs)
    daily = (ours - theirs)[both]
    if len(daily) < 2:
        return Difference(math.nan, math.nan, math.nan, len(daily))
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(block_bootstrap_means(daily, rng), [tail, 1 - tail])
    return Difference(float(daily.mean()), float(low), float(high), len(daily))


def verdict(daily: Mapping[tuple[str, str], np.ndarray], dates: np.ndarray, seed: int = SEED) -> Verdict:
    """Compare each combiner's daily RankIC on the elites with its daily RankIC on the seeds.

    `daily`: (factors "elites" | "seeds", combiner) -> daily RankIC [test days]; `dates` [test days].
    """
    rng = np.random.default_rng(seed)
    return Verdict(str(dates[0])[:10], str(dates[-1])[:10],
                   {combiner: difference(series, daily["seeds", combiner], rng)
                    for (factors, combiner), series in daily.items() if factors == "elites"})
