"""The lookahead probe: a factor's value at day t must not change when the days after t are removed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

CUT_FRACTIONS = (0.35, 0.6, 0.85)
_RTOL, _ATOL = 1e-9, 1e-12  # exact up to last-bit BLAS noise; any real leak is far larger


@dataclass(frozen=True)
class Lookahead:
    """A refusal: the value at (`date`, `symbol`) changed when the panel was cut after `cut_date`."""

    date: str
    symbol: str
    cut_date: str
    full_value: float
    cut_value: float

    @property
    def reason(self) -> str:
        """Why the program was refused, for a prompt or a log."""
        return (f"lookahead: the value on {self.date} for {self.symbol} is {self.full_value:.6g} on the full "
                f"panel but {self.cut_value:.6g} when the data end on {self.cut_date}, so it reads later "
                "days; use only delay(x, n >= 1) and trailing ts_* windows")


def cut_rows(n_days: int, fractions: tuple[float, ...] = CUT_FRACTIONS) -> tuple[int, ...]:
    """Return the numbers of leading days kept at each cut."""
    return tuple(sorted({min(max(int(n_days * f), 1), n_days - 1) for f in fractions}))


def first_difference(full: np.ndarray, cut: np.ndarray) -> tuple[int, int] | None:
    """Return (day, stock) of the first value of `cut` [k, N] that differs from `full[:k]` (NaN == NaN)."""
    head = full[: len(cut)]
    same = np.isclose(head, cut, rtol=_RTOL, atol=_ATOL, equal_nan=True)
    if same.all():
        return None
    day, stock = np.argwhere(~same)[0]
    return int(day), int(stock)


def probe_lookahead(full: np.ndarray, cuts: Mapping[int, object], dates: np.ndarray,
                    symbols: np.ndarray) -> Lookahead | object | None:
    """Compare `full` [T, N] with each cut run; return a Lookahead, a cut run's failure, or None.

    `cuts` maps k to the program's [k, N] output on the first k days, or to a failure value that is
    passed through (a program that fails on a shorter history is not usable either).
    """
    for rows, cut in sorted(cuts.items()):
        if not isinstance(cut, np.ndarray):
            return cut
        where = first_difference(full, cut)
        if where is not None:
            day, stock = where
            return Lookahead(str(dates[day]), str(symbols[stock]), str(dates[rows - 1]),
                             float(full[day, stock]), float(cut[day, stock]))
    return None
