"""Daily panel data: loading and validation, date splits, labels, the synthetic market."""
from factorengine.data.dataset import DATA_ENV, Dataset, forward_returns, make_dataset, open_panel
from factorengine.data.load import DataError, load_panel, resolve_data_path
from factorengine.data.panel import Panel
from factorengine.data.split import SEGMENTS, Splits, segment_ranges, split_days
from factorengine.data.synthetic import PLANTED_SIGNALS, PlantedSignal, synthetic_panel

__all__ = [
    "DATA_ENV", "DataError", "Dataset", "PLANTED_SIGNALS", "Panel", "PlantedSignal", "SEGMENTS", "Splits",
    "forward_returns", "load_panel", "make_dataset", "open_panel", "resolve_data_path", "segment_ranges",
    "split_days", "synthetic_panel",
]
