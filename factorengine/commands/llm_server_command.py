"""`factorengine llm-server`: serve scripted LLM replies and faults, to try a configuration offline."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from factorengine.llm.scripted import ScriptedServer, load_script


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `llm-server`."""
    parser.description = ("Serve scripted chat-completion replies and faults on 127.0.0.1, to try an [llm] "
                          "configuration offline.")
    parser.add_argument("script", type=Path, help='JSON like {"replies": [{"content": "..."}, {"fault": "429"}]}')
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1, 0: a free one")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve the script on 127.0.0.1 until Ctrl-C."""
    try:
        replies, repeat = load_script(args.script)
        server = ScriptedServer(replies, repeat=repeat, port=args.port)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port} ({exc}); choose another --port", file=sys.stderr)
        return 2
    print(f"serving {server.base_url}; set [llm] base_url to it (Ctrl-C stops)", file=sys.stderr)
    server.serve_forever()
    return 0
