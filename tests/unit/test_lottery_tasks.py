"""Each lottery task Lambda against moto: valid draw, redraw, refusals, idempotent record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from tasks.lottery import check_winners, draw_winners, record_winners, validate_request, winners
from tasks.lottery.draw import NotEnoughEligibleEmployees
from tasks.shared import clients, documents
from tasks.shared.errors import InvalidInput, MalformedTaskInput, TaskError
from tests.unit.conftest import create_table, envelope, handler_environment, seed_items
from workflows.lottery import WORKFLOW

EMPLOYEES, WINNERS = "employees-test", "winners-test"


@pytest.fixture
def tables(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    handler_environment(monkeypatch, WORKFLOW.functions, {"employees": EMPLOYEES, "winners": WINNERS})
    spec = {t.name: t for t in WORKFLOW.tables}
    return {
        "employees": create_table(spec["employees"], EMPLOYEES),
        "winners": create_table(spec["winners"], WINNERS),
    }


@pytest.fixture
def seeded(tables: dict[str, Any]) -> dict[str, Any]:
    with tables["employees"].batch_writer() as batch:
        for item in seed_items(WORKFLOW.tables[0]):
            batch.put_item(Item=item)
    return tables


def winners_in_table() -> dict[str, dict[str, Any]]:
    items = boto3.resource("dynamodb").Table(WINNERS).scan()["Items"]
    return {item["employee_id"]: item for item in items}


def test_a_valid_draw_picks_new_winners_and_names_them(
    seeded: dict[str, Any], context: LambdaContext
) -> None:
    draw = validate_request.handler(envelope({"winners": 3, "seed": 7}), context)
    assert draw == {"winners": 3, "employees": 20, "seed": 7}

    drawn = draw_winners.handler(envelope({**draw, "attempt": 0}), context)["winners"]
    assert len({w["employee_id"] for w in drawn}) == 3

    check = check_winners.handler(envelope({"draw_id": "draw-a", "winners": drawn}), context)
    assert check["eligible"] is True and check["past_winners"] == []
    for winner in drawn:
        assert winner["employee_name"] in check["message"]


def test_a_draw_takes_only_employees_who_have_not_won(seeded: dict[str, Any], context: LambdaContext) -> None:
    for i in range(1, 17):
        seeded["winners"].put_item(Item={"employee_id": f"E{i:03d}", "draw_id": "earlier"})
    for attempt in range(10):
        drawn = draw_winners.handler(envelope({"winners": 4, "employees": 20, "attempt": attempt}), context)
        assert sorted(w["employee_id"] for w in drawn["winners"]) == ["E017", "E018", "E019", "E020"]
    with pytest.raises(NotEnoughEligibleEmployees, match="5 winners requested but only 4 can still win"):
        draw_winners.handler(envelope({"winners": 5, "employees": 20, "attempt": 0}), context)


def test_a_winner_claimed_by_another_draw_meanwhile_is_reported_and_the_redraw_skips_them(
    seeded: dict[str, Any], context: LambdaContext
) -> None:
    draw = {"winners": 2, "employees": 20, "seed": 11}
    first = draw_winners.handler(envelope({**draw, "attempt": 0}), context)["winners"]
    seeded["winners"].put_item(Item={"employee_id": first[0]["employee_id"], "draw_id": "another-draw"})

    check = check_winners.handler(envelope({"draw_id": "draw-b", "winners": first}), context)
    assert check["eligible"] is False
    assert check["past_winners"] == [first[0]["employee_id"]]

    for attempt in range(1, 10):
        second = draw_winners.handler(envelope({**draw, "attempt": attempt}), context)["winners"]
        assert first[0] not in second


def test_more_winners_than_can_still_win_is_refused(seeded: dict[str, Any], context: LambdaContext) -> None:
    for i in range(1, 19):
        seeded["winners"].put_item(Item={"employee_id": f"E{i:03d}", "draw_id": "earlier"})
    with pytest.raises(NotEnoughEligibleEmployees, match="3 winners requested but only 2 of 20"):
        validate_request.handler(envelope({"winners": 3}), context)


def test_an_empty_employee_table_is_refused(tables: dict[str, Any], context: LambdaContext) -> None:
    with pytest.raises(NotEnoughEligibleEmployees, match="only 0 of 0"):
        validate_request.handler(envelope({"winners": 1}), context)


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"winners": "two"}, "winners"),
        ({}, "winners"),
        ({"winners": 0}, "winners"),
        ({"winners": 1, "x": 1}, "x"),
    ],
)
def test_a_malformed_request_names_the_field(
    tables: dict[str, Any], context: LambdaContext, request_body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}"):
        validate_request.handler(envelope(request_body), context)


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"winners": True}, 'winners: true is not of type "integer"'),
        ({"winners": "two"}, 'winners: "two" is not of type "integer"'),
        ({"winners": None}, 'winners: null is not of type "integer"'),
        ({}, 'winners: "winners" is a required property'),
        ({"winners": 1, "x": 1}, 'x: Additional properties are not allowed ("x" was unexpected)'),
        # the original's name for winners: refused, saying what to send instead
        ({"input": 2}, 'input: "input" is the original\'s name: send {"winners": 2}'),
        ({"input": 2, "winners": 2}, 'input: "input" is the original\'s name: send "winners" alone'),
    ],
)
def test_the_task_and_the_door_show_the_values_as_json_as_they_were_sent(
    tables: dict[str, Any], context: LambdaContext, request_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_request.handler(envelope(request_body), context)
    assert str(refused.value) == message
    field, _, said = message.partition(": ")
    assert documents.errors(WORKFLOW.input_schema, request_body) == [{"field": field, "message": said}]


def test_the_originals_input_beside_an_unknown_field_names_each() -> None:
    assert documents.errors(WORKFLOW.input_schema, {"input": 2, "x": 1}) == [
        {"field": "input", "message": '"input" is the original\'s name: send {"winners": 2}'},
        {"field": "x", "message": 'Additional properties are not allowed ("x" was unexpected)'},
    ]


def test_a_long_wrong_value_is_cut_short_in_the_message(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_request.handler(envelope({"winners": "x" * 10_000}), context)
    message = str(refused.value)
    assert message.startswith('winners: "xxx') and message.endswith('... is not of type "integer"')
    assert len(message) < 200


def test_an_event_without_the_task_envelope_is_refused_as_the_definitions_mistake(
    context: LambdaContext,
) -> None:
    """Not the caller's: the workflow alerts it, where it rejects a malformed request unalerted."""
    with pytest.raises(MalformedTaskInput, match=r"^event: expected \{'execution': \.\.\., 'input'"):
        validate_request.handler({"winners": 2}, context)


