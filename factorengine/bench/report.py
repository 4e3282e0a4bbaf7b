"""The benchmark report in Markdown: command, machine, targets met or not, ratios, tables, timings."""
from __future__ import annotations

from pathlib import Path

from factorengine.bench.measure import SuiteResult, machine_description


def markdown(command: str, path: Path, results: dict[str, SuiteResult], minutes: float) -> str:
    """The whole report of one `bench` call."""
    lines = ["# Benchmarks", "", f"Command: `{command}`  ", f"Data: `{path}`  "]
    lines += [f"{line}  " for line in machine_description()]
    lines += [f"Suites: {', '.join(results)}; {minutes:.0f} minutes in all. Each step runs once to warm up, then "
              "is timed several times; a ratio is taken per paired run (same run, same machine load) and shown as "
              "median (min-max).", ""]
    targets = [t for r in results.values() for t in r.targets]
    if targets:
        lines += ["## Targets", "", "| target | figure | met |", "|---|---:|---|"]
        lines += [f"| {t.name} | {t.figure:.2f} (needs {'<=' if t.at_most else '>='} {t.threshold:g}) | "
                  f"{'met' if t.met else 'not met: ' + t.why} |" for t in targets]
        lines.append("")
    for name, result in results.items():
        lines += [f"## {name}", ""]
        if result.ratios:
            lines += ["| comparison | median ratio | min | max |", "|---|---:|---:|---:|"]
            lines += [f"| {r.name} | {r.median:.2f} | {min(r.values):.2f} | {max(r.values):.2f} |"
                      for r in result.ratios]
            lines.append("")
        for table in result.tables:
            lines += [table, ""]
        if result.timings:
            lines += ["| step | median ms | min ms | max ms |", "|---|---:|---:|---:|"]
            lines += [f"| {t.name} | {t.median_ms:.1f} | {t.spread_ms[0]:.1f} | {t.spread_ms[1]:.1f} |"
                      for t in result.timings]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"

