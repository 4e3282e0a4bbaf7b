"""Factor programs: parse and check them, read their search space and knobs, screen them, identify and load them.

The edit building blocks proposers use live in `nodes` (generic CST helpers), `bindings` (what names stand
for) and `rewrite` (imports, parameters, statements, expressions).
"""
from factorengine.program.columns_check import check_columns
from factorengine.program.knobs import HiddenKnob
from factorengine.program.lift import LiftedKnob, lift_knobs
from factorengine.program.nodes import Number
from factorengine.program.parsing import ProgramError
from factorengine.program.source import Program, load_factor, parse_program, program_id, set_docstring, shape_id
from factorengine.program.space import Param, set_defaults
from factorengine.program.static_check import ALLOWED_IMPORTS, Violation, check_policy

__all__ = ["ALLOWED_IMPORTS", "HiddenKnob", "LiftedKnob", "Number", "Param", "Program", "ProgramError",
           "Violation", "check_columns", "check_policy", "lift_knobs", "load_factor", "parse_program",
           "program_id", "set_defaults", "set_docstring", "shape_id"]
