"""Wall time and peak memory of a command's whole process tree (issue 18: `factorengine harvest`).

The tree is the command and every descendant (harvest's sandbox server and the children it forks). Its memory is
sampled every 0.1 s as the sum of each process's PSS (/proc/PID/smaps_rollup), so pages shared between processes
(the panel in shared memory, forked children's copy-on-write pages) count once; `/usr/bin/time -v` reports only
the largest single process's RSS. Harvest records the test metrics it judges in the run, so measure a fresh copy
of the run each time. Run from the repository, as many times as you want figures:

    cp -a /tmp/hv/run /tmp/hv/h && PYTHONPATH=. python reports/throughput/harvest_memory.py -- \\
        python -m factorengine.cli harvest /tmp/hv/h

It prints one line: wall seconds, CPU seconds of the tree (user + system, less sensitive to other jobs),
peak PSS of the tree in MiB and MB, and the command's exit code.
"""
from __future__ import annotations

import argparse

from factorengine.bench.harvest import measure_command


def main() -> int:
    """Measure the command once and print the line; exit with the command's code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between memory samples")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    cost = measure_command(command, interval_s=args.interval)
    print(f"wall {cost.seconds:.1f} s, CPU {cost.cpu_s:.1f} s, peak PSS of the process tree {cost.peak_mib:,.0f} MiB "
          f"({cost.peak_mb:,.0f} MB), exit {cost.returncode}", flush=True)
    return cost.returncode


if __name__ == "__main__":
    raise SystemExit(main())
