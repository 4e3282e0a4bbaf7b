"""`factorengine bench`: measured speed and search efficiency on a real panel, against the alternatives."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from factorengine.bench import SUITES, BenchInput
from factorengine.bench.report import markdown
from factorengine.data import load_panel, make_dataset, resolve_data_path
from factorengine.data.dataset import DATA_ENV
from factorengine.errors import FactorEngineError
from factorengine.program import parse_program


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `bench`."""
    parser.description = ("Time each step several times against the alternatives and report medians, spread and "
                          "whether each target is met.")
    parser.add_argument("--data", help=f"panel file or directory (default: ${DATA_ENV})")
    parser.add_argument("--suite", choices=[*SUITES, "all"], default="all", help="what to measure")
    parser.add_argument("--seeds", type=Path, default=Path("seeds"), help="seed program directory")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per step (after a warm-up)")
    parser.add_argument("--search-evaluations", type=int, default=2000,
                        help="search suite: evaluations per run, every method alike")
    parser.add_argument("--search-seeds", type=int, default=3, help="search suite: runs per method")
    parser.add_argument("--search-trials", type=int, default=8, help="search suite: TPE trials per program")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen suites, print the report and write it."""
    data = args.data or os.environ.get(DATA_ENV)
    if not data:
        print(f"error: bench needs a real panel: pass --data PATH or set {DATA_ENV}", file=sys.stderr)
        return 2
    start = time.monotonic()
    try:
        path = resolve_data_path(data)
        programs = {p.stem: parse_program(p.read_text(), str(p)) for p in sorted(args.seeds.glob("*.py"))}
        bench = BenchInput(path, make_dataset(load_panel(path)), programs, args.repeat, args.search_evaluations,
                           args.search_seeds, args.search_trials)
        command = "factorengine " + " ".join(shlex.quote(a) for a in args.argv)
        results = {}
        for name in SUITES if args.suite == "all" else [args.suite]:
            results[name] = SUITES[name](bench)
            report = markdown(command, path, results, (time.monotonic() - start) / 60)
            if args.out:  # after every suite, so a long run that dies keeps what it measured
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(report)
    except FactorEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 0
