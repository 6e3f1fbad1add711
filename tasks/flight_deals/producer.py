"""Producer: read month-matrix prices from Aviasales and put them on the flight-deals stream.

    python -m tasks.flight_deals.producer --env local --route LED-KZN --route LED-MOW \\
        --month 2026-12 --month 2027-01 [--api-url URL] [--currency rub]

Locally it reads the fake Aviasales API of the local cloud at the local endpoint (where that
local cloud says it listens) unless --api-url says otherwise, with the fake's test token unless
the local environment has a token.

The records go straight to the stream as JSON with PutRecords (failed records retried),
each with a content-hash `record_id` so a re-run stores no duplicates. The API token is read
from Secrets Manager (`<app>-<env>-flight-deals-aviasales-token`), never from code or arguments.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

from tasks.flight_deals.aviasales import (
    DEFAULT_URL,
    AviasalesClient,
    AviasalesRejected,
    AviasalesUnavailable,
)
from tasks.flight_deals.records import from_month_matrix

WORKFLOW = "flight-deals"
STREAM = "price-records"
TOKEN_SECRET = "aviasales-token"
PUT_LIMIT = 500  # PutRecords' maximum records per call
MAX_ROUNDS = 8


class RecordsNotPut(Exception):
    """Kinesis kept refusing some records (throttling) after every retry."""


def fetch_records(
    api: AviasalesClient, routes: Iterable[tuple[str, str]], months: Iterable[str], currency: str = "rub"
) -> list[dict[str, Any]]:
    months = list(months)
    return [
        from_month_matrix(entry, currency)
        for origin, destination in routes
        for month in months
        for entry in api.month_matrix(origin, destination, month, currency)
    ]


def put_records(kinesis: Any, stream_name: str, entries: list[tuple[bytes, str]]) -> int:
    """Put (data, partition key) entries; records Kinesis refuses (throttled) are put again."""
    for start in range(0, len(entries), PUT_LIMIT):
        pending = [{"Data": d, "PartitionKey": k} for d, k in entries[start : start + PUT_LIMIT]]
        for attempt in range(MAX_ROUNDS):
            answer = kinesis.put_records(StreamName=stream_name, Records=pending)
            if not answer.get("FailedRecordCount"):
                break
            pending = [
                r for r, result in zip(pending, answer["Records"], strict=True) if "ErrorCode" in result
            ]
            time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        else:
            raise RecordsNotPut(f"{len(pending)} records still refused after {MAX_ROUNDS} rounds")
    return len(entries)


def encode(records: Iterable[dict[str, Any]]) -> list[tuple[bytes, str]]:
    return [(json.dumps(r, separators=(",", ":")).encode(), r["record_id"]) for r in records]


def route(text: str) -> tuple[str, str]:
    origin, sep, destination = text.upper().partition("-")
    if not sep or len(origin) != 3 or len(destination) != 3:
        raise argparse.ArgumentTypeError(f"expected ORIGIN-DESTINATION like LED-KZN, got {text!r}")
    return origin, destination


def month(text: str) -> str:
    """--month: a month as YYYY-MM (what the API is asked for is its first day)."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM like 2026-12, got {text!r}")
    return text


def _token(env: Any, fake_token: str | None) -> str:
    """The API token from Secrets Manager; the local fake's own (a test value, not a secret) when
    the local environment has none."""
    secrets, name = env.client("secretsmanager"), env.resource_name(WORKFLOW, TOKEN_SECRET)
    try:
        return str(secrets.get_secret_value(SecretId=name)["SecretString"])
    except secrets.exceptions.ResourceNotFoundException:
        if fake_token is not None:
            return fake_token
        from infra.environments import ConfigError  # the operator's side only, as in main
        from infra.parameters import set_command

        raise ConfigError(
            f"no Aviasales token in {env.name}: set it once with {set_command(env, name)}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    """Errors print one line, not a traceback: exit 2 for bad options or environment, else 1."""
    from botocore.exceptions import BotoCoreError, ClientError

    # the operator's side only: not packaged with the Lambdas
    from infra.environments import ConfigError, exit_for_aws_error

    try:
        return _produce(argv)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        return exit_for_aws_error(error)
    except (AviasalesRejected, AviasalesUnavailable) as error:
        raise SystemExit(f"the Aviasales API: {error}") from None


def _produce(argv: list[str] | None) -> int:
    from infra.environments import ConfigError, load

    parser = argparse.ArgumentParser(
        allow_abbrev=False, prog="python -m tasks.flight_deals.producer", description=__doc__
    )
    parser.add_argument("--env", required=True, help="an environment of environments.toml")
    parser.add_argument("--route", action="append", type=route, required=True, help="e.g. LED-KZN")
    parser.add_argument("--month", action="append", type=month, required=True, help="YYYY-MM")
    parser.add_argument("--currency", default="rub")
    parser.add_argument(
        "--api-url", help=f"the Aviasales API: {DEFAULT_URL}, or the local cloud's fake one locally"
    )
    args = parser.parse_args(argv)
    env = load(args.env)
    api_url, fake_token = args.api_url or DEFAULT_URL, None
    if env.is_local:  # the local cloud's fake, and its test token, unless the environment has one
        from infra.localstart import fake_url
        from localcloud.fakes.aviasales import FakeAviasales

        api_url, fake_token = args.api_url or fake_url(env, "aviasales"), FakeAviasales.token
    records = fetch_records(
        AviasalesClient(_token(env, fake_token), api_url), args.route, args.month, args.currency
    )
    kinesis, stream = env.client("kinesis"), env.resource_name(WORKFLOW, STREAM)
    try:
        put = put_records(kinesis, stream, encode(records))
    except kinesis.exceptions.ResourceNotFoundException:
        raise ConfigError(
            f"no stream {stream} in {env.name}: deploy flight-deals first ({env.deploy_command})"
        ) from None
    print(f"put {put} records on {stream}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
