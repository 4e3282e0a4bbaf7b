"""Lift hidden knobs: numeric literals acting as windows or thresholds become parameters of `factor`.

A proposer that writes `ts_mean(d.volume, 20)` has hidden a window from the tuner; lifting rewrites it as
`ts_mean(d.volume, window_1)` with `window_1=20` appended to factor's signature, so the program computes the
same values at its defaults and the tuner can move the knob within the derived range (see `space`).
Apart from `knobs` because it parses the lifted program again, and parse_program reads the knobs.
"""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from factorengine.program.knobs import find_knob_sites
from factorengine.program.nodes import TIGHT_EQUAL, Number, all_names, factor_def, numbered_name, replace_nodes
from factorengine.program.source import Program, parse_program


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
    fn = factor_def(module)
    sites = find_knob_sites(fn)
    taken = all_names(module)
    names: list[str] = []
    replacements: dict[int, cst.CSTNode] = {}
    new_params = []
    for site in sites:
        name = numbered_name(site.reason, taken)
        taken |= {name}
        names.append(name)
        replacements[id(site.literal)] = cst.Name(name, lpar=site.literal.lpar, rpar=site.literal.rpar)
        new_params.append(cst.Param(name=cst.Name(name), default=site.literal.with_changes(lpar=(), rpar=()),
                                    equal=TIGHT_EQUAL))
    body = replace_nodes(fn.body, replacements)
    params = fn.params
    if params.kwonly_params:
        params = params.with_changes(kwonly_params=(*params.kwonly_params, *new_params))
    else:
        params = params.with_changes(params=(*params.params, *new_params))
    source = module.deep_replace(fn, fn.with_changes(params=params, body=body)).code
    lifted = tuple(LiftedKnob(name, knob.value, knob.line, knob.context, knob.reason)
                   for name, knob in zip(names, program.hidden_knobs))
    return parse_program(source), lifted
