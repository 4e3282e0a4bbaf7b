"""`factorengine eval`: score factor programs on train and valid (test on request)."""
from __future__ import annotations

import argparse
import json
import logging
import math
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from factorengine.config import DataConfig
from factorengine.data import SEGMENTS, DataError, make_dataset, open_panel
from factorengine.program import Program, ProgramError, parse_program
from factorengine.score.evaluate import Evaluation, Evaluator, resolve_params
from factorengine.score.failure import FailureKind
from factorengine.score.fitness import TRAIN_VALID

logger = logging.getLogger(__name__)

_COLUMNS = ("fs", "ic", "icir", "rank_ic", "rank_icir", "turnover")
_TABLE_COLUMNS = ("fs", "ic", "rank_ic")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `eval`."""
    parser.description = ("Score factor programs (files or directories of *.py). Exit code 0 when every program "
                          "is scored, 1 when any fails (each says why on one line), 2 when the input or the data "
                          "cannot be used.")
    parser.add_argument("programs", nargs="+", type=Path, help="program files or directories")
    parser.add_argument("--data", help="panel file (Parquet/CSV) (default: $FACTORENGINE_DATA, "
                                       "else the built-in synthetic market)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a parameter default (repeatable)")
    parser.add_argument("--horizon", type=int, default=1, help="label horizon in days")
    parser.add_argument("--include-test", action="store_true", help="also score the test segment")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--markdown", type=Path, help="also write a Markdown report to this file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate every program; return 1 if any could not be scored or the input is unusable."""
    try:
        files = _program_files(args.programs)
        overrides = dict(_split_param(p) for p in args.param)
        dataset = make_dataset(open_panel(args.data), DataConfig(horizon=args.horizon))
    except (DataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    parsed = {path: _parse_file(path, overrides) for path in files}
    jobs = [(str(path), *job) for path, job in parsed.items() if not isinstance(job, Evaluation)]
    segments = SEGMENTS if args.include_test else TRAIN_VALID
    with Evaluator(dataset) as evaluator:
        evaluated = iter(evaluator.evaluate_many(jobs, segments=segments))
    results = [job if isinstance(job, Evaluation) else next(evaluated) for job in parsed.values()]
    for result in results:
        if result.error:
            logger.error("%s", _reason(result))
    source = dataset.panel.source + (" [SYNTHETIC]" if dataset.panel.is_synthetic else "")
    if args.json:
        payload = [_as_json(r, source) for r in results]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        print(f"data: {source}")
        print(_table(results, segments))
    if args.markdown:
        _write_markdown(args.markdown, results, source, segments, args.argv)
    return 1 if any(r.error for r in results) else 0


def _program_files(paths: list[Path]) -> list[Path]:
    files = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.py")))
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"{path}: no such program file or directory")
    return files


def _split_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--param {text!r}: write NAME=VALUE, e.g. --param window=10")
    return name.strip(), value.strip()


def _parse_file(path: Path, overrides: dict[str, str]) -> tuple[Program, dict] | Evaluation:
    """The program and its parameters, or the Evaluation saying why the file cannot be run."""
    try:
        program = parse_program(path.read_text(), str(path))
        return program, resolve_params(program, overrides)
    except (ProgramError, OSError, UnicodeDecodeError) as exc:
        return Evaluation(str(path), "", {}, None, FailureKind.PROGRAM, str(exc), 0.0)


def _reason(result: Evaluation) -> str:
    """Why `result` failed, naming its file once (a program error already starts with the file)."""
    return result.error if result.error.startswith(result.name) else f"{result.name}: {result.error}"


def _as_json(result: Evaluation, source: str) -> dict:
    out = {"program": result.name, "program_id": result.program_id, "data": source,
           "params": dict(result.params), "failure": result.failure, "error": result.error,
           "seconds": round(result.seconds, 4)}
    if result.fitness:
        out["orientation"] = result.fitness.orientation
        for segment in ("train", "valid", "test"):
            metrics = getattr(result.fitness, segment)
            if metrics is not None:
                out[segment] = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                                for k, v in asdict(metrics).items()}
    return out


def _rows(results: list[Evaluation], segments: tuple[str, ...],
          columns: tuple[str, ...] = _COLUMNS) -> tuple[list[str], list[list[str]]]:
    header = ["program", "sign"] + [f"{s}.{c}" for s in segments for c in columns]
    rows = []
    for r in results:
        name = Path(r.name).stem
        if r.fitness is None:
            rows.append([name, "", f"error: {r.error.splitlines()[0]}"])
            continue
        cells = [f"{getattr(getattr(r.fitness, s), c):.4f}" for s in segments for c in columns]
        rows.append([name, f"{r.fitness.orientation:+d}", *cells])
    return header, rows


def _table(results: list[Evaluation], segments: tuple[str, ...]) -> str:
    header, rows = _rows(results, segments, _TABLE_COLUMNS)
    scored = [row for row in rows if len(row) == len(header)]  # a failed program's error runs past the columns
    widths = [max([len(h), *(len(row[i]) for row in scored)]) for i, h in enumerate(header)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join(lines)


def _write_markdown(path: Path, results: list[Evaluation], source: str, segments: tuple[str, ...],
                    argv: list[str]) -> None:
    header, rows = _rows(results, segments)
    command = "factorengine " + " ".join(shlex.quote(a) for a in argv)
    lines = ["# Factor evaluation\n", f"Data: `{source}`  ", f"Command: `{command}`\n",
             "Metrics are oriented by the sign of train RankIC (column `sign`). "
             "FS = (10·IC + ICIR + 10·RankIC + RankICIR)/4, daily, not annualized.\n",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row + [""] * (len(header) - len(row))) + " |" for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
