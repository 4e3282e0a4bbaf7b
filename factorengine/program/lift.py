"""Lift hidden knobs: numeric literals acting as windows or thresholds become parameters of `factor`.

A proposer that writes `ts_mean(d.volume, 20)` has hidden a window from the tuner; lifting rewrites it as
`ts_mean(d.volume, window_1)` with `window_1=20` appended to factor's signature and `"window_1": (10, 40)`
to SEARCH_SPACE (created if absent), a range that keeps the literal's role (see `ranges`). The program computes
the same values at its defaults, and the range is in its text, so a stored program and the prompts that show
it say what the tuner may move. Module-level constants are never lifted: they are how a program keeps a
value fixed.
Apart from `knobs` because it parses the lifted program again, and parse_program reads the knobs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import libcst as cst

from factorengine.program.knobs import KnobSite, find_knob_sites, parameter_ranges
from factorengine.program.nodes import TIGHT_EQUAL, Number, all_names, factor_def, numbered_name, replace_nodes
from factorengine.program.rewrite import declare_range
from factorengine.program.source import Program, parse_program


@dataclass(frozen=True)
class LiftedKnob:
    """A literal that became a parameter: its new name, value, source line, context, why it is a knob, and the
    range written into SEARCH_SPACE for it."""

    name: str
    value: Number
    line: int
    context: str
    reason: str
    low: Number
    high: Number


def lift_knobs(program: Program) -> tuple[Program, tuple[LiftedKnob, ...]]:
    """Return the program with its hidden knobs turned into parameters and every parameter it tunes given a
    SEARCH_SPACE range, and what was lifted."""
    module = cst.parse_module(program.source)
    fn = factor_def(module)
    found = parameter_ranges(fn, {p.name: p.default for p in program.params if not p.declared})
    ranges = {p.name: found[p.name] for p in program.params if p.name in found}  # in signature order
    if not program.hidden_knobs and not ranges:
        return program, ()
    sites = find_knob_sites(fn)
    taken = all_names(module)
    names: list[str] = []
    for site in sites:
        names.append(numbered_name(site.reason, taken))
        taken |= {names[-1]}
        ranges[names[-1]] = (site.low, site.high)
    module = module.deep_replace(fn, _lifted_def(fn, sites, names))
    for name, bounds in ranges.items():
        module = declare_range(module, name, bounds)
    lifted = tuple(LiftedKnob(name, knob.value, knob.line, knob.context, knob.reason, site.low, site.high)
                   for name, knob, site in zip(names, program.hidden_knobs, sites))
    return parse_program(module.code), lifted


def _lifted_def(fn: cst.FunctionDef, sites: Sequence[KnobSite], names: Sequence[str]) -> cst.FunctionDef:
    """Return factor with each knob's literal replaced by its name, appended as a parameter defaulting to it."""
    replacements: dict[int, cst.CSTNode] = {}
    new_params = []
    for site, name in zip(sites, names):
        replacements[id(site.literal)] = cst.Name(name, lpar=site.literal.lpar, rpar=site.literal.rpar)
        new_params.append(cst.Param(name=cst.Name(name), default=site.literal.with_changes(lpar=(), rpar=()),
                                    equal=TIGHT_EQUAL))
    params = fn.params
    if params.kwonly_params:
        params = params.with_changes(kwonly_params=(*params.kwonly_params, *new_params))
    else:
        params = params.with_changes(params=(*params.params, *new_params))
    return fn.with_changes(params=params, body=replace_nodes(fn.body, replacements))
