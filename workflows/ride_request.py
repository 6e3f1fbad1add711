"""Ride request: a signed-in rider asks for a unicorn; the ride is found, priced, recorded, returned.

    Validate Request -> Find Recorded Ride -> Already Recorded? yes -> output: the recorded ride
    -> Find Ride:
        || Find Unicorn
        || Get Discount (short retry; failure or timeout -> Full Fare, the ride goes on;
                        MalformedTaskInput -> Discount Input Malformed: the ride fails, alerted)
    -> Apply Discount -> Record Ride (once per request id) -> output: the ride
    InvalidInput (Validate Request) | RequestIdConflict (Find Recorded Ride, Record Ride)
        | NoUnicornAvailable (Find Ride) -> Request Rejected (no alert)
    anything else -> Alert Failure -> Failed

An Express state machine started synchronously by `POST /ride`, a JWT-authorised route whose
function (tasks.ride_request.api) takes the rider from the token's claims. The discount is
optional, and a ride is recorded once per request id.
"""

from __future__ import annotations

from typing import Any

from stepfunctions.steps.choice_rule import ChoiceRule

from tasks.ride_request.api import WORKFLOW_TIMEOUT_SECONDS
from tasks.ride_request.schemas import RIDE_REQUEST
from tasks.shared.errors import MalformedTaskInput
from workflows import asl
from workflows.policies import (
    ALERT_ACCESS,
    ALERT_ENVIRONMENT,
    LAMBDA_THROTTLED,
    LAMBDA_TRANSIENT,
    alert_and_fail,
    catch_to,
    lambda_task,
    rejected,
)
from workflows.registry import (
    STATE_MACHINE,
    Access,
    Function,
    Route,
    Table,
    Workflow,
)

# Errors that are the request's fault: answered 4xx/503 by the API, never alerted. Each is caught
# from the states that raise it: only Validate Request checks the request itself, and a later
# state's input its schema refuses is the definition's mistake (MalformedTaskInput), alerted.
INVALID_REQUEST = "InvalidInput"
REQUEST_ID_CONFLICT = "RequestIdConflict"
NO_UNICORN = "NoUnicornAvailable"
DISCOUNT_TIMEOUT_SECONDS = 2


def find_ride() -> asl.Parallel:
    """The nearest unicorn || the rider's discount, which may fail: then the ride is at full fare."""
    find_unicorn = lambda_task(
        "Find Unicorn",
        "FindUnicornFunctionArn",
        {"pickup.$": "$.pickup"},
        result_selector={
            f"{k}.$": f"$.Payload.{k}" for k in ("name", "color", "distance_km", "eta_seconds", "base_cents")
        },
    )
    discount = lambda_task(
        "Get Discount",
        "GetDiscountFunctionArn",
        {"rider.$": "$.rider", "pickup.$": "$.pickup"},
        result_selector={f"{k}.$": f"$.Payload.{k}" for k in ("percent_off", "code", "status")},
        timeout_seconds=DISCOUNT_TIMEOUT_SECONDS,
        comment="Optional: a rider waits for a unicorn, not for a promo",
    )
    # Replaces the standard retries (up to a minute of backoff): one quick retry, then full fare.
    # A handler error is not retried (it would fail again) but caught like a timeout.
    discount.retries = [
        asl.Retry(
            error_equals=[*LAMBDA_TRANSIENT, "States.Timeout"],
            interval_seconds=1,
            max_attempts=1,
            backoff_rate=2.0,
        ),
        asl.Retry(
            error_equals=LAMBDA_THROTTLED,
            interval_seconds=1,
            max_attempts=1,
            backoff_rate=2.0,
            max_delay_seconds=2,
            jitter_strategy="FULL",
        ),
    ]
    full_fare = asl.Pass(
        "Full Fare",
        parameters={
            "percent_off": 0,
            "code": None,
            "status": "unavailable",
            "reason.$": "States.Format('discount service failed ({}); full fare', $.discount_error.Error)",
        },
    )
    # The definition's mistake is no outage to ride out at full fare: every ride would then go
    # undiscounted, unalerted. It fails the branch with the task's error, which Find Ride alerts.
    malformed = asl.Fail(
        "Discount Input Malformed",
        comment="Get Discount was sent what its schema refuses: failed with its error, to be alerted",
        error_path="$.discount_error.Error",
        cause_path="$.discount_error.Cause",
    )
    discount.add_catch(
        asl.Catch(
            error_equals=[MalformedTaskInput.__name__], next_step=malformed, result_path="$.discount_error"
        )
    )
    discount.add_catch(
        asl.Catch(error_equals=["States.ALL"], next_step=full_fare, result_path="$.discount_error")
    )

    find_ride = asl.Parallel(
        "Find Ride",
        # "$[0]", not "$[0].x": moto wraps a field under an index in a list (AWS does not).
        result_selector={"unicorn.$": "$[0]", "discount.$": "$[1]"},
        result_path="$.found",
    )
    find_ride.add_branch(find_unicorn)
    find_ride.add_branch(discount)
    return find_ride


