"""Threads reused instead of started for every use.

`Thread.start()` waits until the new thread has run, and under load (the engine's states, other
HTTP requests) that handshake waits for the GIL, up to a switch interval (5 ms) per start. A
PooledThread is a job handed to an idle worker thread, which needs no handshake; a new worker is
started only when none is idle.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

LOG = logging.getLogger(__name__)
# idle workers kept for reuse; a burst above this (a wide Map, many connections) starts threads
# that end when their job does
MAX_IDLE = 64
WORKER_NAME = "pooled-worker"


class _Worker:
    def __init__(self, pool: _Pool) -> None:
        self.jobs: queue.SimpleQueue[PooledThread] = queue.SimpleQueue()
        self._pool = pool
        self.thread = threading.Thread(target=self._serve, name=WORKER_NAME, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            job = self.jobs.get()
            job._run_here(self.thread)
            if not self._pool.rest(self):
                return


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def run(self, job: PooledThread) -> None:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self)
        worker.jobs.put(job)

    def rest(self, worker: _Worker) -> bool:
        """Back to the idle list; False when enough are idle already (the worker then ends)."""
        with self._lock:
            if len(self._idle) >= MAX_IDLE:
                return False
            self._idle.append(worker)
            return True


_POOL = _Pool()


class PooledThread:
    """The part of threading.Thread that moto uses, run on a pooled worker."""

    pool: ClassVar[_Pool] = _POOL  # the workers it runs on; a subclass may bring its own

    def __init__(
        self,
        group: None = None,
        target: Callable[..., Any] | None = None,
        name: str | None = None,
        args: Iterable[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        daemon: bool | None = None,
    ) -> None:
        self._target, self._args, self._kwargs = target, tuple(args), dict(kwargs or {})
        self.name = name or "engine-job"
        self.daemon = True  # pooled workers never hold the process open
        # held until the job has run, as threading.Thread holds its tstate lock: cheaper to make
        # than an Event, and a Task attempt makes one even when it runs in its caller's thread
        self._unfinished = threading.Lock()
        self._unfinished.acquire()
        self._started = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._started:
            raise RuntimeError("threads can only be started once")
        self._started = True
        self.pool.run(self)

    def run(self) -> None:
        if self._target is not None:
            self._target(*self._args, **self._kwargs)

    def _run_here(self, thread: threading.Thread) -> None:
        self._thread = thread
        self._running()
        try:
            self.run()
        except BaseException:  # as threading.Thread: report it, the worker lives on
            LOG.exception("engine job %s failed", self.name)
        finally:
            self._target = self._args = self._kwargs = None  # type: ignore[assignment]
            self._unfinished.release()

    def _running(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        if not self._started:
            raise RuntimeError("cannot join thread before it is started")
        if self._unfinished.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            self._unfinished.release()

    def is_alive(self) -> bool:
        return self._started and self._unfinished.locked()

    @property
    def native_id(self) -> int | None:
        return self._thread.native_id if self._thread is not None else None

    @property
    def ident(self) -> int | None:
        return self._thread.ident if self._thread is not None else None


class HandshakeThread(PooledThread):
    """A PooledThread whose start() returns once the job runs, as threading.Thread's does: for
    jobs that must begin together (Parallel branches: one that fails stops the others, and a
    sibling must have begun, as on AWS, rather than be stopped while still queued)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._begun = threading.Event()

    def start(self) -> None:
        super().start()
        self._begun.wait()

    def _running(self) -> None:
        self._begun.set()
