"""Announce: tell the winners of a draw that was recorded but not announced, once the cause is fixed.

    python -m tasks.lottery.announce --env staging --draw <draw id>

The draw id is the name of its execution, which failed with DrawNotAnnounced (its cause gives this
command). Starting the lottery afresh instead would draw, and announce, other winners; a redrive
would only run its Fail state again.

Only such a draw is announced, once: one whose execution did not fail so (the workflow announced
it, or it failed before recording anyone), whose winners are not recorded, or that was announced
here before is refused (exit 2), nothing sent. The draw's winners are marked announced
(`announced_at` in the winners table) in one transaction before the message is sent, so two
announcements at once send one; a send that SNS refused, or that never reached it, takes the mark
back (exit 1), to try again. When taking it back fails too, the draw stays marked though no one was
told: the message says so, and gives the commands that take the mark back by hand (exit 1). A send
whose answer was lost (a read timeout, a connection cut after the request went out) may have told
the winners: the mark stays, so that no second try tells them twice, and the message says how to
send it by hand if it did not go out (exit 1).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import UTC, datetime
from typing import Any

from tasks.lottery.draw import announcement

WORKFLOW = "lottery"
# the error of a run that recorded its draw and could not announce it (workflows.lottery)
NOT_ANNOUNCED = "DrawNotAnnounced"
SUBJECT = "Lottery winners"
COMMAND = "python -m tasks.lottery.announce"


class Refused(Exception):
    """The draw is not one to announce here: nothing was sent."""


class Unconfirmed(Exception):
    """The announcement may or may not have gone out: the draw stays marked announced."""


class StillMarked(Exception):
    """The announcement did not go out, but the draw stays marked announced: taking the mark back
    failed, so another announcement is refused until the mark is taken back by hand."""


def draw_items(dynamodb: Any, table: str, draw_id: str) -> list[dict[str, Any]]:
    """The winners table's items of the draw (claims and records), as DynamoDB gives them."""
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="draw_id = :draw",
        ExpressionAttributeValues={":draw": {"S": draw_id}},
    )
    return [item for page in pages for item in page["Items"]]


def winners_table(env: Any) -> tuple[Any, str]:
    """The environment's DynamoDB client and the lottery's winners table."""
    return env.client("dynamodb"), env.resource_name(WORKFLOW, "winners")


def announced_at(items: list[dict[str, Any]]) -> str | None:
    """When the draw was announced here (its winners' mark), or None."""
    marks = sorted(item["announced_at"]["S"] for item in items if "announced_at" in item)
    return marks[0] if marks else None


def when_announced(env: Any, draw_id: str) -> str | None:
    """When the draw was announced here, as the winners table records it (one scan), or None."""
    return announced_at(draw_items(*winners_table(env), draw_id))


def refusal(execution: dict[str, Any] | None, items: list[dict[str, Any]], draw_id: str) -> str | None:
    """Why the draw must not be announced here, or None: a pure decision on what Step Functions
    and the winners table record of it."""
    if execution is None or execution.get("workflow") != WORKFLOW:
        return f"no lottery draw {draw_id!r}"
    if execution.get("status") != "FAILED" or execution.get("error") != NOT_ANNOUNCED:
        ended = execution.get("status", "?") + (
            f" with {execution['error']}" if execution.get("error") else ""
        )
        return f"draw {draw_id} {ended}, not {NOT_ANNOUNCED}: only a draw recorded and not announced is announced here"
    if not items or any("won_at" not in item for item in items):
        return f"draw {draw_id} has no recorded winners in the winners table"
    announced = announced_at(items)
    if announced:
        return f"draw {draw_id} was announced already, at {announced}"
    return None


def _mark(dynamodb: Any, table: str, draw_id: str, items: list[dict[str, Any]], now: str) -> bool:
    """Mark every winner of the draw announced, unless any is already: False when one was."""
    updates = [
        {
            "Update": {
                "TableName": table,
                "Key": {"employee_id": item["employee_id"]},
                "UpdateExpression": "SET announced_at = :now",
                "ConditionExpression": "draw_id = :draw AND attribute_exists(won_at) "
                "AND attribute_not_exists(announced_at)",
                "ExpressionAttributeValues": {":now": {"S": now}, ":draw": {"S": draw_id}},
            }
        }
        for item in items
    ]
    try:
        dynamodb.transact_write_items(TransactItems=updates)
    except dynamodb.exceptions.TransactionCanceledException:
        return False
    return True


