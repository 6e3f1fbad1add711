"""ETF signal: once a trading day, fetch the configured funds' prices, compute signals, report, email.

    Plan Day (the day in Asia/Shanghai, the configured funds)
    -> Fetch Prices (Map, 2 at a time for Tushare's rate limit): Fetch Fund Prices -> S3
         throttling and outages retried with jitter; a fund still failing -> Fund Missing
         (at once on a refusal or a malformed answer, TushareError/TushareMalformed: not retried)
    -> Compute Signals (report JSON + text to signals/<date>/) -> Market Open?
         no fund has a bar for the day (holiday) -> Market Closed (nothing written, nothing sent)
         otherwise -> Send Report (SNS: each fund's signal once, idempotency records) -> Every Fund In?
             yes -> Report Sent
             a fund missing after retries -> Day Incomplete (FundsMissing) -> Alert Failure -> Failed
    any other error -> Alert Failure -> Failed: no fund signalled and some failed (NoPrices, a
         suspended fund beside an outage included), or an input Plan Day refuses (InvalidInput)

One fund failing does not stop the day: the report lists it as missing, the subject says how
many are missing, and the others are emailed. The run then fails with FundsMissing, alerted,
naming the funds and the start of the day that makes it good once the provider is back: that run
emails their signals in a follow-up, once. The console, API and CLI refuse a malformed date, one not on the calendar
(2026-02-30) or a fund that is not configured before anything starts; a run started directly
(StartExecution) is refused by Plan Day, naming the field, and alerts like any other failure.
Plan Day also refuses a day still to come (Tushare has no prices for it, and calling it closed
would mislead), before any provider call. The provider's token comes from Secrets Manager, and
a re-run of the same day emails only the funds no earlier email carried.
"""

from __future__ import annotations

from typing import Any

from stepfunctions.steps.choice_rule import ChoiceRule

from tasks.etf_signal.schemas import DAY_REQUEST, MAX_FUNDS
from tasks.etf_signal.storage import PRICES_PREFIX, SIGNALS_PREFIX
from workflows import asl
from workflows.policies import (
    ALERT_ACCESS,
    ALERT_ENVIRONMENT,
    SETTING_UNAVAILABLE,
    alert_and_fail,
    catch_to,
    contention_retry,
    lambda_task,
    provider_retries,
)
from workflows.registry import (
    ENVIRONMENT,
    PUBLIC_ROUTE_CONCURRENCY,
    SCHEDULED_TIME,
    Access,
    Bucket,
    Function,
    Route,
    Schedule,
    Table,
    Throttle,
    Topic,
    Workflow,
)

NAME = "etf-signal"
MAP_CONCURRENCY = 2  # Tushare counts calls per minute per token
TUSHARE_RETRIES = (["TushareUnavailable", SETTING_UNAVAILABLE], ["TushareRateLimited"])


def _fetch_fund() -> asl.Chain:
    fetch = lambda_task(
        "Fetch Fund Prices",
        "FetchPricesFunctionArn",
        "$",
        result_selector={
            "ts_code.$": "$.Payload.ts_code",
            "status.$": "$.Payload.status",
            "key.$": "$.Payload.key",
        },
        extra_retries=provider_retries(*TUSHARE_RETRIES),
    )
    missing = asl.Pass(
        "Fund Missing",
        parameters={"ts_code.$": "$.fund.ts_code", "status": "missing", "error.$": "$.error.Error"},
        comment="The report names the fund instead of the whole day failing",
    )
    fetch.add_catch(asl.Catch(error_equals=["States.ALL"], next_step=missing, result_path="$.error"))
    return asl.Chain([fetch])


