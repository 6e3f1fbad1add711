"""etf-signal handlers and API routes against moto, with the fake Tushare over real HTTP."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from localcloud.fakes.tushare import FakeTushare
from tasks.etf_signal import (
    api_signals,
    api_subscribe,
    compute_signals,
    config,
    fetch_prices,
    plan_day,
    send_report,
    signals,
)
from tasks.etf_signal import tushare as tushare_module
from tasks.etf_signal.compute_signals import NoPrices, ReportContended
from tasks.etf_signal.tushare import (
    SHANGHAI,
    TushareClient,
    TushareError,
    TushareMalformed,
    TushareRateLimited,
    TushareUnavailable,
    today,
)
from tasks.shared import documents, parameters
from tasks.shared.errors import InvalidInput
from tasks.shared.http import Response
from tests.conftest import Inbox
from tests.unit.conftest import TEST_ENV, create_table, envelope, handler_environment
from workflows.etf_signal import TUSHARE_PARAMETERS, WORKFLOW

BUCKET, IDEMPOTENCY = "reports-test", "idempotency-test"
URL_PARAMETER = TEST_ENV.setting_name(TUSHARE_PARAMETERS["TUSHARE_URL_PARAMETER"])
TOKEN_SECRET = TEST_ENV.setting_name(TUSHARE_PARAMETERS["TUSHARE_TOKEN_SECRET"])
DAY = "2026-11-20"  # a Friday
HOLIDAY = "2026-10-05"  # National Day week


@pytest.fixture
def tushare() -> Iterator[FakeTushare]:
    with FakeTushare() as fake:
        yield fake


@pytest.fixture
def aws_env(aws: None, tushare: FakeTushare, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    parameters.clear()
    create_table(WORKFLOW.tables[0], IDEMPOTENCY)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    topic = boto3.client("sns").create_topic(Name="signals-test")["TopicArn"]
    boto3.client("ssm").put_parameter(Name=URL_PARAMETER, Value=tushare.url, Type="String")
    boto3.client("secretsmanager").create_secret(Name=TOKEN_SECRET, SecretString=tushare.token)
    names = {"reports": BUCKET, "idempotency": IDEMPOTENCY, "signals": topic}
    handler_environment(monkeypatch, WORKFLOW.functions, names)
    # An SQS subscriber stands for the email subscribers: it counts what was published.
    return {"topic": topic, "inbox": Inbox(boto3.client, topic, raw=False)}


def fetch(
    day: str, context: LambdaContext, funds: list[dict[str, str]] | None = None
) -> list[dict[str, Any]]:
    """The Map of the workflow, fund by fund; a fund whose fetch raises is 'missing' (its Catch)."""
    found = []
    for fund in funds or config.funds():
        try:
            found.append(
                fetch_prices.handler(envelope({"date": day, "fund": fund, "history_days": 120}), context)
            )
        except (TushareUnavailable, TushareRateLimited, TushareError) as error:
            found.append({"ts_code": fund["ts_code"], "status": "missing", "error": type(error).__name__})
    return found


def compute(day: str, fetched: list[dict[str, Any]], context: LambdaContext) -> dict[str, Any]:
    return compute_signals.handler(
        envelope({"date": day, "funds": config.funds(), "fetched": fetched}), context
    )


def test_plan_day_takes_the_configured_funds_or_a_subset(context: LambdaContext) -> None:
    everything = plan_day.handler(envelope({"request": {"date": DAY}}), context)
    assert everything == {"date": DAY, "funds": config.funds(), "history_days": 120}
    code = config.funds()[1]["ts_code"]
    assert plan_day.handler(envelope({"request": {"funds": [code]}}), context)["funds"] == [config.funds()[1]]


def test_plan_day_names_the_field_and_every_fund_that_is_not_configured(context: LambdaContext) -> None:
    wanted = [config.funds()[0]["ts_code"], "999999.SH", "888888.SZ"]
    with pytest.raises(InvalidInput) as refused:
        plan_day.handler(envelope({"request": {"date": DAY, "funds": wanted}}), context)
    assert str(refused.value) == "funds: not in the configured fund list: 888888.SZ, 999999.SH"


@pytest.mark.parametrize("day", ["2026-02-30", "2025-02-29", "2026-13-01", "2026-04-31", "2026-11-00"])
def test_plan_day_refuses_a_date_that_is_not_on_the_calendar_naming_the_field(
    context: LambdaContext, day: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        plan_day.handler(envelope({"request": {"date": day}}), context)
    assert str(refused.value) == f'request.date: "{day}" is not a calendar date'
    # the door (console, API, CLI) refuses it first, with the same words
    assert documents.errors(WORKFLOW.input_schema, {"date": day}) == [
        {"field": "date", "message": f'"{day}" is not a calendar date'}
    ]


def test_plan_day_takes_a_leap_day(context: LambdaContext) -> None:
    assert plan_day.handler(envelope({"request": {"date": "2024-02-29"}}), context)["date"] == "2024-02-29"


def test_plan_day_refuses_a_day_still_to_come_and_takes_today(context: LambdaContext) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    said = f'"{tomorrow}" is in the future (today is {today()} in Asia/Shanghai)'
    with pytest.raises(InvalidInput) as refused:
        plan_day.handler(envelope({"request": {"date": tomorrow}}), context)
    assert str(refused.value) == f"request.date: {said}"
    # the door (console, API, CLI) refuses it first, with the same words
    assert documents.errors(WORKFLOW.input_schema, {"date": tomorrow}) == [{"field": "date", "message": said}]
    assert documents.errors(WORKFLOW.input_schema, {"date": today().isoformat()}) == []
    assert plan_day.handler(envelope({"request": {"date": today().isoformat()}}), context)["date"] == (
        today().isoformat()
    )
    assert plan_day.handler(envelope({"request": {}}), context)["date"] == today().isoformat()


def test_plan_day_refuses_a_scheduled_time_whose_day_is_still_to_come(context: LambdaContext) -> None:
    """A scheduled time is EventBridge's, so never to come; one written by hand may be."""
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    day = datetime.fromisoformat(later).astimezone(SHANGHAI).date()
    with pytest.raises(InvalidInput) as refused:
        plan_day.handler(envelope({"request": {"scheduled_time": later}}), context)
    assert str(refused.value) == (
        f"scheduled_time: {later} is on {day}, in the future (today is {today()} in Asia/Shanghai)"
    )


