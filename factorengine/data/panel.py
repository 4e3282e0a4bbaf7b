"""The daily panel: dates x symbols arrays, one per field."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

PRICE_FIELDS = ("open", "high", "low", "close")
REQUIRED_COLUMNS = ("date", "symbol", *PRICE_FIELDS, "volume")


@dataclass(frozen=True)
class Panel:
    """A read-only daily panel.

    dates: datetime64[D] [T], strictly increasing; symbols: str [N];
    fields: name -> float64 [T, N], read-only, NaN where a stock has no (tradable) row.
    source: where the panel came from (a path, or "synthetic(...)").
    """

    dates: np.ndarray
    symbols: np.ndarray
    fields: Mapping[str, np.ndarray]
    source: str

    def __post_init__(self) -> None:
        shape = (len(self.dates), len(self.symbols))
        for name, values in self.fields.items():
            if values.shape != shape or values.dtype != np.float64:
                raise ValueError(f"field {name!r} must be float64 {shape}, got {values.dtype} {values.shape}")
            values.flags.writeable = False
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def __getattr__(self, name: str) -> np.ndarray:
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(f"panel has no field {name!r}; fields: {', '.join(sorted(fields))}")

    @property
    def shape(self) -> tuple[int, int]:
        """(T days, N stocks)."""
        return len(self.dates), len(self.symbols)

    @property
    def is_synthetic(self) -> bool:
        """True for a panel made by the synthetic market generator."""
        return self.source.startswith("synthetic")

    def fingerprint(self) -> str:
        """A content hash of the dates, symbols and every field's values (16 hex chars)."""
        digest = hashlib.sha256()
        digest.update(self.dates.astype("datetime64[D]").tobytes())
        digest.update("\0".join(map(str, self.symbols)).encode())
        for name in sorted(self.fields):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(self.fields[name]).tobytes())
        return digest.hexdigest()[:16]

    def slice_days(self, stop: int) -> "Panel":
        """Return the panel cut to its first `stop` days (for causality checks)."""
        return Panel(self.dates[:stop], self.symbols,
                     {k: v[:stop] for k, v in self.fields.items()}, self.source)
