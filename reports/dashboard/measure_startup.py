"""Measure how fast `factorengine dashboard` starts: seconds from launching the command to the first 200 answer
of the page (`/`) and of the run's data (`/api/overview`), over a few launches.

    python reports/dashboard/measure_startup.py RUN_DIR [--repeat 5]
"""
from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import time
import urllib.request


def launch(run_dir: str) -> tuple[float, float]:
    """One launch: (seconds to the page's 200, seconds to the overview's 200), both from the launch."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "factorengine.cli", "dashboard", run_dir, "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().split(": ", 1)[1].split()[0]
        times = []
        for path in ("", "api/overview"):
            with urllib.request.urlopen(url + path, timeout=60) as response:
                assert response.status == 200
                response.read()
            times.append(time.perf_counter() - start)
        return times[0], times[1]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    launches = [launch(args.run_dir) for _ in range(args.repeat)]
    for name, values in (("page", [p for p, _ in launches]), ("overview", [o for _, o in launches])):
        print(f"launch to first 200 of the {name}: median {statistics.median(values):.2f} s, "
              f"max {max(values):.2f} s over {len(values)} launches")


if __name__ == "__main__":
    main()
