"""A background thread that calls one function at an interval on the wall clock: the scheduler's
firings, the stream pollers, DynamoDB's TTL sweep and the alarms' evaluation when the local cloud
runs for real (`python -m localcloud`). Tests leave it stopped and call the function themselves.
`Ticking` is what those parts share; `regional` walks a moto service's backends, as two sweep them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

LOG = logging.getLogger(__name__)


class Ticker:
    def __init__(
        self, name: str, tick: Callable[[], object], failure: str, join_timeout: float = 5.0
    ) -> None:
        self._name, self._tick, self._failure, self._join_timeout = name, tick, failure, join_timeout
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, interval: float) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name=self._name, daemon=True)
        self._thread.start()

    def halt(self) -> None:
        """No tick starts after this; one in flight goes on (stop() waits for it)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._join_timeout)
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            # one failed tick (a bad schedule, a table deleted mid-sweep) must not stop the next
            try:
                self._tick()
            except Exception:
                LOG.exception(self._failure)


class Ticking:
    """A background part of the local cloud (the scheduler, the streams, the TTL sweep, the alarms):
    its Ticker calls its tick every `interval` seconds once started."""

    interval: float
    _ticker: Ticker

    def start(self, interval: float | None = None) -> None:
        self._ticker.start(self.interval if interval is None else interval)

    def halt(self) -> None:
        self._ticker.halt()

    def stop(self) -> None:
        self._ticker.stop()


def regional(backends: Mapping[Any, Mapping[Any, Any]]) -> Iterator[tuple[str, str, Any]]:
    """(account, region, backend) of each of a moto service's backends, listed first: another
    thread may add one meanwhile."""
    for account, regions in list(backends.items()):
        for region, backend in list(regions.items()):
            yield str(account), str(region), backend