def test_a_scheduled_run_plans_the_day_it_was_scheduled_for_however_late_it_starts(
    context: LambdaContext,
) -> None:
    # The day is the occurrence's in Shanghai (17:00 UTC is 01:00 there the next day), not today.
    times = "2026-11-20T09:30:00Z", "2026-11-19T17:00:00Z"
    assert [
        plan_day.handler(envelope({"request": {"scheduled_time": t}}), context)["date"] for t in times
    ] == [
        "2026-11-20",
        "2026-11-20",
    ]
    # a day asked for by hand wins
    both = {"date": "2026-11-19", "scheduled_time": "2026-11-20T09:30:00Z"}
    assert plan_day.handler(envelope({"request": both}), context)["date"] == "2026-11-19"
    with pytest.raises(InvalidInput) as refused:
        plan_day.handler(envelope({"request": {"scheduled_time": "2026-02-30T09:30:00Z"}}), context)
    assert str(refused.value) == "scheduled_time: 2026-02-30T09:30:00Z is not a time on the calendar"
    assert [e["field"] for e in documents.errors(WORKFLOW.input_schema, {"scheduled_time": "today"})] == [
        "scheduled_time"
    ]


def test_tushare_has_no_bars_for_days_to_come(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext
) -> None:
    weekday = next(d for d in (today() + timedelta(days=n) for n in range(1, 8)) if d.weekday() < 5)
    assert {f["status"] for f in fetch(weekday.isoformat(), context)} == {"no_data"}
    rows = TushareClient(tushare.url, tushare.token).fund_daily(
        config.funds()[0]["ts_code"], "20240101", "20301231"
    )
    assert rows and max(r["trade_date"] for r in rows) <= today().strftime("%Y%m%d")


