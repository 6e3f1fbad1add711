"""AWS's wording and error names where moto words a failure differently.

- A Map state whose input is not an array: AWS shows the value as JSON ("... but was: null"),
  moto shows its Python type ("<class 'NoneType'>"). In a JSONPath Map (its ItemsPath, or its
  input, not an array) the error is States.Runtime, recorded with no EvaluationFailed event and
  not caught by States.ALL: States.QueryEvaluationError is "Query evaluation failed in a JSONata
  state" (the States Language's table of errors), EvaluationFailed "will only be present in state
  machines that have QueryLanguage set to JSONata, or individual states set to JSONata" (the API
  reference), and AWS ends a JSONPath Map's other runtime failures (a MaxConcurrencyPath that is
  not a number, as recorded) with ExecutionFailed right after MapStateEntered. moto gave the
  JSONata error, caught by States.ALL, and showed the whole input instead of what ItemsPath chose.
- A JSONata `Timestamp` that is not an ISO-8601 date-time: AWS fails with
  States.QueryEvaluationError ("The Timestamp field cannot be parsed ..."), recorded as an
  EvaluationFailed event; moto reports the JSONPath error (States.Runtime).
- A Map iteration or Parallel branch that fails with a `States.*` error: the Map/Parallel fails
  with that error; moto wraps it in a custom error name, which refuses the `States.` prefix,
  and the execution ends in States.Runtime instead. Its cause, already prefixed with the failing
  inner state ("An error occurred while executing the state 'X' ..."), is not prefixed again.
- A Fail state whose Error (or ErrorPath) is a `States.*` name, as when a caught
  States.TaskFailed or States.Timeout is raised again after an alert: the execution fails with
  that error and cause; moto refused the name and ended it in States.Runtime.
- A DynamoDB Task that DynamoDB refuses with an error the AWS SDK for Java has no class for (a
  ValidationException, say): AWS names it by the SDK's base class, DynamoDB.AmazonDynamoDBException;
  moto names it by its code. Likewise a Step Functions Task its role may not call:
  StepFunctions.AWSStepFunctionsException. A DynamoDB Task's mocked Throw (localcloud.mock_config)
  fails with the error and cause it gives, as any other Task's does; moto named it
  DynamoDB.AmazonDynamoDBException with no cause.
- An aws-sdk Task's error is named by the AWS SDK for Java v2's name of the service (Sns.,
  Lambda., SecretsManager., ...); moto knows only DynamoDb and Sfn, and uses the lower-case
  resource name for the others.
- An intrinsic function given arguments it cannot take (`States.StringToJson('{')`,
  `States.MathAdd` of a string) fails its state with States.Runtime, the cause prefixed as AWS
  prefixes runtime errors ("An error occurred while executing the state 'X' (entered at the event
  id #N). ...") and naming the call, then the interpreter's reason. Unpatched, moto gives the
  Python exception alone (`JSONDecodeError(...)`), and in a Map names the state 'None'.
- A Choice rule whose Variable selects nothing fails its state with States.Runtime ("Invalid path
  '$.x': The choice state's condition path references an invalid value."); only IsPresent may ask
  about an absent field. moto took it for a rule that does not match, so a misspelt path went to
  the Default without a word.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

_STATE = "moto.stepfunctions.parser.asl.component.state"
_MAP_INPUT = "Map state input must be an array but was: "


def _details(**fields: Any) -> Any:
    """moto's EventDetails is a TypedDict with every kind of detail: one kind is a plain dict."""
    return dict(fields)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _map_input_as_json(eval_execution: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_execution(self: Any, env: Any) -> None:
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEventException,
        )

        state_input = env.states.get_input()
        try:
            eval_execution(self, env)
        except FailureEventException as exc:
            event_details: dict[str, Any] = dict(exc.failure_event.event_details or {})
            details = event_details.get("evaluationFailedEventDetails")
            if not (details and str(details.get("cause", "")).startswith(_MAP_INPUT + "<class ")):
                raise
            if self.items_path is None:  # JSONata: the state input, which has no Items to choose
                details["cause"] = _MAP_INPUT + _json_text(state_input)
                raise
            raise _jsonpath_items_not_an_array(env, _items_chosen(self, env)) from exc

    return _eval_execution


def _items_chosen(state_map: Any, env: Any) -> Any:
    """What the Map's ItemsPath selects from its effective input, still on top of the stack."""
    state_map.items_path.eval(env=env)
    return env.stack.pop()


