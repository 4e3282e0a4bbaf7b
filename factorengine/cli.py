"""The `factorengine` command line."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from factorengine.commands import (bench_command, bootstrap_command, eval_command, evolve_command, harvest_command,
                                   llm_server_command, null_command, report_command, status_command)
from factorengine.errors import FactorEngineError


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="factorengine", description="Mine alpha factors as Python programs.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True)
    evolve_command.add_parsers(commands)
    status_command.add_parser(commands)
    eval_command.add_parser(commands)
    bench_command.add_parser(commands)
    harvest_command.add_parser(commands)
    null_command.add_parser(commands)
    report_command.add_parser(commands)
    bootstrap_command.add_parser(commands)
    llm_server_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # the command line as given, for reports that quote it
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.run(args)
    except FactorEngineError as exc:  # what a command did not catch itself still ends in one line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