def test_the_door_refuses_a_fund_that_is_not_configured_naming_the_field_and_the_code() -> None:
    """The workflow's input schema, as the console, the API and the CLI check it before starting."""
    schema = WORKFLOW.input_schema
    codes = [f["ts_code"] for f in config.funds()]
    assert documents.errors(schema, {"date": DAY, "funds": codes}) == []
    [problem] = documents.errors(schema, {"funds": [codes[0], "999999.SH"]})
    assert problem["field"] == "funds.1" and "999999.SH" in problem["message"]


def test_a_date_that_is_not_one_names_the_pattern_as_it_is_written() -> None:
    [problem] = documents.errors(WORKFLOW.input_schema, {"date": "29/11/2026"})
    assert problem == {
        "field": "date",
        "message": r'"29/11/2026" is not a date written YYYY-MM-DD (the pattern ^\d{4}-\d{2}-\d{2}$)',
    }


def test_a_normal_day_writes_the_report_and_emails_it_once(
    aws_env: dict[str, Any], context: LambdaContext
) -> None:
    fetched = fetch(DAY, context)
    assert {f["status"] for f in fetched} == {"ok"}

    day = compute(DAY, fetched, context)

    assert day["market_open"] is True and day["missing"] == []
    assert sum(day["summary"].values()) == len(config.funds())
    report = json.loads(
        boto3.client("s3").get_object(Bucket=BUCKET, Key=f"signals/{DAY}/report.json")["Body"].read()
    )
    assert report["date"] == DAY and len(report["signals"]) == len(config.funds())

    request = {"date": DAY, "run": "run-1"}
    first = send_report.handler(envelope(request), context)
    retried = send_report.handler(envelope(request), context)
    again = send_report.handler(envelope({**request, "run": "run-2"}), context)

    # the stored result of the first publish: the run that sent it is not told it was sent before
    assert retried == first and first["already_sent"] is False
    assert first["emailed"] == sorted(f["ts_code"] for f in config.funds())
    assert again == {**first, "already_sent": True, "emailed": []}
    messages = aws_env["inbox"].notifications()
    assert len(messages) == 1
    assert messages[0]["Subject"] == signals.subject(report)
    assert messages[0]["Message"] == signals.text(report)


def test_a_holiday_is_a_closed_market_and_writes_nothing(
    aws_env: dict[str, Any], context: LambdaContext
) -> None:
    fetched = fetch(HOLIDAY, context)
    assert {f["status"] for f in fetched} == {"no_data"}
    assert compute(HOLIDAY, fetched, context) == {"market_open": False, "date": HOLIDAY}
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="signals/")


def test_a_failing_fund_is_named_missing_in_the_report(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext
) -> None:
    broken = config.funds()[2]
    tushare.fail(ts_code=broken["ts_code"])

    day = compute(DAY, fetch(DAY, context), context)

    assert day["missing"] == [broken["ts_code"]]
    assert (day["complete"], day["failed"]) == (False, f"{broken['ts_code']} (TushareUnavailable)")
    # the input of a run of the day for it alone, ready for the shell
    assert [json.loads(word) for word in shlex.split(day["rerun"])] == [
        {"date": DAY, "funds": [broken["ts_code"]]}
    ]
    report = json.loads(
        boto3.client("s3").get_object(Bucket=BUCKET, Key=f"signals/{DAY}/report.json")["Body"].read()
    )
    assert report["missing"] == [
        {"ts_code": broken["ts_code"], "name": broken["name"], "reason": "TushareUnavailable"}
    ]
    assert signals.subject(report).endswith(", 1 missing")


