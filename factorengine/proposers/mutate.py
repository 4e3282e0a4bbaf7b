"""The offline proposer: mutate a factor program's CST (operator and field swaps, wraps, negation,
conditioning terms, crossover with a program from the chain of experience).

Each mutation kind is a pure function `(source, rng[, partners]) -> Edit | None` (None: nothing to change).
Sites are taken in source order and picked with the generator, so a kind is deterministic for a given
generator state. New windows become new parameters of `factor` with a SEARCH_SPACE entry; new operators are
imported from factorengine.ops. The module docstring and untouched statements are kept byte for byte.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

import libcst as cst
import numpy as np

from factorengine.program import ProgramError, bindings, check_policy, nodes, parse_program, rewrite
from factorengine.proposers.base import Context, Proposal, ProposalFailure, Step
from factorengine.proposers.crossover import chain_partners, cross_over
from factorengine.proposers.parsed import Edit, Parsed, pick, read


@dataclass(frozen=True)
class Family:
    """Operators with the same call shape and the same units that may replace one another."""

    ops: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Window:
    """A new window parameter: its default and its inclusive SEARCH_SPACE range, in days."""

    default: int
    low: int
    high: int


@dataclass(frozen=True)
class Wrapper:
    """An operator to wrap a sub-expression in: `op(x)`, `op(x, <new window>)` or `op(x, <literal>)`."""

    op: str
    why: str
    window: Window | None = None
    literal: str = ""


@dataclass(frozen=True)
class Conditioner:
    """A term the return value is multiplied by; `template` has `{d}` (the panel) and `{w}` (its window)."""

    name: str
    template: str
    ops: tuple[str, ...]
    window: Window
    why: str
    local: str  # the variable holding the term when the return line would be too long


# ts_std <-> ts_var is left out on purpose: var squares the units (a ratio to a return or a price changes
# dimension) and, alone, ranks stocks exactly as std does. ts_sum <-> ts_mean differs by a constant only.
OPERATOR_FAMILIES = (
    Family(("ts_mean", "ts_ema", "ts_decay_linear", "ts_median"), "a differently weighted average"),
    Family(("ts_max", "ts_min"), "the other extreme of the window"),
    Family(("ts_argmax", "ts_argmin"), "the age of the other extreme"),
    Family(("ts_rank", "ts_zscore"), "another measure of today against its own history"),
    Family(("ts_skew", "ts_kurt"), "another shape statistic of the distribution"),
    Family(("ts_corr", "ts_cov"), "co-movement with or without the volatilities"),
    Family(("rank", "zscore"), "another cross-sectional normalization"),
    Family(("group_rank", "group_zscore"), "another normalization within the group"),
    Family(("delta", "pct_change"), "absolute instead of relative change, or back"),
    Family(("maximum", "minimum"), "the other element-wise extreme"),
    Family(("sign", "tanh"), "another squashing of large values"),
)
FIELD_SWAPS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "open": ("close", "vwap"), "close": ("vwap", "open"), "vwap": ("close", "open"),
    "high": ("low",), "low": ("high",), "volume": (), "returns": (),
})
WRAPPERS = (
    Wrapper("rank", "only the cross-sectional order matters; outliers dominate the raw values"),
    Wrapper("zscore", "a cross-sectionally standardized signal compares better across days"),
    Wrapper("sign", "the direction carries the signal, the magnitude is noise"),
    Wrapper("signed_power", "damping large values keeps the direction with less noise", literal="0.5"),
    Wrapper("ts_zscore", "the signal against its own recent history", window=Window(20, 5, 120)),
    Wrapper("ts_mean", "smoothing removes day-to-day noise", window=Window(5, 2, 60)),
)
CONDITIONERS = (
    Conditioner("volume surge", "rank(safe_div({d}.volume, ts_mean({d}.volume, {w})))",
                ("rank", "safe_div", "ts_mean"), Window(20, 5, 120),
                "the signal is stronger when trading volume is unusually high", "surge_rank"),
    Conditioner("volatility", "rank(ts_std({d}.returns, {w}))", ("rank", "ts_std"), Window(20, 5, 120),
                "the signal is stronger on volatile stocks", "vol_rank"),
    Conditioner("range", "rank(ts_mean(safe_div({d}.high - {d}.low, {d}.close), {w}))",
                ("rank", "safe_div", "ts_mean"), Window(10, 2, 60),
                "the signal is stronger on stocks with wide daily ranges", "range_rank"),
)
# op(f(x)) equals op(x) (or ranks and signs exactly as it) for f in _INVARIANT_TO[op]: wrapping an argument
# of op in f is a no-op, and wrapping f(x) in op only swaps f for op (swap_operator's job)
_INVARIANT_TO: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "rank": ("demean", "rank", "scale", "signed_power", "tanh", "zscore"),
    "zscore": ("demean", "scale", "zscore"),
    "sign": ("sign", "signed_power", "tanh"),
    "ts_rank": ("signed_power", "tanh"),
})
_POSITIVE_DOMAIN = ("log", "sqrt")  # their argument must stay > 0: no wrap that makes values negative
_SIGNED_WRAPS = ("sign", "ts_zscore", "zscore")
_FAMILY_OF = MappingProxyType({op: family for family in OPERATOR_FAMILIES for op in family.ops})
_FLIP = MappingProxyType({cst.Add: cst.Subtract, cst.Subtract: cst.Add})


def swap_operator(source: str, rng: np.random.Generator) -> Edit | None:
    """Replace one ops call by another of its family (OPERATOR_FAMILIES), e.g. ts_mean -> ts_ema."""
    p = read(source)
    sites = []
    for node in nodes.collect(p.fn.body, cst.Call):
        op = bindings.call_op(node, p.bindings)
        options = [alt for alt in _FAMILY_OF[op].ops if alt != op and bindings.fits_signature(alt, node)
                   and p.refs([alt])] if op in _FAMILY_OF else []
        if options:
            sites.append((node, op, options))
    if not sites:
        return None
    node, op, options = pick(rng, sites)
    alt = pick(rng, options)
    refs = p.refs([alt]) if isinstance(node.func, cst.Name) else {}
    func = cst.Name(refs[alt]) if refs else node.func.with_changes(attr=cst.Name(alt))
    module = p.module.deep_replace(node.func, func)
    if isinstance(node.func, cst.Name) and node.func.value == op:
        module = rewrite.drop_ops_import(module, op)
    return Edit(p.finish(module, refs), f"swap operator {op} -> {alt} in line {p.line(node)}",
                f"{_FAMILY_OF[op].why} ({alt} instead of {op}) fits the signal better")


def swap_field(source: str, rng: np.random.Generator) -> Edit | None:
    """Replace a panel field by a related one (FIELD_SWAPS), at one place or everywhere it is read."""
    p = read(source)
    panel = nodes.panel_name(p.fn)
    sites = [a for a in nodes.collect(p.fn.body, cst.Attribute) if isinstance(a.value, cst.Name)
             and a.value.value == panel and FIELD_SWAPS.get(a.attr.value)]
    if not sites:
        return None
    site = pick(rng, sites)
    field = site.attr.value
    alt = pick(rng, FIELD_SWAPS[field])
    same = [a for a in sites if a.attr.value == field]
    everywhere = len(same) > 1 and bool(rng.integers(2))
    targets = same if everywhere else [site]
    module = nodes.replace_nodes(p.module, {id(a): a.with_changes(attr=cst.Name(alt)) for a in targets})
    if bindings.degenerate_pairs(module) > bindings.degenerate_pairs(p.module):  # `d.high - d.low` -> `d.low - d.low`
        return None
    lines = ", ".join(dict.fromkeys(str(p.line(a)) for a in targets))
    where = f"everywhere ({len(targets)} places, line {lines})" if everywhere else f"in line {lines}"
    return Edit(module.code, f"swap field {field} -> {alt} {where}",
                f"{alt} carries the same information as {field} with a different timing or noise")


def wrap(source: str, rng: np.random.Generator) -> Edit | None:
    """Wrap the return value, an assigned value or a data argument of a call in a WRAPPERS operator."""
    p = read(source)
    sites = []
    for node, expr, outer in _wrap_sites(p):
        options = [w for w in WRAPPERS if p.refs([w.op]) and not _redundant(w.op, expr, outer, p)]
        if options and bindings.is_data(expr, p.data):
            sites.append((node, expr, options))
    if not sites:
        return None
    node, expr, options = pick(rng, sites)
    wrapper = pick(rng, options)
    refs = p.refs([wrapper.op]) or {}
    args: list[cst.BaseExpression] = [expr]
    if wrapper.literal:
        args.append(cst.parse_expression(wrapper.literal))
    if wrapper.window is not None:
        param = nodes.numbered_name("w_wrap", p.taken)
        args.append(cst.Name(param))
    module = p.module.deep_replace(expr, rewrite.call(refs[wrapper.op], *args))
    if wrapper.window is not None:
        module = rewrite.add_parameter(module, param, wrapper.window.default,
                                     (wrapper.window.low, wrapper.window.high))
    shape = ", ".join([".", *(nodes.render(a) for a in args[1:])])
    what = "the return value" if isinstance(node, cst.Return) else f"`{nodes.render(expr, 40)}` in line {p.line(expr)}"
    return Edit(p.finish(module, refs), f"wrap {what} in {wrapper.op}({shape})", wrapper.why)


def _wrap_sites(p: Parsed) -> list[tuple[cst.CSTNode, cst.BaseExpression, str | None]]:
    """Return (holder, expression, ops function it is an argument of) for return values, assigned values, args."""
    sites = []
    for node in nodes.collect(p.fn.body, (cst.Return, cst.Assign, cst.Call)):
        if isinstance(node, cst.Call):
            outer = bindings.call_op(node, p.bindings)
            sites += [(arg, arg.value, outer) for arg in node.args if not arg.star]
        elif node.value is not None:
            sites.append((node, node.value, None))
    return sites


def _redundant(op: str, expr: cst.BaseExpression, outer: str | None, p: Parsed) -> bool:
    """Return True when wrapping expr in op is a no-op, a swap in disguise, or a constant (sign of a positive)."""
    inner = bindings.call_op(expr, p.bindings) if isinstance(expr, cst.Call) else None
    return inner == op or op in _INVARIANT_TO.get(outer or "", ()) or inner in _INVARIANT_TO.get(op, ()) \
        or (op == "sign" and bindings.is_positive(expr, p.bindings)) \
        or (outer in _POSITIVE_DOMAIN and op in _SIGNED_WRAPS)


def negate(source: str, rng: np.random.Generator) -> Edit | None:
    """Negate the return value, or flip `+` <-> `-` between two data terms."""
    p = read(source)
    sites = [n for n in nodes.collect(p.fn.body, (cst.Return, cst.BinaryOperation))
             if (isinstance(n, cst.Return) and n.value is not None and bindings.is_data(n.value, p.data))
             or (isinstance(n, cst.BinaryOperation) and type(n.operator) in _FLIP
                 and bindings.is_data(n.left, p.data) and bindings.is_data(n.right, p.data))]
    if not sites:
        return None
    site = pick(rng, sites)
    if isinstance(site, cst.Return):
        module = p.module.deep_replace(site.value, rewrite.negated(site.value))
        return Edit(module.code, f"negate the return value (line {p.line(site)})",
                    "the opposite direction combines better with later terms")
    op = site.operator
    flipped = site.with_changes(operator=_FLIP[type(op)](whitespace_before=op.whitespace_before,
                                                        whitespace_after=op.whitespace_after))
    module = p.module.deep_replace(site, flipped)
    return Edit(module.code, f"flip `{nodes.render(site, 40)}` -> `{nodes.render(flipped, 40)}` "
                f"in line {p.line(site)}", "the terms reinforce rather than offset each other")


def condition(source: str, rng: np.random.Generator) -> Edit | None:
    """Multiply the return value by a CONDITIONERS term with a new window parameter."""
    p = read(source)
    sites = [r for r in nodes.collect(p.fn.body, cst.Return)
             if r.value is not None and bindings.is_data(r.value, p.data)]
    options = [c for c in CONDITIONERS if p.refs(c.ops)]
    if not sites or not options:
        return None
    site = pick(rng, sites)
    term = pick(rng, options)
    refs = p.refs(term.ops) or {}
    param = nodes.numbered_name("w_cond", p.taken)
    factor = cst.parse_expression(term.template.format(d=nodes.panel_name(p.fn), w=param))
    factor = nodes.rename(factor, {op: ref for op, ref in refs.items() if op != ref})
    product = rewrite.times(site.value, factor)
    long = site is nodes.sole_return(p.fn) and not rewrite.fits_return(p.module, p.fn, product)
    local = nodes.fresh_name(term.local, p.taken) if long else ""
    module = p.module.deep_replace(site.value, product.with_changes(right=cst.Name(local)) if long else product)
    if long:  # name the term on its own line rather than write a return line over rewrite.MAX_LINE
        module = rewrite.assign_before_return(module, local, factor)
    module = rewrite.add_parameter(module, param, term.window.default, (term.window.low, term.window.high))
    return Edit(p.finish(module, refs), f"condition on {term.name}: multiply the return value "
                f"(line {p.line(site)}) by {nodes.render(factor, 70)}", term.why)


def check_edit(code: str, parent_id: str, max_params: int) -> str | None:
    """Return why a mutated program is not acceptable (policy, parse, unchanged, too big), or None when it is."""
    violations = check_policy(code)
    if violations:
        return f"policy: {violations[0]}"
    try:
        program = parse_program(code)
    except ProgramError as exc:
        return f"program: {exc}"
    if len(program.params) > max_params:
        return f"{len(program.params)} parameters, over max_params={max_params}"
    return "unchanged program" if program.program_id == parent_id else None


_SINGLE: Mapping[str, Callable[[str, np.random.Generator], Edit | None]] = MappingProxyType({
    "swap_operator": swap_operator, "swap_field": swap_field, "wrap": wrap, "negate": negate,
    "condition": condition,
})
KIND_NAMES = (*_SINGLE, "crossover")
DEFAULT_WEIGHTS = (("swap_operator", 3.0), ("swap_field", 2.0), ("wrap", 3.0), ("negate", 1.0),
                   ("condition", 2.0), ("crossover", 2.0))


def apply_kind(kind: str, source: str, partners: Sequence[str], rng: np.random.Generator) -> Edit | None:
    """Apply one mutation kind to a program; None when it finds nothing to change."""
    return cross_over(source, partners, rng) if kind == "crossover" else _SINGLE[kind](source, rng)


@dataclass(frozen=True, kw_only=True)
class MutationProposer:
    """The offline proposer: random CST mutations of the parent, checked like any proposal.

    max_attempts: mutations tried (each a fresh draw of kind and site) before giving up with ProposalFailure.
    max_params: the most parameters a proposal may have, or the parent's count if higher (each parameter is a
    tuning dimension, and crossover adds the partner's).
    weights: (kind, weight) pairs, the relative chance of each kind in KIND_NAMES; crossover is drawn only
    when the chain holds a partner (a program that ran, parses and differs from the parent).
    Deterministic: the same context and generator state give the same proposal.
    """

    max_attempts: int = 20
    max_params: int = 10
    weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS

    def __post_init__(self) -> None:
        unknown = [kind for kind, _ in self.weights if kind not in KIND_NAMES]
        if unknown:
            raise ValueError(f"unknown mutation kind {unknown[0]!r} in weights; kinds: {', '.join(KIND_NAMES)}")
        if self.max_attempts < 1 or self.max_params < 1:
            raise ValueError(f"max_attempts and max_params must be >= 1, got {self.max_attempts}, {self.max_params}")
        if any(w < 0 for _, w in self.weights) or not any(w > 0 for _, w in self.weights):
            raise ValueError(f"weights must be non-negative with at least one positive, got {self.weights}")

    def propose(self, context: Context, rng: np.random.Generator) -> Proposal | ProposalFailure:
        """Return a mutated copy of context.parent, or why none passed the checks in max_attempts tries."""
        parent = context.parent.code
        try:
            parsed = parse_program(parent)
        except ProgramError as exc:
            return ProposalFailure(f"the parent program cannot be mutated: {exc}")
        parent_id, max_params = parsed.program_id, max(self.max_params, len(parsed.params))
        partners = chain_partners(context, parent_id)
        drawable = [(k, w) for k, w in self.weights if w > 0 and (partners or k != "crossover")]
        if not drawable:
            return ProposalFailure("only crossover is enabled and the chain holds no partner program")
        kinds = [k for k, _ in drawable]
        chances = np.array([w for _, w in drawable]) / sum(w for _, w in drawable)
        tried: dict[str, str] = {}
        for _ in range(self.max_attempts):
            kind = kinds[int(rng.choice(len(kinds), p=chances))]
            edit = apply_kind(kind, parent, partners, rng)
            reason = "nothing to change" if edit is None else check_edit(edit.code, parent_id, max_params)
            if reason is None and edit is not None:
                return Proposal(edit.code, edit.idea, kind, edit.hypothesis)
            tried[kind] = reason or ""
        summary = "; ".join(f"{kind}: {reason}" for kind, reason in tried.items())
        return ProposalFailure(f"no valid mutation in {self.max_attempts} attempts ({summary})")

    def reflect(self, parent: Step, proposal: Proposal, outcome: str, rng: np.random.Generator) -> str:
        """No lesson beyond the outcome itself: a random edit has no reasoning to reflect on."""
        return ""
