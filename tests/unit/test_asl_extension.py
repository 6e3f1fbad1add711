"""The SDK extension renders the ASL fields the SDK lacks."""

from workflows import asl


def test_retry_renders_delay_cap_and_jitter() -> None:
    retry = asl.Retry(error_equals=["X"], interval_seconds=1, max_delay_seconds=20, jitter_strategy="FULL")
    assert retry.to_dict() == {
        "ErrorEquals": ["X"],
        "IntervalSeconds": 1,
        "MaxDelaySeconds": 20,
        "JitterStrategy": "FULL",
    }


def test_task_and_parallel_render_result_selector() -> None:
    task = asl.Task("T", resource="arn:r", result_selector={"id.$": "$.Id"})
    assert task.to_dict()["ResultSelector"] == {"id.$": "$.Id"}
    parallel = asl.Parallel("P", result_selector={"first.$": "$[0]"})
    parallel.add_branch(asl.Pass("B"))
    assert parallel.to_dict()["ResultSelector"] == {"first.$": "$[0]"}


def test_map_renders_item_processor_and_item_selector_not_iterator() -> None:
    step = asl.Map(
        "M",
        item_processor=asl.Chain([asl.Pass("One"), asl.Pass("Two")]),
        items_path="$.items",
        item_selector={"item.$": "$$.Map.Item.Value"},
        max_concurrency=4,
    )
    rendered = step.to_dict()
    assert "Iterator" not in rendered
    assert rendered["ItemSelector"] == {"item.$": "$$.Map.Item.Value"}
    assert rendered["MaxConcurrency"] == 4
    assert rendered["ItemProcessor"] == {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "One",
        "States": {"One": {"Type": "Pass", "Next": "Two"}, "Two": {"Type": "Pass", "End": True}},
    }


def test_fail_renders_error_and_cause_paths() -> None:
    fail = asl.Fail("F", error_path="$.error.Error", cause_path="$.error.Cause")
    assert fail.to_dict() == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_express_type_is_a_state_machine_type() -> None:
    assert asl.StateMachineType("EXPRESS") is asl.StateMachineType.EXPRESS
    assert asl.StateMachineType.EXPRESS == "EXPRESS"
