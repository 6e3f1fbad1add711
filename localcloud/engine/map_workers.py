"""A Map worker goes on to its next item in a loop, not by calling itself.

moto's Map workers (`_eval_pool`) end each item by calling themselves for the next one, so a
worker nests a Python frame per item it takes. A Map of some 10,000 items with MaxConcurrency 1
passes the recursion limit: the worker dies with its item open, and the Map, and the execution,
stay RUNNING for ever. Here that last call is queued, and the outermost call makes it in a loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

_ITERATION = "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration"
_WORKERS = (  # each defines its own _eval_pool, ending in the call for the next item
    f"{_ITERATION}.iteration_worker:IterationWorker._eval_pool",
    f"{_ITERATION}.itemprocessor.distributed_item_processor_worker:DistributedItemProcessorWorker._eval_pool",
    f"{_ITERATION}.iterator.distributed_iterator_worker:DistributedIteratorWorker._eval_pool",
)
_NEXT = "_localcloud_next_items"


def _looped(eval_pool: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    def _eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
        queued = self.__dict__.get(_NEXT)
        if queued is not None:  # called for the next item from within an item: the loop below
            queued.append((job, worker_frame))
            return
        queued = [(job, worker_frame)]
        setattr(self, _NEXT, queued)
        try:
            while queued:
                eval_pool(self, *queued.pop())
        finally:
            delattr(self, _NEXT)

    return _eval_pool


def install() -> None:
    for dotted in _WORKERS:
        _hooks.patch(dotted, _looped)
