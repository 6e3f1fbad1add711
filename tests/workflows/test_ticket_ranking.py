"""ticket-ranking's real definition and handlers on the local cloud, with the fake broker over real HTTP.

Each test asserts the final status, the states entered, the rankings and state tables, and what
was published on the deals and alerts topics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from localcloud import LocalCloud, mock_config
from localcloud.fakes.ticket_broker import FakeTicketBroker
from tasks.shared.errors import cause_message
from tasks.ticket_ranking import store, told
from tasks.ticket_ranking.schemas import PAGE_SIZE
from tests.conftest import Inbox
from tests.workflows.conftest import Deployed, Run, deploy_workflows, mocks
from tests.workflows.policy_edges import (
    ALERT,
    SNS_FLAKY_ERRORS,
    SNS_FLAKY_THEN_SENT,
    UNALERTED,
    a_flaky_alert_is_retried_and_sent,
    a_malformed_task_event_is_alerted,
    an_alert_that_cannot_be_sent_does_not_hide_the_failure,
    an_unexpected_api_failure_is_alerted_once_an_hour,
    every_function_survives_a_transient_error_and_a_throttle,
    failed_errors,
    repeated_alerts_are_emailed_once_an_hour,
)
from tests.workflows.scheduling import fire_schedule
from workflows.registry import Schedule
from workflows.ticket_ranking import BROKER_PARAMETERS, NAME, WORKFLOW

FETCH_AND_RANK = ["Fetch Inventory", "Rank Performances"]
AFTER_RANKING = ["Mark Current", "Find New Deals", "Any New Deals?"]
ANNOUNCED = ["Notify Subscribers", "Record Deals Told", "Deals Announced"]


@pytest.fixture(scope="module")
def broker() -> Iterator[FakeTicketBroker]:
    with FakeTicketBroker(seed=5, performances=10, listings=(20, 50), unmapped_theatre=False) as fake:
        yield fake


@pytest.fixture(scope="module")
def app(local_cloud: LocalCloud, broker: FakeTicketBroker) -> Deployed:
    settings = {
        BROKER_PARAMETERS["BROKER_URL_PARAMETER"]: broker.url,
        BROKER_PARAMETERS["BROKER_API_KEY_SECRET"]: broker.api_key,
    }
    deployed = deploy_workflows(local_cloud, NAME, settings=settings)
    return deployed


@pytest.fixture
def ranking(app: Deployed, broker: FakeTicketBroker) -> Deployed:
    """No current rankings, nothing told to subscribers, a healthy broker with its usual inventory,
    in theatres whose seats are mapped (one that is not is alerted: see its test).
    (Rankings of earlier tests stay: they belong to runs of other names, which no test reads.)"""
    app.empty(NAME, "state")
    app.clear_faults()
    broker.recover()
    broker.reseed(performances=10, listings=(20, 50), unmapped_theatre=False, shows_per_week=7)
    return app


@pytest.fixture
def deals(ranking: Deployed) -> Inbox:
    return ranking.inbox(ranking.resource(NAME, "deals"))


@pytest.fixture
def alerts(ranking: Deployed) -> Inbox:
    return ranking.inbox(ranking.resource(NAME, "alerts"))


def top_level(run: Run) -> list[str]:
    """States entered outside the Map's iterations (they interleave with bounded concurrency)."""
    return [s for s in run.states if s not in ("Rank Performance", "Store Ranking")]


def current_run(app: Deployed) -> str | None:
    item = app.client("dynamodb").get_item(
        TableName=app.resource(NAME, "state"), Key={"key": {"S": "current#hamilton"}}, ConsistentRead=True
    )
    return item["Item"]["run_id"]["S"] if "Item" in item else None


def stored_runs(app: Deployed) -> set[str]:
    pages = app.client("dynamodb").get_paginator("scan").paginate(TableName=app.resource(NAME, "rankings"))
    return {item["run_id"]["S"] for page in pages for item in page["Items"]}


