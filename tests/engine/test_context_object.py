"""Reading the context object `$$` gives JSON with AWS's fields and timestamp text."""

from __future__ import annotations

import re

from tests.engine.conftest import Runner


def test_whole_context_object_is_readable(run_definition: Runner) -> None:
    run = run_definition(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": True}}}
    )
    assert run.status == "SUCCEEDED"
    execution = run.output["ctx"]["Execution"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", execution["StartTime"])
    assert execution["RedriveCount"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", run.output["ctx"]["State"]["EnteredTime"])


def test_jsonata_reads_the_context(run_definition: Runner) -> None:
    run = run_definition(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "P",
            "States": {
                "P": {"Type": "Pass", "Output": "{% $states.context.Execution.StartTime %}", "End": True}
            },
        }
    )
    assert run.status == "SUCCEEDED"
    assert run.output.endswith("Z")
