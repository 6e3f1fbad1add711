"""Delivers Kinesis records to their consumers: EventBridge Pipes and Lambda event source mappings.

moto stores pipes and mappings but moves no records. This poller reads each shard through the
public Kinesis API, keeps a checkpoint per (consumer, shard), and delivers batches:
- a Pipe with a state machine target gets the Pipes event, a JSON list of flat records;
  REQUEST_RESPONSE runs a synchronous (Express) execution, FIRE_AND_FORGET starts one;
  a Lambda target is invoked with the same list.
- an event source mapping invokes its function with {"Records": [...]} (Lambda's event shape).
A failed batch is retried up to MaximumRetryAttempts (-1, "until the record expires" on AWS, is
bounded to `max_retries` here), then skipped, so one poison batch does not stop the shard. A pipe
with OnPartialBatchItemFailure AUTOMATIC_BISECT halves a failed batch and delivers each half the
same way, down to single records (a split is no retry: each half has its own attempts); a batch
given up on is described in the pipe's DeadLetterConfig queue, its records left in the stream.

MaximumRecordAgeInSeconds (-1, the default, is no limit; else 60 to 604,800) ends the retries
sooner: before a retry, the records older than it are given up on as above, and the rest retried.
AWS documents the age as a bound on retrying, whichever of it and the retry limit comes first
(Pipes: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-error-troubleshooting.html,
"Customer invocation errors"; Lambda: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html),
not as a check on a batch's first delivery, which is made here whatever its records' age. A
record's age runs from its ApproximateArrivalTimestamp, which moto stamps on the wall clock, and
goes on on the local cloud's clock (localcloud.engine.clock) once the batch is read: Wait states
the engine makes instant age a failing batch as much as they would on AWS.
"""

from __future__ import annotations

import base64
import calendar
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from localcloud import pins
from localcloud.engine import clock
from localcloud.ticker import Ticker, Ticking

LOG = logging.getLogger(__name__)

# moto invokes a Kinesis mapping's function itself, one record at a time, inside the producer's
# PutRecord call. The poller below does it as Lambda does (batches, checkpoints, retries, off the
# producer's request), so moto's delivery is switched off while the local cloud runs.
_LAMBDA_BACKEND = pins.resolve("moto.awslambda.models", "LambdaBackend")
_MOTO_KINESIS_DELIVERY = pins.resolve("moto.awslambda.models", "LambdaBackend", "send_kinesis_message")


def install() -> None:
    """Route Kinesis event source mappings through Streams only (idempotent)."""

    def send_kinesis_message(backend: Any, *args: Any, **kwargs: Any) -> None:
        return None

    _LAMBDA_BACKEND.send_kinesis_message = send_kinesis_message


def uninstall() -> None:
    _LAMBDA_BACKEND.send_kinesis_message = _MOTO_KINESIS_DELIVERY


@dataclass
class Delivery:
    consumer: str  # pipe or mapping ARN / UUID
    shard: str
    records: int
    ok: bool
    attempts: int
    detail: str = ""


@dataclass
class _Consumer:
    key: str
    stream_arn: str
    target: str
    batch_size: int
    starting_position: str
    created: datetime | None
    max_retries: int
    kind: str  # "pipe" or "esm"
    invocation_type: str = "REQUEST_RESPONSE"
    role_arn: str = ""
    bisect: bool = False
    dead_letters: str = ""  # a pipe's: the SQS queue's ARN where a batch given up on is described
    max_record_age: float = math.inf  # seconds; not retried past it
    extra: dict[str, Any] = field(default_factory=dict)


