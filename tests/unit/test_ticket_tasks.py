"""Ticket-ranking handlers against moto, with the fake broker over real HTTP."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from localcloud.fakes import ticket_broker
from localcloud.fakes.ticket_broker import FakeTicketBroker
from tasks.shared import parameters
from tasks.shared.alerts import EMAILED
from tasks.shared.errors import InvalidInput
from tasks.shared.numbers import from_dynamo, to_dynamo
from tasks.ticket_ranking import (
    api_search,
    fetch_inventory,
    find_deals,
    mark_current,
    rank_performance,
    record_deals,
    store,
    store_ranking,
    told,
    unmapped,
)
from tasks.ticket_ranking import broker as broker_module
from tasks.ticket_ranking.broker import BrokerRejected, BrokerThrottled, BrokerUnavailable
from tasks.ticket_ranking.ranking import THEATRES_DIR
from tests.conftest import Inbox
from tests.unit.conftest import TEST_ENV, create_table, envelope, handler_environment
from workflows.registry import ALERT_WINDOWS_TABLE
from workflows.ticket_ranking import BROKER_PARAMETERS, WORKFLOW

BUCKET, RANKINGS, STATE, WINDOWS = "inventory-test", "rankings-test", "state-test", "alert-windows-test"
URL_PARAMETER = TEST_ENV.setting_name(BROKER_PARAMETERS["BROKER_URL_PARAMETER"])
KEY_SECRET = TEST_ENV.setting_name(BROKER_PARAMETERS["BROKER_API_KEY_SECRET"])


@pytest.fixture
def broker() -> Iterator[FakeTicketBroker]:
    with FakeTicketBroker(seed=11, performances=12, listings=(15, 40)) as fake:
        yield fake


@pytest.fixture
def aws_env(aws: None, broker: FakeTicketBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    parameters.clear()
    spec = {t.name: t for t in WORKFLOW.tables}
    create_table(spec["rankings"], RANKINGS)
    create_table(spec["state"], STATE)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("ssm").put_parameter(Name=URL_PARAMETER, Value=broker.url, Type="String")
    boto3.client("secretsmanager").create_secret(Name=KEY_SECRET, SecretString=broker.api_key)
    create_table(ALERT_WINDOWS_TABLE, WINDOWS)
    topic = boto3.client("sns").create_topic(Name="alerts-test")["TopicArn"]
    names = {
        "inventory": BUCKET,
        "rankings": RANKINGS,
        "state": STATE,
        "alerts": topic,
        "alert-windows": WINDOWS,
    }
    handler_environment(monkeypatch, WORKFLOW.functions, names)


@pytest.fixture
def alerts(aws_env: None) -> Inbox:
    return Inbox(boto3.client, boto3.client("sns").create_topic(Name="alerts-test")["TopicArn"])


def fetch_and_store(
    run_id: str, context: LambdaContext, request: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A run's rankings stored, not yet current: its inventory."""
    inventory = fetch_inventory.handler(envelope({"run_id": run_id, "request": request or {}}), context)
    for key in inventory["pages"]:
        ranked = rank_performance.handler(envelope({"run_id": run_id, "key": key}), context)
        store_ranking.handler(envelope({"run_id": run_id, "ranked_key": ranked["ranked_key"]}), context)
    return inventory


def performances(inventory: dict[str, Any]) -> list[dict[str, Any]]:
    """The performances of the run's pages, as fetched, in S3."""
    return [p["performance"] for key in inventory["pages"] for p in store.get_json(key)["performances"]]


