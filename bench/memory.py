"""Memory of a local cloud that keeps writing records and expiring them, as ticket-ranking's
rankings table does on its 30-minute schedule.

    python bench/memory.py [--runs 60] [--keep 10] [--every 10]

Each run stores one ranking run (36 performances x 30 items, as bench/dynamodb.py does) whose TTL
falls --keep runs later, then sweeps the table as DynamoDB's TTL would (`LocalCloud.expiry`),
half an hour of engine time after the last. Once the sweep deletes as many items as a run writes,
the table stops growing; the process's resident memory should stop with it. Every --every runs it
prints the items in the table, the items moto still lists on their class (for its dashboard), and
the resident memory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dynamodb import PERFORMANCES, TOP, create_rankings_table, ranking_item

from localcloud.server import LocalCloud

START, RUN_SECONDS = 1_900_000_000, 1800


def resident_mb() -> float:
    """The process's resident set (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status: this bench reads Linux's")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        allow_abbrev=False, prog="python bench/memory.py", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--keep", type=int, default=10, help="runs an item lives before its TTL")
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args(argv)
    from moto.dynamodb.models.dynamo_type import Item

    print("Memory as ranking runs are written and expire")
    print()
    print("| runs | items written | items in the table | items moto lists | resident MB |")
    print("|---|---|---|---|---|")
    with LocalCloud() as cloud:
        table = create_rankings_table(cloud)
        cloud.client("dynamodb").update_time_to_live(
            TableName="rankings", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        for number in range(1, args.runs + 1):
            run, now = f"run-{number:04d}", START + number * RUN_SECONDS
            with table.batch_writer() as batch:
                for performance in range(PERFORMANCES):
                    for rank in range(TOP):
                        item = ranking_item(run, performance, rank)
                        batch.put_item(Item={**item, "expires_at": now + args.keep * RUN_SECONDS})
            cloud.expiry.expire(now=now)
            if number % args.every == 0:
                count = cloud.client("dynamodb").describe_table(TableName="rankings")["Table"]["ItemCount"]
                print(
                    f"| {number} | {number * PERFORMANCES * TOP:,} | {count:,} "
                    f"| {len(Item.instances_tracked):,} | {resident_mb():.0f} |",  # type: ignore[attr-defined]
                    flush=True,
                )
    print()
    print("command: python bench/memory.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
