"""etf-signal's real definition and handlers on the local cloud, with the fake Tushare over real HTTP.

Each test asserts the final status, the states entered, the report in S3 and what subscribers
(an SQS inbox on the signals topic) and on-call (the alerts topic) received.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.fakes.tushare import FakeTushare
from tasks.etf_signal import config
from tasks.etf_signal.tushare import SHANGHAI
from tasks.shared.errors import cause_message
from tests.conftest import Inbox
from tests.workflows.conftest import Deployed, Run, deploy_workflows
from tests.workflows.policy_edges import (
    ALERT,
    TRANSIENT_THEN_THROTTLED,
    UNALERTED,
    a_flaky_alert_is_retried_and_sent,
    a_malformed_task_event_is_alerted,
    an_alert_that_cannot_be_sent_does_not_hide_the_failure,
    an_unexpected_api_failure_is_alerted_once_an_hour,
    errors_by_function,
    every_function_survives_a_transient_error_and_a_throttle,
    failed_errors,
    repeated_alerts_are_emailed_once_an_hour,
)
from tests.workflows.scheduling import fire_schedule
from workflows import cli as workflows_cli
from workflows.etf_signal import NAME, TUSHARE_PARAMETERS

DAY = "2026-11-20"  # a Friday
HOLIDAY = "2026-10-05"  # National Day week: no bars
FUNDS = len(config.funds())
PLAN = ["Plan Day", "Fetch Prices"]
REPORTED = ["Compute Signals", "Market Open?", "Send Report", "Every Fund In?", "Report Sent"]
# a fund missing after retries: the others are emailed, then the day's alert
INCOMPLETE = ["Compute Signals", "Market Open?", "Send Report", "Every Fund In?", "Day Incomplete", *ALERT]


@pytest.fixture(scope="module")
def tushare() -> Iterator[FakeTushare]:
    with FakeTushare() as fake:
        yield fake


@pytest.fixture(scope="module")
def app(local_cloud: LocalCloud, tushare: FakeTushare) -> Deployed:
    settings = {
        TUSHARE_PARAMETERS["TUSHARE_URL_PARAMETER"]: tushare.url,
        TUSHARE_PARAMETERS["TUSHARE_TOKEN_SECRET"]: tushare.token,
    }
    deployed = deploy_workflows(local_cloud, NAME, settings=settings)
    return deployed


@pytest.fixture
def etf(app: Deployed, tushare: FakeTushare) -> Deployed:
    """No reports, no day sent yet, no faults, a healthy provider."""
    app.empty(NAME, "reports", "idempotency")
    app.clear_faults()
    tushare.recover()
    return app


@pytest.fixture
def subscribers(etf: Deployed) -> Inbox:
    return etf.inbox(etf.resource(NAME, "signals"))


@pytest.fixture
def alerts(etf: Deployed) -> Inbox:
    return etf.inbox(etf.resource(NAME, "alerts"))


def top_level(run: Run) -> list[str]:
    return [s for s in run.states if s not in ("Fetch Fund Prices", "Fund Missing")]


def report(app: Deployed, day: str, kind: str = "json") -> Any:
    body = app.client("s3").get_object(
        Bucket=app.resource(NAME, "reports"), Key=f"signals/{day}/report.{kind}"
    )
    text = body["Body"].read().decode()
    return json.loads(text) if kind == "json" else text


def route(app: Deployed, fn: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The deployed route handler, invoked with an HTTP API v2 event as API Gateway would."""
    answer = app.client("lambda").invoke(
        FunctionName=app.function(NAME, fn), Payload=json.dumps({"version": "2.0", **event})
    )
    result = json.loads(answer["Payload"].read())
    return result["statusCode"], json.loads(result["body"])


