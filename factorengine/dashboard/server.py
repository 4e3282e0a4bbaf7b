"""The dashboard's HTTP server: the page and its scripts from `static/`, and the run as JSON.

Routes: `/` the page; `/static/NAME` a file of `static/`; `/api/version` a mark that changes when the run commits
or is harvested (the page polls it); `/api/overview` the overview and the harvest; `/api/node/ID` one node.
The standard library's threading server is enough for one person's browser; the store's one read-only connection
answers one request at a time, each from one commit.
"""
from __future__ import annotations

import errno
import logging
import re
import sqlite3
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from factorengine.dashboard.encode import to_json
from factorengine.dashboard.harvested import read_harvest, results_path
from factorengine.dashboard.node import read_node
from factorengine.dashboard.overview import read_overview
from factorengine.errors import FactorEngineError
from factorengine.store import RUN_DATABASE, Store

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".json": "application/json"}
_NODE = re.compile(r"/api/node/(\d+)")

Answer = tuple[HTTPStatus, str, bytes]  # status, content type, body


class DashboardError(FactorEngineError):
    """The dashboard cannot serve as asked (the address is taken or not allowed); the message says what to do."""


class Dashboard:
    """A run's store opened read-only and its answers to the page, one request at a time."""

    def __init__(self, store: Store, run_dir: Path) -> None:
        self._store, self._run_dir, self._lock = store, run_dir, threading.Lock()

    def answer(self, path: str) -> Answer:
        """The answer to a GET of `path`: a static file, a JSON value, or 404."""
        if path in ("/", "/index.html"):
            return _static("index.html")
        if path.startswith("/static/"):
            return _static(path.removeprefix("/static/"))
        with self._lock:
            if path == "/api/version":
                return _json({"version": self._version()})
            harvested = results_path(self._run_dir).is_file()
            if path == "/api/overview":
                return _json({"version": self._version(), "harvest": read_harvest(self._run_dir),
                              "overview": read_overview(self._store, self._run_dir, harvested=harvested)})
            match = _NODE.fullmatch(path)
            view = match and read_node(self._store, int(match.group(1)), harvested=harvested)
            return _json(view) if view else _not_found(path)

    def close(self) -> None:
        """Close the store."""
        self._store.close()

    def _version(self) -> str:
        results = results_path(self._run_dir)
        return f"{self._store.data_version()}-{results.stat().st_mtime_ns if results.is_file() else 0}"


class DashboardServer(ThreadingHTTPServer):
    """Serves one `Dashboard` until `shutdown()`; `url` is where."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], dashboard: Dashboard) -> None:
        self.dashboard = dashboard  # first: a failed bind calls server_close, which closes it
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def server_close(self) -> None:
        """Stop listening and close the store."""
        super().server_close()
        self.dashboard.close()


def open_dashboard(run_dir: Path, host: str = "127.0.0.1", port: int = 0) -> DashboardServer:
    """Open the run in `run_dir` read-only and bind its server to `host`:`port` (0: any free port); StoreError
    when the run cannot be read, DashboardError when the address cannot be used."""
    store = Store.open(run_dir / RUN_DATABASE, read_only=True)
    try:
        return DashboardServer((host, port), Dashboard(store, run_dir))
    except OSError as error:  # the store is closed by then (server_close)
        why = ("is in use: choose another with --port" if error.errno == errno.EADDRINUSE
               else f"cannot be used ({error.strerror or error})")
        raise DashboardError(f"{host}:{port} {why}") from error


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer

    def do_GET(self) -> None:
        try:
            status, content_type, body = self.server.dashboard.answer(urlsplit(self.path).path)
        except (FactorEngineError, sqlite3.Error, OSError, ValueError) as error:  # the run's files, not a bug here
            log.warning("%s: %s", self.path, error)
            status, content_type, body = HTTPStatus.INTERNAL_SERVER_ERROR, CONTENT_TYPES[".json"], to_json(
                {"error": str(error)})
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def _static(name: str) -> Answer:
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in CONTENT_TYPES:
        return _not_found(name)
    return HTTPStatus.OK, CONTENT_TYPES[path.suffix], path.read_bytes()


def _json(value: object) -> Answer:
    return HTTPStatus.OK, CONTENT_TYPES[".json"], to_json(value)


def _not_found(path: str) -> Answer:
    return HTTPStatus.NOT_FOUND, CONTENT_TYPES[".json"], to_json({"error": f"nothing at {path}"})
