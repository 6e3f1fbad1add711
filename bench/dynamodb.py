"""DynamoDB on the local cloud as a table grows: what ticket-ranking's tasks ask of it.

    python bench/dynamodb.py [--runs 30] [--every 10]

Each run stores one ranking run of Store Ranking's items (36 performances x 30 listings of 20
attributes, written with a batch writer), so the table grows by 1,080 items a run. Every --every
runs it times a Query of the run's 1,080 items on an index (as a search over every date reads them), a
Query of one performance's items on the table, and a GetItem. Medians in ms, over the run's 36
stores and five repeats of each read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from boto3.dynamodb.conditions import Key

from localcloud.server import LocalCloud

PERFORMANCES, TOP = 36, 30
KEYS = [("performance_id", "S"), ("rank_key", "S"), ("run_id", "S"), ("date_key", "S")]


def create_rankings_table(cloud: LocalCloud) -> Any:
    cloud.client("dynamodb").create_table(
        TableName="rankings",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in KEYS],
        KeySchema=[
            {"AttributeName": "performance_id", "KeyType": "HASH"},
            {"AttributeName": "rank_key", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "run-date-index",
                "KeySchema": [
                    {"AttributeName": "run_id", "KeyType": "HASH"},
                    {"AttributeName": "date_key", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    env = cloud.env()
    return boto3.resource(
        "dynamodb",
        endpoint_url=cloud.endpoint,
        region_name=cloud.region,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    ).Table("rankings")


def ranking_item(run: str, performance: int, rank: int) -> dict[str, Any]:
    """A ranking item of Store Ranking's shape: keys, listing fields, score and reasons."""
    return {
        "performance_id": f"perf-{performance:03d}",
        "rank_key": f"{run}#{rank:04d}",
        "run_id": run,
        "date_key": f"2026-12-{performance % 28 + 1:02d}#perf-{performance:03d}#{rank:04d}",
        "date": f"2026-12-{performance % 28 + 1:02d}",
        "theatre_id": f"t{performance % 7}",
        "theatre_name": "The Grand Theatre",
        "rank": rank,
        "score": 1000 - rank * 7,
        "quality": "good",
        "obstructed": rank % 5 == 0,
        "reasons": ["centre", "aisle", "price below face value"],
        "expires_at": 1_900_000_000,
        "listing_id": f"L{performance}-{rank}",
        "section": "Stalls",
        "row": "F",
        "seats": [11, 12],
        "quantity": 2,
        "price": 85,
        "face_value": 95,
        "notes": "",
    }


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        allow_abbrev=False, prog="python bench/dynamodb.py", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args(argv)

    print("DynamoDB as the rankings table grows (median ms)")
    print()
    print(
        "| items in the table | store 30 items | query an index: 1,080 items | query the table: one performance | GetItem |"
    )
    print("|---|---|---|---|---|")
    with LocalCloud() as cloud:
        table = create_rankings_table(cloud)
        for run_number in range(1, args.runs + 1):
            run = f"run-{run_number:04d}"
            stores = []
            for performance in range(PERFORMANCES):
                started = time.perf_counter()
                with table.batch_writer() as batch:
                    for rank in range(TOP):
                        batch.put_item(Item=ranking_item(run, performance, rank))
                stores.append(time.perf_counter() - started)
            if run_number % args.every and run_number != 1:
                continue
            index, own, get = [], [], []
            for _ in range(5):
                started = time.perf_counter()
                found = table.query(IndexName="run-date-index", KeyConditionExpression=Key("run_id").eq(run))
                index.append(time.perf_counter() - started)
                assert found["Count"] == PERFORMANCES * TOP, found["Count"]
                started = time.perf_counter()
                table.query(KeyConditionExpression=Key("performance_id").eq("perf-007"))
                own.append(time.perf_counter() - started)
                started = time.perf_counter()
                table.get_item(Key={"performance_id": "perf-007", "rank_key": f"{run}#0003"})
                get.append(time.perf_counter() - started)
            print(
                f"| {run_number * PERFORMANCES * TOP:,} | {_median_ms(stores):.1f} | {_median_ms(index):.0f} "
                f"| {_median_ms(own):.0f} ({run_number * TOP} items) | {_median_ms(get):.1f} |",
                flush=True,
            )
    print()
    print("command: python bench/dynamodb.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