def build() -> dict[str, Any]:
    alert = alert_and_fail("ride-request")
    rejection = rejected()  # the API answers with its error
    validate = lambda_task(
        "Validate Request",
        "ValidateRequestFunctionArn",
        "$",
        result_selector={
            "ride_id.$": "$.Payload.ride_id",
            "request_id.$": "$.Payload.request_id",
            "rider.$": "$.Payload.rider",
            "pickup.$": "$.Payload.pickup",
            "fingerprint.$": "$.Payload.fingerprint",
        },
    )
    # a replay or a reused request id is answered from the rides table, before any unicorn is
    # looked for: a replay needs none, and a conflict is a conflict wherever its pickup is
    find_recorded = lambda_task(
        "Find Recorded Ride",
        "FindRecordedRideFunctionArn",
        {f"{k}.$": f"$.{k}" for k in ("ride_id", "request_id", "rider", "fingerprint")},
        result_selector={"ride.$": "$.Payload.ride"},
        result_path="$.recorded",
    )
    already = asl.Choice("Already Recorded?")
    found = find_ride()
    apply = lambda_task(
        "Apply Discount",
        "ApplyDiscountFunctionArn",
        {"base_cents.$": "$.found.unicorn.base_cents", "discount.$": "$.found.discount"},
        result_selector={"fare.$": "$.Payload"},
        result_path="$.priced",
    )
    record = lambda_task(
        "Record Ride",
        "RecordRideFunctionArn",
        {
            "ride_id.$": "$.ride_id",
            "request_id.$": "$.request_id",
            "rider.$": "$.rider",
            "fingerprint.$": "$.fingerprint",
            "pickup.$": "$.pickup",
            "unicorn.$": "$.found.unicorn",
            "discount.$": "$.found.discount",
            "fare.$": "$.priced.fare",
        },
        result_selector={"ride.$": "$.Payload"},
        result_path="$.recorded",
        comment="Conditional write: one ride per request id",
    )
    ride = asl.Pass(
        "Ride Recorded",
        parameters={
            "ride_id.$": "$.recorded.ride.ride_id",
            "request_id.$": "$.recorded.ride.request_id",
            "rider.$": "$.recorded.ride.rider",
            "pickup.$": "$.recorded.ride.pickup",
            "unicorn.$": "$.recorded.ride.unicorn",
            "discount.$": "$.recorded.ride.discount",
            "fare.$": "$.recorded.ride.fare",
            "recorded_at.$": "$.recorded.ride.recorded_at",
            "replayed.$": "$.recorded.ride.replayed",
        },
    )

    already.add_choice(ChoiceRule.IsNull(variable="$.recorded.ride", value=False), next_step=ride)
    already.default_choice(asl.Chain([found, apply, record, ride]))

    catch_to(validate, alert, [INVALID_REQUEST], rejection)
    catch_to(find_recorded, alert, [REQUEST_ID_CONFLICT], rejection)
    catch_to(found, alert, [NO_UNICORN], rejection)
    catch_to(apply, alert)
    catch_to(record, alert, [REQUEST_ID_CONFLICT], rejection)
    chain = asl.Chain([validate, find_recorded, already])
    comment = "Ride request: find a unicorn and a promo, record the ride once"
    return asl.Graph(chain, comment=comment).to_dict()


WORKFLOW = Workflow(
    name="ride-request",
    description="Find a unicorn and a promo discount for a rider, record the ride once and return it",
    type=asl.StateMachineType.EXPRESS,
    build=build,
    input_schema=RIDE_REQUEST,
    # within the api-ride function's timeout, which answers a run that timed out (tasks.ride_request.api)
    timeout_seconds=WORKFLOW_TIMEOUT_SECONDS,
    example_input={
        "request_id": "demo-ride-0001",
        "rider": "demo-rider",
        "pickup": {"latitude": 47.6062, "longitude": -122.3321},
    },
    fresh_fields=("request_id",),
    functions=(
        Function(
            name="validate-request",
            handler="tasks.ride_request.validate_request.handler",
            description="Checks a ride request and gives it its ride id and fingerprint",
        ),
        Function(
            name="find-recorded-ride",
            handler="tasks.ride_request.find_recorded_ride.handler",
            description="Answers a replayed request id with its recorded ride; another body conflicts",
            access=(Access("rides", ("dynamodb:GetItem",)),),
            environment={"RIDES_TABLE": "rides"},
        ),
        Function(
            name="find-unicorn",
            handler="tasks.ride_request.find_unicorn.handler",
            description="Finds the nearest available unicorn to the pickup",
            access=(Access("unicorns", ("dynamodb:Scan",)),),
            environment={"UNICORNS_TABLE": "unicorns"},
        ),
        Function(
            name="get-discount",
            handler="tasks.ride_request.get_discount.handler",
            description="The promo discount for a rider at a place (deterministic)",
            timeout=DISCOUNT_TIMEOUT_SECONDS + 1,
        ),
        Function(
            name="apply-discount",
            handler="tasks.ride_request.apply_discount.handler",
            description="Prices the ride from the unicorn's fare and the discount",
        ),
        Function(
            name="record-ride",
            handler="tasks.ride_request.record_ride.handler",
            description="Records the ride once per request id; a different body with the same id conflicts",
            access=(Access("rides", ("dynamodb:PutItem", "dynamodb:GetItem")),),
            environment={"RIDES_TABLE": "rides"},
        ),
        Function(
            name="api-ride",
            handler="tasks.ride_request.api.handler",
            description="POST /ride: runs the workflow synchronously for the token's rider",
            access=(Access(STATE_MACHINE, ("states:StartSyncExecution",)), *ALERT_ACCESS),
            environment={"STATE_MACHINE_ARN": STATE_MACHINE, **ALERT_ENVIRONMENT},
            timeout=29,  # API Gateway answers 503 after 30 s
        ),
    ),
    tables=(
        Table(name="rides", partition_key=("ride_id", "S")),
        Table(name="unicorns", partition_key=("name", "S"), seed="ride-request-unicorns.json"),
    ),
    routes=(Route("POST", "/ride", "api-ride", auth=True),),
    integrations=ALERT_ACCESS,
)
