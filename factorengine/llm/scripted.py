"""A scripted OpenAI-compatible chat-completions server: canned replies and faults, for tests and offline trials."""
from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FAULTS = ("timeout", "429", "500", "503", "disconnect", "empty", "truncated", "refusal")
REFUSAL = "I can't help with that."
CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
MODELS_PATHS = ("/v1/models", "/models")
MODEL = {"id": "scripted", "object": "model", "owned_by": "factorengine"}
SCRIPT_EXAMPLE = '{"replies": [{"content": "..."}, {"fault": "429", "retry_after": 1}], "repeat": false}'


@dataclass(frozen=True)
class Reply:
    """One scripted answer of the server: a message, or a fault."""

    content: str = ""
    fault: str | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; allowed: {', '.join(FAULTS)}")


Script = Sequence[Reply] | Callable[[dict], Reply]
_Response = tuple[int, dict, dict[str, str]]  # status, JSON body, extra headers


class ScriptedServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 (a free port by default) that answers from a script."""

    def __init__(self, script: Script, *, repeat: bool = False, hang_s: float = 10.0, port: int = 0) -> None:
        self._script = script
        self._repeat = repeat
        self._hang_s = hang_s
        self._lock = threading.Lock()
        self._played = 0
        self._requests: list[dict] = []
        self._headers: list[dict[str, str]] = []
        self._stopping = threading.Event()
        self._httpd = _HTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.scripted = self
        self._thread: threading.Thread | None = None
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}/v1"

    @property
    def requests(self) -> list[dict]:
        """Every chat-completions request body received, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def headers(self) -> list[dict[str, str]]:
        """The HTTP headers of each chat-completions request, names lower-cased."""
        with self._lock:
            return list(self._headers)

    def __enter__(self) -> ScriptedServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="scripted-llm-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._thread.join()

    def serve_forever(self) -> None:
        """Serve until Ctrl-C."""
        with self:
            try:
                self._stopping.wait()
            except KeyboardInterrupt:
                pass

    def _answer(self, request: dict, headers: dict[str, str]) -> _Response | None:
        """Record a request and answer it from the script; None closes the connection unanswered."""
        reply = self._next_reply(request, headers)
        if isinstance(reply, str):
            return _error(500, reply, "server_error")
        if reply.fault == "timeout" and self._stopping.wait(self._hang_s):
            return None
        return _response(reply, request)

    def _next_reply(self, request: dict, headers: dict[str, str]) -> Reply | str:
        """Record a request; return its reply, or an error message when the script is exhausted."""
        with self._lock:
            self._requests.append(request)
            self._headers.append(headers)
            played, self._played = self._played, self._played + 1
        script = self._script
        if callable(script):
            return script(request)
        if script and (played < len(script) or self._repeat):
            return script[played % len(script)]
        return f"script exhausted after {len(script)} replies"


def load_script(path: Path) -> tuple[list[Reply], bool]:
    """Read a JSON script file shaped like SCRIPT_EXAMPLE: its replies, and whether they repeat."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the script ({exc}); write JSON like {SCRIPT_EXAMPLE}") from None
    if not isinstance(data, dict) or set(data) - {"replies", "repeat"}:
        raise ValueError(f"{path}: the script must be an object with only the keys \"replies\" and \"repeat\", "
                         f"like {SCRIPT_EXAMPLE}")
    replies, repeat = data.get("replies"), data.get("repeat", False)
    if not isinstance(replies, list) or not replies or not isinstance(repeat, bool):
        raise ValueError(f"{path}: \"replies\" must be a non-empty list and \"repeat\" true or false, "
                         f"like {SCRIPT_EXAMPLE}")
    return [_parse_reply(path, number, item) for number, item in enumerate(replies, 1)], repeat


def _parse_reply(path: Path, number: int, item: Any) -> Reply:
    where = f"{path}: reply {number}"
    if not isinstance(item, dict) or set(item) - {"content", "fault", "retry_after"}:
        raise ValueError(f"{where} must be an object with only the keys \"content\", \"fault\" and \"retry_after\"")
    content, fault, retry_after = item.get("content", ""), item.get("fault"), item.get("retry_after")
    if not isinstance(content, str) or not isinstance(fault, (str, type(None))):
        raise ValueError(f"{where}: \"content\" and \"fault\" must be strings")
    if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, (int, float))):
        raise ValueError(f"{where}: \"retry_after\" must be a number of seconds")
    try:
        return Reply(content, fault, retry_after)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


class _HTTPServer(ThreadingHTTPServer):
    """Tracks its open connections so that closing it ends idle keep-alive ones, then joins their threads."""

    daemon_threads = False  # only non-daemon handler threads are joined by server_close
    scripted: ScriptedServer

    def __init__(self, *args: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args)

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open connection, waking handlers blocked reading the next request."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (after its own timeout, say) is not a server error worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, each answer waits ~40 ms
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: requests may carry keys and prompts."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") in MODELS_PATHS:
            self._send(200, {"object": "list", "data": [MODEL]}, {})
        else:
            self._send(*_error(404, f"no route for GET {self.path}", "not_found"))

    def do_POST(self) -> None:
        # Read the body whatever the path, so that a keep-alive connection stays in step.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") not in CHAT_PATHS:
            self._send(*_error(404, f"no route for POST {self.path}", "not_found"))
            return
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            self._send(*_error(400, "the request body is not a JSON object", "invalid_request_error"))
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server.scripted._answer(request, headers)
        if answer is None:
            self.close_connection = True
        else:
            self._send(*answer)

    def _send(self, status: int, payload: dict, headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _response(reply: Reply, request: dict) -> _Response | None:
    """The status, body and headers answering `request` with `reply`; None for a disconnect."""
    if reply.fault == "429":
        headers = {} if reply.retry_after is None else {"Retry-After": f"{reply.retry_after:g}"}
        return _error(429, "scripted rate limit", "rate_limit_exceeded", headers)
    if reply.fault in ("500", "503"):
        return _error(int(reply.fault), f"scripted {reply.fault} error", "server_error")
    if reply.fault == "disconnect":
        return None
    if reply.fault == "empty":
        return 200, _completion(request, ""), {}
    if reply.fault == "truncated":
        return 200, _completion(request, reply.content[:len(reply.content) // 2], finish_reason="length"), {}
    if reply.fault == "refusal":
        return 200, _completion(request, None, refusal=REFUSAL), {}
    return 200, _completion(request, reply.content), {}


def _error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> _Response:
    return status, {"error": {"message": message, "type": kind, "code": kind}}, headers or {}


def _completion(request: dict, content: str | None, *, finish_reason: str = "stop",
                refusal: str | None = None) -> dict:
    """A `chat.completion` object answering `request` with `content`."""
    prompt_chars = sum(len(message["content"]) for message in request.get("messages", [])
                       if isinstance(message, dict) and isinstance(message.get("content"), str))
    prompt_tokens, completion_tokens = prompt_chars // 4 + 1, len(content or "") // 4 + 1
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": refusal},
                     "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }
