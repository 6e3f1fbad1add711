"""Where moto's interpreter spends its time per state, made cheap without changing what it computes.

- JSONPath: moto builds a new jsonpath-ng (PLY) parser for every path it evaluates, about 1 ms
  each, several times per state. A parsed path is an immutable expression tree: each path text
  is parsed once.
- Copies: moto deep-copies the state's data on every read and write (`copy.deepcopy`, generic
  and slow, and the data grows along the execution). The values are JSON: built-in dicts, lists
  and scalars, which a marshal round trip (C code, same structure and types, shared references
  kept) copies about 8 times faster; any other value still goes through copy.deepcopy.
  Copies that nothing can mutate are skipped: the state input read to write the entered/exited
  events (it is only serialised), and the second copy moto makes for the default InputPath and
  OutputPath `$` (the value is already a private copy).
- A state's output text (its StateExited event) is the next state's input text (its StateEntered
  event): the same stored object, which moto replaces (reset) but never changes in place, is
  serialised once, by an encoder made once (json.dumps makes one per call).
- `Environment.program_state()` deep-copies the program state object on every check (hundreds
  of times in a Map), and so does every new frame (each Map iteration); its fields are strings,
  a timestamp and the error details dict, so a new object with a copied error dict protects the
  same. A running state is not copied at all: every caller only tests its type (every state does,
  after its work), and moto replaces the state object when the program ends, stops or fails.
- `EvalComponent.eval`, which every node of the parsed definition goes through (about 1,300
  times in a map100 execution), tests the program state's type and sets the field name directly
  instead of through three property and method calls; with moto's debug logging on, moto's own
  eval runs, so that it still writes its lines.
- A Map's end deep-copied its whole set of finished iterations generically: each output is
  copied as JSON instead.
- A Parallel branch's thread is named after the text of its whole parsed branch: rendered once.
- ResultPath `$.field` on an object input is a key assignment; jsonpath-ng's update_or_create
  also walks the whole input to clean list keys, which costs more as the data grows. The output
  is a new top-level object sharing the values below it with the stored input (nothing changes
  the stored input in place: moto writes only to deep copies); only the stack holds it, so the
  default OutputPath `$` stores it as it is instead of copying it again.
- The size quota (256 KB per state output) serialised a copy of the output, with spaces, before
  the StateExited event serialised it again: it now reads the stored output (no copy) and
  measures the same compact text the event records, serialised once. AWS counts the payload's
  bytes, which is the compact text.
- A Pass state with a Result and no Parameters never reads its effective input: its InputPath
  `$` pushes the stored input instead of a copy of it.
- Every frame (each Map iteration, each Task attempt) makes an Event that moto pulses when the
  frame ends and that only a waiting state waits on: its Condition is made on the first wait.
"""

from __future__ import annotations

import copy
import json
import logging
import marshal
import re
import threading
import weakref
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from localcloud.engine import _hooks

_ASL = "moto.stepfunctions.parser.asl"
_SCALARS = frozenset({str, int, float, bool, type(None)})
_MAX_STATE_BYTES = 256 * 1024  # a state's input or output, as UTF-8 (moto.stepfunctions.parser.quotas)

# modules whose `copy.deepcopy` copies execution data
_COPY_USERS = (
    "eval.states",
    "eval.environment",
    "eval.event.event_manager",
    "component.common.string.string_expression",
    "component.common.path.result_path",
    "component.state.exec.execute_state",
    "component.state.exec.state_map.state_map",
    "component.state.exec.state_map.iteration.job",
    "component.state.exec.state_parallel.state_parallel",
    "component.state.exec.state_task.service.state_task_service",
)