class Streams(Ticking):
    interval = 0.5

    def __init__(self, client: Callable[[str], Any], max_retries: int = 2) -> None:
        self._client = client
        self.max_retries = max_retries
        self._checkpoints: dict[tuple[str, str], str] = {}  # (consumer, shard) -> last sequence number
        self._lock = threading.Lock()
        self._ticker = Ticker("localcloud-streams", self._drain_now, "stream poll failed", join_timeout=10)
        self.deliveries: list[Delivery] = []

    # -- public interface -------------------------------------------------------------------

    def poll_once(self) -> int:
        """Deliver at most one batch per consumer and shard; return the number of records delivered."""
        with self._lock:
            return sum(self._poll_consumer(c) for c in self._consumers())

    def drain(self, timeout: float = 30.0) -> int:
        """Deliver everything now on the streams, waiting for each delivery to end; return the count."""
        deadline = time.monotonic() + timeout
        total = 0
        while time.monotonic() < deadline:
            delivered = self.poll_once()
            total += delivered
            if delivered == 0:
                return total
        raise TimeoutError(f"streams not drained after {timeout} s ({total} records delivered)")

    def reset(self) -> None:
        with self._lock:
            self._checkpoints.clear()
            self.deliveries.clear()

    # -- consumers --------------------------------------------------------------------------

    def _drain_now(self) -> None:
        while self.poll_once():
            pass

    def _consumers(self) -> list[_Consumer]:
        return self._pipes() + self._mappings()

    def _pipes(self) -> list[_Consumer]:
        pipes = self._client("pipes")
        out = []
        for summary in pipes.list_pipes().get("Pipes", []):
            if summary.get("DesiredState", "RUNNING") != "RUNNING" or ":kinesis:" not in summary.get(
                "Source", ""
            ):
                continue
            pipe = pipes.describe_pipe(Name=summary["Name"])
            if pipe.get("CurrentState") in ("STOPPED", "STOPPING", "DELETING", "CREATE_FAILED"):
                continue
            source = pipe.get("SourceParameters", {}).get("KinesisStreamParameters", {})
            target = pipe.get("TargetParameters", {}).get("StepFunctionStateMachineParameters", {})
            out.append(
                _Consumer(
                    key=pipe["Arn"],
                    stream_arn=pipe["Source"],
                    target=pipe["Target"],
                    batch_size=int(source.get("BatchSize", 100)),
                    starting_position=source.get("StartingPosition", "LATEST"),
                    created=pipe.get("CreationTime"),
                    max_retries=self._bound(source.get("MaximumRetryAttempts", -1)),
                    kind="pipe",
                    invocation_type=target.get("InvocationType", "REQUEST_RESPONSE"),
                    role_arn=pipe.get("RoleArn", ""),
                    bisect=source.get("OnPartialBatchItemFailure") == "AUTOMATIC_BISECT",
                    dead_letters=source.get("DeadLetterConfig", {}).get("Arn", ""),
                    max_record_age=_max_age(source.get("MaximumRecordAgeInSeconds")),
                )
            )
        return out

    def _mappings(self) -> list[_Consumer]:
        mappings = self._client("lambda").list_event_source_mappings().get("EventSourceMappings", [])
        out = []
        for esm in mappings:
            if ":kinesis:" not in esm.get("EventSourceArn", "") or esm.get("State") not in (
                "Enabled",
                "Creating",
            ):
                continue
            out.append(
                _Consumer(
                    key=esm["UUID"],
                    stream_arn=esm["EventSourceArn"],
                    target=esm["FunctionArn"],
                    batch_size=int(esm.get("BatchSize") or 100),
                    starting_position=esm.get("StartingPosition") or "TRIM_HORIZON",
                    created=_mapping_created(esm.get("LastModified")),
                    max_retries=self._bound(esm.get("MaximumRetryAttempts", -1)),
                    kind="esm",
                    max_record_age=_max_age(esm.get("MaximumRecordAgeInSeconds")),
                )
            )
        return out

    def _bound(self, configured: Any) -> int:
        """The retries configured; "until the records expire" (-1) is `max_retries` here."""
        value = int(configured if configured is not None else -1)
        return self.max_retries if value < 0 else value

    # -- polling ----------------------------------------------------------------------------

    def _poll_consumer(self, consumer: _Consumer) -> int:
        kinesis = self._client("kinesis")
        stream_name = consumer.stream_arn.split("/", 1)[1]
        delivered = 0
        shards = kinesis.list_shards(StreamARN=consumer.stream_arn)["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = self._iterator(kinesis, consumer, stream_name, shard_id)
            records = kinesis.get_records(ShardIterator=iterator, Limit=consumer.batch_size)["Records"]
            if not records:
                continue
            self._deliver(consumer, shard_id, records, _clock_ahead())
            self._checkpoints[(consumer.key, shard_id)] = records[-1]["SequenceNumber"]
            delivered += len(records)
        return delivered

    def _iterator(self, kinesis: Any, consumer: _Consumer, stream: str, shard_id: str) -> str:
        last = self._checkpoints.get((consumer.key, shard_id))
        args: dict[str, Any] = {"StreamName": stream, "ShardId": shard_id}
        if last is not None:
            args.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=last)
        elif consumer.starting_position == "LATEST" and consumer.created is not None:
            # LATEST as of the consumer's creation, so records put before the first poll still count.
            args.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=consumer.created)
        else:
            args["ShardIteratorType"] = "TRIM_HORIZON"
        iterator: str = kinesis.get_shard_iterator(**args)["ShardIterator"]
        return iterator

    def _deliver(
        self, consumer: _Consumer, shard_id: str, records: list[dict[str, Any]], clock_ahead: float
    ) -> None:
        """`clock_ahead`: how far the local cloud's clock was ahead of the wall clock when the
        batch was read, for its records' age."""
        flat = [self._record(consumer, shard_id, r) for r in records]
        attempts, detail = 0, ""
        while attempts <= consumer.max_retries:
            expired = _expired(consumer, records, clock_ahead) if attempts else 0
            if expired:  # too old to retry: given up on, the younger records retried
                self._give_up(consumer, shard_id, records[:expired], attempts, detail)
                records, flat = records[expired:], flat[expired:]
                if not records:
                    return
            attempts += 1
            try:
                ok, detail = self._send(consumer, flat)
            except Exception as exc:  # the target's API failed: same as a failed batch
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            if ok:
                self.deliveries.append(Delivery(consumer.key, shard_id, len(records), True, attempts, detail))
                return
            if consumer.bisect and len(records) > 1:  # each half delivered as a batch of its own
                half = len(records) // 2
                self._deliver(consumer, shard_id, records[:half], clock_ahead)
                self._deliver(consumer, shard_id, records[half:], clock_ahead)
                return
        self._give_up(consumer, shard_id, records, attempts, detail)

    def _give_up(
        self, consumer: _Consumer, shard_id: str, records: list[dict[str, Any]], attempts: int, detail: str
    ) -> None:
        LOG.warning(
            "%s: batch of %d records from %s dropped after %d attempts: %s",
            consumer.key,
            len(records),
            shard_id,
            attempts,
            detail,
        )
        self.deliveries.append(Delivery(consumer.key, shard_id, len(records), False, attempts, detail))
        if consumer.dead_letters:
            self._dead_letter(consumer, shard_id, records, attempts, detail)

    def _dead_letter(
        self, consumer: _Consumer, shard_id: str, records: list[dict[str, Any]], attempts: int, detail: str
    ) -> None:
        """Describe the batch given up on in the consumer's SQS queue. A failure to is logged: the
        shard moves on either way, as it does on AWS."""
        sqs, queue = self._client("sqs"), consumer.dead_letters.rsplit(":", 1)[1]
        body = json.dumps(_dead_letter(consumer, shard_id, records, attempts, detail))
        try:
            sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"], MessageBody=body)
        except Exception:
            LOG.exception("%s: batch from %s not described in %s", consumer.key, shard_id, queue)

    def _send(self, consumer: _Consumer, flat: list[dict[str, Any]]) -> tuple[bool, str]:
        target = consumer.target
        if consumer.kind == "esm":
            payload = json.dumps({"Records": [_lambda_record(r) for r in flat]})
            return self._invoke(target, payload)
        payload = json.dumps(flat)
        if ":stateMachine:" in target:
            sfn = self._client("stepfunctions")
            if consumer.invocation_type == "FIRE_AND_FORGET":
                return True, sfn.start_execution(stateMachineArn=target, input=payload)["executionArn"]
            result = sfn.start_sync_execution(stateMachineArn=target, input=payload)
            ok = result["status"] == "SUCCEEDED"
            return ok, result["executionArn"] if ok else f"{result.get('error')}: {result.get('cause')}"
        if ":lambda:" in target:
            return self._invoke(target, payload)
        return False, f"unsupported target {target}"

    def _invoke(self, function_arn: str, payload: str) -> tuple[bool, str]:
        response = self._client("lambda").invoke(FunctionName=function_arn, Payload=payload)
        body = response["Payload"].read().decode()
        return "FunctionError" not in response, body

    @staticmethod
    def _record(consumer: _Consumer, shard_id: str, record: dict[str, Any]) -> dict[str, Any]:
        arn = consumer.stream_arn
        arrival = record.get("ApproximateArrivalTimestamp")
        return {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": arrival.timestamp() if arrival else time.time(),
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": consumer.role_arn,
            "awsRegion": arn.split(":")[3],
            "eventSourceARN": arn,
        }


