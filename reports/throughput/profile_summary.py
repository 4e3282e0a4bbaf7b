"""Summarize a py-spy profile of a search by process role: where the CPU samples of each role went.

Record (a 1-island mutate search on the real panel, every process of the tree):
    py-spy record --subprocesses --rate 50 --format raw -o search.txt --duration 240 -- \
        factorengine evolve --data ../shared/data/us_main_daily.parquet --run-dir /tmp/run --trials 8 \
        --max-evaluations 2000 --iterations 1000
Summarize:
    python reports/throughput/profile_summary.py search.txt
Roles: the search process (driver; with one island it runs the island), the sandbox server, its run children.
py-spy samples threads that are running, so a role's share is its share of the CPU the search used.
"""
from __future__ import annotations

import re
import sys
from collections import Counter

_FRAME = re.compile(r"(?P<function>.*?) \((?P<file>.*?)(?::\d+)?\)$")


def role(frames: list[str]) -> str:
    """Which process a stack was sampled in."""
    text = ";".join(frames)
    if "run_child" in text:
        return "sandbox run child"
    if "sandbox/_server.py" in text:
        return "sandbox server"
    return "search process"


def name(frame: str) -> str:
    """`function (file)` of a collapsed frame."""
    match = _FRAME.match(frame)
    return f"{match['function']} ({match['file']})" if match else frame


def main(path: str, share: float = 0.01) -> None:
    """Print each role's share and its functions above `share` of all samples, inclusive and self."""
    roles, inclusive, own = Counter(), Counter(), Counter()
    for line in open(path):
        stack, count = line.rstrip().rsplit(" ", 1)
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        who = role(frames)
        roles[who] += int(count)
        for function in {name(f) for f in frames}:
            inclusive[who, function] += int(count)
        if frames:
            own[who, name(frames[-1])] += int(count)
    total = sum(roles.values())
    print(f"{total} samples")
    for who, n in roles.most_common():
        print(f"\n## {who}: {100 * n / total:.1f} % of the samples")
        for title, counts, floor in (("inclusive", inclusive, share), ("self", own, share / 2)):
            print(f"{title}:")
            for (r, function), c in sorted(counts.items(), key=lambda kv: -kv[1]):
                if r == who and c >= floor * total and not function.startswith(("<module>", "_run_", "Thread",
                                                                                  "_bootstrap", "_worker")):
                    print(f"  {100 * c / total:5.1f} %  {function}")


if __name__ == "__main__":
    main(sys.argv[1])
