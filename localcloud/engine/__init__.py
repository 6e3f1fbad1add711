"""Patches to moto's Step Functions interpreter that make the local cloud faithful and fast.

`install()` applies them (idempotent); LocalCloud calls it at start. Each concern is one module:

- clock: Wait states, Retry backoff and recorded timestamps on a controllable clock
- parsing: one parse at a time (moto's ANTLR parser is not thread-safe), each definition once
- jsonata_eval + field_path: JSONata evaluated by jsonata-python, errors located like AWS
- timeouts: state machine TimeoutSeconds and AWS's maximum execution duration, in clock time
- context_object: `$$` holds JSON values (AWS's timestamp text, RedriveCount)
- clients: Task states share one client per service, answered in-process by moto's backends
- lambda_integration: the Lambda integration's response and error causes as AWS returns them
- response_metadata: sns, sqs, dynamodb and states:startExecution answer with AWS's HTTP metadata
- error_texts: AWS's wording and error names where moto's differ
- terminal_errors: States.Runtime is never retried, nor caught by States.ALL
- execution_output: DescribeExecution's output is JSON text even when it is a string, and in place
  before the status says SUCCEEDED; a TIMED_OUT execution has its stopDate, described and listed
- execution_history: GetExecutionHistory in pages (maxResults, nextToken, reverseOrder,
  includeExecutionData), written as JSON directly
- execution_index: executions found by ARN and by name without scanning them all
- json_paths: a definite JSONPath selects a value, not a one-item list
- speed: each JSONPath parsed once, fewer and faster copies of the state data, output serialised once
- aborted_states: a Task failing a Parallel branch is recorded as aborted (TaskStateAborted); when a
  Parallel or Map fails, the branches and iterations still running are aborted and record nothing after
- service_shapes: service integrations map Step Functions' field names to the SDK's and back
- threads: engine threads (executions, Task attempts, branches, Map workers) reused, not started per use;
  an attempt with no TimeoutSeconds, and branches and Map iterations that never wait, run in the
  caller's thread
- map_workers: a Map worker takes its next item in a loop, so a long Map does not pass the recursion limit
- stop_execution: StopExecution aborts at once (status, stop date, ExecutionAborted with the stop's
  error and cause), and the states it stops fire no Retry or Catch; an Express execution is refused
- map_runs: a Distributed Map fails with States.ExceedToleratedFailureThreshold when its failed child
  executions exceed the tolerated threshold; DescribeMapRun counts them; ListExecutions lists them
- deletion: DeleteStateMachine leaves a Standard machine DELETING while executions of it run, and
  each fails at its next state transition

Every moto attribute hooked is checked at install; a missing one raises EngineHookError naming it.
"""

from __future__ import annotations

import threading

from localcloud.engine import clock
from localcloud.engine._hooks import EngineHookError

__all__ = ["EngineHookError", "clock", "install", "installed"]

_lock = threading.Lock()
_installed = False


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        from localcloud.engine import (
            aborted_states,
            clients,
            context_object,
            deletion,
            error_texts,
            execution_history,
            execution_index,
            execution_output,
            field_path,
            json_paths,
            jsonata_eval,
            lambda_integration,
            map_runs,
            map_workers,
            parsing,
            response_metadata,
            service_shapes,
            speed,
            stop_execution,
            terminal_errors,
            threads,
            timeouts,
        )

        threads.install()
        clock.install()
        timeouts.install()
        parsing.install()
        parsing.POST_PARSE.append(field_path.index)
        jsonata_eval.install()
        context_object.install()
        clients.install()
        lambda_integration.install()
        response_metadata.install()
        error_texts.install()
        deletion.install()  # before aborted_states copies CommonStateField's _eval_body onto classes
        terminal_errors.install()
        service_shapes.install()
        execution_output.install()
        execution_index.install()
        execution_history.install()
        speed.install()
        json_paths.install()
        aborted_states.install()
        map_workers.install()
        map_runs.install()  # after parsing and execution_output, whose hooks it wraps
        stop_execution.install()
        _installed = True


def installed() -> bool:
    return _installed