def build() -> dict[str, Any]:
    alert = alert_and_fail(NAME)

    plan = lambda_task(
        "Plan Day",
        "PlanDayFunctionArn",
        {"request.$": "$"},
        result_selector={
            "date.$": "$.Payload.date",
            "funds.$": "$.Payload.funds",
            "history_days.$": "$.Payload.history_days",
        },
        result_path="$.day",
    )
    fetch_all = asl.Map(
        "Fetch Prices",
        item_processor=_fetch_fund(),
        items_path="$.day.funds",
        max_concurrency=MAP_CONCURRENCY,
        item_selector={
            "date.$": "$.day.date",
            "history_days.$": "$.day.history_days",
            "fund.$": "$$.Map.Item.Value",
        },
        result_path="$.fetched",
        comment="Prices go to S3; each fund answers ok, no_data (closed) or missing",
    )
    compute = lambda_task(
        "Compute Signals",
        "ComputeSignalsFunctionArn",
        {"date.$": "$.day.date", "funds.$": "$.day.funds", "fetched.$": "$.fetched"},
        result_selector={"Payload.$": "$.Payload"},
        result_path="$.signals",
        extra_retries=[contention_retry(["ReportContended"])],
        comment="Writes signals/<date>/report.json and report.txt",
    )
    send = lambda_task(
        "Send Report",
        "SendReportFunctionArn",
        {"date.$": "$.day.date", "run.$": "$$.Execution.Id"},
        result_selector={
            "message_id.$": "$.Payload.message_id",
            "sent_at.$": "$.Payload.sent_at",
            "already_sent.$": "$.Payload.already_sent",
            "emailed.$": "$.Payload.emailed",
        },
        result_path="$.sent",
        extra_retries=[
            # Another attempt of the same day is publishing right now: wait for it to finish.
            asl.Retry(
                error_equals=["IdempotencyAlreadyInProgressError"],
                interval_seconds=5,
                max_attempts=3,
                backoff_rate=2.0,
            )
        ],
        comment="Emails each fund's signal once per trading day, whatever retries or re-runs happen",
    )
    sent = asl.Pass(
        "Report Sent",
        parameters={
            "date.$": "$.day.date",
            "summary.$": "$.signals.Payload.summary",
            "missing.$": "$.signals.Payload.missing",
            "message_id.$": "$.sent.message_id",
            "sent_at.$": "$.sent.sent_at",
            "already_sent.$": "$.sent.already_sent",
            "emailed.$": "$.sent.emailed",
        },
    )
    # the others are emailed; the day is made good by another run once the provider is back
    incomplete = asl.Pass(
        "Day Incomplete",
        parameters={
            "Error": "FundsMissing",
            "Cause.$": "States.Format('{}: no signal for {}: their prices could not be fetched. "
            "Subscribers were emailed the other funds. Once the provider answers again (or what the "
            "error names is fixed), start the day again for them: python -m workflows start "
            f"{NAME} --env ${{{ENVIRONMENT}}} --input {{}} --wait (their signals are then emailed, "
            "once, in a follow-up).', "
            "$.day.date, $.signals.Payload.failed, $.signals.Payload.rerun)",
        },
        result_path="$.error",
    )
    every_fund = asl.Choice("Every Fund In?")
    every_fund.add_choice(
        ChoiceRule.BooleanEquals(variable="$.signals.Payload.complete", value=True), next_step=sent
    )
    every_fund.default_choice(incomplete)
    closed = asl.Pass("Market Closed", parameters={"date.$": "$.day.date", "market_open": False})

    market_open = asl.Choice("Market Open?")
    market_open.add_choice(
        ChoiceRule.BooleanEquals(variable="$.signals.Payload.market_open", value=True), next_step=send
    )
    market_open.default_choice(closed)

    for state in (plan, fetch_all, compute, send):
        catch_to(state, alert)
    send.next(every_fund)
    incomplete.next(alert)

    chain = asl.Chain([plan, fetch_all, compute, market_open])
    return asl.Graph(chain, comment="ETF signal: daily prices, signals, report, email once").to_dict()


# Names only (deploy fills in app and env); the values are set once per environment:
# base-url is Tushare's endpoint (http://api.tushare.pro), token a Secrets Manager secret.
TUSHARE_PARAMETERS = {
    "TUSHARE_URL_PARAMETER": "/{app}/{env}/tushare/base-url",
    "TUSHARE_TOKEN_SECRET": "{app}/{env}/tushare/token",
}