def search(app: Deployed, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The deployed route handler, invoked with an HTTP API v2 event as API Gateway would."""
    event = {"version": "2.0", "routeKey": "GET /tickets/search", "queryStringParameters": query}
    answer = app.client("lambda").invoke(
        FunctionName=app.function(NAME, "api-search"), Payload=json.dumps(event)
    )
    result = json.loads(answer["Payload"].read())
    return result["statusCode"], json.loads(result["body"])


def test_the_first_run_notifies_and_an_identical_second_run_notifies_nobody(
    ranking: Deployed, broker: FakeTicketBroker, deals: Inbox, alerts: Inbox
) -> None:
    first = ranking.run(NAME, {}, name="rank-first")

    assert first.status == "SUCCEEDED"
    assert top_level(first) == [*FETCH_AND_RANK, *AFTER_RANKING, *ANNOUNCED]
    assert first.output["performances"] == len(broker.events) <= PAGE_SIZE
    assert first.states.count("Rank Performance") == first.states.count("Store Ranking") == 1  # one page
    assert first.output["current"] is True and first.output["skipped_theatres"] == []
    [message] = deals.messages()
    assert message.startswith("New best tickets for hamilton")
    assert message.count("\n- ") == first.output["new_deals"] > 0
    assert current_run(ranking) == "rank-first"

    second = ranking.run(NAME, {}, name="rank-second")

    assert second.status == "SUCCEEDED"
    assert top_level(second) == [*FETCH_AND_RANK, *AFTER_RANKING, "No New Deals"]
    assert second.output["new_deals"] == 0
    assert deals.messages() == [] and alerts.messages() == []
    assert current_run(ranking) == "rank-second"  # ranked again: the newer rankings are current


def test_a_better_ticket_after_the_announcement_is_announced(
    ranking: Deployed, broker: FakeTicketBroker, deals: Inbox
) -> None:
    ranking.run(NAME, {})
    deals.messages()
    target = next(e for e in broker.events if e["venue"]["id"] == "cibc-theatre")
    broker.add_listing(
        target["id"],
        {"id": "steal", "section": "Orchestra", "row": "C", "seats": [15, 16], "quantity": 2, "price": 59.0},
    )

    run = ranking.run(NAME, {})

    assert run.status == "SUCCEEDED" and run.output["new_deals"] == 1
    [message] = deals.messages()
    assert f"{target['starts_at'][:10]} at CIBC Theatre: Orchestra row C, 2 x $59.00" in message


def test_deals_are_announced_again_once_what_was_told_expires(
    ranking: Deployed, local_cloud: LocalCloud, deals: Inbox
) -> None:
    first = ranking.run(NAME, {})
    assert first.output["new_deals"] > 0 and deals.messages()
    assert ranking.run(NAME, {}).output["new_deals"] == 0  # told already

    told_expire = time.time() + store.TOLD_TTL_SECONDS + 60  # DynamoDB's TTL deletes the "told" records
    expired = local_cloud.expiry.expire(now=told_expire)

    told = [key["key"]["S"] for table, key in expired if table == ranking.resource(NAME, "state")]
    assert len(told) == first.output["new_deals"] and all(k.startswith("told#") for k in told)
    assert current_run(ranking) is not None  # the current-run pointer has no TTL: it stays
    again = ranking.run(NAME, {})
    assert again.output["new_deals"] == first.output["new_deals"]
    [message] = deals.messages()
    assert message.startswith("New best tickets for hamilton")


def told_runs(app: Deployed) -> dict[str, str]:
    """The told items: per key, the run that recorded it."""
    pages = app.client("dynamodb").get_paginator("scan").paginate(TableName=app.resource(NAME, "state"))
    items = [item for page in pages for item in page["Items"]]
    return {i["key"]["S"]: i["run_id"]["S"] for i in items if i["key"]["S"].startswith(told.PREFIX)}


def test_a_told_item_past_its_ttl_bars_no_deal_before_it_is_deleted(ranking: Deployed, deals: Inbox) -> None:
    first = ranking.run(NAME, {}, name="rank-told")
    assert first.output["new_deals"] > 1 and deals.messages()
    recorded = told_runs(ranking)
    expired = min(recorded)
    # DynamoDB deletes it up to two days late; the tests' local cloud deletes only when a test
    # calls expire(), so it stays for the next run to read
    ranking.client("dynamodb").update_item(
        TableName=ranking.resource(NAME, "state"),
        Key={"key": {"S": expired}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 60)}},
    )
    assert told_runs(ranking) == recorded  # still there

    again = ranking.run(NAME, {}, name="rank-after-expiry")

    assert again.status == "SUCCEEDED" and again.output["new_deals"] == 1  # the others still bar their deals
    [message] = deals.messages()
    assert message.count("\n- ") == 1
    assert told_runs(ranking) == recorded | {expired: "rank-after-expiry"}  # recorded anew


def test_a_theatre_without_seat_data_is_skipped_and_alerted_once(
    ranking: Deployed, broker: FakeTicketBroker, alerts: Inbox
) -> None:
    broker.reseed(unmapped_theatre=True)
    mapped = [e for e in broker.events if e["venue"]["id"] != "saenger-nola"]

    first = ranking.run(NAME, {})

    assert first.status == "SUCCEEDED" and first.output["skipped_theatres"] == ["saenger-nola"]
    assert first.output["performances"] == len(mapped) < len(broker.events)
    [alert] = alerts.messages()
    assert "saenger-nola" in alert and "no seat data" in alert
    second = ranking.run(NAME, {})
    assert second.output["skipped_theatres"] == ["saenger-nola"] and alerts.messages() == []


def test_a_broker_failing_twice_then_answering_succeeds_through_retry(
    ranking: Deployed, broker: FakeTicketBroker, alerts: Inbox
) -> None:
    broker.fail(times=2)

    run = ranking.run(NAME, {})

    assert run.status == "SUCCEEDED"
    assert failed_errors(run) == ["BrokerUnavailable", "BrokerUnavailable"]
    assert run.states.count("Fetch Inventory") == 1  # retried inside the state
    assert alerts.messages() == []


def test_broker_throttling_is_absorbed_by_retry(ranking: Deployed, broker: FakeTicketBroker) -> None:
    broker.throttle(times=3)

    run = ranking.run(NAME, {})

    assert run.status == "SUCCEEDED"
    assert failed_errors(run) == ["BrokerThrottled"] * 3


def test_settings_unreadable_for_a_moment_are_retried_like_a_broker_outage(
    ranking: Deployed, alerts: Inbox
) -> None:
    """The broker's URL or key could not be read from SSM or Secrets Manager (SettingUnavailable)."""
    ranking.inject(NAME, "fetch-inventory", "error", times=2, error_type="SettingUnavailable")

    run = ranking.run(NAME, {})

    assert run.status == "SUCCEEDED"
    assert failed_errors(run) == ["SettingUnavailable", "SettingUnavailable"]
    assert run.states.count("Fetch Inventory") == 1 and alerts.messages() == []


def test_a_broker_url_corrected_by_hand_is_read_by_the_warm_function_that_failed_on_the_old_one(
    ranking: Deployed, broker: FakeTicketBroker, alerts: Inbox
) -> None:
    """Fetch Inventory caches its settings for minutes while it succeeds; a failure forgets them,
    so the retry reads the URL an operator has just corrected instead of failing on the old one."""
    ssm, url = ranking.client("ssm"), ranking.env.setting_name(BROKER_PARAMETERS["BROKER_URL_PARAMETER"])
    assert ranking.run(NAME, {}).status == "SUCCEEDED"  # the warm worker has the broker's URL cached
    with FakeTicketBroker(seed=5, performances=10, listings=(20, 50), unmapped_theatre=False) as moved:
        try:
            ssm.put_parameter(Name=url, Value=moved.url, Type="String", Overwrite=True)
            broker.fail()  # the old address answers no more

            run = ranking.run(NAME, {})

            assert run.status == "SUCCEEDED"
            assert failed_errors(run) == ["BrokerUnavailable"]  # the cached URL once, then the corrected one
            assert moved.requests and alerts.messages() == []
        finally:
            ssm.put_parameter(Name=url, Value=broker.url, Type="String", Overwrite=True)
        broker.recover()
        moved.fail()

        back = ranking.run(NAME, {})  # and back again: the worker now has the moved URL cached

    assert back.status == "SUCCEEDED"
    assert failed_errors(back) == ["BrokerUnavailable"]


def test_a_broker_down_for_good_alerts_and_leaves_the_previous_rankings_current(
    ranking: Deployed, broker: FakeTicketBroker, deals: Inbox, alerts: Inbox
) -> None:
    ranking.run(NAME, {}, name="rank-before-outage")
    deals.messages()
    broker.fail()

    run = ranking.run(NAME, {}, name="rank-during-outage")

    assert run.status == "FAILED" and run.error == "BrokerUnavailable"
    assert run.states == ["Fetch Inventory", *ALERT]
    assert [e["type"] for e in run.events].count("TaskFailed") == 4  # 1 + MaxAttempts 3
    [alert] = alerts.messages()
    assert "BrokerUnavailable" in alert and run.arn in alert
    assert current_run(ranking) == "rank-before-outage"
    assert "rank-before-outage" in stored_runs(ranking) and "rank-during-outage" not in stored_runs(ranking)
    assert deals.messages() == []


def test_a_ranking_failing_midway_leaves_its_partial_rankings_not_current(
    ranking: Deployed, alerts: Inbox
) -> None:
    ranking.run(NAME, {}, name="rank-complete")
    ranking.inject(NAME, "store-ranking", "error", times=1, error_type="Boom")

    run = ranking.run(NAME, {}, name="rank-partial")

    assert run.status == "FAILED" and run.error == "Boom"
    assert top_level(run) == [*FETCH_AND_RANK, *ALERT]
    assert current_run(ranking) == "rank-complete"
    status, body = search(ranking, {"from": "2000-01-01", "to": "2100-01-01"})
    assert status == 200 and body["run_id"] == "rank-complete"
    assert len(alerts.messages()) == 1


@pytest.mark.parametrize(
    ("fn", "failing_state"),
    [
        ("fetch-inventory", "Fetch Inventory"),
        ("rank-performance", "Rank Performances"),
        ("mark-current", "Mark Current"),
        ("find-deals", "Find New Deals"),
        ("record-deals", "Record Deals Told"),
    ],
)
def test_any_other_error_alerts_then_fails_with_it(
    ranking: Deployed, alerts: Inbox, fn: str, failing_state: str
) -> None:
    ranking.inject(NAME, fn, "error", error_type="Boom", message="it broke")

    run = ranking.run(NAME, {})

    assert run.status == "FAILED" and run.error == "Boom" and "it broke" in (run.cause or "")
    assert top_level(run)[-4:] == [failing_state, *ALERT]
    [alert] = alerts.messages()
    assert "Boom" in alert


def test_a_publish_that_fails_alerts(ranking: Deployed, alerts: Inbox) -> None:
    sns, topic = ranking.client("sns"), ranking.resource(NAME, "deals")
    sns.delete_topic(TopicArn=topic)
    try:
        run = ranking.run(NAME, {})
    finally:
        sns.create_topic(Name=topic.rsplit(":", 1)[1])
    assert run.status == "FAILED"
    assert top_level(run)[-4:] == ["Notify Subscribers", *ALERT]
    assert len(alerts.messages()) == 1


def test_every_lambda_task_survives_a_transient_error_and_a_throttle(ranking: Deployed, deals: Inbox) -> None:
    run = every_function_survives_a_transient_error_and_a_throttle(ranking, NAME, {})

    assert run.output["current"] is True and current_run(ranking) == run.output["run_id"]
    assert len(deals.messages()) == 1


def test_a_flaky_publish_is_retried_and_the_deals_are_recorded_as_told(ranking: Deployed) -> None:
    """SNS refusing the deals for a moment (a transient error, then a throttle) delays them: a
    later run finds them told."""
    flaky = mocks(
        {NAME: {"PublishFlaky": {"Notify Subscribers": "SnsFlakyThenSent"}}},
        {"SnsFlakyThenSent": SNS_FLAKY_THEN_SENT},
    )
    with mock_config.loaded(flaky):
        run = ranking.run(f"{NAME}#PublishFlaky", {})

    assert run.status == "SUCCEEDED" and run.output["new_deals"] > 0
    assert failed_errors(run) == SNS_FLAKY_ERRORS
    assert top_level(run) == [*FETCH_AND_RANK, *AFTER_RANKING, *ANNOUNCED]
    assert ranking.run(NAME, {}).output["new_deals"] == 0


def test_a_pointer_another_run_changed_meanwhile_is_marked_again_after_a_backoff(
    ranking: Deployed, alerts: Inbox
) -> None:
    ranking.inject(NAME, "mark-current", "error", times=1, error_type="CurrentContended")

    run = ranking.run(NAME, {}, name="rank-contended")

    assert run.status == "SUCCEEDED" and run.output["current"] is True
    assert failed_errors(run) == ["CurrentContended"] and run.states.count("Mark Current") == 1
    assert current_run(ranking) == "rank-contended" and alerts.messages() == []


def test_a_bad_request_fails_in_the_first_task_naming_the_field(ranking: Deployed, alerts: Inbox) -> None:
    run = ranking.run(NAME, {"days_ahead": 0})

    assert run.status == "FAILED" and run.error == "InvalidInput"
    assert "days_ahead" in (run.cause or "")
    assert run.states == ["Fetch Inventory", *ALERT]


def test_fifty_performances_with_thousands_of_listings_stay_far_below_the_payload_limit(
    ranking: Deployed, broker: FakeTicketBroker
) -> None:
    broker.reseed(performances=52, listings=(60, 100), unmapped_theatre=False)

    run = ranking.run(NAME, {"days_ahead": 365})

    assert run.status == "SUCCEEDED"
    assert run.output["performances"] >= 50 and run.output["listings"] > 3000
    largest = max(len(json.dumps(e, default=str)) for e in run.events)
    assert largest < 32 * 1024, f"largest history event {largest} bytes"  # Step Functions allows 256 KB


@pytest.mark.slow
def test_a_scheduled_run_at_a_real_shows_volume_ranks_every_performance_of_its_window(
    ranking: Deployed, broker: FakeTicketBroker
) -> None:
    """8 shows a week in each of 4 theatres: the schedule's 120 days are about 550 performances,
    ranked in pages so that the history stays far below Step Functions' 25,000 events."""
    broker.reseed(performances=700, shows_per_week=8)
    last = (datetime.now(UTC) + timedelta(days=120)).date().isoformat()
    window = [e for e in broker.events if e["venue"]["id"] != "saenger-nola" and e["starts_at"][:10] <= last]
    schedule = next(t for t in WORKFLOW.triggers if isinstance(t, Schedule))

    run = ranking.run(NAME, dict(schedule.input))  # {"show": "hamilton"}: the default window

    assert run.status == "SUCCEEDED" and run.output["current"] is True
    assert run.output["performances"] == len(window) > 500
    pages = -(-len(window) // PAGE_SIZE)
    assert run.states.count("Rank Performance") == run.states.count("Store Ranking") == pages
    bests = ranking.client("dynamodb").query(
        TableName=ranking.resource(NAME, "rankings"),
        IndexName=store.BEST_PER_PERFORMANCE_INDEX,
        KeyConditionExpression="best_of_run = :run",
        ExpressionAttributeValues={":run": {"S": run.output["run_id"]}},
        Select="COUNT",
    )
    assert bests["Count"] == len(window)  # every performance of the window ranked
    assert len(run.events) < 2_000
    assert max(len(json.dumps(e, default=str)) for e in run.events) < 32 * 1024


def test_a_search_that_fails_unexpectedly_is_500_and_alerted_once_an_hour(
    ranking: Deployed, alerts: Inbox
) -> None:
    """Its state table named wrongly, outside its role's grants: not the client's mistake."""
    query = {"from": "2000-01-01", "to": "2100-01-01"}
    event = {"version": "2.0", "routeKey": "GET /tickets/search", "queryStringParameters": query}
    an_unexpected_api_failure_is_alerted_once_an_hour(
        ranking, NAME, "api-search", event, "STATE_TABLE", "AccessDeniedException"
    )
    assert len(alerts.messages()) == 2
    assert search(ranking, {"from": "2000-01-01", "to": "1999-01-01"})[0] == 400  # the client's mistake
    assert alerts.messages() == []


def test_cross_date_search_reads_the_current_rankings(ranking: Deployed) -> None:
    run = ranking.run(NAME, {})
    assert run.status == "SUCCEEDED"

    status, body = search(
        ranking, {"from": "2000-01-01", "to": "2100-01-01", "max_price": "300", "limit": "50"}
    )

    assert status == 200 and body["run_id"] == run.output["run_id"]
    tickets = body["tickets"]
    assert 0 < len(tickets) <= 50 and all(t["price"] <= 300 for t in tickets)
    assert len({t["date"] for t in tickets}) > 1  # across dates
    assert [t["score"] for t in tickets] == sorted((t["score"] for t in tickets), reverse=True)
    status, body = search(ranking, {"from": "2000-01-01"})
    assert status == 400 and body["fields"][0]["field"] == "to"
    status, body = search(
        ranking, {"from": "2000-01-01", "to": "2100-01-01", "theatre": "cibc-theatre", "section": "orch"}
    )
    assert status == 200 and body["tickets"]
    assert {(t["theatre_id"], t["section"].lower()[:4]) for t in body["tickets"]} == {
        ("cibc-theatre", "orch")
    }


def test_a_run_of_fewer_days_ahead_hides_no_result_of_a_wider_one(
    ranking: Deployed, broker: FakeTicketBroker
) -> None:
    wide = ranking.run(NAME, {}, name="rank-wide")
    everything = {"from": "2000-01-01", "to": "2100-01-01", "limit": "100"}
    before = search(ranking, everything)[1]["tickets"]
    assert len({t["date"] for t in before}) > 1
    first = min(date.fromisoformat(e["starts_at"][:10]) for e in broker.events)

    narrow = ranking.run(NAME, {"days_ahead": (first - datetime.now(UTC).date()).days}, name="rank-narrow")

    assert narrow.status == "SUCCEEDED" and narrow.output["current"] is True
    assert narrow.output["performances"] > 0  # it ranked the first day's performances again
    status, body = search(ranking, everything)
    assert status == 200 and body["run_id"] == "rank-narrow"
    assert body["tickets"] == before  # the same inventory: nothing the narrow run did not cover is lost
    last = max(t["date"] for t in before)
    assert search(ranking, {**everything, "from": last})[1]["run_id"] == wide.output["run_id"]


def wait_for_task(app: Deployed, execution: str, state: str) -> None:
    """Until `state` of the running execution has invoked its task."""
    sfn, deadline = app.client("stepfunctions"), time.monotonic() + 30
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        names = [e.get("stateEnteredEventDetails", {}).get("name") for e in events]
        if state in names and "TaskStarted" in [e["type"] for e in events[names.index(state) :]]:
            return
        time.sleep(0.01)
    raise AssertionError(f"{state} never started")


def test_a_slow_run_announces_no_deal_on_the_dates_a_newer_run_covered(
    ranking: Deployed, broker: FakeTicketBroker, deals: Inbox
) -> None:
    bargain = broker.add_bargain()
    first = bargain.date
    ranking.inject(NAME, "mark-current", "hold", times=1)
    slow = ranking.start(NAME, {}, name="rank-slow")  # fetches the bargain, then is slow to mark
    wait_for_task(ranking, slow, "Mark Current")
    bargain.sell()

    narrow = ranking.run(NAME, {"days_ahead": (first - datetime.now(UTC).date()).days}, name="rank-soon")

    assert narrow.status == "SUCCEEDED" and deals.messages()
    status = ranking.client("stepfunctions").describe_execution(executionArn=slow)["status"]
    assert status == "RUNNING"  # the narrow run was fetched and marked meanwhile
    ranking.release(NAME, "mark-current")
    late = ranking.wait(slow, NAME)
    assert late.status == "SUCCEEDED" and late.output["current"] is True and late.output["new_deals"] > 0
    [message] = deals.messages()
    announced = [line[2:12] for line in message.splitlines() if line.startswith("- ")]
    assert min(announced) > first.isoformat()  # none on the narrow run's dates: not the bargain sold


def claims_of(app: Deployed, run_id: str) -> list[str]:
    """The told items holding a claim of `run_id`."""
    pages = app.client("dynamodb").get_paginator("scan").paginate(TableName=app.resource(NAME, "state"))
    items = [item for page in pages for item in page["Items"]]
    return [i["key"]["S"] for i in items if i.get("claim_run", {}).get("S") == run_id]


def test_a_run_started_before_another_records_its_deals_announces_none_of_them(
    ranking: Deployed, deals: Inbox, alerts: Inbox
) -> None:
    ranking.inject(NAME, "record-deals", "hold", times=1)
    first = ranking.start(NAME, {}, name="rank-announcing")  # published, then slow to record
    wait_for_task(ranking, first, "Record Deals Told")

    second = ranking.run(NAME, {}, name="rank-overlapping")

    assert second.status == "SUCCEEDED"
    assert top_level(second) == [*FETCH_AND_RANK, *AFTER_RANKING, "No New Deals"]
    status = ranking.client("stepfunctions").describe_execution(executionArn=first)["status"]
    assert status == "RUNNING"  # the second run found the deals claimed, not told
    ranking.release(NAME, "record-deals")
    announcing = ranking.wait(first, NAME)
    assert announcing.status == "SUCCEEDED" and announcing.output["new_deals"] > 0
    [message] = deals.messages()
    assert message.count("\n- ") == announcing.output["new_deals"] and alerts.messages() == []


def test_deals_a_run_published_but_could_not_record_are_not_announced_by_the_next_run(
    ranking: Deployed, deals: Inbox, alerts: Inbox
) -> None:
    ranking.inject(NAME, "record-deals", "error", error_type="Boom")
    failed = ranking.run(NAME, {}, name="rank-unrecorded")
    assert failed.status == "FAILED" and top_level(failed)[-5:] == [*ANNOUNCED[:2], *ALERT]
    assert len(deals.messages()) == 1 and len(alerts.messages()) == 1
    ranking.clear_faults()

    later = ranking.run(NAME, {}, name="rank-after-unrecorded")

    assert later.status == "SUCCEEDED" and later.output["new_deals"] == 0
    assert deals.messages() == []


def test_the_claims_of_a_run_that_failed_before_publishing_lapse_and_a_later_run_announces_the_deals(
    ranking: Deployed,
) -> None:
    sns, topic = ranking.client("sns"), ranking.resource(NAME, "deals")
    sns.delete_topic(TopicArn=topic)
    try:
        failed = ranking.run(NAME, {}, name="rank-unpublished")
    finally:
        sns.create_topic(Name=topic.rsplit(":", 1)[1])
    deals = ranking.inbox(topic)  # the topic made again has no subscriber
    assert failed.status == "FAILED" and top_level(failed)[-4:] == ["Notify Subscribers", *ALERT]
    claimed = claims_of(ranking, "rank-unpublished")
    assert claimed
    meanwhile = ranking.run(NAME, {}, name="rank-in-the-lease")
    assert meanwhile.status == "SUCCEEDED" and meanwhile.output["new_deals"] == 0  # claimed: maybe announcing

    lapsed = (datetime.now(UTC) - told.CLAIM_LEASE - timedelta(minutes=1)).isoformat()
    for key in claimed:  # the lease has passed
        ranking.client("dynamodb").update_item(
            TableName=ranking.resource(NAME, "state"),
            Key={"key": {"S": key}},
            UpdateExpression="SET claimed_at = :lapsed",
            ExpressionAttributeValues={":lapsed": {"S": lapsed}},
        )
    later = ranking.run(NAME, {}, name="rank-after-lapse")

    assert later.status == "SUCCEEDED" and later.output["new_deals"] == len(claimed)
    [message] = deals.messages()
    assert message.count("\n- ") == len(claimed)
    assert sorted(claims_of(ranking, "rank-after-lapse")) == sorted(claimed)


def test_an_unknown_show_fails_naming_it_and_is_never_current(ranking: Deployed, alerts: Inbox) -> None:
    run = ranking.run(NAME, {"show": "nosuchshow"})

    assert run.status == "FAILED" and run.error == "InvalidInput"
    assert cause_message(run.cause) == 'show: the broker has no show "nosuchshow"'
    assert run.states == ["Fetch Inventory", *ALERT]
    state = ranking.client("dynamodb").get_item(
        TableName=ranking.resource(NAME, "state"), Key={"key": {"S": "current#nosuchshow"}}
    )
    assert "Item" not in state
    assert len(alerts.messages()) == 1


def test_the_schedule_starts_a_run(ranking: Deployed, deals: Inbox) -> None:
    [execution] = fire_schedule(ranking, NAME, datetime.now(UTC) + timedelta(minutes=31))

    run = ranking.wait(execution, NAME)

    assert run.status == "SUCCEEDED" and run.output["current"] is True
    assert len(deals.messages()) == 1


def test_a_flaky_alert_is_retried_and_sent(ranking: Deployed) -> None:
    run = a_flaky_alert_is_retried_and_sent(ranking, NAME, "Fetch Inventory", "InvalidInput", {})

    assert run.states == ["Fetch Inventory", *ALERT]


def test_an_alert_that_cannot_be_sent_does_not_hide_the_failure(ranking: Deployed) -> None:
    run = an_alert_that_cannot_be_sent_does_not_hide_the_failure(
        ranking, NAME, "Fetch Inventory", "InvalidInput", {}
    )

    assert run.states == ["Fetch Inventory", *UNALERTED]


def test_a_malformed_task_event_is_alerted(ranking: Deployed, alerts: Inbox) -> None:
    run = a_malformed_task_event_is_alerted(ranking, NAME, "Fetch Inventory", {})

    assert run.states == ["Fetch Inventory", *ALERT]
    [alert] = alerts.messages()
    assert "MalformedTaskInput" in alert


def test_repeated_alerts_are_emailed_once_an_hour(ranking: Deployed) -> None:
    repeated_alerts_are_emailed_once_an_hour(ranking, NAME, "Fetch Inventory", {})
