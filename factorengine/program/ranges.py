"""Ranges that keep a constant's role: where the tuner may move a literal lifted out of factor's body.

  window (an int >= 2)   half to twice the literal, at least 2: 20 -> (10, 40), 3 -> (2, 6)
  anything else          within BAND of the literal, measured from the nearest bound of its argument's
                         domain (DOMAINS), or from 0 where it has none, so the sign is kept:
                         0.02 -> (0.015, 0.025), -3 -> (-3.75, -2.25), winsorize's k 3.0 -> (2.25, 3.75),
                         ts_quantile's q 0.95 -> (0.9375, 0.9625): a 5 % tail stays a tail of about 5 %
Int literals get int bounds (rounded outward), floats 4 significant digits; bounds stay inside the domain.
A literal on its domain's bound (a percentile of 100) has no range that keeps its meaning, one outside it
(`winsorize(x, -3)`) none at all: neither is a knob.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Mapping

import libcst as cst

from factorengine.program.nodes import Number, call_name

BAND = 0.25  # a lifted threshold moves at most this share of its distance from its domain's nearest bound
_DIGITS = 4


@dataclass(frozen=True)
class Domain:
    """The values an operator's argument may take: inclusive bounds, None where unbounded."""

    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Argument:
    """An operator's argument by position and keyword: `ts_quantile(x, window, q)`'s q is (ts_quantile, 2, q)."""

    op: str
    position: int
    keyword: str


_UNIT, _PERCENT, _POSITIVE = Domain(0.0, 1.0), Domain(0.0, 100.0), Domain(0.0, None)
# Arguments with a bounded domain; every other threshold keeps its sign (clip bounds, comparisons, weights).
DOMAINS: Mapping[Argument, Domain] = MappingProxyType({
    Argument("ts_quantile", 2, "q"): _UNIT,
    Argument("quantile", 1, "q"): _UNIT,
    Argument("nanquantile", 1, "q"): _UNIT,
    Argument("percentile", 1, "q"): _PERCENT,
    Argument("nanpercentile", 1, "q"): _PERCENT,
    Argument("winsorize", 1, "k"): _POSITIVE,
})
_SIGNED = Domain()


def argument_domain(call: cst.Call, arg: cst.Arg) -> Domain:
    """Return the domain of one argument of a call (unbounded when the table does not name it)."""
    name = call_name(call)
    if arg.keyword is not None:
        keyword = arg.keyword.value
        return next((d for a, d in DOMAINS.items() if a.op == name and a.keyword == keyword), _SIGNED)
    position = [a for a in call.args if a.keyword is None].index(arg)
    return next((d for a, d in DOMAINS.items() if a.op == name and a.position == position), _SIGNED)


def knob_range(value: Number, reason: Literal["window", "threshold"],
               domain: Domain = _SIGNED) -> tuple[Number, Number] | None:
    """Return the inclusive range a knob keeps its role in, or None when no such range has room."""
    if reason == "window":
        return max(2, (int(value) + 1) // 2), 2 * int(value)
    if (domain.low is not None and value < domain.low) or (domain.high is not None and value > domain.high):
        return None
    anchor = _nearest_bound(value, domain)
    low, high = sorted((anchor + (value - anchor) * (1 - BAND), anchor + (value - anchor) * (1 + BAND)))
    if domain.low is not None:
        low = max(low, domain.low)
    if domain.high is not None:
        high = min(high, domain.high)
    if isinstance(value, int):
        bounds: tuple[Number, Number] = (math.floor(low), math.ceil(high))
    else:
        bounds = (min(_round(low), value), max(_round(high), value))
    return bounds if bounds[0] < bounds[1] else None


def _nearest_bound(value: Number, domain: Domain) -> float:
    """The bound of the domain nearest the value; 0 for an unbounded domain."""
    bounds = [b for b in (domain.low, domain.high) if b is not None]
    return min(bounds, key=lambda b: abs(value - b)) if bounds else 0.0


def _round(x: float) -> float:
    return float(f"{x:.{_DIGITS}g}")