WINNERS_OF_DRAW = [
    {"employee_id": "E001", "employee_name": "Amelia Hart", "lottery_serial": 1},
    {"employee_id": "E002", "employee_name": "Bruno Costa", "lottery_serial": 2},
]


def test_recording_the_same_draw_twice_records_once(tables: dict[str, Any], context: LambdaContext) -> None:
    event = envelope({"draw_id": "draw-1", "winners": WINNERS_OF_DRAW})
    assert record_winners.handler(event, context) == {"recorded": ["E001", "E002"]}
    first = winners_in_table()
    assert record_winners.handler(event, context) == {"recorded": ["E001", "E002"]}
    assert winners_in_table() == first
    assert {item["draw_id"] for item in first.values()} == {"draw-1"}


def test_a_winner_of_another_draw_is_not_recorded_twice_and_nothing_is_half_written(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    record_winners.handler(envelope({"draw_id": "draw-1", "winners": WINNERS_OF_DRAW[:1]}), context)
    with pytest.raises(record_winners.WinnerAlreadyRecorded, match="E001"):
        record_winners.handler(envelope({"draw_id": "draw-2", "winners": WINNERS_OF_DRAW}), context)
    assert set(winners_in_table()) == {"E001"}
    assert winners_in_table()["E001"]["draw_id"] == "draw-1"


def test_a_claim_is_atomic_so_two_draws_never_share_a_winner(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    first = check_winners.handler(envelope({"draw_id": "draw-1", "winners": WINNERS_OF_DRAW[:1]}), context)
    second = check_winners.handler(envelope({"draw_id": "draw-2", "winners": WINNERS_OF_DRAW}), context)

    assert first["eligible"] is True
    assert second == {**second, "eligible": False, "past_winners": ["E001"]}
    assert {k: v["draw_id"] for k, v in winners_in_table().items()} == {"E001": "draw-1"}  # E002 not claimed


def test_recording_confirms_the_claim_of_the_same_draw(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    event = envelope({"draw_id": "draw-1", "winners": WINNERS_OF_DRAW})
    check_winners.handler(event, context)
    record_winners.handler(event, context)

    items = winners_in_table()
    assert set(items) == {"E001", "E002"}
    assert all(
        item["draw_id"] == "draw-1" and item["claimed_at"] and item["won_at"] for item in items.values()
    )


def claimed(draw_id: str, employee_id: str, ago: timedelta, **more: str) -> dict[str, str]:
    at = (datetime.now(UTC) - ago).isoformat()
    return {"employee_id": employee_id, "draw_id": draw_id, "employee_name": "x", "claimed_at": at, **more}


def test_a_claim_never_confirmed_lapses_and_its_employee_can_win_again(
    seeded: dict[str, Any], context: LambdaContext
) -> None:
    """A draw that failed, or was stopped, between its claim and its record would otherwise keep
    its employees from ever winning."""
    lapsed = winners.CLAIM_LEASE + timedelta(minutes=1)
    for i in range(1, 19):  # E001..E018 claimed by a draw that failed long ago
        seeded["winners"].put_item(Item=claimed("failed-draw", f"E{i:03d}", lapsed))
    seeded["winners"].put_item(Item=claimed("won-draw", "E019", lapsed, won_at="2026-01-01T00:00:00+00:00"))

    assert validate_request.handler(envelope({"winners": 19}), context)["winners"] == 19
    with pytest.raises(NotEnoughEligibleEmployees, match="20 winners requested but only 19 of 20"):
        validate_request.handler(envelope({"winners": 20}), context)
    drawn = draw_winners.handler(envelope({"winners": 19, "employees": 20, "attempt": 0}), context)["winners"]
    assert "E019" not in {w["employee_id"] for w in drawn}

    event = envelope({"draw_id": "new-draw", "winners": WINNERS_OF_DRAW})
    assert check_winners.handler(event, context)["eligible"] is True
    retaken = winners_in_table()["E001"]
    assert retaken["draw_id"] == "new-draw"
    assert (
        retaken["claimed_at"] > (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    )  # a lease of its own
    with pytest.raises(record_winners.WinnerAlreadyRecorded, match="E001, E002"):  # the failed draw, redriven
        record_winners.handler(envelope({"draw_id": "failed-draw", "winners": WINNERS_OF_DRAW}), context)


def test_a_claim_in_its_lease_keeps_its_employee_from_other_draws(
    seeded: dict[str, Any], context: LambdaContext
) -> None:
    running = winners.CLAIM_LEASE - timedelta(minutes=1)
    seeded["winners"].put_item(Item=claimed("running-draw", "E001", running))

    with pytest.raises(NotEnoughEligibleEmployees, match="20 winners requested but only 19 of 20"):
        validate_request.handler(envelope({"winners": 20}), context)
    check = check_winners.handler(envelope({"draw_id": "other", "winners": WINNERS_OF_DRAW}), context)
    assert check["eligible"] is False and check["past_winners"] == ["E001"]
    assert record_winners.handler(
        envelope({"draw_id": "running-draw", "winners": WINNERS_OF_DRAW[:1]}), context
    )


def test_claim_and_record_of_a_draw_named_by_a_uuid_never_share_a_request_token() -> None:
    # AWS names an execution by a 36-character UUID; DynamoDB refuses a token reused with other items
    draw = "0d9e7c4a-51a8-4f57-a0a2-3c5a6ef0b7c1"
    claim = winners.request_token(draw, WINNERS_OF_DRAW, "claimed_at")
    record = winners.request_token(draw, WINNERS_OF_DRAW, "won_at")
    redraw = winners.request_token(draw, WINNERS_OF_DRAW[:1], "claimed_at")

    assert len({claim, record, redraw}) == 3
    assert all(1 <= len(token) <= 36 for token in (claim, record, redraw))
    assert winners.request_token(draw, list(reversed(WINNERS_OF_DRAW)), "claimed_at") == claim  # a retry


IN_PROGRESS = None  # no reasons: the same request is still in progress
THROTTLED = {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}


class Cancelling:
    """A DynamoDB client whose next transaction DynamoDB cancels with `reasons` (one per item), or
    answers still in progress; then it runs them as they are."""

    def __init__(self, reasons: list[dict[str, str]] | None) -> None:
        self.real, self.reasons, self.refused = boto3.client("dynamodb"), reasons, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        if self.refused:
            return self.real.transact_write_items(**kwargs)
        self.refused = True
        if self.reasons is IN_PROGRESS:
            error = {"Error": {"Code": "TransactionInProgressException", "Message": "in progress"}}
            raise self.real.exceptions.TransactionInProgressException(error, "TransactWriteItems")
        response = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": self.reasons}
        raise self.real.exceptions.TransactionCanceledException(response, "TransactWriteItems")


@pytest.mark.parametrize(
    ("reasons", "named"),
    [
        (
            [{"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing"}],
            "TransactionConflict",
        ),
        ([THROTTLED, {"Code": "None"}], "ThrottlingError"),
        (IN_PROGRESS, "still in progress"),
    ],
)
def test_a_transaction_cancelled_for_a_moment_is_retryable_not_a_winner_of_another_draw(
    tables: dict[str, Any], context: LambdaContext, reasons: list[dict[str, str]] | None, named: str
) -> None:
    event = envelope({"draw_id": "draw-1", "winners": WINNERS_OF_DRAW})
    for handler in (check_winners.handler, record_winners.handler):
        clients.override("dynamodb", Cancelling(reasons))
        with pytest.raises(winners.WinnersContended, match=named) as contended:
            handler(event, context)
        assert not isinstance(contended.value, TaskError)  # the workflow retries it
        assert winners_in_table() == {}

    # run again (the workflow's Retry), the draw claims and records its winners
    clients.reset()
    assert check_winners.handler(event, context)["eligible"] is True
    assert record_winners.handler(event, context)["recorded"] == [w["employee_id"] for w in WINNERS_OF_DRAW]


def test_only_a_failed_condition_is_a_winner_of_another_draw(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    """Beside a throttled item, an employee another draw holds is taken: the draw redraws."""
    clients.override("dynamodb", Cancelling([THROTTLED, {"Code": "ConditionalCheckFailed"}]))
    check = check_winners.handler(envelope({"draw_id": "draw-1", "winners": WINNERS_OF_DRAW}), context)
    assert check["eligible"] is False and check["past_winners"] == [WINNERS_OF_DRAW[1]["employee_id"]]


def test_a_transaction_cancelled_for_another_reason_fails_with_what_dynamodb_said(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    clients.override(
        "dynamodb", Cancelling([{"Code": "ValidationError", "Message": "bad item"}, {"Code": "None"}])
    )
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        record_winners.handler(envelope({"draw_id": "draw-1", "winners": WINNERS_OF_DRAW}), context)


class TokenWindow:
    """A DynamoDB client that, as DynamoDB does for ten minutes, refuses a token it has seen with
    other parameters (IdempotentParameterMismatch); moto does not."""

    def __init__(self) -> None:
        self.real, self.seen, self.calls = boto3.client("dynamodb"), {}, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.calls += 1
        token = kwargs.get("ClientRequestToken")
        if token in self.seen and self.seen[token] != kwargs["TransactItems"]:
            error = {"Error": {"Code": "IdempotentParameterMismatchException", "Message": "token reused"}}
            raise self.real.exceptions.IdempotentParameterMismatchException(error, "TransactWriteItems")
        if token is not None:
            self.seen[token] = kwargs["TransactItems"]
        return self.real.transact_write_items(**kwargs)


def test_a_write_repeated_within_dynamodbs_token_window_at_another_time_succeeds_changing_nothing(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    """A retry of a write that committed (its answer lost) stamps another time under the same
    token: DynamoDB refuses it, and the write is made again without it, its conditions keeping it
    from changing anything."""
    window = TokenWindow()
    clients.override("dynamodb", window)
    event = envelope({"draw_id": "draw-1", "winners": WINNERS_OF_DRAW})
    assert check_winners.handler(event, context)["eligible"] is True
    assert record_winners.handler(event, context)["recorded"] == [w["employee_id"] for w in WINNERS_OF_DRAW]
    recorded = winners_in_table()
    assert check_winners.handler(event, context)["eligible"] is True  # each retried, later
    assert record_winners.handler(event, context)["recorded"] == [w["employee_id"] for w in WINNERS_OF_DRAW]
    assert window.calls == 6 and {
        employee: item["won_at"] for employee, item in winners_in_table().items()
    } == {employee: item["won_at"] for employee, item in recorded.items()}


def test_a_lottery_serial_without_an_employee_is_a_named_error(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    tables["employees"].put_item(
        Item={"employee_id": "E001", "employee_name": "Amelia Hart", "lottery_serial": 1}
    )
    with pytest.raises(draw_winners.EmployeeNotFound, match="no employee has lottery_serial 2"):
        draw_winners.handler(envelope({"winners": 2, "employees": 2, "attempt": 0}), context)
