"""Crossover: inline a partner program from the chain of experience and combine the two return values."""
from __future__ import annotations

from typing import Sequence

import libcst as cst
import numpy as np

from factorengine.program import ProgramError, bindings, nodes, parse_program, program_id, rewrite
from factorengine.proposers.base import Context
from factorengine.proposers.parsed import Edit, Parsed, pick, read

COMBINERS = ("+", "-", "*")


def cross_over(source: str, partners: Sequence[str], rng: np.random.Generator) -> Edit | None:
    """Combine the return value with a partner's as `rank(a) <op> rank(b)`, moving its body and parameters over.

    The partner's locals and parameters are renamed where they clash; a partner that cannot be moved (several
    returns, module-level helpers, clashing imports) is skipped for the next one in the list.
    """
    if not partners:
        return None
    combiner = pick(rng, COMBINERS)
    start = int(rng.integers(len(partners)))
    for k in range(len(partners)):
        edit = _merge(source, partners[(start + k) % len(partners)], combiner)
        if edit is not None:
            return edit
    return None


def _merge(source: str, other: str, combiner: str) -> Edit | None:
    """Return the parent with the partner inlined and the two return values combined, or None."""
    p, q = read(source), read(other)
    ours, theirs, refs = nodes.sole_return(p.fn), nodes.sole_return(q.fn), p.refs(["rank"])
    borrowed = _borrowed_imports(p, q)
    if ours is None or theirs is None or refs is None or borrowed is None \
            or len(p.fn.body.body[-1].body) != 1 or len(q.fn.body.body[-1].body) != 1 \
            or not bindings.is_data(ours.value, p.data) or not bindings.is_data(theirs.value, q.data):
        return None
    mapping = _renaming(p, q)
    moved = [nodes.rename(s, mapping) for s in _statements(q.fn)]
    taken = p.taken | q.taken | frozenset(mapping.values())
    locals_, combined = _combine(p, ours.value, nodes.rename(theirs.value, mapping), combiner, taken)
    last = p.fn.body.body[-1]
    body = [*p.fn.body.body[:-1], *moved, *locals_, last.with_changes(body=[ours.with_changes(value=combined)])]
    module = p.module.deep_replace(p.fn, p.fn.with_changes(body=p.fn.body.with_changes(body=body)))
    for param in parse_program(other).params:
        bounds = (param.low, param.high) if param.declared else None
        module = rewrite.add_parameter(module, mapping[param.name], param.default, bounds)
    ops_needed, lines = borrowed
    for line in lines:
        module = rewrite.add_import_line(module, line)
    summary = " ".join((q.module.get_docstring() or "").split())
    title = f' ("{summary[:45]}...")' if len(summary) > 48 else f' ("{summary}")' if summary else ""
    idea = f"cross over with program {program_id(other)}{title}: rank(parent) {combiner} rank(partner)"
    return Edit(p.finish(module, {**refs, **{op: op for op in ops_needed}}), idea,
                "the partner's signal carries information the parent's lacks")


def _renaming(p: Parsed, q: Parsed) -> dict[str, str]:
    """Return the partner's panel, parameter and local names -> names free in the merged program."""
    mapping = {nodes.panel_name(q.fn): nodes.panel_name(p.fn)}
    taken = set(p.taken | q.taken)
    for name in bindings.bound_names(q.fn):
        if name not in mapping:
            mapping[name] = name if name not in p.taken else nodes.fresh_name(name, frozenset(taken))
            taken.add(mapping[name])
    return mapping


def _borrowed_imports(p: Parsed, q: Parsed) -> tuple[list[str], list[str]] | None:
    """Return (ops names, import lines) the partner's body needs from the parent module, or None on a clash."""
    inside = set(bindings.bound_names(q.fn)) | {nodes.panel_name(q.fn)}
    ops_needed: list[str] = []
    lines: list[str] = []
    for name in dict.fromkeys(nodes.referenced_names(q.fn.body)):
        theirs, ours = q.bindings.get(name), p.bindings.get(name)
        if name in inside or (theirs is not None and theirs == ours):
            continue
        if theirs is None:  # a builtin: the parent must not bind the name to something else
            if ours is not None:
                return None
        elif theirs[0] == "module" or name in p.taken or (theirs[0] == "ops" and theirs[1] != name):
            return None
        elif theirs[0] == "ops":
            ops_needed.append(name)
        else:
            lines.append(f"import {bindings.OPS_MODULE} as {name}" if theirs[0] == "ops_module" else theirs[1])
    return ops_needed, lines


def _statements(fn: cst.FunctionDef) -> list[cst.BaseStatement]:
    """Return factor's body statements without its docstring and its final return line."""
    body = list(fn.body.body[:-1])
    first = body[0] if body else None
    if isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr) \
            and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        body = body[1:]
    return body


def _combine(p: Parsed, a: cst.BaseExpression, b: cst.BaseExpression, combiner: str,
             taken: frozenset[str]) -> tuple[list[cst.SimpleStatementLine], cst.BaseExpression]:
    """Return (new local assignments, `rank(a) <op> rank(b)`); long sides move to locals `left`/`right`."""
    rank = (p.refs(["rank"]) or {})["rank"]
    combined = cst.parse_expression(f"{rank}(a) {combiner} {rank}(b)")
    inline = nodes.replace_nodes(combined, {id(combined.left.args[0].value): rewrite.bare(a),
                                            id(combined.right.args[0].value): rewrite.bare(b)})
    if rewrite.fits_return(p.module, p.fn, inline):
        return [], inline
    assigns, sides = [], []
    for expr, base in ((a, "left"), (b, "right")):
        if isinstance(expr, cst.Name):
            sides.append(expr)
            continue
        name = nodes.fresh_name(base, taken)
        taken |= {name}
        assigns.append(rewrite.assignment(name, expr))
        sides.append(cst.Name(name))
    return assigns, nodes.replace_nodes(combined, {id(combined.left.args[0].value): sides[0],
                                                   id(combined.right.args[0].value): sides[1]})


def chain_partners(context: Context, parent_id: str) -> tuple[str, ...]:
    """Return the programs of the chain a parent may cross over with: ran without failure, parse, differ, unique."""
    seen = {parent_id}
    partners = []
    for path in context.chain:
        for step in path:
            if step.failure is not None:
                continue
            try:
                pid = parse_program(step.code).program_id
            except ProgramError:
                continue
            if pid not in seen:
                seen.add(pid)
                partners.append(step.code)
    return tuple(partners)
