"""A run's recorded configuration and data, reopened and checked against the fingerprint stored with it.

The data libraries load only in the functions that open a run's data: reading what a run recorded (its config,
seeds and segments, as `factorengine status` does) needs none of them.
"""
from __future__ import annotations

from dataclasses import astuple
from pathlib import Path
from typing import TYPE_CHECKING

from factorengine.config import RunConfig, config_from_dict
from factorengine.segments import SegmentRange
from factorengine.store import RUN_DATABASE, Seeds, Segments, Store, StoreError

if TYPE_CHECKING:
    from factorengine.data import Dataset


def recorded_config(store: Store) -> RunConfig:
    """The configuration the run was started with."""
    return config_from_dict(store.run_info().config, str(store.path))


def recorded_seeds(store: Store) -> tuple[tuple[str, str], ...]:
    """The run's seed programs as (name, code); StoreError when the run stopped before recording them."""
    events = store.events(Seeds)
    if not events:
        raise StoreError(f"{store.path}: the run stopped before it recorded its seeds; start it again with "
                         "factorengine evolve")
    return events[0].payload.seeds


def segments_event(dataset: Dataset) -> Segments:
    """The event recording `dataset`'s segment dates, so `status` and `report` name them without the data."""
    from factorengine.data import segment_ranges

    return Segments(tuple(astuple(r) for r in segment_ranges(dataset.panel.dates, dataset.splits)))


def recorded_segments(store: Store) -> tuple[SegmentRange, ...]:
    """The run's segment dates as recorded when it began; empty for a run begun before they were recorded."""
    events = store.events(Segments)
    return tuple(SegmentRange(*r) for r in events[0].payload.ranges) if events else ()


def recorded_dataset(store: Store, config: RunConfig) -> Dataset:
    """The run's panel with its label and splits; StoreError if the data changed since the run began."""
    from factorengine.data import load_panel, make_dataset, synthetic_panel

    panel = load_panel(config.data.path) if config.data.path else synthetic_panel(seed=config.data.synthetic_seed)
    store.check_fingerprint(panel.fingerprint())
    return make_dataset(panel, config.data)


def open_run(run_dir: Path, *, read_only: bool = True) -> tuple[Store, Dataset]:
    """A finished (or running) run's store and its checked dataset; ConfigError, DataError or StoreError say
    what is wrong."""
    store = Store.open(run_dir / RUN_DATABASE, read_only=read_only)
    try:
        return store, recorded_dataset(store, recorded_config(store))
    except BaseException:
        store.close()
        raise
