"""`factorengine report`: write a run's report as one self-contained HTML file."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from factorengine.store import RUN_DATABASE, Store, StoreError

REPORT_DIR = "report"  # where the report goes in a run directory unless --out says otherwise


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `report`."""
    parser.description = ("Write a run's report as one self-contained HTML file: its plots, top programs and, "
                          "once harvested, the harvest's results.")
    parser.add_argument("run_dir", type=Path, help="the run's directory (holding run.db)")
    parser.add_argument("--out", type=Path, help=f"output directory (default: RUN_DIR/{REPORT_DIR})")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the report from the store and the harvest results; write OUT/index.html (OUT: RUN_DIR/report)."""
    # matplotlib and the harvest load once the command runs, not for --help
    from factorengine.harvest import report

    run_dir = args.run_dir.resolve()
    try:
        store = Store.open(run_dir / RUN_DATABASE, read_only=True)
        harvest, manifest = report.load_harvest(run_dir)
    except (StoreError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with store:
        page = report.build_report(store, run_dir, harvest, manifest)
    out = args.out or run_dir / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    path = (out / "index.html").resolve()
    path.write_text(page, encoding="utf-8")
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB, one self-contained page)")
    print(f"open it in a browser: {path.as_uri()}")
    return 0