def mark(inventory: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    marked = {k: inventory[k] for k in ("run_id", "show", "fetched_at", "dates")}
    return mark_current.handler(envelope(marked), context)


def announce(run_id: str, marked: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deals = find_deals.handler(
        envelope({"run_id": run_id, "show": "hamilton", "dates": marked["dates"]}), context
    )
    if deals["count"]:
        record_deals.handler(envelope({"run_id": run_id, "deals": deals["deals"]}), context)
    return deals


def run(run_id: str, context: LambdaContext, request: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the workflow does, handler by handler (the workflow tests run the real definition)."""
    inventory = fetch_and_store(run_id, context, request)
    marked = mark(inventory, context)
    return {"inventory": inventory, "marked": marked, "deals": announce(run_id, marked, context)}


def test_fetch_stores_raw_listings_in_s3_and_passes_only_pointers(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    out = fetch_inventory.handler(envelope({"run_id": "r1", "request": {"days_ahead": 365}}), context)
    mapped = [e for e in broker.events if e["venue"]["id"] != "saenger-nola"]
    assert out["performances"] == len(mapped) and out["pages"] == [store.raw_key("r1", 1)]
    assert out["skipped_theatres"] == ["saenger-nola"]
    assert out["listings"] == sum(len(broker.inventory[e["id"]]) for e in mapped)
    raw = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=out["pages"][0])["Body"].read())
    assert [p["performance"]["performance_id"] for p in raw["performances"]] == [e["id"] for e in mapped]
    assert [len(p["listings"]) for p in raw["performances"]] == [
        len(broker.inventory[e["id"]]) for e in mapped
    ]


def test_a_run_stores_rankings_marks_them_current_and_finds_deals_once(
    aws_env: None, context: LambdaContext
) -> None:
    first = run("run-1", context)
    assert first["marked"] == {"current": True, "dates": [first["inventory"]["dates"]]}
    assert first["deals"]["count"] > 0
    assert store.current_run("hamilton")["run_id"] == "run-1"  # type: ignore[index]

    performance = performances(first["inventory"])[0]["performance_id"]
    ranking = store.performance_ranking("run-1", performance)
    assert [r["rank"] for r in ranking] == list(range(1, len(ranking) + 1))
    assert ranking == sorted(ranking, key=lambda r: -r["score"])

    second = run("run-2", context)
    assert second["marked"] == {"current": True, "dates": [second["inventory"]["dates"]]}
    assert second["deals"]["count"] == 0


def test_the_stored_rankings_are_the_runs_ranking_obstructions_included(
    aws_env: None, context: LambdaContext
) -> None:
    inventory = fetch_and_store("run-1", context)
    fields = ("listing_id", "rank", "score", "quality", "obstructed", "reasons", "price", "quantity")
    obstructed = 0
    pages = [store.get_json(store.ranked_key(key))["performances"] for key in inventory["pages"]]
    for performance in (p for page in pages for p in page):
        ranked = performance["ranking"]
        stored = store.performance_ranking("run-1", performance["performance"]["performance_id"])
        expected = [{k: r[k] for k in fields} for r in ranked]
        assert [{k: r[k] for k in fields} for r in stored] == expected
        obstructed += sum(r["obstructed"] for r in stored)
    assert obstructed > 0  # the fake sells obstructed seats: the comparison covers them


def stored(run_id: str) -> list[dict[str, Any]]:
    """Every ranking item the run stored, read from the table itself."""
    items = boto3.resource("dynamodb").Table(RANKINGS).scan()["Items"]
    return [from_dynamo(i) for i in items if i["run_id"] == run_id]


def by_performance(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: i["performance_id"])


def bests(run_id: str) -> list[dict[str, Any]]:
    """The run's best items: each performance's rank 1 alone."""
    return [i for i in stored(run_id) if i["rank_key"] == store.best_key(run_id)]


def test_each_performances_ranking_is_one_item_and_its_best_a_small_one_of_its_own(
    aws_env: None, context: LambdaContext
) -> None:
    """A write is billed per KB of item: 15 to 40 listings in one item cost a unit per KB, not one
    a listing."""
    inventory = fetch_and_store("run-1", context)
    items = stored("run-1")
    rankings = [i for i in items if "listings" in i]

    assert len(rankings) == len(bests("run-1")) == inventory["performances"] == len(items) / 2
    assert {i["rank_key"] for i in rankings} == {store.chunk_key("run-1", 0)}
    assert sum(len(i["listings"]) for i in rankings) == inventory["listings"]
    for best in bests("run-1"):
        first = store.performance_ranking("run-1", best["performance_id"])[0]
        assert first["rank"] == 1 and {k: best[k] for k in first} == first
        assert "date_key" not in best  # out of the index of dates: a search reads each listing once


def test_only_each_performances_best_ranking_is_written_to_the_index_of_bests(
    aws_env: None, context: LambdaContext
) -> None:
    """A sparse index: DynamoDB writes an item to it only when the item has its key, so the
    performances' rankings cost no write to it."""
    inventory = fetch_and_store("run-1", context)
    best = bests("run-1")
    assert all(("best_of_run" in i) == (i in best) for i in stored("run-1"))
    assert {i["best_of_run"] for i in best} == {"run-1"}

    index = boto3.resource("dynamodb").Table(RANKINGS).scan(IndexName=store.BEST_PER_PERFORMANCE_INDEX)
    held = [from_dynamo(i) for i in index["Items"]]
    assert by_performance(held) == by_performance(best)
    assert len(held) == inventory["performances"]  # one a performance, each of whose listings ranked


def test_find_deals_reads_the_same_bests_as_the_runs_rank_1_items_and_those_alone(
    aws_env: None, context: LambdaContext
) -> None:
    fetch_and_store("run-1", context)
    inventory = fetch_and_store("run-2", context)
    every_date = [inventory["dates"]]
    rank_1 = bests("run-2")

    best = find_deals.best_per_performance("run-2", every_date)

    assert by_performance(best) == by_performance(rank_1)  # not run-1's
    assert [b["score"] for b in best] == sorted(b["score"] for b in best)  # as the index sorts them
    first = min(i["date"] for i in rank_1)
    on_first = find_deals.best_per_performance("run-2", [{"from": first, "to": first}])
    assert by_performance(on_first) == by_performance([i for i in rank_1 if i["date"] == first])
    read = boto3.client("dynamodb").query(
        TableName=RANKINGS,
        IndexName=store.BEST_PER_PERFORMANCE_INDEX,
        KeyConditionExpression="best_of_run = :run",
        ExpressionAttributeValues={":run": {"S": "run-2"}},
    )
    assert read["ScannedCount"] == len(rank_1)  # the rankings are not read (nor billed)


def test_a_performance_with_more_listings_than_a_chunk_holds_is_split_and_searched_whole(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    """2,500 listings are about 700 KB: past DynamoDB's 400 KB an item, so stored in chunks, and a
    search still finds the worst ranked of them, in the last chunk."""
    target = next(e for e in broker.events if e["venue"]["id"] != "saenger-nola")
    pid, seat = target["id"], broker.inventory[target["id"]][0]
    for n in range(2_500):
        broker.add_listing(pid, {**seat, "id": f"filler-{n:04d}"})
    far = [f"eight-{n}" for n in range(5)]  # the only listings of 8 seats, dearest of all: ranked last
    for listing_id in far:
        eight = {"id": listing_id, "quantity": 8, "seats": list(range(1, 9)), "price": seat["price"] * 20}
        broker.add_listing(pid, {**seat, **eight})

    run("run-1", context)

    chunks = [i for i in stored("run-1") if i["performance_id"] == pid and "listings" in i]
    assert [c["rank_key"] for c in sorted(chunks, key=lambda c: c["rank_key"])] == [
        store.chunk_key("run-1", n) for n in range(len(chunks))
    ]
    assert len(chunks) >= 2
    assert all(len(json.dumps(c["listings"], separators=(",", ":"))) <= store.CHUNK_BYTES for c in chunks)
    ranking = store.performance_ranking("run-1", pid)
    assert [r["rank"] for r in ranking] == list(range(1, len(broker.inventory[pid]) + 1))
    assert {r["listing_id"] for r in ranking[-5:]} == set(far)

    date = ranking[0]["date"]
    read = [t["listing_id"] for t in store.run_by_dates("run-1", date, date) if t["performance_id"] == pid]
    assert sorted(read) == sorted(listing["id"] for listing in broker.inventory[pid])  # each once
    status, body = search({"from": date, "to": date, "quantity": "8", "limit": "100"})
    assert status == 200 and [t["listing_id"] for t in body["tickets"]] == far  # equal: by id


def test_deals_beyond_one_message_go_out_with_the_next_run(
    aws_env: None, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(find_deals, "MAX_DEALS", 2)
    first = run("run-1", context)["deals"]
    second = run("run-2", context)["deals"]

    assert first["count"] == len(first["deals"]) == 2 and first["subject"] == "2 new hamilton ticket deals"
    assert second["count"] == 2  # the same inventory: the deals the first message had no room for
    told = {d["performance_id"] for d in first["deals"]}
    assert told.isdisjoint(d["performance_id"] for d in second["deals"])


def test_a_better_ticket_on_sale_is_announced_again(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    run("run-1", context)
    target = next(e for e in broker.events if e["venue"]["id"] == "richard-rodgers")
    bargain = {"id": "bargain", "section": "Orchestra", "row": "E", "seats": [15, 16], "quantity": 2,
               "price": 99.0, "face_value": 299.0, "notes": []}  # fmt: skip
    broker.add_listing(target["id"], bargain)

    deals = run("run-2", context)["deals"]
    assert [(d["performance_id"], d["listing_id"]) for d in deals["deals"]] == [(target["id"], "bargain")]
    assert "Orchestra row E, 2 x $99.00" in deals["message"]


def find(run_id: str, marked: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return find_deals.handler(
        envelope({"run_id": run_id, "show": "hamilton", "dates": marked["dates"]}), context
    )


def test_a_run_finds_none_of_the_deals_another_run_claimed_and_has_not_recorded(
    aws_env: None, context: LambdaContext
) -> None:
    older, newer = fetch_and_store("older", context), fetch_and_store("newer", context)
    claimed = find("older", mark(older, context), context)  # published, not recorded yet
    assert claimed["count"] > 0

    assert find("newer", mark(newer, context), context)["count"] == 0
    record_deals.handler(envelope({"run_id": "older", "deals": claimed["deals"]}), context)
    assert find("newer", mark(newer, context), context)["count"] == 0  # told now


def test_a_retry_of_a_runs_find_claims_the_same_deals_again(aws_env: None, context: LambdaContext) -> None:
    marked = mark(fetch_and_store("run-1", context), context)

    first, retried = find("run-1", marked, context), find("run-1", marked, context)

    assert retried == first and first["count"] > 0


def deal(score: float, listing_id: str = "L1", performance_id: str = "p1") -> dict[str, Any]:
    return {"performance_id": performance_id, "listing_id": listing_id, "score": score}


def test_a_better_deal_wins_over_another_runs_claim_and_an_equal_one_does_not(aws_env: None) -> None:
    now = datetime.now(UTC)
    assert told.claim("a", deal(80.0), now)

    assert not told.claim("b", deal(80.0, "L2"), now) and not told.claim("b", deal(79.5), now)
    assert told.bars("b", now) == {"p1": 80.0}
    assert told.claim("b", deal(80.5, "L3"), now)
    assert told.bars("a", now) == {"p1": 80.5} and told.bars("b", now) == {}


def test_a_run_claims_its_own_deal_again_and_no_other_run_can(aws_env: None) -> None:
    now = datetime.now(UTC)
    assert told.claim("a", deal(80.0), now)

    assert told.claim("a", deal(80.0), now + timedelta(seconds=30))  # a retry, or a redrive
    assert told.bars("a", now) == {}  # its own claim is no bar to it
    assert not told.claim("b", deal(80.0), now)


def test_a_claim_never_recorded_lapses_and_what_was_told_before_it_stays(aws_env: None) -> None:
    start = datetime.now(UTC) - told.CLAIM_LEASE - timedelta(minutes=10)
    assert told.claim("a", deal(70.0), start) and told.record("a", deal(70.0), start)
    assert told.claim("b", deal(80.0, "L2"), start + timedelta(minutes=1))  # then b fails

    assert told.bars("c", start + timedelta(minutes=30)) == {"p1": 80.0}  # b's claim in its lease
    now = datetime.now(UTC)
    assert told.bars("c", now) == {"p1": 70.0}
    assert not told.claim("c", deal(70.0), now)  # told already
    assert told.claim("c", deal(80.0, "L2"), now)


def test_a_record_never_lowers_what_was_told(aws_env: None) -> None:
    now = datetime.now(UTC)
    assert told.claim("a", deal(80.0), now) and told.claim("b", deal(90.0, "L2"), now)

    assert told.record("b", deal(90.0, "L2"), now)
    assert not told.record("a", deal(80.0), now)  # a better deal was told meanwhile
    assert told.record("b", deal(90.0, "L2"), now)  # b's retry
    assert told.bars("c", now + told.CLAIM_LEASE * 2) == {"p1": 90.0}


def told_before(performance_id: str, score: float, expires_at: int) -> None:
    """A told item as a record an earlier run made leaves it, `expires_at` aside."""
    item = told.key(performance_id) | {"score": Decimal(str(score)), "listing_id": "L0", "run_id": "earlier"}
    store.state_table().put_item(Item=item | {"told_at": ago(72), "expires_at": expires_at})


def told_scores() -> dict[str, tuple[float, str]]:
    items = store.state_table().scan()["Items"]
    return {i["key"].removeprefix(told.PREFIX): (float(i["score"]), i["run_id"]) for i in items}


def test_a_told_item_past_its_ttl_bars_no_deal_until_deleted_and_is_recorded_over(aws_env: None) -> None:
    now = datetime.now(UTC)
    expired = int(now.timestamp())
    unexpired = expired + 1
    told_before("p1", 90.0, expired)  # DynamoDB deletes it up to two days late; moto, never
    told_before("p2", 90.0, unexpired)
    told_before("p3", 90.0, expired)
    assert told_scores() == {p: (90.0, "earlier") for p in ("p1", "p2", "p3")}  # all still there

    assert told.bars("a", now) == {"p2": 90.0}
    assert told.claim("a", deal(80.0), now) and not told.claim("a", deal(80.0, "L1", "p2"), now)
    assert told.bars("b", now) == {"p1": 80.0, "p2": 90.0}  # p1: a's claim, what was told gone with it
    assert told.record("a", deal(80.0), now) and not told.record("a", deal(80.0, "L1", "p2"), now)
    assert told.record("a", deal(70.0, "L1", "p3"), now)  # a record alone writes over one too

    assert told_scores() == {"p1": (80.0, "a"), "p2": (90.0, "earlier"), "p3": (70.0, "a")}
    assert told.bars("b", now + told.CLAIM_LEASE * 2) == {"p1": 80.0, "p3": 70.0}  # p2 expired since


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


def marking(run_id: str, fetched_at: str, first: str, last: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "show": "hamilton",
        "fetched_at": fetched_at,
        "dates": {"from": first, "to": last},
    }


def test_an_older_run_never_replaces_a_newer_current_one(aws_env: None, context: LambdaContext) -> None:
    newer = marking("new", ago(1), day(0), day(120))
    older = {**newer, "run_id": "old", "fetched_at": ago(2)}  # the same dates
    assert mark_current.handler(envelope(newer), context) == {"current": True, "dates": [newer["dates"]]}
    assert mark_current.handler(envelope(older), context) == {"current": False, "dates": []}
    assert store.current_run("hamilton")["run_id"] == "new"  # type: ignore[index]
    assert (
        find_deals.handler(envelope({"run_id": "old", "show": "hamilton", "dates": []}), context)["count"]
        == 0
    )


def test_a_pointer_changed_between_read_and_write_is_merged_again_losing_nothing(
    aws_env: None, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide, mine = marking("wide", ago(3), day(0), day(120)), marking("mine", ago(2), day(0), day(10))
    newer = marking("newer", ago(1), day(0), day(1))
    mark_current.handler(envelope(wide), context)
    read = store.current_run

    def read_then_a_newer_run_marks(show: str) -> dict[str, Any] | None:
        current = read(show)
        monkeypatch.setattr(store, "current_run", read)
        mark_current.handler(envelope(newer), context)  # bumps the version after this read
        return current

    monkeypatch.setattr(store, "current_run", read_then_a_newer_run_marks)
    with pytest.raises(mark_current.CurrentContended):
        mark_current.handler(envelope(mine), context)
    spans = store.current_run("hamilton")["spans"]  # type: ignore[index]
    assert [s["run_id"] for s in spans] == ["newer", "wide"]  # the stale merge was not written

    # The workflow's Retry: read again, merge again.
    assert mark_current.handler(envelope(mine), context) == {
        "current": True,
        "dates": [{"from": day(2), "to": day(10)}],
    }
    spans = store.current_run("hamilton")["spans"]  # type: ignore[index]
    assert [(s["run_id"], s["from"], s["to"]) for s in spans] == [
        ("newer", day(0), day(1)),
        ("mine", day(2), day(10)),
        ("wide", day(11), day(120)),
    ]


def test_a_run_whose_rankings_expired_is_current_for_no_date_any_longer(
    aws_env: None, context: LambdaContext
) -> None:
    expired = ago(store.RANKING_TTL_SECONDS / 3600 + 1)
    # without spans: current for every date
    store.state_table().put_item(
        Item={"key": "current#hamilton", "run_id": "gone", "fetched_at": expired, "version": 1}
    )
    assert search({"from": day(30), "to": day(40)}) == (200, {"run_id": "gone", "tickets": []})

    narrow = run("narrow", context, {"days_ahead": 1})

    assert narrow["marked"] == {"current": True, "dates": [narrow["inventory"]["dates"]]}
    spans = store.current_run("hamilton")["spans"]  # type: ignore[index]
    assert [s["run_id"] for s in spans] == ["narrow"]
    assert search({"from": day(30), "to": day(40)}) == (200, {"run_id": None, "tickets": []})


def test_a_narrower_run_is_current_for_its_dates_only_and_hides_no_other(
    aws_env: None, context: LambdaContext
) -> None:
    wide = run("wide", context)
    everything = {"from": "2000-01-01", "to": "2100-01-01", "limit": "100"}
    before = search(everything)[1]["tickets"]
    assert len({t["date"] for t in before}) > 1

    narrow = run("narrow", context, {"days_ahead": 1})
    assert narrow["marked"] == {"current": True, "dates": [narrow["inventory"]["dates"]]}
    covered = narrow["inventory"]["dates"]
    assert narrow["inventory"]["performances"] > 0  # the fake's first performances are tomorrow's

    status, body = search(everything)
    assert status == 200 and body["run_id"] == "narrow"
    assert body["tickets"] == before  # the same inventory, ranked again: nothing hidden
    status, body = search({**everything, "to": covered["to"]})
    assert status == 200 and body["run_id"] == "narrow" and body["tickets"]
    later = {**everything, "from": max(p["date"] for p in performances(wide["inventory"]))}
    assert (
        later["from"] > covered["to"] and search(later)[1]["run_id"] == "wide"
    )  # dates the narrow run did not ask for


def test_a_slow_run_announces_deals_only_for_the_dates_it_is_current_for(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    bargain = broker.add_bargain()
    first = bargain.date
    slow = fetch_and_store("slow", context)  # fetched with the bargain, marked late
    bargain.sell()
    narrow = run("narrow", context, {"days_ahead": (first - datetime.now(UTC).date()).days})
    assert narrow["inventory"]["dates"]["to"] == first.isoformat()

    marked = mark(slow, context)
    deals = announce("slow", marked, context)

    after = (first + timedelta(days=1)).isoformat()
    assert deals["count"] > 0 and all(d["date"] >= after for d in deals["deals"])  # not the bargain
    status, body = search({"from": first.isoformat(), "to": first.isoformat()})
    assert status == 200 and body["tickets"] and "bargain" not in {t["listing_id"] for t in body["tickets"]}
    assert marked == {"current": True, "dates": [{"from": after, "to": slow["dates"]["to"]}]}


def test_an_unknown_show_is_refused_naming_it_not_ranked_empty(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    with pytest.raises(InvalidInput) as refused:
        fetch_inventory.handler(envelope({"run_id": "r", "request": {"show": "nosuchshow"}}), context)
    assert str(refused.value) == 'show: the broker has no show "nosuchshow"'
    assert store.current_run("nosuchshow") is None


def test_broker_outages_throttling_and_refusals_are_named(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    event = envelope({"run_id": "r", "request": {}})
    broker.fail(times=1)
    with pytest.raises(BrokerUnavailable):
        fetch_inventory.handler(event, context)
    broker.throttle(times=1)
    with pytest.raises(BrokerThrottled):
        fetch_inventory.handler(event, context)
    broker.api_key = "rotated"
    with pytest.raises(BrokerRejected, match="HTTP 401"):
        fetch_inventory.handler(event, context)


def test_an_inventory_of_more_pages_than_read_is_refused_not_ranked_in_part(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = envelope({"run_id": "r", "request": {}})
    monkeypatch.setattr(broker_module, "MAX_PAGES", 1)
    assert fetch_inventory.handler(event, context)  # the fake's 12 performances fit one page of 25
    monkeypatch.setattr(ticket_broker, "EVENTS_PER_PAGE", 5)
    with pytest.raises(BrokerRejected, match="3 pages, more than the 1 read"):
        fetch_inventory.handler(event, context)


@pytest.mark.parametrize("price", ["NaN", "Infinity", "-inf"])
def test_a_listing_priced_at_no_number_is_refused_not_ranked_first(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext, price: str
) -> None:
    """float() reads "NaN" and "Infinity"; a NaN price would rank first, compared as no worse."""
    target = next(e["id"] for e in broker.events if e["venue"]["id"] != "saenger-nola")  # ranked
    broker.add_listing(target, {**broker.inventory[target][0], "id": "odd", "price": price})
    with pytest.raises(BrokerRejected, match=f"listing without a valid price '{price}'"):
        fetch_inventory.handler(envelope({"run_id": "r", "request": {}}), context)


def test_an_unreachable_broker_is_an_outage(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    broker.stop()
    with pytest.raises(BrokerUnavailable):
        fetch_inventory.handler(envelope({"run_id": "r", "request": {}}), context)


def test_fifty_performances_of_thousands_of_listings_travel_as_pointers(
    aws: None, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    with FakeTicketBroker(seed=3, performances=60, listings=(60, 100), unmapped_theatre=False) as big:
        handler_environment(monkeypatch, [WORKFLOW.function("fetch-inventory")], {"inventory": BUCKET})
        parameters.clear()
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        boto3.client("ssm").put_parameter(Name=URL_PARAMETER, Value=big.url, Type="String")
        boto3.client("secretsmanager").create_secret(Name=KEY_SECRET, SecretString=big.api_key)
        out = fetch_inventory.handler(envelope({"run_id": "big", "request": {"days_ahead": 365}}), context)
    assert out["performances"] >= 50 and out["listings"] > 3000 and len(out["pages"]) == 3
    assert len(json.dumps(out)) < 16 * 1024  # far below Step Functions' 256 KB


def search(query: dict[str, str] | None) -> tuple[int, dict[str, Any]]:
    answer = api_search.handler({"version": "2.0", "queryStringParameters": query}, None)
    return answer["statusCode"], json.loads(answer["body"])


def test_search_rejects_a_bad_query_naming_the_field(aws_env: None) -> None:
    status, body = search({"from": "2026-12-01", "to": "soon"})
    assert status == 400 and body["fields"][0]["field"] == "to"
    status, body = search({"to": "2026-12-01"})
    assert status == 400 and body["fields"][0]["field"] == "from"
    status, body = search({"from": "2026-12-02", "to": "2026-12-01"})
    assert status == 400 and body["fields"] == [{"field": "to", "message": "is before from"}]
    status, body = search({"from": "2026-13-45", "to": "2027-01-01"})  # the shape of a date, not one
    assert status == 400 and body["fields"][0]["field"] == "from" and "calendar date" in body["message"]
    status, body = search({"from": "2026-12-01", "to": "2026-12-02", "show": "a" * 65})  # only too long
    assert (
        body["fields"][0]["message"].startswith('"aaa')
        and "is not a show's slug: 1 to 64 " in body["message"]
    )


def test_search_finds_the_best_tickets_across_dates_under_a_price_cap(
    aws_env: None, context: LambdaContext
) -> None:
    assert search({"from": "2000-01-01", "to": "2100-01-01"}) == (200, {"run_id": None, "tickets": []})
    out = run("run-1", context)
    dates = sorted(p["date"] for p in performances(out["inventory"]))
    low, high = dates[2], dates[-3]

    status, body = search({"from": low, "to": high, "max_price": "250", "quantity": "2", "limit": "15"})

    assert status == 200 and body["run_id"] == "run-1"
    tickets = body["tickets"]
    assert 0 < len(tickets) <= 15
    assert {t["performance_id"] for t in tickets} != {tickets[0]["performance_id"]}  # across performances
    assert all(low <= t["date"] <= high and t["price"] <= 250 and t["quantity"] >= 2 for t in tickets)
    assert [t["score"] for t in tickets] == sorted((t["score"] for t in tickets), reverse=True)


def test_a_filtered_search_finds_every_listing_that_meets_it_at_a_real_shows_listing_count(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    """70 to 84 listings a performance, as a popular show has: the cheapest ones are often the
    poorest seats, ranked far down, and a price cap or a quantity must still find them."""
    broker.reseed(listings=(70, 84), unmapped_theatre=False)
    fetched = performances(run("run-1", context)["inventory"])
    for performance in fetched:
        listings = broker.inventory[performance["performance_id"]]
        cheapest = min(listing["price"] for listing in listings)
        on_the_day = [
            listing
            for p in fetched
            if p["date"] == performance["date"]
            for listing in broker.inventory[p["performance_id"]]
        ]

        for query, meets in (
            ({"max_price": str(cheapest)}, lambda listing, cap=cheapest: listing["price"] <= cap),
            ({"quantity": "6"}, lambda listing: listing["quantity"] >= 6),
        ):
            status, body = search(
                {"from": performance["date"], "to": performance["date"], "limit": "100", **query}
            )

            assert status == 200
            expected = {listing["id"] for listing in on_the_day if meets(listing)}
            assert 0 < len(expected) < 100 and {t["listing_id"] for t in body["tickets"]} == expected


def test_search_by_section_and_theatre_finds_every_listing_of_them_and_names_a_bad_one(
    aws_env: None, broker: FakeTicketBroker, context: LambdaContext
) -> None:
    """A section by its name or an alias, as brokers write it ("ORCH"), in any case."""
    fetched = performances(run("run-1", context)["inventory"])
    theatre = fetched[0]["theatre_id"]
    everything = {"from": "2000-01-01", "to": "2100-01-01", "limit": "100"}
    ids = {p["performance_id"] for p in fetched if p["theatre_id"] == theatre}
    section = json.loads((THEATRES_DIR / f"{theatre}.json").read_text())["sections"][0]
    names = {section["name"], *section["aliases"]}
    expected = {
        listing["id"] for pid in ids for listing in broker.inventory[pid] if listing["section"] in names
    }

    status, body = search({**everything, "theatre": theatre, "section": section["name"].upper()})

    assert status == 200 and 0 < len(expected) < 100
    assert {t["listing_id"] for t in body["tickets"]} == expected
    assert {t["theatre_id"] for t in body["tickets"]} == {theatre}
    assert {t["section"] for t in body["tickets"]} > {section["name"]}  # its aliases too
    status, body = search({**everything, "theatre": theatre})
    assert status == 200 and {t["theatre_id"] for t in body["tickets"]} == {theatre}

    status, body = search({**everything, "theatre": "the-globe"})
    assert status == 400 and body["fields"][0]["field"] == "theatre"
    assert body["fields"][0]["message"].startswith('"the-globe" is not one of ["cibc-theatre", ')
    status, body = search({**everything, "section": "<script>"})
    assert status == 400 and body["fields"][0]["field"] == "section"
    assert "is not a section's name, such as Orchestra" in body["message"]


def test_every_missing_query_parameter_is_named_by_its_own_field(aws_env: None) -> None:
    answer = api_search.handler({"version": "2.0", "queryStringParameters": None}, None)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["fields"] == [
        {"field": "from", "message": '"from" is a required property'},
        {"field": "to", "message": '"to" is a required property'},
    ]


def test_a_price_cap_keeps_tickets_at_exactly_that_price(aws_env: None, context: LambdaContext) -> None:
    run("run-1", context)
    everything = {"from": "2000-01-01", "to": "2100-01-01", "limit": "100"}
    price = search(everything)[1]["tickets"][0]["price"]

    status, body = search({**everything, "max_price": str(price)})

    assert status == 200 and body["tickets"] and max(t["price"] for t in body["tickets"]) == price


def test_a_search_names_the_latest_of_the_runs_it_read(aws_env: None, context: LambdaContext) -> None:
    # fetched before midnight and marked after a run fetched since: still current for yesterday
    mark_current.handler(envelope(marking("newer", ago(1), day(0), day(1))), context)
    mark_current.handler(envelope(marking("slow", ago(2), day(-1), day(120))), context)
    spans = store.current_run("hamilton")["spans"]  # type: ignore[index]
    assert [s["run_id"] for s in spans] == ["slow", "newer", "slow"]

    assert search({"from": day(-1), "to": day(5)}) == (200, {"run_id": "newer", "tickets": []})
    assert search({"from": day(-1), "to": day(-1)}) == (200, {"run_id": "slow", "tickets": []})


def test_a_run_stored_one_item_a_listing_before_chunks_is_still_searched(
    aws_env: None, context: LambdaContext
) -> None:
    """Runs stored before a performance's listings were one item stay current until the next run,
    and readable for a week."""
    listing = {"listing_id": "L1", "section": "Orchestra", "row": "E", "seats": [1, 2], "quantity": 2,
               "price": 99.0, "face_value": 150.0, "notes": [], "rank": 1, "score": 80.5, "quality": 0.9,
               "obstructed": False, "reasons": []}  # fmt: skip
    performance = {
        "performance_id": "p1",
        "date": day(3),
        "theatre_id": "cibc-theatre",
        "theatre_name": "CIBC",
    }
    old = {"rank_key": "old#0001", "run_id": "old", "date_key": f"{day(3)}#p1#0001"}
    old["expires_at"] = store.expires(store.RANKING_TTL_SECONDS)
    store.rankings_table().put_item(Item=to_dynamo(performance | listing | old))
    mark_current.handler(envelope(marking("old", ago(1), day(0), day(120))), context)

    status, body = search({"from": day(0), "to": day(5)})

    assert status == 200 and body["tickets"] == [{k: (performance | listing)[k] for k in api_search.SHOWN}]
    assert store.performance_ranking("old", "p1") == [from_dynamo(to_dynamo(performance | listing | old))]


def test_more_performances_than_a_run_ranks_are_refused_not_ranked_in_part(
    aws_env: None, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_inventory, "MAX_PERFORMANCES", 5)
    with pytest.raises(fetch_inventory.TooManyPerformances, match="10 performances, at most 5 per run"):
        fetch_inventory.handler(envelope({"run_id": "r", "request": {"days_ahead": 365}}), context)


def test_a_theatre_without_seat_data_is_alerted_once_a_week_not_every_run(
    aws_env: None, alerts: Inbox, context: LambdaContext
) -> None:
    event = envelope({"run_id": "r", "request": {}})
    assert fetch_inventory.handler(event, context)["skipped_theatres"] == ["saenger-nola"]
    [alert] = alerts.messages()
    assert "saenger-nola" in alert and "data/theatres" in alert

    assert fetch_inventory.handler(event, context)["skipped_theatres"] == ["saenger-nola"]
    assert alerts.messages() == []  # told already

    week_ago = {":past": int(time.time()) - 1}  # DynamoDB's TTL has not deleted it yet
    boto3.resource("dynamodb").Table(STATE).update_item(
        Key={"key": "unmapped#saenger-nola"},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues=week_ago,
    )
    fetch_inventory.handler(event, context)
    assert len(alerts.messages()) == 1  # still without seat data a week later: alerted again


def test_theatres_without_seat_data_found_within_the_hour_are_each_emailed(aws_env: None) -> None:
    """The alert window is of the theatres alerted: another one found within the hour is emailed too
    (a window of the error alone would hold it back, and its weekly mark keep it from email a week)."""
    topic = boto3.client("sns").create_topic(Name="alerts-test")["TopicArn"]
    alerts = Inbox(boto3.client, topic, raw=False)
    assert unmapped.alert_new("hamilton", ["saenger-nola"]) == ["saenger-nola"]
    assert unmapped.alert_new("hamilton", ["orpheum-sf"]) == ["orpheum-sf"]
    emailed = [n["MessageAttributes"][EMAILED]["Value"] for n in alerts.notifications()]
    assert emailed == ["yes", "yes"]


def test_a_theatre_that_cannot_be_marked_is_not_alerted_and_the_ranking_goes_on(
    aws_env: None, alerts: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Throttled:
        meta = boto3.resource("dynamodb").Table(STATE).meta

        def put_item(self, **_: Any) -> None:
            error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
            raise ClientError(error, "PutItem")  # type: ignore[arg-type]

    monkeypatch.setattr(store, "state_table", Throttled)
    assert unmapped.alert_new("hamilton", ["saenger-nola"]) == []
    assert alerts.messages() == []


def test_an_alert_of_theatres_without_seat_data_that_cannot_be_sent_is_sent_by_the_next_run(
    aws_env: None, alerts: Inbox, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, topic = envelope({"run_id": "r", "request": {}}), os.environ["ALERTS_TOPIC_ARN"]
    monkeypatch.setenv("ALERTS_TOPIC_ARN", topic.replace("alerts-test", "deleted"))
    assert fetch_inventory.handler(event, context)["performances"] > 0  # ranked all the same
    monkeypatch.setenv("ALERTS_TOPIC_ARN", topic)

    fetch_inventory.handler(event, context)

    [alert] = alerts.messages()
    assert "saenger-nola" in alert
