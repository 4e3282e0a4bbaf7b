"""The combiners: LightGBM fitted on train days alone, and the rank average with no fitted weights."""
from __future__ import annotations

import numpy as np

from factorengine.data import Splits
from factorengine.data.label import Label, make_label
from factorengine.harvest.model import ROUNDS, combine, features, fit_model, predict, rank_average

TWO_DAYS = Splits(train=(0, 1), valid=(1, 2), test=(2, 2), gap=0, folds=((0, 1),), min_coverage=0.5)


def _with(label: Label, days: list[slice], values: np.ndarray) -> Label:
    changed = label.values.copy()
    for day in days:
        changed[day] = values[day]
    return make_label(changed)


def test_test_predictions_do_not_change_when_train_period_data_change_after_fitting(market):
    dataset, factors = market
    fitted = fit_model(factors, dataset.label, dataset.splits)
    train, test = dataset.splits.days("train"), dataset.splits.days("test")
    changed = {name: values.copy() for name, values in factors.items()}
    for values in changed.values():
        values[train] = np.random.default_rng(1).normal(size=values[train].shape)
    np.testing.assert_array_equal(features(changed)[test], features(factors)[test])
    np.testing.assert_array_equal(predict(fitted.booster, features(changed))[test], fitted.predictions[test])
    assert fitted.metrics["test"].rank_ic > 0.2


def test_lightgbm_runs_a_fixed_number_of_rounds_and_never_reads_valid_or_test_labels(market):
    dataset, factors = market
    splits = dataset.splits
    fitted = fit_model(factors, dataset.label, splits)
    noise = np.random.default_rng(2).normal(size=dataset.label.values.shape)
    relabelled = fit_model(factors, _with(dataset.label, [splits.days("valid"), splits.days("test")], noise), splits)
    np.testing.assert_array_equal(relabelled.predictions, fitted.predictions)
    assert fitted.trees == relabelled.trees == ROUNDS
    assert abs(relabelled.metrics["test"].rank_ic) < 0.05 < 0.2 < fitted.metrics["test"].rank_ic


def test_the_rank_average_is_each_day_s_mean_rank_over_the_factors_with_a_value():
    a = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    b = np.array([[4.0, 3.0, 2.0, 1.0], [np.nan, np.nan, np.nan, np.nan]])
    c = np.array([[10.0, np.nan, 30.0, 20.0], [1.0, 2.0, 3.0, 4.0]])
    label = make_label(np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]))
    combined = rank_average({"a": a, "b": b, "c": c}, label, TWO_DAYS).predictions
    # ranks per day: a (.25 .5 .75 1 | 1 .75 .5 .25), b (1 .75 .5 .25 | none), c (1/3 – 1 2/3 | .25 .5 .75 1)
    expected = [[(0.25 + 1 + 1 / 3) / 3, (0.5 + 0.75) / 2, (0.75 + 0.5 + 1) / 3, (1 + 0.25 + 2 / 3) / 3],
                [(1 + 0.25) / 2, (0.75 + 0.5) / 2, (0.5 + 0.75) / 2, (0.25 + 1) / 2]]
    np.testing.assert_allclose(combined, expected)


def test_the_rank_average_is_nan_where_no_factor_has_a_value():
    only = np.array([[1.0, np.nan, 3.0]])
    combined = rank_average({"a": only, "b": only * np.nan}, make_label(np.array([[0.1, 0.2, 0.3]])), TWO_DAYS)
    np.testing.assert_array_equal(combined.predictions, [[0.5, np.nan, 1.0]])


def test_every_combiner_is_fitted_and_the_rank_average_fits_nothing(market):
    dataset, factors = market
    combined = combine(factors, dataset.label, dataset.splits)
    assert list(combined) == ["LightGBM", "rank average"]
    average = combined["rank average"]
    assert average.trees == 0 and average.importance == {} and average.booster is None
    assert average.metrics["test"].rank_ic > 0.1
