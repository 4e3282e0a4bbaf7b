"""A run's recorded configuration and data, reopened and checked against the fingerprint stored with it."""
from __future__ import annotations

from factorengine.config import RunConfig, config_from_dict
from factorengine.data import Dataset, load_panel, make_dataset, synthetic_panel
from factorengine.store import Store


def recorded_config(store: Store) -> RunConfig:
    """The configuration the run was started with."""
    return config_from_dict(store.run_info().config, str(store.path))


def recorded_dataset(store: Store, config: RunConfig) -> Dataset:
    """The run's panel with its label and splits; StoreError if the data changed since the run began."""
    panel = load_panel(config.data.path) if config.data.path else synthetic_panel(seed=config.data.synthetic_seed)
    store.check_fingerprint(panel.fingerprint())
    return make_dataset(panel, config.data.horizon)
