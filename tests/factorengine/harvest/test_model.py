"""The combiners: LightGBM fitted on train days alone, and the rank average with no fitted weights."""
from __future__ import annotations

import lightgbm as lgb
import numpy as np

from factorengine.data import Splits
from factorengine.data.label import Label, make_label
from factorengine.harvest.features import rank_features
from factorengine.harvest.model import PARAMS, ROUNDS, combine, fit_model, predict, rank_average
from factorengine.ops import rank

TWO_DAYS = Splits(train=(0, 1), valid=(1, 2), test=(2, 2), gap=0, folds=((0, 1),), min_coverage=0.5)


def _with(label: Label, days: list[slice], values: np.ndarray) -> Label:
    changed = label.values.copy()
    for day in days:
        changed[day] = values[day]
    return make_label(changed)


def test_test_predictions_do_not_change_when_train_period_data_change_after_fitting(market):
    dataset, factors = market
    fitted = fit_model(rank_features(factors), dataset.label, dataset.splits)
    train, test = dataset.splits.days("train"), dataset.splits.days("test")
    changed = {name: values.copy() for name, values in factors.items()}
    for values in changed.values():
        values[train] = np.random.default_rng(1).normal(size=values[train].shape)
    np.testing.assert_array_equal(rank_features(changed).ranks(test), rank_features(factors).ranks(test))
    np.testing.assert_array_equal(predict(fitted.booster, rank_features(changed))[test], fitted.predictions[test])
    assert fitted.metrics["test"].rank_ic > 0.2


def test_lightgbm_runs_a_fixed_number_of_rounds_and_never_reads_valid_or_test_labels(market):
    dataset, factors = market
    splits = dataset.splits
    features = rank_features(factors)
    fitted = fit_model(features, dataset.label, splits)
    noise = np.random.default_rng(2).normal(size=dataset.label.values.shape)
    relabelled = fit_model(features, _with(dataset.label, [splits.days("valid"), splits.days("test")], noise), splits)
    np.testing.assert_array_equal(relabelled.predictions, fitted.predictions)
    assert fitted.trees == relabelled.trees == ROUNDS
    assert abs(relabelled.metrics["test"].rank_ic) < 0.05 < 0.2 < fitted.metrics["test"].rank_ic


def test_the_rank_average_is_each_day_s_mean_rank_over_the_factors_with_a_value():
    a = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    b = np.array([[4.0, 3.0, 2.0, 1.0], [np.nan, np.nan, np.nan, np.nan]])
    c = np.array([[10.0, np.nan, 30.0, 20.0], [1.0, 2.0, 3.0, 4.0]])
    label = make_label(np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]))
    combined = rank_average(rank_features({"a": a, "b": b, "c": c}), label, TWO_DAYS).predictions
    # ranks per day: a (.25 .5 .75 1 | 1 .75 .5 .25), b (1 .75 .5 .25 | none), c (1/3 – 1 2/3 | .25 .5 .75 1)
    expected = [[(0.25 + 1 + 1 / 3) / 3, (0.5 + 0.75) / 2, (0.75 + 0.5 + 1) / 3, (1 + 0.25 + 2 / 3) / 3],
                [(1 + 0.25) / 2, (0.75 + 0.5) / 2, (0.5 + 0.75) / 2, (0.25 + 1) / 2]]
    np.testing.assert_allclose(combined, expected)


def test_the_rank_average_is_nan_where_no_factor_has_a_value():
    only = np.array([[1.0, np.nan, 3.0]])
    features = rank_features({"a": only, "b": only * np.nan})
    combined = rank_average(features, make_label(np.array([[0.1, 0.2, 0.3]])), TWO_DAYS)
    np.testing.assert_array_equal(combined.predictions, [[0.5, np.nan, 1.0]])


def test_every_combiner_is_fitted_and_the_rank_average_fits_nothing(market):
    dataset, factors = market
    combined = combine(rank_features(factors), dataset.label, dataset.splits)
    assert list(combined) == ["LightGBM", "rank average"]
    average = combined["rank average"]
    assert average.trees == 0 and average.importance == {} and average.booster is None
    assert average.metrics["test"].rank_ic > 0.1


def test_the_combiners_on_two_byte_features_equal_them_on_the_stacked_float64_ranks(market):
    dataset, factors = market
    label, train = dataset.label, dataset.splits.days("train")
    x = np.stack([rank(values) for values in factors.values()], axis=-1)  # how the features were held before
    rows = label.known[train] & ~np.isnan(x[train]).all(axis=-1)
    reference = lgb.train({**PARAMS, "seed": 0}, lgb.Dataset(x[train][rows], label.ranks[train][rows] - 0.5,
                                                             feature_name=list(factors)), num_boost_round=ROUNDS)
    present = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        average = np.where(present, x, 0.0).sum(axis=-1) / present.sum(axis=-1)
    combined = combine(rank_features(factors), label, dataset.splits)
    assert combined["LightGBM"].booster.model_to_string() == reference.model_to_string()
    np.testing.assert_array_equal(combined["LightGBM"].predictions[present.any(axis=-1)],
                                  reference.predict(x[present.any(axis=-1)]))
    np.testing.assert_array_equal(combined["rank average"].predictions, average)


def test_lightgbm_reports_each_round_it_has_done(market):
    dataset, factors = market
    rounds = []
    fit_model(rank_features(factors), dataset.label, dataset.splits, on_round=rounds.append)
    assert rounds == list(range(1, ROUNDS + 1))
