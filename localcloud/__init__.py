"""The embedded local cloud: the AWS APIs the project uses, served on 127.0.0.1.

    python -m localcloud --port 4566        # serve until Ctrl-C; prints the exports for boto3

    from localcloud import LocalCloud
    with LocalCloud() as cloud:              # in-process, on a free port
        cloud.client("stepfunctions")        # boto3 client for it (cloud.env() for the variables)
        cloud.lambda_runtime.inject("fn", "throttle", times=1)
        cloud.scheduler.fire_due(at=...)     # fire schedules due at a given time
        cloud.streams.drain()                # deliver what is on the Kinesis streams
        cloud.reset()                        # wipe all resources

One module per concern: server (moto's server and the wiring), lambda_runtime + lambda_worker
(deployed zips in warm worker processes), sync_execution (Step Functions API gaps), scheduler
+ schedule_expr (EventBridge schedules), streams (Kinesis -> Pipes / event source mappings),
event_details (PutEvents refuses a Detail that is not a JSON object, as EventBridge does),
dynamodb_api (DynamoDB's request checks, and UpdateItem's ConsumedCapacity only when asked for),
dynamodb_speed (moto's DynamoDB without its costs that grow with the table or the item),
pins (the moto hook points, checked at import), engine (interpreter patches, built separately).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.server import LocalCloud

__all__ = ["LocalCloud"]


def __getattr__(name: str) -> Any:
    # loaded when first asked for: localcloud.run_files, which deploy reads, needs no moto
    if name == "LocalCloud":
        from localcloud.server import LocalCloud

        return LocalCloud
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
