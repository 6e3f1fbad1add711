"""What the end-to-end and cost benchmarks print of a workflow they were not written for: e2e's
table aligned whatever the names, cost's volume named as assumed when nothing gives one, and the
command that measured it."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import cost  # noqa: E402 (bench/ is not a package)
import e2e  # noqa: E402

from workflows import WORKFLOWS  # noqa: E402

# a name longer than every one the tables were first laid out for
EXPENSES = dataclasses.replace(WORKFLOWS["lottery"], name="expense-approval-by-managers")


def test_e2e_table_columns_line_up_for_a_long_workflow_name() -> None:
    rows = []
    for wf in (WORKFLOWS["lottery"], EXPENSES):
        figures = e2e.Figures(wf, "start", cold_first=e2e.Sample(1100.0, "SUCCEEDED", "arn"))
        figures.warm = [e2e.Sample(40.0, "SUCCEEDED", "arn")]
        figures.states = [9]
        rows.append(figures)

    lines = e2e.table(rows, 4)

    bars = {tuple(i for i, c in enumerate(line) if c == "|") for line in lines}
    assert len(bars) == 1, "\n".join(lines)
    assert lines[3].startswith("| expense-approval-by-managers | STANDARD |")


def test_cost_names_the_workflows_it_assumed_a_volume_for() -> None:
    assert cost.monthly_volume(EXPENSES, {}) == (cost.UNKNOWN_VOLUME, None)
    assert cost.monthly_volume(EXPENSES, {"expense-approval-by-managers": 200}) == (
        200,
        "given on the command line",
    )
    lottery = cost.monthly_volume(WORKFLOWS["lottery"], {})

    lines = cost.volume_lines([("lottery", *lottery), (EXPENSES.name, cost.UNKNOWN_VOLUME, None)])

    assert (
        lines[2] == f"  expense-approval-by-managers: {cost.UNKNOWN_VOLUME}/month, assumed: no volume known"
    )
    assert lines[-1] == (
        f"No volume known for expense-approval-by-managers: costed at {cost.UNKNOWN_VOLUME} executions "
        "a month. Give one with --volume NAME=EXECUTIONS_PER_MONTH, or add it to VOLUMES in bench/cost.py."
    )
    assert not any("No volume known" in line for line in cost.volume_lines([("lottery", *lottery)]))


def test_cost_gives_the_command_with_the_volumes_it_was_given() -> None:
    assert cost.measured_with(3, []) == "Measured with: python bench/cost.py --runs 3"
    assert cost.measured_with(5, ["lottery=10", "etf-signal=30"]) == (
        "Measured with: python bench/cost.py --runs 5 --volume lottery=10 --volume etf-signal=30"
    )
