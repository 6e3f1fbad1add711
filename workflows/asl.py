"""The small extension of the `stepfunctions` SDK for the ASL fields it lacks.

The SDK (3.0) knows the 2019 language: no ResultSelector, no Retry MaxDelaySeconds or
JitterStrategy, no Map ItemProcessor/ItemSelector, no Fail ErrorPath/CausePath, no JSONata
and no Express type. Each class below adds only those fields and renders them as ASL.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

from stepfunctions.steps import states as sdk
from stepfunctions.steps.fields import Field


class StateMachineType(StrEnum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


class ExtraField(Enum):
    """Field names in the SDK's snake_case convention; the SDK renders them in PascalCase."""

    ResultSelector = "result_selector"
    MaxDelaySeconds = "max_delay_seconds"
    JitterStrategy = "jitter_strategy"
    ItemSelector = "item_selector"
    ErrorPath = "error_path"
    CausePath = "cause_path"
    ToleratedFailurePercentage = "tolerated_failure_percentage"
    QueryLanguage = "query_language"
    Arguments = "arguments"
    Output = "output"


def _with(base: list[Any], *extra: ExtraField) -> list[Any]:
    return [*base, *extra]


class Retry(sdk.Retry):
    """Retry with a delay cap and jitter (`MaxDelaySeconds`, `JitterStrategy`)."""

    def allowed_fields(self) -> list[Any]:
        return _with(super().allowed_fields(), ExtraField.MaxDelaySeconds, ExtraField.JitterStrategy)


class Task(sdk.Task):
    def allowed_fields(self) -> list[Any]:
        return _with(super().allowed_fields(), ExtraField.ResultSelector)


class JsonataTask(sdk.Task):
    """A Task in JSONata (`QueryLanguage`), in a JSONPath state machine: for what JSONPath cannot
    compute, such as a time in seconds. `Arguments` replaces Parameters, `Output` the paths."""

    def __init__(self, state_id: str, **kwargs: Any) -> None:
        super().__init__(state_id, query_language="JSONata", **kwargs)

    def allowed_fields(self) -> list[Any]:
        return [
            Field.Comment,
            Field.Resource,
            Field.TimeoutSeconds,
            Field.Retry,
            Field.Catch,
            ExtraField.QueryLanguage,
            ExtraField.Arguments,
            ExtraField.Output,
        ]


class JsonataCatch(sdk.Catch):
    """A JSONata state's Catch: `Output` says what goes on (no ResultPath in JSONata)."""

    def allowed_fields(self) -> list[Any]:
        return [Field.ErrorEquals, ExtraField.Output]


class Parallel(sdk.Parallel):
    def allowed_fields(self) -> list[Any]:
        return _with(super().allowed_fields(), ExtraField.ResultSelector)


class Pass(sdk.Pass):
    pass


class Fail(sdk.Fail):
    """Fail whose Error and Cause can come from the state input (`ErrorPath`, `CausePath`)."""

    def allowed_fields(self) -> list[Any]:
        return _with(super().allowed_fields(), ExtraField.ErrorPath, ExtraField.CausePath)


class Map(sdk.Map):
    """Map in the current form: `ItemProcessor` (inline mode) and `ItemSelector`.

    The SDK only renders the deprecated `Iterator`/`Parameters` pair; `item_processor` takes
    the iteration's chain and is rendered with its processor configuration.
    """

    def __init__(self, state_id: str, item_processor: sdk.State | sdk.Chain, **kwargs: Any) -> None:
        super().__init__(state_id, **kwargs)
        self.item_processor = item_processor

    def allowed_fields(self) -> list[Any]:
        base = [f for f in super().allowed_fields() if f not in (Field.Iterator, Field.Parameters)]
        return _with(
            base, ExtraField.ResultSelector, ExtraField.ItemSelector, ExtraField.ToleratedFailurePercentage
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = sdk.State.to_dict(self)  # skip the SDK's Iterator rendering
        graph = sdk.Graph(self.item_processor).to_dict()
        result["ItemProcessor"] = {"ProcessorConfig": {"Mode": "INLINE"}, **graph}
        return result


# Re-exported so workflow modules import every state class from one place.
Choice = sdk.Choice
Succeed = sdk.Succeed
Wait = sdk.Wait
Catch = sdk.Catch
Chain = sdk.Chain
Graph = sdk.Graph
