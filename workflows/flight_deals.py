"""Flight deals: store every flight-price record from the stream and alert on deals.

    Receive Batch -> Decode Batch (rejected records -> S3 rejected/, alerted) -> Process Records:
        || Store Records (BatchWriteItem, unprocessed retried)
        || Find Deals -> Any Deals? -> Alert Deals (once per batch) | No Deals
    -> Batch Done
    any failure -> Park Batch (S3 parked/, for python -m tasks.flight_deals.replay; Batch Not Parked
    when it fails) -> Alert Failure (naming the parked key and the replay command) -> Failed
    (Failed Without Alert when no alert could be sent)

An EventBridge Pipe delivers the Kinesis records in batches (a JSON array) to this Express state
machine. Bad records are kept with their reason (one never costs the batch), writes are
idempotent (keyed by record id) and a batch raises at most one alert, which lists its deals.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from stepfunctions.steps.choice_rule import ChoiceRule

from tasks.flight_deals import records
from tasks.flight_deals.schemas import PIPE_BATCH
from tasks.flight_deals.storage import PARKED_PREFIX, REJECTED_PREFIX
from workflows import asl
from workflows.policies import (
    ALERT_ACCESS,
    ALERT_ENVIRONMENT,
    SETTING_UNAVAILABLE,
    alert_and_fail,
    catch_to,
    lambda_task,
    throttle_retry,
    transient_retry,
)
from workflows.registry import (
    ENVIRONMENT,
    Access,
    Bucket,
    Function,
    Stream,
    StreamTrigger,
    Table,
    Topic,
    Workflow,
)

# SSM parameter holding the deal rules as JSON (tasks/flight_deals/deals.py); {app}/{env} filled by deploy.
DEAL_RULES_PARAMETER = "/{app}/{env}/flight-deals/deal-rules"
# the command that runs a parked batch again, which the failure's alert names
REPLAY = "tasks.flight_deals.replay"
BATCH_SIZE = 100  # ~1 KB per Pipe record: a batch stays far below the 256 KB payload limit


def failure_path() -> asl.Task:
    """Park first, then alert, so that the alert says where the batch is and how to replay it.

    Park Batch's own failure goes to the alert too (saying the batch is only in the stream), so
    the linter's rule holds: no failure reaches the end without the alert. An alert that cannot
    be sent ends in Failed Without Alert, as every workflow's does.
    """
    alert = alert_and_fail("flight-deals", "$.parked.note")
    park = lambda_task(
        "Park Batch",
        "ParkBatchFunctionArn",
        {"batch.$": "$$.Execution.Input", "error.$": "$.error", "execution.$": "$$.Execution.Id"},
        result_selector={
            "bucket.$": "$.Payload.bucket",
            "key.$": "$.Payload.key",
            "note.$": "States.Format('Its batch is parked at s3://{}/{}: once the cause is fixed, "
            f"python -m {REPLAY} --env ${{{ENVIRONMENT}}} --key {{}} runs it again.', "
            "$.Payload.bucket, $.Payload.key, $.Payload.key)",
        },
        result_path="$.parked",
        comment="Keeps the batch as delivered, to be replayed; the alert then says where",
    )
    not_parked = asl.Pass(
        "Batch Not Parked",
        parameters={
            "note.$": "States.Format('Its batch could not be parked in S3 ({}: {}): it is only in the "
            "stream now.', $.error.parking.Error, $.error.parking.Cause)",
        },
        result_path="$.parked",
        comment="The alert still goes, saying so",
    )
    # $.error.parking, not $.error: the execution still fails with the error that was caught
    park.add_catch(
        asl.Catch(error_equals=["States.ALL"], next_step=not_parked, result_path="$.error.parking")
    )
    park.next(alert)
    not_parked.next(alert)
    return park


def process_records() -> asl.Parallel:
    """Store every record || find the deals and alert once; the branches' outputs go to $.outcome."""
    batch = {"batch_id.$": "$.batch_id", "records.$": "$.records"}
    store = lambda_task(
        "Store Records",
        "StoreRecordsFunctionArn",
        batch,
        result_selector={"stored.$": "$.Payload.stored"},
        extra_retries=[throttle_retry(["RecordsNotStored"])],
        timeout_seconds=60,
    )
    find = lambda_task(
        "Find Deals",
        "FindDealsFunctionArn",
        batch,
        result_selector={
            "batch_id.$": "$.Payload.batch_id",
            "count.$": "$.Payload.count",
            "subject.$": "$.Payload.subject",
            "message.$": "$.Payload.message",
        },
        extra_retries=[transient_retry([SETTING_UNAVAILABLE])],  # its deal rules could not be read
    )
    alert_deals = lambda_task(
        "Alert Deals",
        "AlertDealsFunctionArn",
        "$",
        result_selector={
            "deals.$": "$.Payload.deals",
            "alerted.$": "$.Payload.alerted",
            "message_id.$": "$.Payload.message_id",
        },
        comment="One alert per batch, even when the batch is delivered twice",
    )
    no_deals = asl.Pass("No Deals", parameters={"deals": 0, "alerted": False, "message_id": None})
    any_deals = asl.Choice("Any Deals?")
    any_deals.add_choice(ChoiceRule.NumericGreaterThan(variable="$.count", value=0), next_step=alert_deals)
    any_deals.default_choice(no_deals)

    process = asl.Parallel(
        "Process Records",
        # "$[0]", not "$[0].stored": moto wraps a field under an index in a list (AWS does not).
        result_selector={"store.$": "$[0]", "deals.$": "$[1]"},
        result_path="$.outcome",
    )
    process.add_branch(store)
    process.add_branch(asl.Chain([find, any_deals]))
    return process


