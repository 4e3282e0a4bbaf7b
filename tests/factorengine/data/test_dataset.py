"""A dataset takes its label horizon and its segments from the [data] config."""
from factorengine.config import DataConfig
from factorengine.data import make_dataset, synthetic_panel


def test_make_dataset_cuts_the_segments_the_data_config_sets():
    data = DataConfig(valid_start="2016-02-01", test_start="2016-02-22", horizon=2, folds=2, min_coverage=0.8)
    splits = make_dataset(synthetic_panel(n_days=60, n_stocks=10), data).splits
    assert (splits.train, splits.valid, splits.test) == ((0, 20), (22, 35), (37, 60))
    assert (splits.folds, splits.min_coverage) == (((0, 10), (12, 20)), 0.8)
