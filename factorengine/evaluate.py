"""Run a factor program on a dataset and score it (in-process: for programs the user trusts)."""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from factorengine.data.dataset import Dataset
from factorengine.fitness import Fitness, score
from factorengine.program import Program, ProgramError, load_factor

Params = Mapping[str, "int | float"]


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one program run: its fitness, or the reason it has none."""

    name: str
    program_id: str
    params: Params
    fitness: Fitness | None
    error: str | None
    seconds: float


def check_output(values: object, shape: tuple[int, int]) -> str | None:
    """Return why `values` is not a usable factor output of `shape`, or None when it is."""
    if not isinstance(values, np.ndarray):
        return f"factor returned {type(values).__name__}, expected a numpy array"
    if values.shape != shape:
        return f"factor returned shape {values.shape}, expected {shape} (days, stocks)"
    if not np.issubdtype(values.dtype, np.floating):
        return f"factor returned dtype {values.dtype}, expected float"
    if np.isinf(values).any():
        return "factor returned inf values; guard divisions with safe_div"
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return "factor returned only NaN"
    if np.all(finite == finite[0]):
        return "factor returned a constant"
    return None


def resolve_params(program: Program, overrides: Mapping[str, str]) -> dict[str, int | float]:
    """Return the program's defaults with `overrides` (name -> text) applied and typed."""
    params = {p.name: p.default for p in program.params}
    kinds = {p.name: p.kind for p in program.params}
    for name, text in overrides.items():
        if name not in params:
            raise ProgramError(f"--param {name}={text}: the program has no parameter {name!r}; "
                               f"its parameters are {', '.join(params) or 'none'}")
        try:
            params[name] = int(text) if kinds[name] == "int" else float(text)
        except ValueError:
            raise ProgramError(f"--param {name}={text}: {name} takes an {kinds[name]}") from None
    return params


def evaluate_program(program: Program, dataset: Dataset, params: Params, *, name: str = "<program>",
                     include_test: bool = False) -> Evaluation:
    """Compute the factor of `program` with `params` on `dataset` and score it."""
    start = time.perf_counter()
    try:
        values = load_factor(program.source, name)(dataset.panel, **params)
    except Exception as exc:  # noqa: BLE001 - a user's program may raise anything; report it, go on
        frames = traceback.format_exception(exc)
        error = f"{type(exc).__name__}: {exc}\n" + "".join(frames[-3:]).rstrip()
        return Evaluation(name, program.program_id, dict(params), None, error, time.perf_counter() - start)
    error = check_output(values, dataset.panel.shape)
    fitness = None if error else score(values, dataset.label, dataset.splits, include_test=include_test)
    return Evaluation(name, program.program_id, dict(params), fitness, error, time.perf_counter() - start)
