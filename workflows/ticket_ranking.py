"""Ticket ranking: fetch a show's ticket inventory, rank every ticket per performance, announce new deals.

    Fetch Inventory (raw listings to S3; broker outages and throttling retried with jitter)
    -> Rank Performances (Map over pages of performances, bounded concurrency): Rank Performance -> Store Ranking
    -> Mark Current (this run's rankings become the ones readers see, for the dates it covered)
    -> Find New Deals (on the dates the run is current for; each deal claimed for the run) -> Any New Deals?
         yes -> Notify Subscribers (SNS) -> Record Deals Told -> Deals Announced
         no  -> No New Deals
    any error not retried away -> Alert Failure -> Failed

The broker's outages are retried by the workflow, rankings are stored per run and made current only once
the whole run is stored (a failed run leaves no partial rankings), and subscribers hear about
a deal once, until a better one appears, even from runs that overlap: a run claims each deal
before it publishes it (a conditional write that another run's claim or a deal as good told
refuses), publishes only what it claimed, and records it as told. A claim never recorded (its run
failed or was stopped first) lapses after an hour, and a later run announces the deal
(tasks.ticket_ranking.told).
"""

from __future__ import annotations

from typing import Any

from stepfunctions.steps.choice_rule import ChoiceRule

from tasks.ticket_ranking.schemas import MAX_PAGES, RUN_REQUEST
from tasks.ticket_ranking.store import RANKED_PREFIX, RAW_PREFIX
from tasks.ticket_ranking.unmapped import PREFIX as UNMAPPED
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
    sns_publish,
)
from workflows.registry import (
    PUBLIC_ROUTE_CONCURRENCY,
    Access,
    Bucket,
    Function,
    Index,
    Route,
    Schedule,
    Table,
    Topic,
    Workflow,
)

NAME = "ticket-ranking"
MAP_CONCURRENCY = 10
BROKER_RETRIES = (["BrokerUnavailable", SETTING_UNAVAILABLE], ["BrokerThrottled"])
RUN = {"run_id.$": "$.inventory.run_id", "show.$": "$.inventory.show"}


def _rank_performance() -> asl.Chain:
    rank = lambda_task(
        "Rank Performance",
        "RankPerformanceFunctionArn",
        "$",
        result_selector={"ranked_key.$": "$.Payload.ranked_key", "listings.$": "$.Payload.listings"},
        result_path="$.ranked",
    )
    store = lambda_task(
        "Store Ranking",
        "StoreRankingFunctionArn",
        {"run_id.$": "$.run_id", "ranked_key.$": "$.ranked.ranked_key"},
        result_selector={"performances.$": "$.Payload.performances", "stored.$": "$.Payload.stored"},
    )
    return asl.Chain([rank, store])


