"""A workflow made for deploy's tests: every kind of resource and trigger, lottery's handlers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows import asl, definitions
from workflows.registry import (
    Access,
    Bucket,
    Function,
    HttpRoute,
    Index,
    Schedule,
    Stream,
    StreamTrigger,
    Table,
    Topic,
    Workflow,
)


def definition(extra_token: str | None = None) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"}
    states: dict[str, Any] = {
        "Draw": {**task, "Parameters": {"FunctionName": "${DrawFunctionArn}"}, "Next": "Notify"},
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": "${NewsTopicArn}",
                "Message": "${ItemsTableName} ${ArchiveBucketName}",
            },
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "Result": "${EventsStreamArn} ${AlertsTopicArn}", "End": True},
    }
    if extra_token:
        states["Done"]["Result"] += " ${" + extra_token + "}"
    return {"StartAt": "Draw", "States": states}


@dataclass(frozen=True)
class ProbeWorkflow(Workflow):
    folder: Path = Path(".")

    @property
    def definition_path(self) -> Path:
        return self.folder / f"{self.name}.asl.json"


def probe(folder: Path, name: str = "probe", extra_token: str | None = None) -> ProbeWorkflow:
    folder.mkdir(parents=True, exist_ok=True)
    workflow = ProbeWorkflow(
        folder=folder,
        name=name,
        description="deploy test workflow",
        type=asl.StateMachineType.EXPRESS,
        build=lambda: definition(extra_token),
        input_schema={"type": "object"},
        functions=(
            Function(
                name="draw",
                handler="tasks.lottery.draw_winners.handler",
                description="reads items through an index, writes the archive",
                access=(
                    Access("items", ("dynamodb:Query", "dynamodb:PutItem")),
                    Access("archive", ("s3:PutObject", "s3:ListBucket")),
                ),
                environment={"ITEMS_TABLE": "items", "ARCHIVE_BUCKET": "archive", "NEWS_TOPIC": "news"},
                parameters={"API_KEY_PARAMETER": "/{app}/{env}/api-key", "TOKEN_SECRET": "{app}/{env}/token"},
            ),
        ),
        tables=(
            Table(
                name="items",
                partition_key=("id", "S"),
                sort_key=("at", "N"),
                indexes=(Index("by-kind", ("kind", "S")),),
                ttl_attribute="expires",
            ),
        ),
        topics=(Topic("news", "News"),),
        buckets=(Bucket("archive", expire_days=30),),
        streams=(Stream("events", shards=1),),
        triggers=(
            Schedule("rate(1 hour)", {"source": "schedule"}),
            StreamTrigger("events", batch_size=10),
            HttpRoute("POST", "/probe", sync=True, auth=True),
        ),
        integrations=(Access("news", ("sns:Publish",)), Access("alerts", ("sns:Publish",))),
    )
    workflow.definition_path.write_text(definitions.render(workflow))
    return workflow