def json_copy(value: Any, memo: Any = None) -> Any:
    """A deep copy for JSON-like data; same result as copy.deepcopy on it."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    if cls is _Adopted:
        return value.value
    if cls in _PROGRAM_STATES:
        return _copy_program_state(value)
    if cls is dict or cls is list:
        try:
            return marshal.loads(marshal.dumps(value))
        except ValueError:  # holds something marshal does not know (a datetime, an enum, ...)
            pass
    return copy.deepcopy(value, memo)


def _parse_once(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    cache: dict[str, Any] = {}
    lock = threading.Lock()

    def parse_cached(path: str) -> Any:
        expr = cache.get(path)
        if expr is None:
            with lock:  # PLY's table setup is not safe to run twice at once
                expr = cache.get(path)
                if expr is None:
                    expr = cache[path] = parse(path)
        return expr

    return parse_cached


_reading = threading.local()


class _WithoutCopies:
    """Inside the block, States hands out the stored state input itself: only for reading.
    (A class, not a generator context manager: it is entered several times per state.)"""

    def __enter__(self) -> None:
        _reading.active = True

    def __exit__(self, *_exc: object) -> None:
        _reading.active = False


_without_copies = _WithoutCopies()  # the flag is per thread: one instance serves all


def _read_only(method: Callable[..., Any]) -> Callable[..., Any]:
    def serialise_without_copy(self: Any, env: Any) -> Any:
        with _without_copies:
            return method(self, env)

    return serialise_without_copy


def _extract(original: Any) -> Any:
    def _extract(query: str | None, data: Any) -> Any:
        if query is None and getattr(_reading, "active", False):
            return data
        if query is None and getattr(_reading, "quota_next", False):
            _reading.quota_next = False  # the size quota's read, just after the output was stored
            return data
        return original.__func__(query, data)

    return staticmethod(_extract)


def _is_root(sampler: Any) -> bool:
    return getattr(sampler, "json_path", None) == "$" and type(sampler).__name__ == "StringJsonPath"


def _input_path(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        if _is_root(self.string_sampler):
            env.stack.append(env.states.get_input())  # already a copy
            return
        eval_body(self, env)

    return _eval_body


def _unread_input(eval_state_input: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_state_input(self: Any, env: Any) -> None:
        if (
            type(self) is _StatePass
            and self.result is not None
            and self.parameters is None
            and (self.input_path is None or _is_root(self.input_path.string_sampler))
        ):
            env.stack.append(_stored_input(env))
            return
        eval_state_input(self, env)

    return _eval_state_input


def _stored_input(env: Any) -> Any:
    """The state input as stored, not a copy: only for reading."""
    with _without_copies:
        return env.states.get_input()


_fresh = threading.local()  # the object the ResultPath fast path built, until OutputPath takes it


def _output_path(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        if _is_root(self.string_sampler):
            value = env.stack.pop()
            if value is getattr(_fresh, "value", None):
                _fresh.value = None
                env.states.reset(_Adopted(value))
            else:
                env.states.reset(value)  # reset copies it
            return
        eval_body(self, env)

    return _eval_body


class _Adopted:
    """A value handed to States.reset that needs no copy: json_copy unwraps it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


_FIELD_PATH = re.compile(r"^\$\.([A-Za-z_][A-Za-z0-9_]*)$")


