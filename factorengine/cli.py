"""The `factorengine` command line: a command's module, and its heavy imports, load only when it runs."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from importlib.metadata import version
from typing import Sequence

from factorengine.errors import FactorEngineError

# name: (its module in factorengine.commands, the function of it that adds the arguments, one-line help)
COMMANDS = {
    "evolve": ("evolve_command", "add_evolve_arguments", "start a search run"),
    "resume": ("evolve_command", "add_resume_arguments", "continue a run after a stop or crash"),
    "status": ("status_command", "add_arguments", "show a run's progress and top programs"),
    "eval": ("eval_command", "add_arguments", "score factor programs"),
    "bench": ("bench_command", "add_arguments", "measure speed and search efficiency on a real panel"),
    "harvest": ("harvest_command", "add_arguments", "export elites, combine them, judge them against the seeds"),
    "null": ("null_command", "add_arguments", "chance level of the run's best programs on shuffled labels"),
    "report": ("report_command", "add_arguments", "write a run's HTML report (plots, top programs, harvest)"),
    "dashboard": ("dashboard_command", "add_arguments", "serve a live web page of a run, read-only"),
    "bootstrap": ("bootstrap_command", "add_arguments", "turn research text into seed programs with the LLM"),
    "llm-server": ("llm_server_command", "add_arguments", "serve canned LLM replies and faults from a JSON script"),
}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default after its help, unless it has none worth saying (None, a flag, empty)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool) or action.default == []:
            return action.help
        return super()._get_help_string(action)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the parser of every subcommand; only `command`'s module is imported, to add its arguments."""
    parser = argparse.ArgumentParser(prog="factorengine", description="Mine alpha factors as Python programs.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('factorengine')}")
    common = argparse.ArgumentParser(add_help=False)  # also after the subcommand; unset there, it keeps the above
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, add_arguments, help) in COMMANDS.items():
        subparser = commands.add_parser(name, help=help, parents=[common], formatter_class=HelpFormatter)
        if name == command:
            getattr(importlib.import_module(f"factorengine.commands.{module}"), add_arguments)(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)  # options before it take no value
    args = build_parser(command).parse_args(argv)
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
