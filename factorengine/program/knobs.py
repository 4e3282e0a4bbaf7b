"""Hidden knobs: literals in factor's body (defaults excluded) a tuner could move.

  window     an int >= 2 passed to a call: `ts_mean(x, 20)`
  threshold  a literal passed to clip/where/winsorize/maximum/minimum/quantile-like calls,
             a literal in a comparison (`x > 0.02`, `v > 3`), any other float (`0.7 * a`)
Never knobs: 0, 1, -1, +-0.5, |x| < 1e-6 (epsilons), 2 as exponent or divisor (`x ** 2`,
`x / 2`, `np.power(x, 2)`), `axis=`/`ddof=` arguments, other ints (`x * 100`, `x[5:]`), and literals
on the bound of their argument's domain (`percentile(x, 100)`), which no range can move keeping their meaning.
`find_knob_sites` returns the literal nodes with the range that keeps their role (`ranges`), so a
transformer can replace them by identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping

import libcst as cst

from factorengine.program.nodes import Number, Positions, call_name, render
from factorengine.program.ranges import Domain, argument_domain, knob_range

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
    """A hidden knob as CST nodes: `literal` (Integer, Float or negated) inside `context`, and the inclusive
    range (`low`, `high`) that keeps its role."""

    literal: cst.BaseExpression
    value: Number
    context: cst.CSTNode
    reason: Literal["window", "threshold"]
    low: Number
    high: Number


def find_knob_sites(fn: cst.FunctionDef) -> tuple[KnobSite, ...]:
    """Return the hidden knobs in a function's body (parameter defaults excluded), in order."""
    finder = _KnobFinder({})
    fn.body.visit(finder)
    return tuple(finder.sites)


def parameter_ranges(fn: cst.FunctionDef, defaults: Mapping[str, Number]) -> dict[str, tuple[Number, Number]]:
    """Return the range that keeps each parameter's role, judged from its first use as a knob would be judged
    in factor's body; a parameter used nowhere a knob could sit (`x * n`, a default of 1) has none."""
    finder = _KnobFinder(defaults)
    fn.body.visit(finder)
    return finder.ranges


def hidden_knobs(fn: cst.FunctionDef, positions: Positions) -> tuple[HiddenKnob, ...]:
    """Return the hidden knobs in a function's body with their lines and contexts as text."""
    return tuple(HiddenKnob(site.value, positions[site.literal].start.line, render(site.context, 80), site.reason)
                 for site in find_knob_sites(fn))


class _KnobFinder(cst.CSTVisitor):
    """Walk a body keeping the path of ancestors, classifying each numeric literal and the first knob-like use
    of each parameter named in `defaults` (as if its default were written there)."""

    def __init__(self, defaults: Mapping[str, Number]) -> None:
        super().__init__()
        self.defaults = defaults
        self.path: list[cst.CSTNode] = []
        self.sites: list[KnobSite] = []
        self.ranges: dict[str, tuple[Number, Number]] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Integer, cst.Float)):
            site = self._classify(node, node.evaluated_value)
            if site is not None:
                self.sites.append(site)
        elif isinstance(node, cst.Name) and node.value in self.defaults and node.value not in self.ranges \
                and self._is_variable(node):
            site = self._classify(node, self.defaults[node.value])
            if site is not None:  # a negated use `-n` was judged as the value -default
                self.ranges[node.value] = (site.low, site.high) if site.literal is node else (-site.high, -site.low)
        self.path.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.path.pop()

    def _is_variable(self, name: cst.Name) -> bool:
        parent = self.path[-1]
        return not (isinstance(parent, cst.Attribute) and parent.attr is name
                    or isinstance(parent, cst.Arg) and parent.keyword is name)

    def _classify(self, node: cst.Integer | cst.Float | cst.Name, value: Number) -> KnobSite | None:
        literal: cst.BaseExpression = node
        depth = len(self.path) - 1
        parent = self.path[depth]
        if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Minus):
            literal, value, depth = parent, -value, depth - 1
        holder = self.path[depth]
        outer = self.path[depth - 1] if depth >= 1 else None
        reason = _knob_reason(value, literal, holder, outer)
        bounds = None if reason is None else knob_range(value, reason, _domain(holder, outer))
        if reason is None or bounds is None:
            return None
        context = next((n for n in reversed(self.path[:depth + 1]) if isinstance(n, _CONTEXT_NODES)), holder)
        return KnobSite(literal, value, context, reason, *bounds)


def _domain(holder: cst.CSTNode, outer: cst.CSTNode | None) -> Domain:
    """The domain of a literal passed to a call (unbounded elsewhere)."""
    if isinstance(holder, cst.Arg) and isinstance(outer, cst.Call) and not holder.star:
        return argument_domain(outer, holder)
    return Domain()


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
