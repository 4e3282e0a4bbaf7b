"""`factorengine bench`: measured speed of the engine's steps on a real panel."""
from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
from pathlib import Path

from factorengine.bench import SUITES, BenchInput, Ratio, Timing, machine_description
from factorengine.data import DataError, load_panel, make_dataset, resolve_data_path
from factorengine.data.dataset import DATA_ENV
from factorengine.program import ProgramError, parse_program


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the `bench` subcommand."""
    parser = commands.add_parser("bench", help="measure speed on a real panel",
                                 description="Time each step several times and report medians and spread.")
    parser.add_argument("--data", help=f"panel file or directory (default ${DATA_ENV})")
    parser.add_argument("--suite", choices=[*SUITES, "all"], default="all", help="what to measure")
    parser.add_argument("--seeds", type=Path, default=Path("seeds"), help="seed program directory")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per step (after a warm-up)")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen suites, print the table and write the report."""
    data = args.data or os.environ.get(DATA_ENV)
    if not data:
        print(f"error: bench needs a real panel: pass --data PATH or set {DATA_ENV}", file=sys.stderr)
        return 2
    try:
        path = resolve_data_path(data)
        programs = {p.stem: parse_program(p.read_text(), str(p)) for p in sorted(args.seeds.glob("*.py"))}
        bench = BenchInput(path, make_dataset(load_panel(path)), programs, args.repeat)
    except (DataError, ProgramError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    timings, ratios = [], []
    for name in SUITES if args.suite == "all" else [args.suite]:
        suite_timings, suite_ratios = SUITES[name](bench)
        timings += suite_timings
        ratios += suite_ratios
    report = _report(path, timings, ratios)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n")
    return 0


def _report(path: Path, timings: list[Timing], ratios: list[Ratio]) -> str:
    command = "factorengine " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = ["# Benchmarks", "", f"Command: `{command}`  ", f"Data: `{path}`  "]
    lines += [f"{line}  " for line in machine_description()]
    lines += ["", _summary(timings), ""]
    if ratios:
        lines += ["| comparison | median ratio | min | max |", "|---|---|---|---|"]
        lines += [f"| {r.name} | {statistics.median(r.values):.3f} | {min(r.values):.3f} | {max(r.values):.3f} |"
                  for r in ratios]
        lines += [""]
    lines += ["| step | median ms | min ms | max ms |", "|---|---|---|---|"]
    lines += [f"| {t.name} | {t.median_ms:.1f} | {t.spread_ms[0]:.1f} | {t.spread_ms[1]:.1f} |" for t in timings]
    return "\n".join(lines)


def _summary(timings: list[Timing]) -> str:
    by_kind: dict[str, list[float]] = {}
    for t in timings:
        if t.name.split()[0] in ("load", "compute", "score"):
            by_kind.setdefault(t.name.split()[0], []).append(t.median_ms)
    parts = [f"{kind}: median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms over {len(ms)}"
             for kind, ms in by_kind.items()]
    return "Summary: " + "; ".join(parts) + "." if parts else ""
