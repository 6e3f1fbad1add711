"""Replay: run flight-deals again on the batches Park Batch kept in S3, once their cause is fixed.

    python -m tasks.flight_deals.replay --env staging --list    # what is parked, since when and why
    python -m tasks.flight_deals.replay --env staging --list --json   # the same for scripts
    python -m tasks.flight_deals.replay --env staging           # replay every parked batch
    python -m tasks.flight_deals.replay --env staging --key parked/<batch id>.json [--key ...]

--list also shows what the Pipe gave up on (its dead-letter queue): a batch whose execution never
started (a record too large for StartExecution, the pipe's role refused), named by its shard and
sequence numbers, its records still in the stream until they expire (workflows/README.md: flight-deals).

Each batch runs to its end, as the Pipe runs it (the state machine is Express: AWS keeps no
execution to redrive). A batch that succeeds leaves parked/; one that fails again stays, parked
again by its run with its new error (keeping when it was first parked), and alerted. The workflow
is idempotent (a record is stored under its id, a batch alerts its deals once), so a batch partly
processed before is safe to replay.
Exit 1 when a batch failed again, 2 for bad options or environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tasks.flight_deals.storage import PARKED_PREFIX
from tasks.shared.errors import cause_message

WORKFLOW = "flight-deals"
BUCKET = "batches"
STREAM = "price-records"


def parked_keys(s3: Any, bucket: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PARKED_PREFIX)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def _parked(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


def _why(error: str | None, cause: str | None) -> str:
    """The error whole: what a refusal names (action, resource) comes at the end of its message.
    A Lambda error's cause is its JSON error document, of which the message is kept."""
    return f"{error or '?'}: {cause_message(cause)}"


def _entry(key: str, document: dict[str, Any]) -> dict[str, Any]:
    """A parked batch as --list shows it; a batch parked before parkings were counted has one."""
    error = document.get("error") or {}
    return {
        "key": key,
        "parked_at": document.get("parked_at"),
        "last_parked_at": document.get("last_parked_at", document.get("parked_at")),
        "failures": int(document.get("failures", 1)),
        "execution": document.get("execution"),
        "error": error.get("Error"),
        "cause": error.get("Cause"),
    }


def _described(entry: dict[str, Any]) -> list[str]:
    since = f"{entry['key']}  parked {entry['parked_at'] or '?'}"
    if entry["failures"] > 1:
        since += f", failed {entry['failures']} times (last {entry['last_parked_at']})"
    if entry["execution"]:
        since += f"  by {entry['execution']}"
    return [since, f"  {_why(entry['error'], entry['cause'])}"]


def replay(env: Any, keys: list[str] | None, out: Any = print) -> int:
    """Replay the batches under `keys` (every parked one when None); the number that failed again."""
    from console.errors import InvalidInput
    from console.service import ExecutionService
    from workflows import WORKFLOWS

    s3, bucket = env.client("s3"), env.resource_name(WORKFLOW, BUCKET)
    service = ExecutionService(env, WORKFLOWS)
    failed = 0
    for key in parked_keys(s3, bucket) if keys is None else keys:
        try:
            batch = _parked(s3, bucket, key)["batch"]
        except s3.exceptions.NoSuchKey:
            out(f"{key}: not parked in {bucket}")
            failed += 1
            continue
        try:
            run, _ = service.start(WORKFLOW, batch)
        except InvalidInput as refused:  # kept whatever its shape: it is not a batch the workflow takes
            out(f"{key}: not a batch flight-deals takes ({refused}); left parked")
            failed += 1
            continue
        if run["status"] == "SUCCEEDED":
            s3.delete_object(Bucket=bucket, Key=key)
            out(f"{key}: replayed, {run['output'].get('stored', '?')} records stored; no longer parked")
        else:
            out(f"{key}: failed again ({_why(run.get('error'), run.get('cause'))}); still parked")
            failed += 1
    return failed


def dead_letters(env: Any, queue: str) -> list[dict[str, Any]]:
    """The batches the Pipe gave up on, as their messages describe them (read, not taken: each is
    put back), read as the alerts inbox is."""
    from console.alerts import receive_all, settle

    sqs = env.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found = receive_all(sqs, url, env)
    settle(sqs, url, [m["ReceiptHandle"] for m in found], delete=False)
    return [_dead_letter(json.loads(m["Body"])) for m in found]


def _dead_letter(message: dict[str, Any]) -> dict[str, Any]:
    batch = message.get("KinesisBatchInfo") or {}
    return {
        "shard": batch.get("shardId"),
        "first_sequence_number": batch.get("startSequenceNumber"),
        "last_sequence_number": batch.get("endSequenceNumber"),
        "records": batch.get("batchSize"),
        "first_arrival": batch.get("approximateArrivalOfFirstRecord"),
        "given_up_at": message.get("timestamp"),
        "condition": (message.get("requestContext") or {}).get("condition"),
        "error": (message.get("responseContext") or {}).get("error"),
    }


def _dead_lines(entry: dict[str, Any]) -> list[str]:
    where = f"{entry['shard']} {entry['first_sequence_number']}..{entry['last_sequence_number']}"
    lines = [f"{where}  {entry['records']} record(s), given up {entry['given_up_at'] or '?'}"]
    why = ", ".join(str(entry[k]) for k in ("condition", "error") if entry[k])
    return lines + ([f"  {why}"] if why else [])


def listing(env: Any, out: Any = print, as_json: bool = False) -> int:
    from infra.names import dead_letter_queue

    s3, bucket = env.client("s3"), env.resource_name(WORKFLOW, BUCKET)
    entries = [_entry(key, _parked(s3, bucket, key)) for key in parked_keys(s3, bucket)]
    queue = dead_letter_queue(env, WORKFLOW, STREAM)
    dead = dead_letters(env, queue)
    if as_json:
        out(json.dumps({"bucket": bucket, "parked": entries, "queue": queue, "dead_letters": dead}, indent=2))
        return len(entries)
    for entry in entries:
        for line in _described(entry):
            out(line)
    out(f"{len(entries)} batch(es) parked in {bucket}")
    for letter in dead:
        for line in _dead_lines(letter):
            out(line)
    if dead:
        out(
            f"{len(dead)} batch(es) the pipe gave up on, in {queue}: never started (workflows/README.md: flight-deals)"
        )
    return len(entries)


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    # the operator's side only: not packaged with the Lambdas
    from console.errors import NotDeployed
    from infra.environments import ConfigError, exit_for_aws_error, load

    parser = argparse.ArgumentParser(
        allow_abbrev=False, prog="python -m tasks.flight_deals.replay", description=__doc__
    )
    parser.add_argument("--env", required=True, help="an environment of environments.toml")
    parser.add_argument("--key", action="append", help="a parked batch's key (parked/<batch id>.json)")
    parser.add_argument("--list", action="store_true", help="list the parked batches; replay none")
    parser.add_argument("--json", action="store_true", help="with --list: the parked batches as JSON")
    args = parser.parse_args(argv)
    if args.json and not args.list:
        parser.error("--json goes with --list")
    try:
        env = load(args.env)
        if args.list:
            listing(env, as_json=args.json)
            return 0
        return 1 if replay(env, args.key) else 0
    except (ConfigError, NotDeployed) as error:
        print(error, file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        return exit_for_aws_error(error)


if __name__ == "__main__":
    sys.exit(main())
