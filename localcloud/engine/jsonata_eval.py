"""JSONata for moto's interpreter, evaluated by jsonata-python.

moto (ported from LocalStack, which runs JSONata in a JVM) parses `{% ... %}` expressions but
never sets its evaluator. moto would also splice every variable and `$states` into the expression
text as JSON literals before each evaluation (strings are not even escaped). Here the two
expression components moto evaluates (`StringJSONata`, `StringVariableSample`) get an
`_eval_body` that evaluates a compiled expression (cached by text) with real bindings:
`$states` (input, context, result, errorOutput), the variables in scope (`Assign`), and the
functions AWS adds to JSONata ($partition, $range, $hash, $random, $uuid, $parse).

Results are validated like AWS: undefined and functions are rejected with
`States.QueryEvaluationError`, naming the expression and the field it is in.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

from jsonata import Jsonata
from jsonata.jexception import JException
from jsonata.utils import Utils

from localcloud.engine import _hooks, field_path

_ASL = "moto.stepfunctions.parser.asl"
_NULL = Utils.NULL_VALUE


class _Undefined(Exception):
    pass


# -- AWS's JSONata functions --------------------------------------------------------------------


def _details(**fields: Any) -> Any:
    """moto's EventDetails is a TypedDict with every kind of detail: one kind is a plain dict."""
    return dict(fields)


def _partition(array: Any, size: Any) -> Any:
    if not isinstance(array, list) or isinstance(size, bool) or not isinstance(size, (int, float)):
        raise JException("T0410", -1)
    n = int(size)
    if n <= 0:
        raise JException("T0410", -1)
    return Utils.create_sequence([list(array[i : i + n]) for i in range(0, len(array), n)])


def _range(first: Any, last: Any, step: Any) -> Any:
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (first, last, step)) or step == 0:
        raise JException("T0410", -1)
    out: list[Any] = []
    value = first
    while (step > 0 and value <= last) or (step < 0 and value >= last):
        out.append(value)
        value += step
    return Utils.create_sequence(out)


_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}


def _hash(value: Any, algorithm: Any = "SHA-256") -> Any:
    if not isinstance(value, str) or algorithm not in _HASHES:
        raise JException("T0410", -1)
    return _HASHES[algorithm](value.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    if seed is None:
        return random.random()
    return random.Random(seed).random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise JException("T0410", -1)
    return json.loads(text)


_FUNCTIONS: dict[str, Any] = {
    name: Jsonata.JLambda(fn)
    for name, fn in {
        "partition": _partition,
        "range": _range,
        "hash": _hash,
        "random": _random,
        "uuid": _uuid,
        "parse": _parse,
    }.items()
}


# -- evaluation ---------------------------------------------------------------------------------

_compiled: dict[str, Jsonata] = {}
_compile_lock = threading.Lock()


def compile_expression(expression: str) -> Jsonata:
    expr = _compiled.get(expression)
    if expr is None:
        with _compile_lock:
            expr = _compiled.get(expression)
            if expr is None:
                expr = Jsonata(expression)
                expr.set_output_convert_nulls(False)  # keep null apart from undefined
                _compiled[expression] = expr
    return expr


def _binding(value: Any) -> Any:
    return _NULL if value is None else value


def _to_json(value: Any) -> Any:
    """jsonata-python values -> plain JSON values (fresh objects: moto mutates what it gets)."""
    if value is _NULL:
        return None
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, float) and value.is_integer() and not math.isinf(value):
        return int(value)
    return value


def _is_function(value: Any) -> bool:
    return not isinstance(value, (dict, list, str, int, float, bool)) and value is not _NULL


def bindings_for(env: Any, with_states: bool) -> dict[str, Any]:
    bindings: dict[str, Any] = dict(_FUNCTIONS)
    store = env.variable_store
    for scope in (store._outer_scope, store._inner_scope):
        for name, value in scope.items():
            bindings[name] = _binding(value)
    if with_states:
        bindings["states"] = {k: v for k, v in env.states._states_data.items()}
    return bindings


def evaluate(expression: str, env: Any, with_states: bool = True) -> Any:
    """Evaluate; raise _Undefined for no result, JException for JSONata errors."""
    result = compile_expression(expression).evaluate(None, bindings_for(env, with_states))
    if result is None:
        raise _Undefined()
    if _is_function(result):
        raise TypeError("function")
    return _to_json(result)


def _fail(component: Any, env: Any, expression: str, problem: str) -> None:
    from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    location = field_path.location_of(component)
    where = f" specified for the field '{location}'" if location else ""
    details = EvaluationFailedEventDetails(
        error=error_name.error_name, cause=f"The JSONata expression '{expression}'{where} {problem}"
    )
    if location:
        details["location"] = location
    failure_event = FailureEvent(
        env=env,
        error_name=error_name,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=_details(evaluationFailedEventDetails=details),
    )
    exc = FailureEventException(failure_event=failure_event)
    if not field_path.reported_by_state(component):
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=_details(evaluationFailedEventDetails=exc.get_evaluation_failed_event_details()),
        )
    raise exc


def _checked(component: Any, env: Any, expression: str, with_states: bool) -> Any:
    try:
        return evaluate(expression, env, with_states)
    except _Undefined:
        _fail(component, env, expression, "returned nothing (undefined).")
    except TypeError:
        _fail(component, env, expression, "returned an unsupported result type.")
    except JException as exc:
        _fail(component, env, expression, f"threw an error during evaluation. {exc.error}: {exc}")
    except RecursionError:
        _fail(component, env, expression, "threw an error during evaluation. U1001: Stack overflow error")
    return None


def _string_jsonata_eval_body(self: Any, env: Any) -> None:
    env.stack.append(_checked(self, env, self.expression, with_states=True))


def _string_variable_sample_eval_body(self: Any, env: Any) -> None:
    from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode

    with_states = self.query_language_mode == QueryLanguageMode.JSONata
    env.stack.append(_checked(self, env, self.expression, with_states))


def _eval_jsonata_text(expression: str) -> Any:
    # Fallback for any moto path that still evaluates a composed expression text.
    result = compile_expression(expression).evaluate(None)
    return None if result is None else _to_json(result)


def install() -> None:
    from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore

    probe = VariableStore()
    for attr in ("_outer_scope", "_inner_scope"):
        if not isinstance(getattr(probe, attr, None), dict):
            raise _hooks.EngineHookError(f"{_ASL}.eval.variable_store:VariableStore.{attr}")
    _hooks.resolve(f"{_ASL}.eval.states:States")
    strings = f"{_ASL}.component.common.string.string_expression"
    _hooks.patch(f"{strings}:StringJSONata._eval_body", lambda _orig: _string_jsonata_eval_body)
    _hooks.patch(
        f"{strings}:StringVariableSample._eval_body", lambda _orig: _string_variable_sample_eval_body
    )
    _hooks.patch(f"{_ASL}.jsonata.jsonata:_eval_jsonata", lambda _orig: _eval_jsonata_text)
