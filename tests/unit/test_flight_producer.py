"""The Aviasales client and producer over real HTTP against the fake API; records onto (moto) Kinesis."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoCredentialsError

from infra.environments import ConfigError, access_problem
from localcloud.fakes.aviasales import FakeAviasales
from tasks.flight_deals import producer, replay
from tasks.flight_deals.aviasales import AviasalesClient, AviasalesRejected, AviasalesUnavailable
from tasks.flight_deals.producer import encode, fetch_records, put_records
from tasks.flight_deals.records import decode, from_month_matrix

TOKEN = "test-token"


@pytest.fixture
def api() -> Iterator[FakeAviasales]:
    with FakeAviasales(seed=3, token=TOKEN) as fake:
        yield fake


def test_the_fake_speaks_the_month_matrix_format_and_is_seeded(api: FakeAviasales) -> None:
    data = AviasalesClient(TOKEN, api.url).month_matrix("LED", "KZN", "2026-12")
    assert data == AviasalesClient(TOKEN, api.url).month_matrix("LED", "KZN", "2026-12-01")
    assert {d["depart_date"][:7] for d in data} == {"2026-12"}
    assert set(data[0]) >= {
        "show_to_affiliates", "trip_class", "origin", "destination", "depart_date", "return_date",
        "number_of_changes", "value", "found_at", "distance", "actual", "gate", "duration",
    }  # fmt: skip
    assert api.requests[0].startswith("/v2/prices/month-matrix?currency=rub&origin=LED&destination=KZN")
    other_seed = FakeAviasales(seed=4).month_matrix("LED", "KZN", 2026, 12, "rub")
    assert other_seed != data


def test_the_fake_answers_gzip_and_the_token_as_a_query_parameter(api: FakeAviasales) -> None:
    url = f"{api.url}/v2/prices/month-matrix?origin=LED&destination=MOW&month=2027-01-01&token={TOKEN}"
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as answer:
        assert answer.headers["Content-Encoding"] == "gzip"
        body = json.loads(gzip.decompress(answer.read()))
    assert body["success"] is True and body["error"] is None and body["data"]


@pytest.mark.parametrize("month", ["2026-13-01", "2026-1-01", "2026-02-30", "december"])
def test_the_fake_answers_a_month_that_is_not_one_with_a_400_as_the_api_does(
    api: FakeAviasales, month: str
) -> None:
    url = f"{api.url}/v2/prices/month-matrix?origin=LED&destination=KZN&month={month}&token={TOKEN}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)
    assert refused.value.code == 400
    assert json.loads(refused.value.read()) == {
        "success": False,
        "data": None,
        "error": f"month: invalid value {month!r}, expected YYYY-MM or YYYY-MM-DD",
    }


def test_the_producer_takes_a_month_as_yyyy_mm_only(capsys: pytest.CaptureFixture[str]) -> None:
    for month in ("2026-13", "2026-1", "2026-12-01"):
        with pytest.raises(SystemExit) as refused:
            producer.main(["--env", "local", "--route", "LED-KZN", "--month", month])
        assert refused.value.code == 2
        assert (
            capsys.readouterr()
            .err.splitlines()[-1]
            .endswith(f"error: argument --month: expected a month as YYYY-MM like 2026-12, got {month!r}")
        )


def test_the_producer_without_aws_credentials_says_what_to_configure(
    no_aws_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # exit 2, as deploy's and the CLI's: the environment must change, nothing failed
    assert producer.main(["--env", "staging", "--route", "LED-KZN", "--month", "2026-12"]) == 2
    said = capsys.readouterr().err
    assert said == access_problem(NoCredentialsError()) + "\n"  # as deploy and the CLI say it
    assert said.startswith("no AWS credentials: ")


@pytest.mark.parametrize("argv", [["--list"], []], ids=["list", "replay"])
def test_the_replay_without_aws_credentials_exits_2_as_its_help_says(
    argv: list[str], no_aws_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert replay.main(["--env", "staging", *argv]) == 2  # "2 for bad options or environment"
    assert capsys.readouterr().err == access_problem(NoCredentialsError()) + "\n"


def test_the_replay_takes_json_only_with_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        replay.main(["--env", "staging", "--json"])
    assert exited.value.code == 2 and "--json goes with --list" in capsys.readouterr().err


def test_answers_become_named_errors(api: FakeAviasales) -> None:
    with pytest.raises(AviasalesRejected, match="HTTP 401: Unauthorized"):
        AviasalesClient("wrong", api.url).month_matrix("LED", "KZN", "2026-12")
    with pytest.raises(AviasalesRejected, match="origin: invalid value"):
        AviasalesClient(TOKEN, api.url).month_matrix("Leningrad", "KZN", "2026-12")
    api.fail(times=1)
    with pytest.raises(AviasalesUnavailable, match="HTTP 503"):
        AviasalesClient(TOKEN, api.url).month_matrix("LED", "KZN", "2026-12")
    api.throttle(times=1)
    with pytest.raises(AviasalesUnavailable, match="HTTP 429"):
        AviasalesClient(TOKEN, api.url).month_matrix("LED", "KZN", "2026-12")
    assert AviasalesClient(TOKEN, api.url).month_matrix("LED", "KZN", "2026-12")
    with pytest.raises(AviasalesUnavailable):
        AviasalesClient(TOKEN, "http://127.0.0.1:9", timeout=1).month_matrix("LED", "KZN", "2026-12")


def test_the_producer_puts_valid_records_on_the_stream(api: FakeAviasales, aws: None) -> None:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="prices", ShardCount=1)
    routes, months = [("LED", "KZN"), ("LED", "MOW")], ["2026-12", "2027-01"]

    records = fetch_records(AviasalesClient(TOKEN, api.url), routes, months)
    assert put_records(kinesis, "prices", encode(records)) == len(records) > 100

    shard = kinesis.describe_stream(StreamName="prices")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="prices", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    got = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
    decoded = [json.loads(r["Data"]) for r in got]
    assert decoded == records and all(
        r["PartitionKey"] == d["record_id"] for r, d in zip(got, decoded, strict=True)
    )
    assert all(decode({"data": base64.b64encode(r["Data"]).decode(), "sequenceNumber": "1"}) for r in got)


class Flaky:
    """Kinesis refusing every other record once (ProvisionedThroughputExceeded in PutRecords' answer)."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.stored: list[bytes] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(len(Records))
        first = len(self.calls) == 1
        results = []
        for i, record in enumerate(Records):
            if first and i % 2:
                results.append(
                    {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
                )
            else:
                self.stored.append(record["Data"])
                results.append({"SequenceNumber": str(len(self.stored)), "ShardId": "shardId-0"})
        return {"FailedRecordCount": sum("ErrorCode" in r for r in results), "Records": results}


def test_records_kinesis_refuses_are_put_again() -> None:
    records = [from_month_matrix({"origin": "LED", "destination": "KZN", "depart_date": f"2026-12-{d:02d}",
                                  "value": 100 * d, "found_at": "2026-11-01T00:00:00+03:00"}, "rub")
               for d in range(1, 11)]  # fmt: skip
    kinesis = Flaky()
    assert put_records(kinesis, "prices", encode(records)) == 10
    assert kinesis.calls == [10, 5] and sorted(kinesis.stored) == sorted(d for d, _ in encode(records))


def test_the_token_comes_from_secrets_manager_else_locally_the_fakes_else_an_error_naming_the_secret(
    aws: None,
) -> None:
    from types import SimpleNamespace

    # the environment's parts _token uses, with moto's in-memory Secrets Manager
    env = SimpleNamespace(
        name="staging",
        region="eu-west-1",
        endpoint=None,
        client=boto3.client,
        resource_name=lambda *parts: "-".join(("pyflows", "staging", *parts)),
    )
    assert producer._token(env, "fake-token") == "fake-token"
    with pytest.raises(ConfigError) as refused:  # exit 2: the environment lacks it
        producer._token(env, None)
    assert str(refused.value) == (
        "no Aviasales token in staging: set it once with aws --region eu-west-1 secretsmanager create-secret "
        "--name pyflows-staging-flight-deals-aviasales-token --secret-string ..."
    )
    boto3.client("secretsmanager").create_secret(
        Name="pyflows-staging-flight-deals-aviasales-token", SecretString="real"
    )
    assert producer._token(env, "fake-token") == "real"
