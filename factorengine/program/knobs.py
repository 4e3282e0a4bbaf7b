"""Hidden knobs: literals in factor's body (defaults excluded) a tuner could move.

  window     an int >= 2 passed to a call: `ts_mean(x, 20)`
  threshold  a literal passed to clip/where/winsorize/maximum/minimum/quantile-like calls,
             a literal in a comparison (`x > 0.02`, `v > 3`), any other float (`0.7 * a`)
Never knobs: 0, 1, -1, +-0.5, |x| < 1e-6 (epsilons), 2 as exponent or divisor (`x ** 2`,
`x / 2`, `np.power(x, 2)`), `axis=`/`ddof=` arguments, other ints (`x * 100`, `x[5:]`).
`find_knob_sites` returns the literal nodes, so a transformer can replace them by identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import libcst as cst

from factorengine.program.nodes import Number, Positions, call_name, render

_TRIVIAL = (0, 1, -1, 0.5, -0.5)
_THRESHOLD_CALLS = frozenset({"clip", "where", "winsorize", "maximum", "minimum", "fmax", "fmin",
                              "quantile", "nanquantile", "percentile", "nanpercentile"})
_EXPONENT_CALLS = frozenset({"pow", "power"})
_STRUCTURAL_KEYWORDS = frozenset({"axis", "ddof"})
_CONTEXT_NODES = (cst.Call, cst.Comparison, cst.BinaryOperation, cst.BooleanOperation)


@dataclass(frozen=True)
class HiddenKnob:
    """A numeric literal in factor's body that looks tunable (1-based source line)."""

    value: Number
    line: int
    context: str  # the enclosing expression, e.g. "ts_mean(d.volume, 20)"
    reason: Literal["window", "threshold"]


@dataclass(frozen=True)
class KnobSite:
    """A hidden knob as CST nodes: `literal` (Integer, Float or negated) inside `context`."""

    literal: cst.BaseExpression
    value: Number
    context: cst.CSTNode
    reason: Literal["window", "threshold"]


def find_knob_sites(fn: cst.FunctionDef) -> tuple[KnobSite, ...]:
    """Return the hidden knobs in a function's body (parameter defaults excluded), in order."""
    finder = _KnobFinder()
    fn.body.visit(finder)
    return tuple(finder.sites)


def hidden_knobs(fn: cst.FunctionDef, positions: Positions) -> tuple[HiddenKnob, ...]:
    """Return the hidden knobs in a function's body with their lines and contexts as text."""
    return tuple(HiddenKnob(site.value, positions[site.literal].start.line, render(site.context, 80), site.reason)
                 for site in find_knob_sites(fn))


class _KnobFinder(cst.CSTVisitor):
    """Walk a body keeping the path of ancestors, classifying each numeric literal."""

    def __init__(self) -> None:
        super().__init__()
        self.path: list[cst.CSTNode] = []
        self.sites: list[KnobSite] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Integer, cst.Float)):
            self._classify(node)
        self.path.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.path.pop()

    def _classify(self, number: cst.Integer | cst.Float) -> None:
        literal: cst.BaseExpression = number
        value: Number = number.evaluated_value
        depth = len(self.path) - 1
        parent = self.path[depth]
        if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Minus):
            literal, value, depth = parent, -value, depth - 1
        holder = self.path[depth]
        outer = self.path[depth - 1] if depth >= 1 else None
        reason = _knob_reason(value, literal, holder, outer)
        if reason is not None:
            context = next((n for n in reversed(self.path[:depth + 1])
                            if isinstance(n, _CONTEXT_NODES)), holder)
            self.sites.append(KnobSite(literal, value, context, reason))


def _knob_reason(value: Number, literal: cst.CSTNode, holder: cst.CSTNode,
                 outer: cst.CSTNode | None) -> Literal["window", "threshold"] | None:
    """Classify a literal by where it sits: call argument, comparison, arithmetic."""
    if value in _TRIVIAL or abs(value) < 1e-6:
        return None
    if isinstance(holder, cst.Arg) and isinstance(outer, cst.Call):
        if holder.keyword is not None and holder.keyword.value in _STRUCTURAL_KEYWORDS:
            return None
        name = call_name(outer)
        if name in _EXPONENT_CALLS:
            return None if value == 2 else "threshold"
        if name in _THRESHOLD_CALLS or not isinstance(value, int) or value < 2:
            return "threshold"
        return "window"
    if isinstance(holder, (cst.Comparison, cst.ComparisonTarget)):
        return "threshold"
    if (isinstance(holder, cst.BinaryOperation) and holder.right is literal and value == 2
            and isinstance(holder.operator, (cst.Power, cst.Divide, cst.FloorDivide))):
        return None
    return "threshold" if isinstance(value, float) else None