def build() -> dict[str, Any]:
    park = failure_path()
    # The Pipe's input is an array; wrapping it lets a Catch add `$.error` to the state.
    receive = asl.Pass("Receive Batch", parameters={"records.$": "$"})
    decode = lambda_task(
        "Decode Batch",
        "DecodeBatchFunctionArn",
        {"records.$": "$.records"},
        result_selector={
            "batch_id.$": "$.Payload.batch_id",
            "received.$": "$.Payload.received",
            "records.$": "$.Payload.records",
            "rejected.$": "$.Payload.rejected",
            "rejected_key.$": "$.Payload.rejected_key",
        },
        comment="Valid records go on; rejected ones are kept in S3 with their reason",
    )
    process = process_records()
    done = asl.Pass(
        "Batch Done",
        parameters={
            "batch_id.$": "$.batch_id",
            "received.$": "$.received",
            "rejected.$": "$.rejected",
            "rejected_key.$": "$.rejected_key",
            "stored.$": "$.outcome.store.stored",
            "deals.$": "$.outcome.deals.deals",
            "alerted.$": "$.outcome.deals.alerted",
        },
    )
    for state in (decode, process):
        catch_to(state, park)
    chain = asl.Chain([receive, decode, process, done])
    comment = "Flight deals: store every price record, alert once per batch on deals"
    return asl.Graph(chain, comment=comment).to_dict()


def example_batch() -> list[dict[str, Any]]:
    """A batch of one record as the Pipe delivers it: an Aeroflot fare that the default deal rule
    (Aeroflot under 5,000) alerts on."""
    fare = {"origin": "LED", "destination": "KZN", "depart_date": "2026-12-14", "value": 3890}
    record = records.from_month_matrix({**fare, "gate": "Aeroflot", "found_at": "2026-12-01T09:30:00"}, "RUB")
    data = base64.b64encode(json.dumps(record, separators=(",", ":")).encode()).decode()
    return [{"data": data, "partitionKey": record["record_id"], "sequenceNumber": "1"}]


WORKFLOW = Workflow(
    name="flight-deals",
    description="Store every flight-price record from the stream and alert once per batch on deals",
    type=asl.StateMachineType.EXPRESS,
    build=build,
    input_schema=PIPE_BATCH,
    # Express's most, said in the definition: a batch's Store Records alone may retry unprocessed
    # writes for minutes, and a run cut shorter would end before it parks its batch and alerts.
    timeout_seconds=5 * 60,
    example_input=example_batch(),
    functions=(
        Function(
            name="decode-batch",
            handler="tasks.flight_deals.decode_batch.handler",
            description="Decodes a Pipe's Kinesis batch; keeps rejected records in S3 with their reason, "
            "and alerts them",
            access=(
                Access("batches", ("s3:PutObject",), prefix=REJECTED_PREFIX),
                *ALERT_ACCESS,  # its own alert
            ),
            environment={"BATCHES_BUCKET": "batches", **ALERT_ENVIRONMENT},
        ),
        Function(
            name="store-records",
            handler="tasks.flight_deals.store_records.handler",
            description="Stores every valid record, keyed by record id (BatchWriteItem, unprocessed retried)",
            access=(Access("prices", ("dynamodb:BatchWriteItem",)),),
            environment={"PRICES_TABLE": "prices"},
            timeout=50,
        ),
        Function(
            name="find-deals",
            handler="tasks.flight_deals.find_deals.handler",
            description="Finds the records matching the configured deal rules and writes their summary",
            parameters={"DEAL_RULES_PARAMETER": DEAL_RULES_PARAMETER},
        ),
        Function(
            name="alert-deals",
            handler="tasks.flight_deals.alert_deals.handler",
            description="Publishes a batch's deal summary, once per batch",
            access=(
                Access("deals", ("sns:Publish",)),
                Access(
                    "idempotency",
                    ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
                ),
            ),
            environment={"DEALS_TOPIC_ARN": "deals", "IDEMPOTENCY_TABLE": "idempotency"},
        ),
        Function(
            name="park-batch",
            handler="tasks.flight_deals.park_batch.handler",
            description="Keeps a batch that failed in S3, to be replayed",
            # GetObject: a batch parked again keeps when it was first parked; ListBucket: without
            # it S3 answers a batch not parked yet 403, not NoSuchKey. Under parked/ alone: the
            # bucket also holds the rejected records
            access=(
                Access("batches", ("s3:ListBucket", "s3:GetObject", "s3:PutObject"), prefix=PARKED_PREFIX),
            ),
            environment={"BATCHES_BUCKET": "batches"},
        ),
    ),
    tables=(
        Table(name="prices", partition_key=("record_id", "S")),
        Table(name="idempotency", partition_key=("id", "S"), ttl_attribute="expiration"),
    ),
    topics=(Topic("deals", "Flight deals", declared_subscribers=True),),
    buckets=(Bucket("batches"),),
    streams=(Stream("price-records", shards=1),),
    triggers=(StreamTrigger(stream="price-records", batch_size=BATCH_SIZE, max_batching_window_seconds=1),),
    integrations=ALERT_ACCESS,
    replay="a batch that failed is parked to be replayed: python -m tasks.flight_deals.replay --env {env}"
    " --list shows the parked batches with their errors",
)
