"""Workflows: each business process as a Step Functions state machine built in Python.

`WORKFLOWS` is the registry every other part (deploy, local cloud, console) reads.
"""

from __future__ import annotations

from workflows import etf_signal, flight_deals, lottery, ride_request, ticket_ranking
from workflows.registry import Workflow

WORKFLOWS: dict[str, Workflow] = {
    wf.name: wf
    for wf in (
        lottery.WORKFLOW,
        flight_deals.WORKFLOW,
        ride_request.WORKFLOW,
        ticket_ranking.WORKFLOW,
        etf_signal.WORKFLOW,
    )
}


def get(name: str) -> Workflow:
    try:
        return WORKFLOWS[name]
    except KeyError:
        raise KeyError(f"unknown workflow {name!r}; known: {', '.join(sorted(WORKFLOWS))}") from None