def _jsonpath_items_not_an_array(env: Any, items: Any) -> Exception:
    """A runtime failure that ends the execution, as moto's MaxConcurrencyPath check raises one."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    runtime = StatesErrorNameType.StatesRuntime
    # the words of AWS's (recorded) check of a Map's input, about the value that is not an array
    details = ExecutionFailedEventDetails(error=runtime.to_name(), cause=_MAP_INPUT + _json_text(items))
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=runtime),
            event_type=HistoryEventType.ExecutionFailed,
            event_details=_details(executionFailedEventDetails=details),
        )
    )


def _jsonata_timestamp_failure(create: Callable[[Any, Any, str], Any]) -> Callable[[Any, Any, str], Any]:
    def _create_failure_event(self: Any, env: Any, timestamp_str: str) -> Any:
        from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
            StatesErrorName,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
            StatesErrorNameType,
        )
        from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata

        if not isinstance(self.string, StringJSONata):
            return create(self, env, timestamp_str)
        error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
        details = EvaluationFailedEventDetails(
            error=error_name.error_name,
            cause="The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format "
            f"string: {timestamp_str}",
            location="Timestamp",
        )
        event = FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=_details(evaluationFailedEventDetails=details),
        )
        # A Wait state does not record its own failure events: record it as AWS does.
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEventException,
        )

        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=_details(
                evaluationFailedEventDetails=FailureEventException(
                    event
                ).get_evaluation_failed_event_details()
            ),
        )
        return event

    return _create_failure_event


def _error_name(error_name: str | None) -> Any:
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName

    if error_name is None or not error_name.startswith("States."):
        return CustomErrorName(error_name=error_name)
    try:
        return StatesErrorName.from_name(error_name)
    except Exception:  # not a predefined name, but a Fail state may give any
        named = CustomErrorName(error_name=None)
        named.error_name = error_name  # type: ignore[misc]  # moto checks the prefix only when made
        return named


class IntrinsicFailed(Exception):
    """An intrinsic function given arguments it cannot take; the message names the call."""


# what moto's intrinsic functions raise for arguments they cannot take (JSONDecodeError is a
# ValueError); its own failures (a JSONata or JSONPath error inside) keep their names
_BAD_ARGUMENTS = (ValueError, TypeError, IndexError, KeyError)


def _named_intrinsic(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        try:
            eval_body(self, env)
        except IntrinsicFailed:
            raise
        except _BAD_ARGUMENTS as error:
            raise IntrinsicFailed(f"{self.intrinsic_function_derivation} failed: {error}") from error

    return _eval_body


def _runtime_failure(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    runtime = StatesErrorNameType.StatesRuntime

    def _eval_body(self: Any, env: Any) -> None:
        try:
            eval_body(self, env)
        except IntrinsicFailed as error:
            if not env.is_running():  # stopped or timed out meanwhile: not this state's failure
                raise
            # the details moto records for a JSONPath that selects nothing, a runtime failure too
            failed: Any = {
                "taskFailedEventDetails": TaskFailedEventDetails(error=runtime.to_name(), cause=str(error))
            }
            event = FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=runtime),
                event_type=HistoryEventType.TaskFailed,
                event_details=failed,
            )
            raise FailureEventException(failure_event=event) from error

    return _eval_body


def _absent_choice_variable(_moto: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Replaces moto's body (the Variable, then the operator on it) to look between the two."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_operator_type import (
        ComparisonOperatorType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import NoSuchVariable

    runtime = StatesErrorNameType.StatesRuntime

    def _eval_body(self: Any, env: Any) -> None:
        self.variable.eval(env)
        if (
            isinstance(env.stack[-1], NoSuchVariable)
            and self.comparison_function.operator_type != ComparisonOperatorType.IsPresent
        ):
            path = self.variable.string_sampler.literal_value
            cause = f"Invalid path '{path}': The choice state's condition path references an invalid value."
            failed: Any = {
                "taskFailedEventDetails": TaskFailedEventDetails(error=runtime.to_name(), cause=cause)
            }
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=runtime),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=failed,
                )
            )
        self.comparison_function.eval(env)

    return _eval_body


_PREFIX = "An error occurred while executing the state '"
_DYNAMODB_TASK = f"{_STATE}.exec.state_task.service.state_task_service_dynamodb:StateTaskServiceDynamoDB"
# the DynamoDB errors that the AWS SDK for Java (v1, which Step Functions reports in) has a class for
_DYNAMODB_SDK_CLASSES = frozenset(
    {
        "BackupInUseException",
        "BackupNotFoundException",
        "ConditionalCheckFailedException",
        "ContinuousBackupsUnavailableException",
        "DuplicateItemException",
        "GlobalTableAlreadyExistsException",
        "GlobalTableNotFoundException",
        "IdempotentParameterMismatchException",
        "IndexNotFoundException",
        "InternalServerErrorException",
        "InvalidRestoreTimeException",
        "ItemCollectionSizeLimitExceededException",
        "LimitExceededException",
        "PointInTimeRecoveryUnavailableException",
        "ProvisionedThroughputExceededException",
        "ReplicaAlreadyExistsException",
        "ReplicaNotFoundException",
        "RequestLimitExceeded",
        "ResourceInUseException",
        "ResourceNotFoundException",
        "TableAlreadyExistsException",
        "TableInUseException",
        "TableNotFoundException",
        "TransactionCanceledException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


def _mocked_throw_as_given(from_error: Any) -> Any:
    """A failure already made (a mocked Throw) is the Task's failure as it is."""
    failure_event_exception = _hooks.resolve(
        "moto.stepfunctions.parser.asl.component.common.error_name.failure_event:FailureEventException"
    )[2]

    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, failure_event_exception):
            return ex.failure_event
        return from_error(self, env, ex)

    return _from_error