def _unmark(dynamodb: Any, table: str, items: list[dict[str, Any]], now: str) -> None:
    """Take back the mark `_mark` set, in one transaction: the draw is left marked or not, never in part."""
    updates = [
        {
            "Update": {
                "TableName": table,
                "Key": {"employee_id": item["employee_id"]},
                "UpdateExpression": "REMOVE announced_at",
                "ConditionExpression": "announced_at = :now",
                "ExpressionAttributeValues": {":now": {"S": now}},
            }
        }
        for item in items
    ]
    dynamodb.transact_write_items(TransactItems=updates)


def unmark_by_hand(aws: str, table: str, items: list[dict[str, Any]]) -> str:
    """The AWS CLI commands (`aws`: the environment's, infra.parameters.aws_cli) that take back the
    mark of each of the draw's winners."""
    return " && ".join(
        f"{aws} "
        + shlex.join(
            [
                "dynamodb",
                "update-item",
                "--table-name",
                table,
                "--key",
                json.dumps({"employee_id": item["employee_id"]}),
                "--update-expression",
                "REMOVE announced_at",
            ]
        )
        for item in sorted(items, key=lambda winner: winner["employee_id"]["S"])
    )


def announce(env: Any, draw_id: str, out: Any = print) -> str:
    """Announce the draw's winners on the lottery's announcements topic; the message's id."""
    # the operator's side only: not packaged with the Lambdas
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    from console.errors import NotFound
    from console.service import ExecutionService
    from infra.names import Names
    from infra.parameters import aws_cli
    from workflows import WORKFLOWS, get

    service = ExecutionService(env, WORKFLOWS)
    try:
        execution = service.describe(service.execution_arn(draw_id))
    except NotFound:
        execution = None
    dynamodb, table = winners_table(env)
    items = draw_items(dynamodb, table, draw_id)
    why = refusal(execution, items, draw_id)
    if why:
        raise Refused(why)
    now = datetime.now(UTC).isoformat()
    if not _mark(dynamodb, table, draw_id, items, now):
        raise Refused(f"draw {draw_id} was announced meanwhile, by another announcement")
    names = sorted(item["employee_name"]["S"] for item in items)
    topic = Names(env, *env.identity()).value(get(WORKFLOW), "announcements")
    message = announcement(names)
    try:
        sent = env.client("sns").publish(TopicArn=topic, Subject=SUBJECT, Message=message)
    except (ClientError, EndpointConnectionError) as failed:  # refused, or never reached SNS: no one was told
        try:
            _unmark(dynamodb, table, items, now)
        except (BotoCoreError, ClientError) as kept:
            raise StillMarked(
                f"draw {draw_id}: the announcement was not sent ({failed}), and taking back its "
                f"mark failed too ({kept}): the draw stays marked announced though no winner was "
                f"told, so announcing it again is refused. Once both are fixed, take the mark back "
                f"by hand: {unmark_by_hand(aws_cli(env), table, items)}; then announce it: "
                f"{COMMAND} --env {env.name} --draw {draw_id}"
            ) from failed
        raise
    except BotoCoreError as error:  # the request may have reached SNS, its answer lost
        by_hand = f"{aws_cli(env)} " + shlex.join(
            ["sns", "publish", "--topic-arn", topic, "--subject", SUBJECT, "--message", message]
        )
        raise Unconfirmed(
            f"draw {draw_id}: unknown whether SNS sent the announcement ({error}); the draw stays "
            f"marked announced, so that another try does not tell the winners twice. If they were "
            f"not told, send it by hand: {by_hand}"
        ) from error
    out(f"draw {draw_id}: announced {', '.join(names)} (message {sent['MessageId']})")
    return str(sent["MessageId"])


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from console.errors import ConsoleError
    from infra.environments import ConfigError, exit_for_aws_error, load

    parser = argparse.ArgumentParser(allow_abbrev=False, prog=COMMAND, description=__doc__)
    parser.add_argument("--env", required=True, help="an environment of environments.toml")
    parser.add_argument("--draw", required=True, help="the draw's id: its execution's name")
    args = parser.parse_args(argv)
    try:
        announce(load(args.env), args.draw)
        return 0
    except (ConfigError, ConsoleError, Refused) as error:
        print(f"not announced: {error}", file=sys.stderr)
        return 2
    except Unconfirmed as error:
        print(f"announcement unconfirmed: {error}", file=sys.stderr)
        return 1
    except StillMarked as error:
        print(f"not announced, still marked: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        return exit_for_aws_error(error, "not announced: ")


if __name__ == "__main__":
    sys.exit(main())
