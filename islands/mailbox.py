"""The worker's side of the supervisor link: heartbeat, publish, collect, request, the stop flag, how it ended.

A multiprocess worker talks to the supervisor over its own duplex pipe, so a worker killed
in the middle of a message can only garble its own pipe, which dies with it; a Ray worker
talks to the relay actor through an object with the same two methods, `send` and `recv`.
"""
from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable


class Stopped(BaseException):
    """Raised by `Mailbox.collect` when a stop is requested before every in-neighbour published.

    A BaseException, like asyncio.CancelledError, so that a broad `except Exception` in island
    code does not swallow it; the worker treats it as a clean stop, not as a failure.
    """


@dataclass(frozen=True)
class Beat:
    """The worker is alive and progressing."""


@dataclass(frozen=True)
class Publish:
    """The worker's payload for one migration round."""

    round: int
    payload: Any


@dataclass(frozen=True)
class Collect:
    """The worker waits for its in-neighbours' payloads of one round."""

    round: int


@dataclass(frozen=True)
class Request:
    """A question for the process that runs the islands (its `on_request`); the worker waits for the answer."""

    payload: Any


@dataclass(frozen=True)
class Done:
    """The island function returned."""


@dataclass(frozen=True)
class Failed:
    """The island function raised."""

    traceback: str


Message = Beat | Publish | Collect | Request | Done | Failed


class Mailbox:
    """What an island function gets to talk to the supervisor; safe to share between its threads."""

    def __init__(self, connection: Any, stop_flag: Any) -> None:
        self._connection = connection
        self._stop_flag = stop_flag
        self._lock = threading.Lock()  # a beat from a helper thread must not interleave a publish

    def should_stop(self) -> bool:
        """Whether a stop was requested: finish the current iteration and return."""
        return self._stop_flag.value

    def beat(self) -> None:
        """Tell the supervisor this island is alive and progressing."""
        self._send(Beat())

    def publish(self, round: int, payload: Any) -> None:
        """Offer `payload` (any picklable object) to the out-neighbours for `round`; the first one is kept."""
        self._send(Publish(round, payload))

    def collect(self, round: int) -> dict[int, Any]:
        """Block until every in-neighbour published `round`: {source island: payload}.

        Sources that finished or are dead for good without publishing it are absent.
        Raises `Stopped` if a stop is requested while some payloads are still missing.
        """
        with self._lock:
            self._connection.send(Collect(round))
            received = self._connection.recv()
        if received is None:  # the supervisor's answer to a collect cut short by a stop
            raise Stopped
        return received

    def request(self, payload: Any) -> Any:
        """Ask the process that called `run_islands` (its `on_request(island, payload)`) and wait for the answer.

        The answer comes after `on_request` returned: what it did (say, commit a record) is done.
        """
        with self._lock:
            self._connection.send(Request(payload))
            return self._connection.recv()

    def _send(self, message: Message) -> None:
        with self._lock:
            self._connection.send(message)


IslandMain = Callable[[int, Mailbox], None]


def run_island(island_main: IslandMain, island: int, mailbox: Mailbox) -> Done | Failed | None:
    """Run the island function: Done if it returned, Failed with the traceback if it raised, None if Stopped."""
    try:
        island_main(island, mailbox)
    except Stopped:
        return None
    except BaseException:
        return Failed(traceback.format_exc())
    return Done()
