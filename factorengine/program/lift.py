"""Lift hidden knobs: numeric literals acting as windows or thresholds become parameters of `factor`.

A proposer that writes `ts_mean(d.volume, 20)` has hidden a window from the tuner; lifting rewrites it as
`ts_mean(d.volume, window_1)` with `window_1=20` appended to factor's signature, so the program computes the
same values at its defaults and the tuner can move the knob within the derived range (see `program`).
"""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from factorengine.program.source import Number, Program, find_knob_sites, parse_program


_NO_SPACE_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                  whitespace_after=cst.SimpleWhitespace(""))


@dataclass(frozen=True)
class LiftedKnob:
    """A literal that became a parameter: its new name, value, source line, context and why it is a knob."""

    name: str
    value: Number
    line: int
    context: str
    reason: str


def lift_knobs(program: Program) -> tuple[Program, tuple[LiftedKnob, ...]]:
    """Return the program with its hidden knobs turned into parameters, and what was lifted."""
    if not program.hidden_knobs:
        return program, ()
    module = cst.parse_module(program.source)
    [fn] = [s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == "factor"]
    sites = find_knob_sites(fn)
    taken = _names(module)
    names: dict[int, str] = {}
    new_params = []
    for site in sites:
        name = _fresh(site.reason, taken)
        names[id(site.literal)] = name
        new_params.append(cst.Param(name=cst.Name(name), default=site.literal.with_changes(lpar=(), rpar=()),
                                    equal=_NO_SPACE_EQUAL))
    body = fn.body.visit(_Replace(names))
    params = fn.params
    if params.kwonly_params:
        params = params.with_changes(kwonly_params=(*params.kwonly_params, *new_params))
    else:
        params = params.with_changes(params=(*params.params, *new_params))
    source = module.deep_replace(fn, fn.with_changes(params=params, body=body)).code
    lifted = tuple(LiftedKnob(names[id(site.literal)], knob.value, knob.line, knob.context, knob.reason)
                   for site, knob in zip(sites, program.hidden_knobs))
    return parse_program(source), lifted


class _Replace(cst.CSTTransformer):
    """Replace the literal nodes named in `names` (by identity) with their parameter names."""

    def __init__(self, names: dict[int, str]) -> None:
        super().__init__()
        self.names = names

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        name = self.names.get(id(original_node))
        if name is None:
            return updated_node
        return cst.Name(name, lpar=getattr(updated_node, "lpar", ()), rpar=getattr(updated_node, "rpar", ()))


def _names(module: cst.Module) -> set[str]:
    """Every identifier used anywhere in the module."""
    found: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

    module.visit(Collect())
    return found


def _fresh(stem: str, taken: set[str]) -> str:
    """The first of stem_1, stem_2, ... not in `taken` (which it joins)."""
    k = 1
    while f"{stem}_{k}" in taken:
        k += 1
    taken.add(f"{stem}_{k}")
    return f"{stem}_{k}"