def _max_age(configured: Any) -> float:
    """MaximumRecordAgeInSeconds in seconds; -1 (the default) is no limit."""
    value = int(configured if configured is not None else -1)
    return math.inf if value < 0 else float(value)


def _clock_ahead() -> float:
    """How far the local cloud's clock is ahead of the wall clock (instant Wait states move it on)."""
    return clock.CLOCK.time() - time.time()


def _expired(consumer: _Consumer, records: list[dict[str, Any]], clock_ahead: float) -> int:
    """How many of the records, from the first, are older than the consumer's maximum age: a shard's
    records arrive in order."""
    now = clock.CLOCK.time() - clock_ahead  # on the wall clock of the batch's reading, as arrivals are
    for count, record in enumerate(records):
        arrival = record.get("ApproximateArrivalTimestamp")
        if arrival is None or now - arrival.timestamp() <= consumer.max_record_age:
            return count
    return len(records)


def _mapping_created(last_modified: datetime | None) -> datetime | None:
    """When moto made (or last changed) a mapping. moto stamps it `time.mktime(utcnow().timetuple())`:
    the UTC clock's reading taken for local time, to the second, hours off wherever local time is
    not UTC (a LATEST mapping then skipped what came after it, or took what came before)."""
    if last_modified is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(time.localtime(last_modified.timestamp())), UTC)


def _dead_letter(
    consumer: _Consumer, shard_id: str, records: list[dict[str, Any]], attempts: int, detail: str
) -> dict[str, Any]:
    """What a batch given up on is described as: where its records are in the stream, not the records.

    Lambda documents its Kinesis on-failure record (requestContext, responseContext, version,
    timestamp, KinesisBatchInfo); Pipes documents no shape for its dead-letter message. This is
    Lambda's, the pipe's ARN in place of the function's and the failure's text as its response.
    """

    def arrival(record: dict[str, Any]) -> str | None:
        stamp = record.get("ApproximateArrivalTimestamp")
        return (
            stamp.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z") if stamp else None
        )

    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "pipeArn": consumer.key,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"error": detail},
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["SequenceNumber"],
            "endSequenceNumber": records[-1]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": consumer.stream_arn,
        },
    }


def _lambda_record(flat: dict[str, Any]) -> dict[str, Any]:
    """Lambda's Kinesis record nests the stream fields under "kinesis"; Pipes' is flat."""
    inner = ("kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data", "approximateArrivalTimestamp")
    record = {k: v for k, v in flat.items() if k not in inner}
    record["kinesis"] = {k: flat[k] for k in inner}
    return record