def build() -> dict[str, Any]:
    alert = alert_and_fail(NAME)

    fetch = lambda_task(
        "Fetch Inventory",
        "FetchInventoryFunctionArn",
        {"run_id.$": "$$.Execution.Name", "request.$": "$"},
        result_selector={
            "run_id.$": "$.Payload.run_id",
            "show.$": "$.Payload.show",
            "fetched_at.$": "$.Payload.fetched_at",
            "dates.$": "$.Payload.dates",
            "listings.$": "$.Payload.listings",
            "performances.$": "$.Payload.performances",
            "pages.$": "$.Payload.pages",
            "skipped_theatres.$": "$.Payload.skipped_theatres",
        },
        result_path="$.inventory",
        extra_retries=provider_retries(*BROKER_RETRIES),
        comment="Raw listings go to S3; only the performances and their keys travel on",
    )
    rank_all = asl.Map(
        "Rank Performances",
        item_processor=_rank_performance(),
        items_path="$.inventory.pages",
        max_concurrency=MAP_CONCURRENCY,
        item_selector={"run_id.$": "$.inventory.run_id", "key.$": "$$.Map.Item.Value"},
        result_path=None,
        comment="Each page of performances ranked and stored under this run; nothing is current yet",
    )
    mark = lambda_task(
        "Mark Current",
        "MarkCurrentFunctionArn",
        {**RUN, "fetched_at.$": "$.inventory.fetched_at", "dates.$": "$.inventory.dates"},
        result_selector={"current.$": "$.Payload.current", "dates.$": "$.Payload.dates"},
        result_path="$.marked",
        extra_retries=[contention_retry(["CurrentContended"])],
        comment="Current for the dates the run covered, unless a newer run covered them",
    )
    find = lambda_task(
        "Find New Deals",
        "FindDealsFunctionArn",
        {**RUN, "dates.$": "$.marked.dates"},
        result_selector={
            "count.$": "$.Payload.count",
            "deals.$": "$.Payload.deals",
            "subject.$": "$.Payload.subject",
            "message.$": "$.Payload.message",
        },
        result_path="$.deals",
        comment="Claims each new deal for the run: another run's claim, or a deal as good told, keeps it out",
    )
    notify = sns_publish(
        "Notify Subscribers",
        "DealsTopicArn",
        {"Subject.$": "$.deals.subject", "Message.$": "$.deals.message"},
        result_path="$.notified",
    )
    record = lambda_task(
        "Record Deals Told",
        "RecordDealsFunctionArn",
        {"run_id.$": "$.inventory.run_id", "deals.$": "$.deals.deals"},
        result_selector={"recorded.$": "$.Payload.recorded"},
        result_path="$.recorded",
    )
    summary = {
        "run_id.$": "$.inventory.run_id",
        "listings.$": "$.inventory.listings",
        "performances.$": "$.inventory.performances",
        "skipped_theatres.$": "$.inventory.skipped_theatres",
        "current.$": "$.marked.current",
        "new_deals.$": "$.deals.count",
    }
    announced = asl.Pass("Deals Announced", parameters={**summary, "message_id.$": "$.notified.MessageId"})
    no_deals = asl.Pass("No New Deals", parameters=summary)

    any_deals = asl.Choice("Any New Deals?")
    any_deals.add_choice(ChoiceRule.NumericGreaterThan(variable="$.deals.count", value=0), next_step=notify)
    any_deals.default_choice(no_deals)

    for state in (fetch, rank_all, mark, find, notify, record):
        catch_to(state, alert)
    notify.next(record)
    record.next(announced)

    chain = asl.Chain([fetch, rank_all, mark, find, any_deals])
    return asl.Graph(
        chain, comment="Ticket ranking: fetch, rank per performance, announce new deals"
    ).to_dict()


def _fn(name: str, module: str, description: str, *access: Access, **environment: str) -> Function:
    return Function(
        name=name,
        handler=f"tasks.ticket_ranking.{module}.handler",
        description=description,
        access=access,
        environment=environment,
        timeout=60,
    )


# Names only (deploy fills in app and env): the broker's base URL in SSM, its API key a secret
# (staging points at the broker's sandbox, prod at the live API).
BROKER_PARAMETERS = {
    "BROKER_URL_PARAMETER": "/{app}/{env}/ticket-broker/base-url",
    "BROKER_API_KEY_SECRET": "{app}/{env}/ticket-broker/api-key",
}
RANKINGS_READ = Access("rankings", ("dynamodb:Query",))