def _result_path(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        src = self.result_path_src
        match = _FIELD_PATH.match(src) if src else None
        if match:
            stored = _stored_input(env)
            if type(stored) is dict:
                # a new top level; the values below it are shared with the stored input, which
                # nothing changes in place (every write goes to a deep copy)
                output = dict(stored)
                output[match.group(1)] = json_copy(env.stack.pop())
                env.stack.append(output)
                _fresh.value = output
                return
        eval_body(self, env)

    return _eval_body


def _serialise_once(to_json_str: Callable[..., str]) -> Callable[..., str]:
    last = threading.local()
    encoder_class = _hooks.resolve(f"{_ASL}.utils.encoding:_DateTimeEncoder")[2]
    encoders: dict[Any, Callable[[Any], str]] = {}  # separators -> moto's encoding, built once

    def cached_to_json_str(obj: Any, separators: Any = None) -> str:
        if type(obj) is dict or type(obj) is list:
            if getattr(last, "obj", None) is obj and last.separators == separators:
                return str(last.text)
            encode = encoders.get(separators)
            if encode is None:
                encode = encoders[separators] = _encoding(encoder_class(separators=separators))
            text = encode(obj)
            # keeping a reference keeps the id from being reused by another object
            last.obj, last.separators, last.text = obj, separators, text
            return text
        return to_json_str(obj, separators)

    return cached_to_json_str


def _encoding(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """encoder.encode for a dict or list, with its C encoder built once: json builds one on every
    call, half the time of encoding a Map item's few fields, and a Map encodes hundreds. Without
    the check for circular references, which JSON data from a definition's input cannot have."""
    if c_make_encoder is None or encoder.indent is not None or not encoder.ensure_ascii:
        return encoder.encode
    iterencode = c_make_encoder(
        None,
        encoder.default,
        encode_basestring_ascii,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    return lambda obj: "".join(iterencode(obj, 0))


def _mark_quota_read(eval_state_output: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_state_output(self: Any, env: Any) -> None:
        eval_state_output(self, env)
        _reading.quota_next = True  # CommonStateField._eval_body reads it next, for the quota

    return _eval_state_output


def _size_quota(to_json_str: Callable[..., str]) -> Callable[[Any, Any, Any], None]:
    verify = _hooks.original(f"{_ASL}.component.state.state:CommonStateField._verify_size_quota")

    def _verify_size_quota(self: Any, env: Any, value: Any) -> None:
        _reading.quota_next = False
        text = value if isinstance(value, str) else to_json_str(value, separators=(",", ":"))
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        if size >= _MAX_STATE_BYTES:
            verify(self, env, "x" * size)  # moto's error, as moto raises it

    return _verify_size_quota


def _within_size_quota(to_json_str: Callable[..., str]) -> Callable[[Any], bool]:
    """moto's is_within_size_quota (its spaced text, as moto measures a Lambda Task's result and
    output), serialised by the encoder built once."""

    def is_within_size_quota(value: Any) -> bool:
        text = value if isinstance(value, str) else to_json_str(value)
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        return size < _MAX_STATE_BYTES

    return is_within_size_quota


# moto's ProgramRunning/Ended/Stopped/Error/TimedOut: their fields are strings, a timestamp and an
# error dict of strings, so a new object with the same fields and a copied error dict is a deep copy
_PROGRAM_STATES: frozenset[type] = frozenset()
_ProgramRunning: Any = None  # moto's ProgramRunning, set by install()
_JobClosed: Any = None  # moto's JobClosed, set by install()
_StatePass: Any = None  # moto's StatePass, set by install()


def _copy_program_state(current: Any) -> Any:
    state = object.__new__(type(current))
    state.__dict__.update(current.__dict__)
    if isinstance(getattr(state, "error", None), dict):
        state.error = dict(state.error)
    return state


def _program_state(self: Any) -> Any:
    current = self._program_state
    if current is None or type(current) is _ProgramRunning:
        return current
    return _copy_program_state(current)


def _lean_eval(moto_eval: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    log = _hooks.resolve(f"{_ASL}.component.eval_component:LOG")[2]
    failure = f"{_ASL}.component.common.error_name.failure_event:FailureEventException"
    failure_event = _hooks.resolve(failure)[2]
    no_such_path = _hooks.resolve(f"{_ASL}.utils.json_path:NoSuchJsonPathError")[2]

    def lean_eval(self: Any, env: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            return moto_eval(self, env)
        state = env._program_state
        if not isinstance(state, _ProgramRunning):
            return None
        try:
            field_name = self._field_name()
            if field_name is not None:
                state.next_field_name = field_name
            self._eval_body(env)
        except failure_event:
            # a state's failure, caught or not, is the history's to record: moto logged it as an
            # ERROR at every level of the tree it crossed, each with the whole parsed state (KBs)
            raise
        except no_such_path:
            # asked about a path that is not there: an IsPresent rule's false, or a failure its
            # caller records as the state's (States.Runtime); moto logged an ERROR for either
            raise
        except Exception as exception:
            self._log_exception(exception=exception)
            raise
        return None

    return lean_eval


def _closed_jobs(self: Any) -> list[Any]:
    """JobPool.get_closed_jobs: the finished iterations in index order, their outputs copied (moto
    deep-copied the whole set generically, the largest cost of ending a Map)."""
    with self._mutex:
        closed = [
            _JobClosed(job_index=j.job_index, job_output=json_copy(j.job_output)) for j in self._closed_jobs
        ]
    return sorted(closed, key=lambda job: job.job_index)


def _str_once(component_str: Callable[[Any], str]) -> Callable[[Any], str]:
    """A branch's thread is named after its Program's text, which renders the branch's whole
    parsed tree; the tree is parsed once per definition, so its text is rendered once."""
    texts: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def __str__(self: Any) -> str:
        text = texts.get(self)
        if text is None:
            text = texts[self] = component_str(self)
        return text

    return __str__


_first_wait = threading.Lock()  # makes an event's Condition once, and orders set() with it


class _PulsedEvent:
    """threading.Event for a frame's program_state_event, its Condition made on the first wait:
    threading.Event makes a Condition, a lock and a waiter list for each of hundreds of frames an
    execution opens, and few are ever waited on."""

    __slots__ = ("_cond", "_flag")

    def __init__(self) -> None:
        self._flag = False
        self._cond: threading.Condition | None = None

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._set_flag(True)

    def clear(self) -> None:
        self._set_flag(False)

    def _set_flag(self, flag: bool) -> None:
        with _first_wait:
            cond = self._cond
            if cond is None:  # nobody waits, and a first wait will see the flag
                self._flag = flag
                return
        with cond:
            self._flag = flag
            if flag:
                cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        with _first_wait:
            if self._cond is None:
                self._cond = threading.Condition(threading.Lock())
            cond = self._cond
        with cond:
            return self._flag or cond.wait(timeout)  # True when pulsed, as threading.Event's


def install() -> None:
    global _PROGRAM_STATES, _ProgramRunning, _JobClosed, _StatePass
    _StatePass = _hooks.resolve(f"{_ASL}.component.state.state_pass.state_pass:StatePass")[2]
    states = f"{_ASL}.eval.program_state"
    running, *ended = (
        _hooks.resolve(f"{states}:{name}")[2]
        for name in ("ProgramRunning", "ProgramEnded", "ProgramStopped", "ProgramError", "ProgramTimedOut")
    )
    _PROGRAM_STATES, _ProgramRunning = frozenset([running, *ended]), running
    _hooks.patch(f"{_ASL}.component.eval_component:EvalComponent.eval", _lean_eval)
    iteration = f"{_ASL}.component.state.exec.state_map.iteration"
    _JobClosed = _hooks.resolve(f"{iteration}.job:JobClosed")[2]
    _hooks.patch(f"{iteration}.job:JobPool.get_closed_jobs", lambda _orig: _closed_jobs)
    _hooks.patch(f"{_ASL}.component.program.program:Program.__str__", _str_once)
    _hooks.patch(f"{_ASL}.eval.environment:Environment.program_state", lambda _orig: _program_state)
    _hooks.patch(f"{_ASL}.component.state.state:to_json_str", _serialise_once)
    _hooks.patch(f"{_ASL}.eval.states:States._extract", _extract)
    for method in ("_get_state_entered_event_details", "_get_state_exited_event_details"):
        _hooks.patch(f"{_ASL}.component.state.state:CommonStateField.{method}", _read_only)
    _hooks.patch(f"{_ASL}.component.common.path.input_path:InputPath._eval_body", _input_path)
    _hooks.patch(f"{_ASL}.component.common.path.output_path:OutputPath._eval_body", _output_path)
    _hooks.patch(f"{_ASL}.component.common.path.result_path:ResultPath._eval_body", _result_path)
    state = f"{_ASL}.component.state.state:CommonStateField"
    _hooks.patch(f"{state}._eval_state_input", _unread_input)
    _hooks.patch(f"{state}._eval_state_output", _mark_quota_read)
    cached_to_json_str = _hooks.resolve(f"{_ASL}.component.state.state:to_json_str")[2]
    _hooks.patch(f"{state}._verify_size_quota", lambda _orig: _size_quota(cached_to_json_str))
    # a Lambda Task's own serialisations share that encoder and its last text: its payload, written
    # to LambdaFunctionScheduled, is sent as that same text
    task = f"{_ASL}.component.state.exec.state_task"
    for module in ("state_task_lambda", "lambda_eval_utils"):
        _hooks.patch(f"{task}.{module}:to_json_str", lambda _orig: cached_to_json_str)
    _hooks.patch(
        f"{task}.state_task_lambda:is_within_size_quota", lambda _orig: _within_size_quota(cached_to_json_str)
    )
    _hooks.patch(f"{_ASL}.utils.json_path:parse", _parse_once)
    _hooks.patch(f"{_ASL}.component.common.path.result_path:parse", _parse_once)
    pulsed = _hooks.module_with(threading, Event=_PulsedEvent)
    _hooks.patch(f"{_ASL}.eval.environment:threading", lambda _orig: pulsed)
    shim = _hooks.module_with(copy, deepcopy=json_copy)
    for module in _COPY_USERS:
        _hooks.patch(f"{_ASL}.{module}:copy", lambda _orig: shim)
