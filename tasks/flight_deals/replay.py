"""Replay: run flight-deals again on the batches Park Batch kept in S3, once their cause is fixed.

    python -m tasks.flight_deals.replay --env staging --list    # what is parked, since when and why
    python -m tasks.flight_deals.replay --env staging           # replay every parked batch
    python -m tasks.flight_deals.replay --env staging --key parked/<batch id>.json [--key ...]

Each batch runs to its end, as the Pipe runs it (the state machine is Express: AWS keeps no
execution to redrive). A batch that succeeds leaves parked/; one that fails again stays, parked
again by its run with its new error, and alerted. The workflow is idempotent (a record is stored
under its id, a batch alerts its deals once), so a batch partly processed before is safe to replay.
Exit 1 when a batch failed again, 2 for bad options or environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tasks.flight_deals.park_batch import PARKED_PREFIX

WORKFLOW = "flight-deals"
BUCKET = "batches"


def parked_keys(s3: Any, bucket: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PARKED_PREFIX)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def _parked(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


def _why(document: dict[str, Any]) -> str:
    error = document.get("error") or {}
    return f"{error.get('Error', '?')}: {str(error.get('Cause', ''))[:200]}"


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
            out(f"{key}: failed again ({run.get('error')}: {str(run.get('cause'))[:200]}); still parked")
            failed += 1
    return failed


def listing(env: Any, out: Any = print) -> int:
    s3, bucket = env.client("s3"), env.resource_name(WORKFLOW, BUCKET)
    keys = parked_keys(s3, bucket)
    for key in keys:
        document = _parked(s3, bucket, key)
        out(f"{key}  parked {document.get('parked_at', '?')}  {_why(document)}")
    out(f"{len(keys)} batch(es) parked in {bucket}")
    return len(keys)


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    # the operator's side only: not packaged with the Lambdas
    from console.errors import NotDeployed
    from infra.environments import ConfigError, access_problem, load

    parser = argparse.ArgumentParser(prog="python -m tasks.flight_deals.replay", description=__doc__)
    parser.add_argument("--env", required=True, help="an environment of environments.toml")
    parser.add_argument("--key", action="append", help="a parked batch's key (parked/<batch id>.json)")
    parser.add_argument("--list", action="store_true", help="list the parked batches; replay none")
    args = parser.parse_args(argv)
    try:
        env = load(args.env)
        if args.list:
            listing(env)
            return 0
        return 1 if replay(env, args.key) else 0
    except (ConfigError, NotDeployed) as error:
        print(error, file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        problem = access_problem(error)  # no credentials, nothing answering: the same words as deploy's
        print(problem or error, file=sys.stderr)
        return 1 if problem is None else 2


if __name__ == "__main__":
    sys.exit(main())
