"""The check of a program against the panel it will run on: every column it reads exists, and group
operators have a group column to group by."""
from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from factorengine.program.bindings import call_op, module_bindings
from factorengine.program.nodes import collect, factor_def, panel_name
from factorengine.program.static_check import Violation


def check_columns(source: str, columns: Sequence[str], groups: Sequence[str]) -> tuple[Violation, ...]:
    """Return a violation for each `d.<name>` the panel lacks and each group operator on a panel with no group
    column (`groups`: the group columns among `columns`); `source` is a parsed program."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    lines = wrapper.resolve(PositionProvider)
    fn = factor_def(wrapper.module)
    panel, bindings = panel_name(fn), module_bindings(wrapper.module)
    have = f"its columns are {', '.join(columns)}" + (f" (group columns: {', '.join(groups)})" if groups
                                                     else ", none of them a group column")
    violations = [Violation(lines[node].start.line, "column", f"the panel has no column {node.attr.value!r}; {have}")
                  for node in collect(fn.body, cst.Attribute)
                  if isinstance(node.value, cst.Name) and node.value.value == panel
                  and node.attr.value not in columns]
    if not groups:
        listed = f"; {have}" if not violations else ""  # the columns are said once
        violations += [Violation(lines[call].start.line, "group", f"{op} needs a group column such as d.sector "
                                 f"and the panel has none{listed}")
                       for call in collect(fn.body, cst.Call)
                       if (op := call_op(call, bindings) or "").startswith("group_")]
    return tuple(dict.fromkeys(sorted(violations, key=lambda v: v.line)))
