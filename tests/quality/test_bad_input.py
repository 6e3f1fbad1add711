"""Bad input at every door: each malformed input is refused with an error naming the problem, and
nothing changes anywhere.

Doors: the console's HTTP API start route (POST /api/workflows/<name>/executions), the
workflows' own routes served over HTTP (POST /ride with a valid rider token, so that the body is
what is judged; POST /etf/subscriptions; GET /tickets/search), and the CLI
(`python -m workflows start NAME --input JSON`: in-process through its main() for every case,
and as a real subprocess for one case per workflow).

Inputs come from each schema (tests/quality/malformed.py): at least 20 per workflow and door.
The last test compares a snapshot taken before the first input with one taken after the last:
every table's items, every bucket's objects, what each topic delivered to an SQS inbox, each
state machine's executions, SNS subscriptions, and the write requests the local cloud served.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from typing import Any

import pytest

from bench.load import http
from localcloud import metering
from tasks.etf_signal.api_subscribe import SUBSCRIBE
from tasks.ride_request.schemas import RIDE_BODY
from tasks.ticket_ranking.api_search import QUERY
from tests import counters
from tests.quality.conftest import Quality, app_buckets, app_tables, inboxes
from tests.quality.malformed import Case, cases
from workflows import WORKFLOWS
from workflows import cli as workflows_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A valid input per workflow, each case changing one thing in it: these, or a workflow's example.
VALID: dict[str, Any] = {
    "lottery": {"winners": 2, "seed": 7},
    "flight-deals": [{"sequenceNumber": "1", "data": "eyJwcmljZSI6IDF9", "partitionKey": "MOW-LED"}],
    "ride-request": {
        "request_id": "ride-00000001",
        "pickup": {"latitude": 47.6, "longitude": -122.3},
        "rider": "ada",
    },
    "ticket-ranking": {"show": "hamilton", "days_ahead": 90},
    "etf-signal": {"date": "2026-11-20", "funds": ["510300.SH"]},
}
START_CASES = {
    name: cases(wf.input_schema, VALID.get(name, wf.example_input)) for name, wf in WORKFLOWS.items()
}
RIDE_CASES = cases(
    RIDE_BODY, {"request_id": "ride-00000001", "pickup": {"latitude": 47.6, "longitude": -122.3}}
)
# The rider is who the token says: a body naming one is refused, not believed.
RIDE_CASES.append(
    Case(
        "rider: in the body",
        json.dumps(
            {"request_id": "ride-00000002", "pickup": {"latitude": 1, "longitude": 1}, "rider": "eve"}
        ),
        "rider",
    )
)
SUBSCRIBE_CASES = cases(SUBSCRIBE, {"email": "ada@example.com"})


def _query_cases() -> list[tuple[str, dict[str, str], str]]:
    """The search route's query strings: only cases a query string can carry (strings, UTF-8)."""
    found = []
    for case in cases(QUERY, {"from": "2026-01-01", "to": "2026-02-01", "limit": "5"}):
        try:
            query = json.loads(case.text)
            case.text.encode()
            urllib.parse.urlencode(query)
        except (ValueError, RecursionError, UnicodeEncodeError, TypeError):
            continue
        if isinstance(query, dict) and all(isinstance(v, str) for v in query.values()):
            found.append((case.label, query, case.field))
    return found


QUERY_CASES = _query_cases()
URL_LIMIT = 8 * 1024
WRITES = {
    "StartExecution",
    "StartSyncExecution",
    "RedriveExecution",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "Publish",
    "PublishBatch",
    "Subscribe",
    "PutObject",
    "DeleteObject",
    "PutRecord",
    "PutRecords",
}


def param(case: Case, name: str, *prefix: str) -> Any:
    return pytest.param(*prefix, case, id="-".join((*prefix, case.label)))


# -- the state of everything, before and after ----------------------------------------------------


def snapshot(quality: Quality) -> dict[str, Any]:
    client = quality.app.client
    dynamodb, s3, sfn = client("dynamodb"), client("s3"), client("stepfunctions")
    tables = {}
    for table in app_tables(quality):
        items = [
            item
            for page in dynamodb.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
        ]
        tables[table] = sorted(json.dumps(item, sort_keys=True) for item in items)
    buckets = {}
    for bucket in app_buckets(quality):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        buckets[bucket] = sorted((o["Key"], o["ETag"]) for page in pages for o in page.get("Contents", []))
    executions = {}
    for workflow in WORKFLOWS:
        arn = quality.app.outputs[workflow]["state_machine_arn"]
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
        executions[workflow] = sorted(e["executionArn"] for page in pages for e in page["executions"])
    subscriptions = sorted(
        (s["TopicArn"], s["Protocol"], s["Endpoint"])
        for s in client("sns").list_subscriptions()["Subscriptions"]
    )
    writes = {op: n for (_, op), n in metering.counts().items() if op in WRITES}
    return {
        "tables": tables,
        "buckets": buckets,
        "executions": executions,
        "subscriptions": subscriptions,
        "writes": writes,
    }


@pytest.fixture(scope="module")
def before(quality: Quality) -> dict[str, Any]:
    """Inboxes on every topic, then the state of everything (the suite's first fixture)."""
    metering.install()
    state = {"inboxes": inboxes(quality)}
    state["snapshot"] = snapshot(quality)
    return state


@pytest.fixture
def door(quality: Quality, before: dict[str, Any]) -> Quality:
    return quality


# -- what a refusal must look like -----------------------------------------------------------------


