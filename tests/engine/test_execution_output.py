"""DescribeExecution returns the output as JSON text whatever its type."""

from __future__ import annotations

from tests.engine.conftest import Runner


def test_a_string_output_is_described_as_a_json_string(run_definition: Runner) -> None:
    run = run_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "done", "End": True}}})
    assert run.status == "SUCCEEDED"
    assert run.output == "done"  # the fixture json.loads DescribeExecution's output