def _sdk_class_names(error_cause: Any) -> Any:
    original = error_cause.__func__  # a staticmethod

    def _error_cause_from_client_error(client_error: Any) -> tuple[str, str]:
        error, cause = original(client_error)
        if client_error.response["Error"]["Code"] not in _DYNAMODB_SDK_CLASSES:
            error = "DynamoDB.AmazonDynamoDBException"
        return error, cause

    return staticmethod(_error_cause_from_client_error)


_SFN_TASK = f"{_STATE}.exec.state_task.service.state_task_service_sfn:StateTaskServiceSfn"


def _sfn_denial(from_error: Callable[[Any, Any, Exception], Any]) -> Callable[[Any, Any, Exception], Any]:
    """A Step Functions integration its role may not call fails with the Java SDK's base class,
    which has none for AccessDeniedException (moto writes StepFunctions.AccessDeniedExceptionException)."""

    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        event = from_error(self, env, ex)
        code = getattr(ex, "response", {}).get("Error", {}).get("Code")
        if (
            code == "AccessDeniedException"
            and event.event_details
            and "taskFailedEventDetails" in event.event_details
        ):
            name = "StepFunctions.AWSStepFunctionsException"
            event.error_name = _error_name(name)
            event.event_details["taskFailedEventDetails"]["error"] = name
        return event

    return _from_error


# aws-sdk integrations name errors by the AWS SDK for Java v2's service name; moto knows two
_SDK_SERVICE_NAMES = {
    "lambda": "Lambda",
    "sns": "Sns",
    "sqs": "Sqs",
    "s3": "S3",
    "ssm": "Ssm",
    "secretsmanager": "SecretsManager",
    "kinesis": "Kinesis",
    "eventbridge": "EventBridge",
    "cloudwatch": "CloudWatch",
    "cloudwatchlogs": "CloudWatchLogs",
    "sts": "Sts",
    "iam": "Iam",
    "kms": "Kms",
    "ec2": "Ec2",
    "ecs": "Ecs",
    "athena": "Athena",
    "glue": "Glue",
    "firehose": "Firehose",
    "apigateway": "ApiGateway",
}


def _decorate_once(get_details: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def get_execution_failed_event_details(self: Any) -> Any:
        pair = self.extract_error_cause_pair()
        details = get_details(self)
        if details is not None and pair is not None and str(pair[1] or "").startswith(_PREFIX):
            details["cause"] = pair[1]
        return details

    return get_execution_failed_event_details


def install() -> None:
    _hooks.resolve(
        "moto.stepfunctions.parser.asl.component.common.error_name.states_error_name:StatesErrorName.from_name"
    )
    _hooks.patch(
        "moto.stepfunctions.parser.asl.component.common.error_name.failure_event:"
        "FailureEventException.get_execution_failed_event_details",
        _decorate_once,
    )
    for module in (
        "exec.state_map.iteration.iteration_worker",
        "exec.state_parallel.branches_decl",
        "fail.state_fail",
    ):
        _hooks.patch(f"{_STATE}.{module}:CustomErrorName", lambda _orig: _error_name)
    _hooks.patch(f"{_STATE}.exec.state_map.state_map:StateMap._eval_execution", _map_input_as_json)
    _hooks.patch(
        f"{_STATE}.choice.comparison.comparison_variable:ComparisonVariable._eval_body",
        _absent_choice_variable,
    )
    _hooks.patch(f"{_STATE}.state:CommonStateField._eval_body", _runtime_failure)
    _hooks.patch(
        "moto.stepfunctions.parser.asl.component.common.string.string_expression:"
        "StringIntrinsicFunction._eval_body",
        _named_intrinsic,
    )
    _hooks.patch(f"{_DYNAMODB_TASK}._error_cause_from_client_error", _sdk_class_names)
    _hooks.patch(f"{_DYNAMODB_TASK}._from_error", _mocked_throw_as_given)
    _hooks.patch(f"{_SFN_TASK}._from_error", _sfn_denial)
    _, _, names = _hooks.resolve(
        f"{_STATE}.exec.state_task.service.state_task_service_aws_sdk:_SERVICE_ERROR_NAMES"
    )
    names.update({k: v for k, v in _SDK_SERVICE_NAMES.items() if k not in names})
    _hooks.patch(
        f"{_STATE}.wait.wait_function.timestamp:Timestamp._create_failure_event", _jsonata_timestamp_failure
    )