WORKFLOW = Workflow(
    name=NAME,
    description="Daily ETF trading signals from Tushare prices: report to S3, email subscribers once",
    type=asl.StateMachineType.STANDARD,
    build=build,
    input_schema=DAY_REQUEST,
    # 50 funds fetched 2 at a time are 25 rounds of a 30 s fetch: with each fund throttled by
    # Tushare through the whole back-off (up to 51 s), 35 minutes. Two hours leaves room for an
    # outage's retries as well, and a run started as late as its schedule allows (21:30) still
    # emails the day's signals that evening; one still going then is stuck.
    timeout_seconds=2 * 3600,
    example_input={"date": "2026-11-20"},
    functions=(
        Function(
            name="plan-day",
            handler="tasks.etf_signal.plan_day.handler",
            description="Picks the trading day and the configured funds",
        ),
        Function(
            name="fetch-prices",
            handler="tasks.etf_signal.fetch_prices.handler",
            description="Reads one fund's daily bars from Tushare into S3",
            access=(Access("reports", ("s3:PutObject",), prefix=PRICES_PREFIX),),
            environment={"REPORTS_BUCKET": "reports"},
            parameters=TUSHARE_PARAMETERS,
            timeout=30,
        ),
        Function(
            name="compute-signals",
            handler="tasks.etf_signal.compute_signals.handler",
            description="Computes the day's signals and writes the report (JSON and text)",
            # reads the day's prices, reads and writes its report; ListBucket: without it S3 answers
            # a day with no report yet 403, not NoSuchKey
            access=(
                Access("reports", ("s3:GetObject",), prefix=PRICES_PREFIX),
                Access("reports", ("s3:ListBucket", "s3:GetObject", "s3:PutObject"), prefix=SIGNALS_PREFIX),
            ),
            environment={"REPORTS_BUCKET": "reports"},
            timeout=30,
        ),
        Function(
            name="send-report",
            handler="tasks.etf_signal.send_report.handler",
            description="Emails the day's report to subscribers, once per trading day",
            access=(
                Access("reports", ("s3:GetObject",), prefix=SIGNALS_PREFIX),
                Access("signals", ("sns:Publish",)),
                Access(
                    "idempotency",
                    ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
                ),
            ),
            environment={
                "REPORTS_BUCKET": "reports",
                "SIGNALS_TOPIC": "signals",
                "IDEMPOTENCY_TABLE": "idempotency",
            },
        ),
        Function(
            name="api-subscribe",
            handler="tasks.etf_signal.api_subscribe.handler",
            description="POST /etf/subscriptions: subscribes an email address to the signals",
            # the route is public: email only, never an endpoint that would receive the signals
            # elsewhere (an HTTP address, a queue of another account)
            access=(
                Access("signals", ("sns:Subscribe",), {"StringEquals": {"sns:Protocol": "email"}}),
                *ALERT_ACCESS,
            ),
            environment={"SIGNALS_TOPIC": "signals", **ALERT_ENVIRONMENT},
            reserved_concurrency=PUBLIC_ROUTE_CONCURRENCY,
        ),
        Function(
            name="api-signals",
            handler="tasks.etf_signal.api_signals.handler",
            description="GET /etf/signals and /etf/signals/{date}: past signal dates and reports",
            # ListBucket: the dates listed, and a date with no report answered 404, not 403
            access=(
                Access("reports", ("s3:ListBucket", "s3:GetObject"), prefix=SIGNALS_PREFIX),
                *ALERT_ACCESS,
            ),
            environment={"REPORTS_BUCKET": "reports", **ALERT_ENVIRONMENT},
            reserved_concurrency=PUBLIC_ROUTE_CONCURRENCY,
        ),
    ),
    tables=(Table(name="idempotency", partition_key=("id", "S"), ttl_attribute="expiration"),),
    topics=(Topic("signals", "ETF signals"),),
    buckets=(Bucket("reports"),),
    triggers=(
        Schedule(
            # After Tushare publishes the day's bars (Shanghai closes at 15:00); a holiday ends in
            # Market Closed. Weekdays only, where the original ran daily: the exchange has no
            # weekend bars, so a weekend run could only end Market Closed. The run's day is the
            # occurrence's, however late its start.
            "cron(30 17 ? * MON-FRI *)",
            input={"scheduled_time": SCHEDULED_TIME},
            timezone="Asia/Shanghai",
            # A start retried until 21:30 still emails the day's signals that evening; the day is
            # idempotent (the report merges, the email goes once), so a start made twice is harmless.
            max_event_age_seconds=4 * 3600,
            retry_attempts=10,
        ),
    ),
    integrations=ALERT_ACCESS,
    max_map_items=MAX_FUNDS,
    unreachable={
        "catch Fetch Prices -> Alert Window": "every fund's error is caught inside the Map, so the "
        "report can name the missing fund; the Map's own Catch stays as the policy's safety net",
    },
    routes=(
        # public (the sign-up page's form), and each request emails the address it names: a few a
        # second, or anyone could flood inboxes and have SNS restrict the account's emails, alerts too
        Route("POST", "/etf/subscriptions", "api-subscribe", throttle=Throttle(rate=1, burst=5)),
        Route("GET", "/etf/signals", "api-signals"),
        Route("GET", "/etf/signals/{date}", "api-signals"),
    ),
)
