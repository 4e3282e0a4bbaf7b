"""The label: forward returns with their daily ranks, computed once per dataset."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from factorengine.ops import rank


@dataclass(frozen=True, eq=False)
class Label:
    """Forward returns [T, N] (NaN where unknown) with their daily percentile ranks, computed once."""

    values: np.ndarray
    ranks: np.ndarray
    known: np.ndarray


def make_label(values: np.ndarray) -> Label:
    """Wrap forward returns [T, N] as a Label (inf counts as unknown)."""
    values = np.where(np.isfinite(values), values, np.nan)
    return Label(values, rank(values), ~np.isnan(values))
