"""The daily panel: dates x symbols arrays, one per field."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
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
    groups: the group columns (text or categorical in the file): field name -> its labels, the field holding
            each cell's label as a code, the label's index (NaN: no label).
    """

    dates: np.ndarray
    symbols: np.ndarray
    fields: Mapping[str, np.ndarray]
    source: str
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.dates), len(self.symbols))
        for name, values in self.fields.items():
            if values.shape != shape or values.dtype != np.float64:
                raise ValueError(f"field {name!r} must be float64 {shape}, got {values.dtype} {values.shape}")
            values.flags.writeable = False
        if not set(self.groups) <= set(self.fields):
            raise ValueError(f"group columns {sorted(set(self.groups) - set(self.fields))} are not fields")
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        object.__setattr__(self, "groups", MappingProxyType({k: tuple(v) for k, v in self.groups.items()}))

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
        for name in sorted(self.groups):  # none in a panel without group columns: its hash is unchanged
            digest.update("\0".join((name, *self.groups[name])).encode())
        return digest.hexdigest()[:16]

    def slice_days(self, stop: int) -> "Panel":
        """Return the panel cut to its first `stop` days (for causality checks)."""
        return Panel(self.dates[:stop], self.symbols,
                     {k: v[:stop] for k, v in self.fields.items()}, self.source, self.groups)
