"""A background thread that calls one function at an interval on the wall clock: the scheduler's
firings, the stream pollers and DynamoDB's TTL sweep when the local cloud runs for real
(`python -m localcloud`). Tests leave it stopped and call the function themselves."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

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