def test_a_fund_without_a_bar_beside_signalled_ones_leaves_the_day_complete(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suspended fund has no bar to fetch: no run of the day would signal it, so nothing to make good."""
    suspended, *others = config.funds()
    monkeypatch.setattr(tushare, "funds", [f["ts_code"] for f in others])

    day = compute(DAY, fetch(DAY, context), context)

    assert day["missing"] == [suspended["ts_code"]] and day["complete"] is True
    assert "failed" not in day and "rerun" not in day


def test_a_fund_missing_at_first_is_emailed_alone_in_a_follow_up_once(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext
) -> None:
    codes = sorted(f["ts_code"] for f in config.funds())
    late = config.funds()[2]
    tushare.fail(ts_code=late["ts_code"])
    compute(DAY, fetch(DAY, context), context)
    first = send_report.handler(envelope({"date": DAY, "run": "run-1"}), context)
    assert first["emailed"] == [c for c in codes if c != late["ts_code"]]

    tushare.recover()  # the day started again for the late fund alone
    assert compute(DAY, fetch(DAY, context, [late]), context)["complete"] is True
    follow_up = send_report.handler(envelope({"date": DAY, "run": "run-2"}), context)
    retried = send_report.handler(envelope({"date": DAY, "run": "run-2"}), context)
    nothing_new = send_report.handler(envelope({"date": DAY, "run": "run-3"}), context)

    assert follow_up == retried and follow_up["already_sent"] is False
    assert follow_up["emailed"] == [late["ts_code"]] and follow_up["message_id"] != first["message_id"]
    assert nothing_new == {**follow_up, "already_sent": True, "emailed": []}
    sent, again = aws_env["inbox"].notifications()
    assert (
        sent["Subject"].endswith(", 1 missing") and late["ts_code"] not in sent["Message"].split("Missing")[0]
    )
    assert again["Subject"].startswith(f"ETF signals {DAY} (follow-up): ")
    assert not again["Subject"].endswith("missing") and "Follow-up:" in again["Message"]
    signalled = [
        line.split()[1] for line in again["Message"].splitlines() if line[:4] in ("BUY ", "SELL", "HOLD")
    ]
    assert signalled == [late["ts_code"]]  # the others were emailed before: not again


def test_another_run_of_the_day_adds_to_its_report_without_taking_away(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext
) -> None:
    """A second run for fewer funds, or with a fund failing now, keeps what the first run signalled
    (and emailed); a fund missing from the first that the second signals is no longer missing."""
    funds = config.funds()
    late, failing = funds[0], funds[1]
    tushare.fail(ts_code=late["ts_code"])
    first = compute(DAY, fetch(DAY, context), context)
    assert first["missing"] == [late["ts_code"]]

    tushare.recover()
    tushare.fail(ts_code=failing["ts_code"])
    again = compute(DAY, fetch(DAY, context, [late, failing]), context)

    report = json.loads(
        boto3.client("s3").get_object(Bucket=BUCKET, Key=f"signals/{DAY}/report.json")["Body"].read()
    )
    assert sorted(s["ts_code"] for s in report["signals"]) == sorted(f["ts_code"] for f in funds)
    assert report["missing"] == [] and again["missing"] == []
    assert sum(again["summary"].values()) == len(funds)


def test_a_report_written_by_another_run_meanwhile_is_not_overwritten(
    aws_env: dict[str, Any], context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of the day at once: the one whose write finds the report changed since it read it
    writes nothing and raises ReportContended; run again (the workflow's retry), it merges."""
    funds = config.funds()
    mine, theirs = fetch(DAY, context, funds[:1]), fetch(DAY, context, funds[1:])
    merge = signals.report

    def another_run_writes_first(*args: Any) -> dict[str, Any]:
        monkeypatch.setattr(signals, "report", merge)
        compute(DAY, theirs, context)  # between this run's read and its write
        return merge(*args)

    monkeypatch.setattr(signals, "report", another_run_writes_first)
    with pytest.raises(ReportContended):
        compute(DAY, mine, context)
    compute(DAY, mine, context)

    report = json.loads(
        boto3.client("s3").get_object(Bucket=BUCKET, Key=f"signals/{DAY}/report.json")["Body"].read()
    )
    assert sorted(s["ts_code"] for s in report["signals"]) == sorted(f["ts_code"] for f in funds)
    text = boto3.client("s3").get_object(Bucket=BUCKET, Key=f"signals/{DAY}/report.txt")["Body"].read()
    assert all(f["ts_code"] in text.decode() for f in funds)


def test_every_fund_failing_is_an_error_not_a_holiday(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext
) -> None:
    tushare.fail()
    with pytest.raises(NoPrices):
        compute(DAY, fetch(DAY, context), context)


def test_a_suspended_fund_during_an_outage_is_an_error_not_a_holiday(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    suspended, *others = config.funds()
    monkeypatch.setattr(tushare, "funds", [f["ts_code"] for f in others])  # no bars for it at all
    for fund in others:
        tushare.fail(ts_code=fund["ts_code"])
    fetched = fetch(DAY, context)
    assert [f["status"] for f in fetched] == ["no_data"] + ["missing"] * len(others)

    with pytest.raises(NoPrices) as failed:
        compute(DAY, fetched, context)

    message = str(failed.value)
    assert all(f"{f['ts_code']} (TushareUnavailable)" in message for f in others)
    assert message.endswith(f"no bar for the day: {suspended['ts_code']}")
    assert f"{suspended['ts_code']} (" not in message  # not among the funds that could not be fetched
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="signals/")


def test_tushare_throttling_and_refusals_are_named(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext
) -> None:
    event = envelope({"date": DAY, "fund": config.funds()[0], "history_days": 120})
    tushare.throttle(times=1)
    with pytest.raises(TushareRateLimited):
        fetch_prices.handler(event, context)
    assert fetch_prices.handler(event, context)["status"] == "ok"
    tushare.token = "rotated"
    with pytest.raises(TushareError, match="40101"):
        fetch_prices.handler(event, context)


@pytest.mark.parametrize("left_out", ["trade_date", "close"])
def test_a_malformed_tushare_answer_is_named_not_retried_and_named_in_no_prices(
    aws_env: dict[str, Any], tushare: FakeTushare, context: LambdaContext, left_out: str
) -> None:
    """Bars without a field the fetch or the signals read: a named business error saying what is
    missing (asked again, Tushare would answer the same), not a KeyError blamed on a later state."""
    fund = config.funds()[0]
    tushare.leave_out(left_out)
    calls = len(tushare.calls)
    with pytest.raises(TushareMalformed) as malformed:
        fetch_prices.handler(envelope({"date": DAY, "fund": fund, "history_days": 120}), context)
    assert str(malformed.value).startswith(f"fund_daily {fund['ts_code']}: a bar without {left_out}: {{")
    assert len(tushare.calls) == calls + 1
    fetch_retries = {
        error
        for retry in _state(WORKFLOW.build(), "Fetch Fund Prices")["Retry"]
        for error in retry["ErrorEquals"]
    }
    assert not fetch_retries & {"TushareMalformed", "TushareError", "States.ALL", "States.TaskFailed"}

    with pytest.raises(NoPrices) as failed:  # every fund's Catch keeps the error's name
        compute(DAY, fetch(DAY, context), context)
    assert all(f"{f['ts_code']} (TushareMalformed)" in str(failed.value) for f in config.funds())


def _state(definition: dict[str, Any], name: str) -> dict[str, Any]:
    """A state of the definition by its name, at any depth (a Map's processor, a Parallel's branch)."""
    for state_name, state in definition["States"].items():
        if state_name == name:
            return dict(state)
        for inner in [state.get("ItemProcessor") or state.get("Iterator"), *state.get("Branches", [])]:
            if inner:
                try:
                    return _state(inner, name)
                except KeyError:
                    pass
    raise KeyError(name)


def api(handler: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = handler({"version": "2.0", **event}, None)
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({}, "email"),
        ({"email": "x@y.com", "extra": 1}, "extra"),
    ],
)
def test_a_bad_subscription_gets_400_naming_the_field(
    aws_env: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    status, answer = api(api_subscribe.handler, {"body": json.dumps(body)})
    assert status == 400
    assert [f["field"] for f in answer["fields"]] == [field]
    assert answer["message"].startswith(f"{field}: ")


@pytest.mark.parametrize(("body", "reason"), [("{oops", "Expecting property name"), (None, "no body")])
def test_a_subscription_that_is_not_json_gets_400_saying_why(
    aws_env: dict[str, Any], body: str | None, reason: str
) -> None:
    status, answer = api(api_subscribe.handler, {"body": body})
    assert status == 400 and answer["fields"][0]["field"] == "$"
    assert answer["message"].startswith("the request body is not JSON: ") and reason in answer["message"]


def test_a_subscription_exists_after_a_good_one_and_twice_is_harmless(aws_env: dict[str, Any]) -> None:
    event = {"body": json.dumps({"email": "Investor@Example.com"})}
    status, first = api(api_subscribe.handler, event)
    assert status == 202 and first["email"] == "investor@example.com"
    status, second = api(api_subscribe.handler, event)
    assert status == 202 and second["subscription"] == first["subscription"]
    subscriptions = boto3.client("sns").list_subscriptions_by_topic(TopicArn=aws_env["topic"])[
        "Subscriptions"
    ]
    assert [s["Endpoint"] for s in subscriptions if s["Protocol"] == "email"] == ["investor@example.com"]


def test_past_signals_are_listed_and_fetched(aws_env: dict[str, Any], context: LambdaContext) -> None:
    for day in ("2026-11-19", DAY):
        compute(day, fetch(day, context), context)

    assert api(api_signals.handler, {}) == (200, {"dates": [DAY, "2026-11-19"]})
    status, report = api(api_signals.handler, {"pathParameters": {"date": DAY}})
    assert status == 200 and report["date"] == DAY
    assert api(api_signals.handler, {"pathParameters": {"date": "2026-11-21"}})[0] == 404
    assert api(api_signals.handler, {"pathParameters": {"date": "yesterday"}})[0] == 400
    status, refused = api(api_signals.handler, {"pathParameters": {"date": "2026-02-30"}})
    assert status == 400 and refused["fields"][0]["field"] == "date"  # the shape of a date, not one
    assert date.fromisoformat(DAY).weekday() == 4


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, {"code": 40203, "msg": "rate limited"}, TushareRateLimited),
        (200, {"code": -2001, "msg": "每分钟最多访问该接口500次"}, TushareRateLimited),  # said in words
        (200, {"code": -1, "msg": "接口访问频率超限"}, TushareRateLimited),
        (500, "Internal Server Error", TushareUnavailable),
        (503, "Service Unavailable", TushareUnavailable),
        (200, {"code": 40101, "msg": "token invalid"}, TushareError),
        (403, {"code": 0}, TushareError),
        (200, {"code": 0, "data": {"fields": ["ts_code"], "items": [["510300.SH"]]}}, TushareMalformed),
        (200, {"code": 0, "data": ["510300.SH"]}, TushareMalformed),
        (200, {"code": 0, "data": {"fields": ["ts_code"], "items": ["510300.SH"]}}, TushareMalformed),
    ],
)
def test_tushares_answers_become_the_errors_the_workflow_retries_or_not(
    monkeypatch: pytest.MonkeyPatch, status: int, body: Any, error: type[Exception]
) -> None:
    monkeypatch.setattr(tushare_module, "request_json", lambda *args, **kwargs: Response(status, {}, body))
    with pytest.raises(error):
        TushareClient("http://tushare.invalid", "token").fund_daily("510300.SH", "20261101", "20261120")
