"""A controllable clock for the Step Functions engine: Wait states and Retry backoff in virtual time.

Virtual time runs `speed` times faster than real time (default 1: real time). With
`speed(math.inf)` / `instant()`, waits take no real time: the clock jumps to the end of the wait.
Every timestamp the engine records (history events, $$.Execution.StartTime, $$.State.EnteredTime,
Wait `Timestamp` comparisons) reads the same virtual clock, so recorded histories stay
consistent: a `Wait 3600` shows an hour between its events even when it took a millisecond.

Tests use::

    from localcloud.engine import clock
    with clock.instant():          # or clock.speed(1000)
        ...start executions...
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import math
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from localcloud.engine import _hooks

# Longest single real-time wait; waits are re-computed in slices so a speed change applies at once.
_SLICE_SECONDS = 0.25


class Clock:
    """Virtual time = virtual0 + (real time - real0) * rate. The three are one tuple, replaced whole
    under a lock by the writers, so that reading the time (every event, from many threads) takes
    no lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._speed = 1.0
        now = time.time()
        self._base = (now, now, 1.0)  # virtual0, real0, rate

    @property
    def factor(self) -> float:
        return self._speed

    def time(self) -> float:
        """Virtual seconds since the epoch."""
        virtual0, real0, rate = self._base
        return virtual0 + (time.time() - real0) * rate

    def _rebase(self, virtual0: float, speed: float) -> None:
        # with self._lock held
        self._speed = speed
        self._base = (virtual0, time.time(), 1.0 if math.isinf(speed) else speed)

    def set_speed(self, factor: float) -> None:
        """factor > 0; math.inf makes every wait instant. Virtual time stays continuous."""
        if not factor > 0:
            raise ValueError(f"clock speed must be > 0, got {factor!r}")
        with self._lock:
            self._rebase(self.time(), float(factor))

    def reset(self) -> None:
        """Back to real time and the real date."""
        with self._lock:
            self._rebase(time.time(), 1.0)

    def _advance_to(self, deadline: float) -> None:
        with self._lock:
            virtual0, real0, rate = self._base
            now = self.time()
            if deadline > now:
                self._base = (virtual0 + deadline - now, real0, rate)

    def wait(
        self,
        seconds: float,
        event: threading.Event | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> bool:
        """Wait `seconds` of virtual time; True when `stop()` became true first.

        `event` wakes the wait early to re-check `stop` (moto pulses env.program_state_event)."""
        deadline = self.time() + max(0.0, seconds)
        while True:
            if stop is not None and stop():
                return True
            remaining = deadline - self.time()
            if remaining <= 0:
                return False
            factor = self._speed
            if math.isinf(factor):
                self._advance_to(deadline)
                return False
            real = min(remaining / factor, _SLICE_SECONDS)
            if event is None:
                time.sleep(real)
            else:
                event.wait(real)

    def sleep(self, seconds: float) -> None:
        self.wait(seconds)

    def now(self, tz: _dt.tzinfo | None = None) -> _dt.datetime:
        """Like datetime.now(tz); naive results are UTC (moto compares them with UTC timestamps)."""
        t = self.time()
        if tz is None:
            return _dt.datetime.fromtimestamp(t, _dt.UTC).replace(tzinfo=None)
        return _dt.datetime.fromtimestamp(t, tz)


CLOCK = Clock()


def set_speed(factor: float) -> None:
    CLOCK.set_speed(factor)


def reset() -> None:
    CLOCK.reset()


def now(tz: _dt.tzinfo | None = _dt.UTC) -> _dt.datetime:
    return CLOCK.now(tz)


@contextmanager
def speed(factor: float) -> Iterator[Clock]:
    """Run the block with virtual time `factor` times faster; restores the previous speed."""
    previous = CLOCK.factor
    CLOCK.set_speed(factor)
    try:
        yield CLOCK
    finally:
        CLOCK.set_speed(previous)


@contextmanager
def instant() -> Iterator[Clock]:
    """Waits and retry backoff take no real time inside the block."""
    with speed(math.inf) as clock:
        yield clock


class _VirtualDatetime(_dt.datetime):
    """datetime.datetime whose now()/utcnow() read the virtual clock (returns plain datetimes)."""

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        return CLOCK.now(tz)

    @classmethod
    def utcnow(cls) -> _dt.datetime:  # type: ignore[override]
        return CLOCK.now(None)


class _EnteredTime:
    """What the state module's `datetime.datetime.now(tz=...)` makes for $$.State.EnteredTime, of
    which moto reads only isoformat(): AWS's text of the clock's reading (2024-01-02T03:04:05.678Z),
    without making a datetime for it at every state."""

    __slots__ = ("epoch",)

    def __init__(self, epoch: float) -> None:
        self.epoch = epoch

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _EnteredTime:
        return cls(CLOCK.time())

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return _epoch_text(self.epoch)


def aws_iso(value: _dt.datetime) -> str:
    """Step Functions' timestamp text in the context object: UTC, milliseconds, 'Z'."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.UTC)
    return iso_millis(value)


def iso_millis(value: _dt.datetime | float | None = None) -> str:
    """moto's iso_8601_datetime_with_milliseconds (the wall fields, milliseconds, 'Z'), without
    strftime, which costs more than the rest of recording an event. A float is a clock reading
    (UTC seconds), as the engine's event timestamps are; None is now."""
    if value is None or isinstance(value, float):
        return _epoch_text(CLOCK.time() if value is None else value)
    # isoformat's first 23 characters are YYYY-MM-DDTHH:MM:SS.mmm, with or without a tzinfo
    return _dt.datetime.isoformat(value, timespec="milliseconds")[:23] + "Z"


_date_text: tuple[int, str] = (-1, "")  # the last second written as an HTTP date, and its text


def http_date(now: float) -> str:
    """The Date header's text (Sun, 06 Dec 2026 06:54:28 GMT), made once a second."""
    global _date_text
    known, text = _date_text
    second = int(now)
    if known != second:
        text = email.utils.formatdate(second, usegmt=True)
        _date_text = (second, text)
    return text


_second_text: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text
_millis_text: tuple[int, int, str] = (-1, -1, "")  # the last (second, millisecond) and its whole text


def _epoch_text(epoch: float) -> str:
    """UTC seconds as YYYY-MM-DDTHH:MM:SS.mmmZ, the milliseconds truncated from the microsecond
    that datetime.fromtimestamp would round to. Events come many to a millisecond (a Map's
    hundreds in a few): each millisecond's text is made once, each second's date and time once."""
    global _second_text, _millis_text
    second = math.floor(epoch)
    millis = round((epoch - second) * 1_000_000) // 1000  # 1000: rounded up to the next second
    known_second, known_millis, text = _millis_text
    if millis == known_millis and second == known_second:
        return text
    whole, part = (second + 1, 0) if millis == 1000 else (second, millis)
    known, date_time = _second_text
    if known != whole:
        date_time = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second_text = (whole, date_time)
    text = f"{date_time}.{part:03d}Z"
    _millis_text = (second, millis, text)
    return text


def datetime_module() -> types.ModuleType:
    """A stand-in for the `datetime` module whose datetime.now() is virtual, for moto modules' globals."""
    return _hooks.module_with(_dt, datetime=_VirtualDatetime)


class _TimeModule(types.ModuleType):
    """A stand-in for `time` whose sleep() is virtual (moto's retrier calls time.sleep)."""

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        CLOCK.sleep(seconds)

    @staticmethod
    def time() -> float:
        return CLOCK.time()


def time_module() -> types.ModuleType:
    return _TimeModule("time")


_PARSER = "moto.stepfunctions.parser"
# moto modules whose `datetime.datetime.now()` stamps what an execution records.
_DATETIME_USERS = (
    f"{_PARSER}.asl.component.state.wait.wait_function.timestamp",
    f"{_PARSER}.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record",
    f"{_PARSER}.asl.component.state.exec.state_parallel.branches_decl",
    f"{_PARSER}.backend.execution",
    f"{_PARSER}.models",
)


def install() -> None:
    _hooks.patch(f"{_PARSER}.asl.component.common.retry.retrier_decl:time", lambda _orig: time_module())
    _hooks.patch(
        f"{_PARSER}.asl.eval.event.event_manager:EventManager._get_current_timestamp",
        lambda _orig: staticmethod(CLOCK.time),  # a float: add_event only turns it into text (iso_millis)
    )
    _hooks.patch(
        f"{_PARSER}.asl.eval.event.event_manager:iso_8601_datetime_with_milliseconds",
        lambda _orig: iso_millis,
    )
    shim = datetime_module()
    for module in _DATETIME_USERS:
        _hooks.patch(f"{module}:datetime", lambda _orig: shim)
    # $$.State.EnteredTime is built there with now().isoformat(): give it AWS's text too
    entered_time = _hooks.module_with(_dt, datetime=_EnteredTime)
    _hooks.patch(f"{_PARSER}.asl.component.state.state:datetime", lambda _orig: entered_time)
