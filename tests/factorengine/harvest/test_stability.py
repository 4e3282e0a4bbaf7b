"""Stability: a factor's RankIC per calendar year of train and valid."""
from __future__ import annotations

import numpy as np
import pytest

from factorengine.harvest.stability import MIN_DAYS, yearly_stability


def test_years_are_the_calendar_years_of_train_and_valid_only(synthetic_dataset):
    daily = np.full(len(synthetic_dataset.panel.dates), 0.05)
    result = yearly_stability(daily, synthetic_dataset)
    end = synthetic_dataset.splits.days("valid").stop
    first, last = (synthetic_dataset.panel.dates[i].astype("datetime64[Y]").astype(int) + 1970 for i in (0, end - 1))
    assert set(result.years) <= set(range(first, last + 1)) and result.share == 1.0


def test_the_share_counts_years_above_zero_and_names_the_worst(synthetic_dataset):
    dates = synthetic_dataset.panel.dates
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    daily = np.where(years == years[0], -0.02, 0.03).astype(float)
    result = yearly_stability(daily, synthetic_dataset)
    assert result.worst_year == years[0] and result.worst == pytest.approx(-0.02)
    assert result.share == pytest.approx((len(result.years) - 1) / len(result.years))


def test_a_year_with_too_few_scored_days_is_not_judged(synthetic_dataset):
    daily = np.full(len(synthetic_dataset.panel.dates), np.nan)
    daily[: MIN_DAYS - 1] = 0.1
    result = yearly_stability(daily, synthetic_dataset)
    assert result.years == {} and result.worst_year is None and np.isnan(result.share)
