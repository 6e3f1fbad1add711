"""Execution graphs: a state machine's shape, coloured by what an execution did in each state."""

from console.graph.model import STATUSES, build

__all__ = ["STATUSES", "build"]