WORKFLOW = Workflow(
    name=NAME,
    description="Fetch ticket inventory, rank every ticket per performance and announce new best deals",
    type=asl.StateMachineType.STANDARD,
    build=build,
    input_schema=RUN_REQUEST,
    # A run must end before the next scheduled one starts (30 minutes). Fetch Inventory at its
    # 5-minute limit twice (a broker outage retried) and 2,000 performances ranked and stored in 80
    # pages 10 at a time (8 rounds of two tasks of seconds each) with their throttling back-offs fit
    # in 25 minutes; a run still going then is stuck: it times out (the alarm pages) before the next run,
    # which ranks the inventory afresh, and well before its claims on deals lapse (an hour).
    timeout_seconds=25 * 60,
    example_input={"show": "hamilton", "days_ahead": 90},
    functions=(
        Function(
            name="fetch-inventory",
            handler="tasks.ticket_ranking.fetch_inventory.handler",
            description="Reads a show's performances and listings from the broker; raw listings to S3",
            access=(
                Access("inventory", ("s3:PutObject",), prefix=RAW_PREFIX),
                # theatres without seat data, alerted once a week (tasks.ticket_ranking.unmapped):
                # their marks only, not the current run's pointer nor the deals told
                Access(
                    "state",
                    ("dynamodb:PutItem", "dynamodb:DeleteItem"),
                    condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": f"{UNMAPPED}*"}},
                ),
                *ALERT_ACCESS,
            ),
            environment={"INVENTORY_BUCKET": "inventory", "STATE_TABLE": "state", **ALERT_ENVIRONMENT},
            parameters=BROKER_PARAMETERS,
            timeout=300,
            memory=512,
        ),
        _fn(
            "rank-performance",
            "rank_performance",
            "Ranks the listings of a page of performances on price against seat quality and obstructions",
            Access("inventory", ("s3:GetObject",), prefix=RAW_PREFIX),
            Access("inventory", ("s3:PutObject",), prefix=RANKED_PREFIX),
            INVENTORY_BUCKET="inventory",
        ),
        _fn(
            "store-ranking",
            "store_ranking",
            "Stores every listing of a page of performances, ranked, in the rankings table",
            Access("inventory", ("s3:GetObject",), prefix=RANKED_PREFIX),
            Access("rankings", ("dynamodb:BatchWriteItem",)),  # batch_writer
            INVENTORY_BUCKET="inventory",
            RANKINGS_TABLE="rankings",
        ),
        _fn(
            "mark-current",
            "mark_current",
            "Makes the run's rankings current for the dates it covered, unless a newer run covered them",
            Access("state", ("dynamodb:GetItem", "dynamodb:PutItem")),
            STATE_TABLE="state",
        ),
        _fn(
            "find-deals",
            "find_deals",
            "Finds and claims each performance's best ticket that beats what subscribers were told or another run claimed",
            RANKINGS_READ,
            Access("state", ("dynamodb:Scan", "dynamodb:UpdateItem")),
            RANKINGS_TABLE="rankings",
            STATE_TABLE="state",
        ),
        _fn(
            "record-deals",
            "record_deals",
            "Confirms the deals announced as told, so that an identical run announces nothing",
            Access("state", ("dynamodb:UpdateItem",)),
            STATE_TABLE="state",
        ),
        Function(
            name="api-search",
            handler="tasks.ticket_ranking.api_search.handler",
            description="GET /tickets/search: best tickets over a date range and a price cap",
            access=(RANKINGS_READ, Access("state", ("dynamodb:GetItem",)), *ALERT_ACCESS),
            environment={"RANKINGS_TABLE": "rankings", "STATE_TABLE": "state", **ALERT_ENVIRONMENT},
            timeout=10,  # a route's: API Gateway waits at most 30 s
            reserved_concurrency=PUBLIC_ROUTE_CONCURRENCY,
        ),
    ),
    tables=(
        Table(
            name="rankings",
            partition_key=("performance_id", "S"),
            sort_key=("rank_key", "S"),
            indexes=(
                Index("run-date-index", ("run_id", "S"), ("date_key", "S")),
                # sparse: only each performance's best ranking of a run carries best_of_run
                Index("best-per-performance-index", ("best_of_run", "S"), ("score", "N")),
            ),
            ttl_attribute="expires_at",
        ),
        Table(name="state", partition_key=("key", "S"), ttl_attribute="expires_at"),
    ),
    topics=(Topic("deals", "Ticket deals", declared_subscribers=True),),
    buckets=(Bucket("inventory", expire_days=7),),
    triggers=(
        Schedule(
            "rate(30 minutes)",
            input={"show": "hamilton"},
            # A start later than this would run beside the next one; a dropped one is made good by
            # the next run, which ranks the same inventory afresh.
            max_event_age_seconds=15 * 60,
            retry_attempts=3,
        ),
    ),
    integrations=(Access("deals", ("sns:Publish",)), *ALERT_ACCESS),
    max_map_items=MAX_PAGES,
    routes=(Route("GET", "/tickets/search", "api-search"),),
)