def test_a_normal_day_writes_the_report_and_emails_subscribers(
    etf: Deployed, subscribers: Inbox, alerts: Inbox
) -> None:
    run = etf.run(NAME, {"date": DAY})

    assert run.status == "SUCCEEDED"
    assert top_level(run) == [*PLAN, *REPORTED]
    assert run.states.count("Fetch Fund Prices") == FUNDS
    day = report(etf, DAY)
    assert day["date"] == DAY and len(day["signals"]) == FUNDS and day["missing"] == []
    assert run.output["summary"] == day["summary"] and run.output["missing"] == []
    assert run.output["emailed"] == sorted(f["ts_code"] for f in config.funds())
    [message] = subscribers.messages()
    assert message == report(etf, DAY, "txt")
    assert alerts.messages() == []


def test_re_running_the_same_day_does_not_email_twice(etf: Deployed, subscribers: Inbox) -> None:
    first = etf.run(NAME, {"date": DAY})
    again = etf.run(NAME, {"date": DAY})

    assert first.status == again.status == "SUCCEEDED"
    assert top_level(again) == [*PLAN, *REPORTED]
    assert again.output["message_id"] == first.output["message_id"]  # the first publish, remembered
    assert (first.output["already_sent"], again.output["already_sent"]) == (False, True)
    assert len(subscribers.messages()) == 1


