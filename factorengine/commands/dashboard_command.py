"""`factorengine dashboard`: serve a live page of a run (progress, tree, top programs, failures, LLM use, tuning,
harvest) that reads the run's store read-only and refreshes by itself."""
from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `dashboard`."""
    parser.description = ("Serve a live web page of a run: each island's FS over iterations, the tree with each "
                          "node's code and diff, the top programs, failures, LLM use, tuning and, once harvested, "
                          "the harvest. It only reads the run, so it is safe while the run is going; the page "
                          "refreshes by itself and loads nothing from the network.")
    parser.add_argument("run_dir", type=Path, help="the run's directory (holding run.db)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to serve on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on; another than 127.0.0.1 shows the run to the network")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve the dashboard until interrupted (Ctrl-C)."""
    from factorengine.dashboard.server import open_dashboard  # the store and the server load once it runs

    server = open_dashboard(args.run_dir.resolve(), args.host, args.port)
    print(f"dashboard of {args.run_dir}: {server.url} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