def check_http(case: Case, status: int, body: Any) -> None:
    counters.input_tried()
    assert status == 400, f"{case.label}: answered {status} {str(body)[:300]}"
    assert isinstance(body, dict) and body.get("message"), f"{case.label}: no message in {str(body)[:300]}"
    named = [f.get("field") for f in body.get("fields", [])] + [body.get("field")]
    if case.field == "$":
        # the whole document is wrong: a field list names "$", or the message says what it must be
        assert "$" in named or "JSON" in body["message"], f"{case.label}: {body}"
    else:
        assert case.field in named, (
            f"{case.label}: fields {named} do not name {case.field!r}: {body['message']}"
        )


def check_cli(case: Case, code: int, stderr: str) -> None:
    counters.input_tried()
    assert code != 0, f"{case.label}: exit 0"
    if case.field == "$":
        assert "invalid input: $" in stderr or "not JSON" in stderr, f"{case.label}: {stderr[:300]}"
    else:
        assert f"invalid input: {case.field}:" in stderr, f"{case.label}: {stderr[:300]}"
    assert "Traceback" not in stderr


# -- the doors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workflow", "case"), [param(case, name, name) for name in WORKFLOWS for case in START_CASES[name]]
)
def test_the_console_start_route_refuses(door: Quality, workflow: str, case: Case) -> None:
    body = ('{"input": ' + case.text + "}").encode("utf-8", "surrogatepass")
    status, answer = http("POST", f"{door.url}/api/workflows/{workflow}/executions", body)
    check_http(case, status, answer)


@pytest.mark.parametrize("case", [param(case, "ride-request") for case in RIDE_CASES])
def test_post_ride_with_a_valid_token_refuses(door: Quality, case: Case) -> None:
    headers = {"Authorization": f"Bearer {door.token}"}
    status, answer = http("POST", f"{door.url}/ride", case.text.encode("utf-8", "surrogatepass"), headers)
    check_http(case, status, answer)


@pytest.mark.parametrize("case", [param(case, "etf-signal") for case in SUBSCRIBE_CASES])
def test_post_etf_subscriptions_refuses(door: Quality, case: Case) -> None:
    body = case.text.encode("utf-8", "surrogatepass")
    status, answer = http("POST", f"{door.url}/etf/subscriptions", body)
    check_http(case, status, answer)


@pytest.mark.parametrize(("label", "query", "field"), QUERY_CASES, ids=[c[0] for c in QUERY_CASES])
def test_get_tickets_search_refuses(door: Quality, label: str, query: dict[str, str], field: str) -> None:
    url = f"{door.url}/tickets/search?{urllib.parse.urlencode(query)}"
    status, answer = http("GET", url)
    if len(url) > URL_LIMIT:
        # refused by the HTTP layer before any handler, as API Gateway refuses long URLs
        counters.input_tried()
        assert status == 414
        return
    check_http(Case(label, json.dumps(query), field), status, answer)


@pytest.mark.parametrize(
    ("workflow", "case"), [param(case, name, name) for name in WORKFLOWS for case in START_CASES[name]]
)
def test_the_cli_refuses(
    door: Quality, workflow: str, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code = workflows_cli.main(["start", workflow, f"--input={case.text}"])
    check_cli(case, code, capsys.readouterr().err)


@pytest.mark.parametrize("workflow", list(WORKFLOWS))
def test_the_cli_as_a_command_refuses(door: Quality, workflow: str) -> None:
    """The real command line, once per workflow: exit status and message from a fresh process."""
    case = next(c for c in START_CASES[workflow] if c.field != "$")
    done = subprocess.run(
        [sys.executable, "-m", "workflows", "start", workflow, f"--input={case.text}"],
        cwd=ROOT,
        env={**os.environ, "PYFLOWS_ENDPOINT": door.env.endpoint},
        capture_output=True,
        text=True,
        timeout=120,
    )
    check_cli(case, done.returncode, done.stderr)


def test_every_workflow_gets_at_least_20_malformed_inputs_per_door() -> None:
    assert all(len(found) >= 20 for found in START_CASES.values()), {
        n: len(c) for n, c in START_CASES.items()
    }
    assert len(RIDE_CASES) >= 20 and len(SUBSCRIBE_CASES) >= 20 and len(QUERY_CASES) >= 10


def test_validation_refuses_nan(door: Quality) -> None:
    """The validate route starts nothing: it shows the NaN bug the doors have without side effects."""
    body = b'{"request_id": "ride-00000003", "pickup": {"latitude": NaN, "longitude": 1}, "rider": "ada"}'
    status, answer = http("POST", f"{door.url}/api/workflows/ride-request/validate", body)
    assert status == 200 and answer["valid"] is False, answer


def test_validation_refuses_an_input_over_256_kb(door: Quality) -> None:
    [case] = [c for c in START_CASES["flight-deals"] if c.label == "$: payload over 256 KB"]
    assert case.size > 256 * 1024
    status, answer = http("POST", f"{door.url}/api/workflows/flight-deals/validate", case.text.encode())
    assert status == 200 and answer["valid"] is False, {**answer, "size": case.size}


def test_nothing_changed(quality: Quality, before: dict[str, Any]) -> None:
    """Runs last (file order): no table, bucket, topic, execution or subscription changed."""
    after = snapshot(quality)
    delivered = {arn: box.messages() for arn, box in before["inboxes"].items()}
    assert {arn: msgs for arn, msgs in delivered.items() if msgs} == {}
    changed = {part: after[part] for part in after if after[part] != before["snapshot"][part]}
    assert changed == {}, {
        part: {"before": before["snapshot"][part], "after": after[part]} for part in changed
    }