def test_two_runs_of_a_day_at_once_keep_each_others_funds(etf: Deployed, subscribers: Inbox) -> None:
    """Each for half the funds, side by side: the day's report ends with every fund, whichever
    wrote first (a write that finds the report changed since it read it is retried and merges)."""
    codes = [f["ts_code"] for f in config.funds()]
    halves = [codes[: FUNDS // 2], codes[FUNDS // 2 :]]
    started = [etf.start(NAME, {"date": DAY, "funds": half}) for half in halves]
    runs = [etf.wait(arn, NAME) for arn in started]

    assert [r.status for r in runs] == ["SUCCEEDED", "SUCCEEDED"]
    day = report(etf, DAY)
    assert sorted(s["ts_code"] for s in day["signals"]) == sorted(codes) and day["missing"] == []
    # one email, or a follow-up with the funds the first did not have yet: each fund's signal once
    assert sorted(emailed(subscribers.messages())) == sorted(codes)
    assert sorted(c for r in runs for c in r.output["emailed"]) == sorted(codes)


def test_a_report_another_run_changed_meanwhile_is_merged_again_after_a_backoff(
    etf: Deployed, alerts: Inbox
) -> None:
    etf.inject(NAME, "compute-signals", "error", times=1, error_type="ReportContended")

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "SUCCEEDED" and failed_errors(run) == ["ReportContended"]
    assert run.states.count("Compute Signals") == 1 and alerts.messages() == []


def test_a_holiday_succeeds_without_sending(etf: Deployed, subscribers: Inbox, alerts: Inbox) -> None:
    run = etf.run(NAME, {"date": HOLIDAY})

    assert run.status == "SUCCEEDED"
    assert top_level(run) == [*PLAN, "Compute Signals", "Market Open?", "Market Closed"]
    assert run.output == {"date": HOLIDAY, "market_open": False}
    listed = etf.client("s3").list_objects_v2(Bucket=etf.resource(NAME, "reports"), Prefix="signals/")
    assert "Contents" not in listed
    assert subscribers.messages() == [] and alerts.messages() == []


def emailed(messages: list[str]) -> list[str]:
    """The funds whose signals the emails carry (a signal's line starts with its action)."""
    return [
        line.split()[1] for m in messages for line in m.splitlines() if line[:4] in ("BUY ", "SELL", "HOLD")
    ]


def test_one_fund_failing_is_emailed_missing_and_alerted_and_its_day_started_again_sends_it_once(
    etf: Deployed, tushare: FakeTushare, subscribers: Inbox, alerts: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = config.funds()[3]
    tushare.fail(ts_code=broken["ts_code"])

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "FAILED" and run.error == "FundsMissing"
    assert top_level(run) == [*PLAN, *INCOMPLETE]
    assert run.states.count("Fund Missing") == 1
    assert failed_errors(run) == ["TushareUnavailable"] * 4  # 1 + MaxAttempts 3, then caught in the Map
    day = report(etf, DAY)
    assert day["missing"] == [
        {"ts_code": broken["ts_code"], "name": broken["name"], "reason": "TushareUnavailable"}
    ]
    assert len(day["signals"]) == FUNDS - 1
    [message] = subscribers.messages()  # the others first, the fund named missing
    assert f"- {broken['ts_code']} {broken['name']}: TushareUnavailable" in message
    assert broken["ts_code"] not in emailed([message])
    # the alert names the fund and the start that makes the day good
    rerun = json.dumps({"date": DAY, "funds": [broken["ts_code"]]})
    command = f"python -m workflows start {NAME} --env {etf.env.name} --input '{rerun}' --wait"
    assert f"{DAY}: no signal for {broken['ts_code']} (TushareUnavailable)" in (run.cause or "")
    assert command in (run.cause or "")
    [alert] = alerts.messages()
    assert "FundsMissing" in alert and command in alert
    assert workflows_cli.main(["describe", run.arn]) == 0
    assert "FundsMissing" in capsys.readouterr().out

    tushare.recover()
    again = etf.run(NAME, json.loads(rerun))
    once_more = etf.run(NAME, {"date": DAY})

    assert again.status == once_more.status == "SUCCEEDED"
    assert report(etf, DAY)["missing"] == [] and again.output["missing"] == []
    assert (again.output["already_sent"], again.output["emailed"]) == (False, [broken["ts_code"]])
    assert (once_more.output["already_sent"], once_more.output["emailed"]) == (True, [])
    [follow_up] = subscribers.messages()  # read since the first: the others are not sent again
    assert emailed([follow_up]) == [broken["ts_code"]] and "Follow-up:" in follow_up
    assert alerts.messages() == []


def test_at_most_two_funds_are_fetched_at_once(etf: Deployed) -> None:
    """Tushare counts a token's calls per minute: the funds are fetched two at a time."""
    etf.inject(NAME, "fetch-prices", "latency", latency=0.2)  # each item lasts long enough to overlap

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "SUCCEEDED"
    running, most = 0, 0
    for event in run.events:
        if event["type"] == "MapIterationStarted":
            running += 1
            most = max(most, running)
        elif event["type"] in ("MapIterationSucceeded", "MapIterationFailed"):
            running -= 1
    assert most == 2 < FUNDS


def test_throttling_is_absorbed_by_retry(etf: Deployed, tushare: FakeTushare, subscribers: Inbox) -> None:
    tushare.throttle(times=3)

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "SUCCEEDED"
    assert failed_errors(run) == ["TushareRateLimited"] * 3
    assert "Fund Missing" not in run.states and run.output["missing"] == []
    assert len(subscribers.messages()) == 1


def test_settings_unreadable_for_a_moment_are_retried_and_no_fund_goes_missing(
    etf: Deployed, subscribers: Inbox
) -> None:
    """SSM or Secrets Manager failing briefly (SettingUnavailable) is an outage, retried as Tushare's."""
    etf.inject(NAME, "fetch-prices", "error", times=1, error_type="SettingUnavailable")

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "SUCCEEDED"
    assert failed_errors(run) == ["SettingUnavailable"]
    assert "Fund Missing" not in run.states and run.output["missing"] == []
    assert len(subscribers.messages()) == 1


def test_a_fund_whose_fetch_fails_for_another_reason_is_reported_missing_with_it(
    etf: Deployed, subscribers: Inbox, alerts: Inbox
) -> None:
    etf.inject(NAME, "fetch-prices", "error", times=1, error_type="UnexpectedAnswer")

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "FAILED" and run.error == "FundsMissing"
    assert failed_errors(run) == ["UnexpectedAnswer"]  # not retried: it would fail again
    assert run.states.count("Fund Missing") == 1 and top_level(run) == [*PLAN, *INCOMPLETE]
    [missing] = report(etf, DAY)["missing"]
    assert missing["reason"] == "UnexpectedAnswer"
    assert f"{missing['ts_code']} (UnexpectedAnswer)" in (run.cause or "")
    assert len(report(etf, DAY)["signals"]) == FUNDS - 1
    assert len(subscribers.messages()) == 1 and len(alerts.messages()) == 1


def test_every_fund_failing_alerts_and_sends_nothing(
    etf: Deployed, tushare: FakeTushare, subscribers: Inbox, alerts: Inbox
) -> None:
    tushare.fail()

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "FAILED" and run.error == "NoPrices"
    assert f"{config.funds()[0]['ts_code']} (TushareUnavailable)" in (run.cause or "")
    assert top_level(run) == [*PLAN, "Compute Signals", *ALERT]
    assert subscribers.messages() == []
    [alert] = alerts.messages()
    assert "NoPrices" in alert and run.arn in alert


def test_a_malformed_tushare_answer_is_not_retried_and_the_alert_names_it(
    etf: Deployed, tushare: FakeTushare, alerts: Inbox
) -> None:
    tushare.leave_out("trade_date")

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "FAILED" and run.error == "NoPrices"
    assert failed_errors(run) == ["TushareMalformed"] * FUNDS + [
        "NoPrices"
    ]  # once each: asked again, the same
    assert all(f"{f['ts_code']} (TushareMalformed)" in (run.cause or "") for f in config.funds())
    fetch_failed = next(e for e in run.events if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert "a bar without trade_date" in cause_message(fetch_failed["cause"])  # what was missing
    [alert] = alerts.messages()
    assert "(TushareMalformed)" in alert


def test_a_suspended_fund_during_an_outage_alerts_instead_of_closing_the_market(
    etf: Deployed,
    tushare: FakeTushare,
    subscribers: Inbox,
    alerts: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suspended, *others = config.funds()
    monkeypatch.setattr(tushare, "funds", [f["ts_code"] for f in others])  # no bars for it at all
    for fund in others:
        tushare.fail(ts_code=fund["ts_code"])

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "FAILED" and run.error == "NoPrices"
    assert top_level(run) == [*PLAN, "Compute Signals", *ALERT]
    assert run.states.count("Fund Missing") == len(others)
    [alert] = alerts.messages()
    assert "NoPrices" in alert and run.arn in alert
    for fund in others:
        assert f"{fund['ts_code']} (TushareUnavailable)" in alert
    assert f"no bar for the day: {suspended['ts_code']}" in alert
    listed = etf.client("s3").list_objects_v2(Bucket=etf.resource(NAME, "reports"), Prefix="signals/")
    assert "Contents" not in listed
    assert subscribers.messages() == []


def test_a_fund_outside_the_configured_list_fails_naming_the_field(etf: Deployed, alerts: Inbox) -> None:
    # Started directly, past the door that would have refused it: Plan Day refuses it.
    run = etf.run(NAME, {"funds": ["999999.SH", config.funds()[0]["ts_code"], "888888.SZ"]})

    assert run.status == "FAILED" and run.error == "InvalidInput"
    refusal = "funds: not in the configured fund list: 888888.SZ, 999999.SH"
    assert refusal in (run.cause or "")
    assert run.states == ["Plan Day", *ALERT]
    [alert] = alerts.messages()
    assert refusal in alert


def test_a_date_not_on_the_calendar_fails_naming_the_field_before_any_fetch(
    etf: Deployed, tushare: FakeTushare, subscribers: Inbox, alerts: Inbox
) -> None:
    calls = len(tushare.calls)

    run = etf.run(NAME, {"date": "2026-02-30"})

    assert run.status == "FAILED" and run.error == "InvalidInput"
    refusal = 'request.date: "2026-02-30" is not a calendar date'
    assert cause_message(run.cause) == refusal
    assert run.states == ["Plan Day", *ALERT]
    assert len(tushare.calls) == calls  # the provider is never blamed: it is never called
    [alert] = alerts.messages()
    assert json.dumps(refusal)[1:-1] in alert and "NoPrices" not in alert  # the cause, as JSON
    assert subscribers.messages() == []


def test_a_day_to_come_started_directly_fails_in_plan_day_and_emails_nobody(
    etf: Deployed, tushare: FakeTushare, subscribers: Inbox, alerts: Inbox
) -> None:
    """StartExecution, past the door that refuses it."""
    calls = len(tushare.calls)

    run = etf.run(NAME, {"date": "2030-01-02"})

    assert run.status == "FAILED" and run.error == "InvalidInput"
    assert cause_message(run.cause).startswith('request.date: "2030-01-02" is in the future (today is ')
    assert run.states == ["Plan Day", *ALERT]
    assert len(tushare.calls) == calls
    assert subscribers.messages() == [] and len(alerts.messages()) == 1


@pytest.mark.parametrize(
    ("day", "said"),
    [("2026-02-30", "is not a calendar date"), ("2030-01-02", "is in the future (today is ")],
)
def test_the_door_refuses_a_date_not_on_the_calendar_or_to_come_before_starting(
    etf: Deployed, capsys: pytest.CaptureFixture[str], day: str, said: str
) -> None:
    sfn, machine = etf.client("stepfunctions"), etf.outputs[NAME]["state_machine_arn"]
    started = len(sfn.list_executions(stateMachineArn=machine)["executions"])

    code = workflows_cli.main(["start", NAME, f'--input={{"date": "{day}"}}'])

    assert code == 2
    assert capsys.readouterr().err.startswith(f'invalid input: date: "{day}" {said}')
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == started


def test_the_door_refuses_a_fund_outside_the_configured_list_before_starting(
    etf: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    sfn, machine = etf.client("stepfunctions"), etf.outputs[NAME]["state_machine_arn"]
    started = len(sfn.list_executions(stateMachineArn=machine)["executions"])

    code = workflows_cli.main(["start", NAME, '--input={"funds": ["510300.SH", "999999.SH"]}'])

    assert code == 2
    err = capsys.readouterr().err
    assert "invalid input: funds.1:" in err and "999999.SH" in err
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == started


@pytest.mark.parametrize(
    ("fn", "failing_state"),
    [("plan-day", "Plan Day"), ("compute-signals", "Compute Signals"), ("send-report", "Send Report")],
)
def test_any_other_error_alerts_then_fails_with_it(
    etf: Deployed, alerts: Inbox, subscribers: Inbox, fn: str, failing_state: str
) -> None:
    etf.inject(NAME, fn, "error", error_type="Boom", message="it broke")

    run = etf.run(NAME, {"date": DAY})

    assert run.status == "FAILED" and run.error == "Boom"
    assert top_level(run)[-4:] == [failing_state, *ALERT]
    assert subscribers.messages() == []
    assert len(alerts.messages()) == 1


def test_every_lambda_task_survives_a_transient_error_and_a_throttle(
    etf: Deployed, subscribers: Inbox
) -> None:
    # Another attempt of the same day publishing at this moment: Send Report waits for it.
    etf.inject(NAME, "send-report", "error", times=1, error_type="IdempotencyAlreadyInProgressError")

    run = every_function_survives_a_transient_error_and_a_throttle(
        etf, NAME, {"date": DAY, "funds": [config.funds()[0]["ts_code"]]}
    )

    assert errors_by_function(etf, NAME, run)["send-report"] == [
        "IdempotencyAlreadyInProgressError",
        *TRANSIENT_THEN_THROTTLED,
    ]
    assert len(subscribers.messages()) == 1


def test_the_api_subscribes_an_email_and_rejects_a_bad_one(etf: Deployed) -> None:
    status, body = route(etf, "api-subscribe", {"body": json.dumps({"email": "not an email"})})
    assert status == 400 and body["fields"][0]["field"] == "email"

    for _ in range(2):  # twice is harmless
        status, body = route(etf, "api-subscribe", {"body": json.dumps({"email": "saver@example.com"})})
        assert status == 202 and body["email"] == "saver@example.com"

    sns = etf.client("sns")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=etf.resource(NAME, "signals"))["Subscriptions"]
    assert [s["Endpoint"] for s in subscriptions if s["Protocol"] == "email"] == ["saver@example.com"]


def test_the_api_lists_past_signals_and_returns_a_days_report(etf: Deployed) -> None:
    for day in ("2026-11-19", DAY):
        assert etf.run(NAME, {"date": day}).status == "SUCCEEDED"

    assert route(etf, "api-signals", {"routeKey": "GET /etf/signals"}) == (
        200,
        {"dates": [DAY, "2026-11-19"]},
    )
    status, body = route(etf, "api-signals", {"pathParameters": {"date": DAY}})
    assert status == 200 and body == report(etf, DAY)
    assert route(etf, "api-signals", {"pathParameters": {"date": "2026-11-22"}})[0] == 404


@pytest.mark.parametrize(
    ("function", "event", "wrong", "error"),
    [
        (
            "api-subscribe",
            {"body": json.dumps({"email": "saver@example.com"})},
            "SIGNALS_TOPIC",
            "AuthorizationError",
        ),
        ("api-signals", {"routeKey": "GET /etf/signals"}, "REPORTS_BUCKET", "AccessDenied"),
    ],
)
def test_an_api_failing_unexpectedly_is_500_and_alerted_once_an_hour(
    etf: Deployed, function: str, event: dict[str, Any], wrong: str, error: str
) -> None:
    """What it reads or writes named wrongly, outside its role's grants: not the client's mistake."""
    an_unexpected_api_failure_is_alerted_once_an_hour(etf, NAME, function, event, wrong, error)


def test_a_scheduled_run_signals_the_day_it_was_scheduled_for_however_late_it_starts(etf: Deployed) -> None:
    # The scheduler looks three days ago, over a week of weekday 17:30 (Shanghai) occurrences: it
    # starts one run, for the latest, now; its day is that occurrence's, not today.
    looked = datetime.now(UTC) - timedelta(days=3)
    [execution] = fire_schedule(etf, NAME, looked, start=looked - timedelta(days=7))

    run = etf.wait(execution, NAME)

    scheduled = looked.astimezone(SHANGHAI).replace(hour=17, minute=30, second=0, microsecond=0)
    while scheduled.weekday() > 4 or scheduled > looked:
        scheduled -= timedelta(days=1)
    given = json.loads(etf.client("stepfunctions").describe_execution(executionArn=execution)["input"])
    assert given == {"scheduled_time": f"{scheduled.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"}
    assert run.status == "SUCCEEDED"
    assert run.output["date"] == scheduled.date().isoformat()
    # on-call starting it again by hand with the same input (the console's Start again) gets that day
    assert etf.run(NAME, given).output["date"] == run.output["date"]


def test_a_flaky_alert_is_retried_and_sent(etf: Deployed) -> None:
    run = a_flaky_alert_is_retried_and_sent(etf, NAME, "Plan Day", "InvalidInput", {"date": DAY})

    assert run.states == ["Plan Day", *ALERT]


def test_an_alert_that_cannot_be_sent_does_not_hide_the_failure(etf: Deployed) -> None:
    run = an_alert_that_cannot_be_sent_does_not_hide_the_failure(
        etf, NAME, "Plan Day", "InvalidInput", {"date": DAY}
    )

    assert run.states == ["Plan Day", *UNALERTED]


def test_a_malformed_task_event_is_alerted(etf: Deployed, alerts: Inbox) -> None:
    run = a_malformed_task_event_is_alerted(etf, NAME, "Plan Day", {"date": DAY})

    assert run.states == ["Plan Day", *ALERT]
    [alert] = alerts.messages()
    assert "MalformedTaskInput" in alert


def test_repeated_alerts_are_emailed_once_an_hour(etf: Deployed) -> None:
    repeated_alerts_are_emailed_once_an_hour(etf, NAME, "Plan Day", {"date": DAY})
