"""The registry of workflows: the one source that deploy, the local cloud and the console read.

A workflow declares its state machine (built by a function), its input schema, the Lambda
functions it runs and the resources they use. Resources are named logically ("winners");
deploy turns a logical name into `<app>-<env>-<workflow>-<name>` and into the `${Token}`
values substituted in the definition. The token naming rule lives here and only here.
"""

from __future__ import annotations

import copy
import difflib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from workflows.asl import StateMachineType

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS_DIR = ROOT / "definitions"
DATA_DIR = Path(__file__).resolve().parent / "data"

# Resources every workflow of an environment shares (SHARED): the alerts topic, and the table of
# which alerts were emailed lately (policies.alert_and_fail).
ALERTS_TOPIC = "alerts"
ALERT_WINDOWS = "alert-windows"
# The workflow's own state machine, as a resource its API functions start.
STATE_MACHINE = "state-machine"
# The address of a page that shows an execution, less the execution's ARN: deploy gives it per
# environment (the AWS console's, or the local console's), for the alert to link to the run.
EXECUTION_LINK = "ExecutionLink"
# The environment's name (`staging`), for a message that names a command to run in it.
ENVIRONMENT = "Environment"


def pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def likely(value: str, known: Iterable[str]) -> str | None:
    """The one of `known` that `value` is likely a typo of, if any."""
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown(value: str, known: Iterable[str]) -> str:
    """A name that is none of `known`, with the one it is likely a typo of and the known ones:
    `'customer' (did you mean 'customers'? known: alerts, customers)`."""
    names = sorted(known)
    close = likely(value, names)
    hint = f"did you mean {close!r}? " if close else ""
    return f"{value!r} ({hint}known: {', '.join(names) or 'none'})"


@dataclass(frozen=True)
class Access:
    """Actions one function (or the state machine) may take on one resource of its workflow."""

    resource: str
    actions: tuple[str, ...]
    # IAM condition operator -> {key: value}, narrowing the grant (`{"StringEquals": {"sns:Protocol": "email"}}`)
    condition: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # a bucket's grant narrowed to the keys that begin with it (`"parked/"`): its object actions
    # reach only those keys; s3:ListBucket stays the bucket's (infra/iam.py says why); "" for the
    # whole bucket
    prefix: str = ""

    def prefix_problem(self, resource: Resource) -> str | None:
        """Why `prefix` cannot narrow this grant of `resource` as it says, or None."""
        if not self.prefix:
            return None
        if not isinstance(resource, Bucket):
            kind = type(resource).__name__.lower()
            return f"prefix {self.prefix!r}: a key prefix narrows a bucket's grant only, and this is a {kind}"
        if set(self.prefix) & set(IAM_WILDCARDS):
            return f"prefix {self.prefix!r}: IAM would read its * or ? as a wildcard, widening the grant"
        whole = [a for a in self.actions if not is_object_action(a) and a != PREFIXED_LISTING]
        if whole:
            return (
                f"prefix {self.prefix!r} narrows object actions and {PREFIXED_LISTING} only, not "
                f"{', '.join(whole)}: grant those in an Access of their own, without a prefix"
            )
        return None


# IAM's wildcards in a policy's resource
IAM_WILDCARDS = "*?"
# the one bucket action a grant with a key prefix may carry: the listing S3 asks for before it
# answers a missing key NoSuchKey rather than 403, left the whole bucket's
PREFIXED_LISTING = "s3:ListBucket"


def is_object_action(action: str) -> bool:
    """An S3 action on a bucket's objects (`arn:aws:s3:::<bucket>/<key>`), not on the bucket."""
    return "Object" in action or action == "s3:AbortMultipartUpload"


# The reserved concurrency of a function that serves a public route: a flood of requests takes at
# most this much of the account's Lambda concurrency, not what the workflows' tasks need.
PUBLIC_ROUTE_CONCURRENCY = 10


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    description: str
    access: tuple[Access, ...] = ()
    # environment variable -> logical resource whose physical name (or ARN for topics) is its value
    environment: Mapping[str, str] = field(default_factory=dict)
    # environment variable -> SSM parameter / secret name (the value is read at run time, never stored)
    parameters: Mapping[str, str] = field(default_factory=dict)
    timeout: int = 10
    memory: int = 256
    # at most this many run at once (Lambda answers the next invocation 429): a function that serves
    # a public route then cannot use up the account's concurrency, which the workflows' tasks need
    reserved_concurrency: int | None = None

    @property
    def token(self) -> str:
        return f"{pascal(self.name)}FunctionArn"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: tuple[str, Literal["S", "N"]]
    sort_key: tuple[str, Literal["S", "N"]] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    partition_key: tuple[str, Literal["S", "N"]]
    sort_key: tuple[str, Literal["S", "N"]] | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    seed: str | None = None  # file under workflows/data/ with items to load (demo data)
    # holds what runs record against the demo data that keeps it from being used again (the
    # lottery's past winners): emptied when the demo data is restored (deploy.py --seed-only)
    reset_with_demo: bool = False

    @property
    def token(self) -> str:
        return f"{pascal(self.name)}TableName"


@dataclass(frozen=True)
class Topic:
    name: str
    display_name: str = ""
    # its email and SMS subscribers are those the environment declares (environments.toml's
    # `subscribers.<workflow>.<topic>`): deploy subscribes them and unsubscribes any other
    declared_subscribers: bool = False

    @property
    def token(self) -> str:
        return f"{pascal(self.name)}TopicArn"


@dataclass(frozen=True)
class Bucket:
    name: str
    expire_days: int | None = None

    @property
    def token(self) -> str:
        return f"{pascal(self.name)}BucketName"


@dataclass(frozen=True)
class StateMachine:
    """The workflow's own state machine (made by deploy from its definition, not declared)."""

    name: str = STATE_MACHINE

    @property
    def token(self) -> str:
        return "StateMachineArn"


@dataclass(frozen=True)
class Stream:
    name: str
    shards: int = 1

    @property
    def token(self) -> str:
        return f"{pascal(self.name)}StreamArn"


# In a schedule's input, replaced by EventBridge Scheduler (and the local cloud) with the time the
# occurrence was scheduled for, in UTC (`2026-11-20T09:30:00Z`): the same for every retry of it.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass(frozen=True)
class Schedule:
    """Start the workflow on an EventBridge Scheduler expression: `rate(...)` or `cron(...)`.

    Scheduler retries a start that failed (throttled, Step Functions unavailable) with backoff,
    by default 185 times over 24 hours: a start it retries may have happened already, and one a
    day late runs when it no longer should. `max_event_age_seconds` (60 to 86,400) bounds how late
    a retried start may be, and `retry_attempts` (0 to 185) how many are made; an occurrence that
    runs out of both is dropped, and the environment's dropped-starts alarm tells the on-call.
    """

    expression: str
    input: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    max_event_age_seconds: int = 3600
    retry_attempts: int = 3

    def __post_init__(self) -> None:
        if not 60 <= self.max_event_age_seconds <= 86_400:
            raise ValueError(f"max_event_age_seconds must be 60 to 86400, not {self.max_event_age_seconds}")
        if not 0 <= self.retry_attempts <= 185:
            raise ValueError(f"retry_attempts must be 0 to 185, not {self.retry_attempts}")


@dataclass(frozen=True)
class StreamTrigger:
    """Kinesis records delivered in batches to the workflow (an EventBridge Pipe on AWS).

    Pipes retries a batch whose start failed (a record too large for StartExecution's input, the
    role refused) by default until its records expire from the stream, a day later, with the
    shard's later records waiting behind it. A batch is retried `max_retry_attempts` times (0 to
    10,000), halved on each failure down to the one record at fault, and given up once its records
    are `max_record_age_seconds` old (60 to 604,800); what is given up is described in the pipe's
    dead-letter queue, whose alarm tells the on-call, and the shard moves on.
    """

    stream: str
    batch_size: int = 100
    max_batching_window_seconds: int = 1
    max_retry_attempts: int = 5
    max_record_age_seconds: int = 3600

    def __post_init__(self) -> None:
        if not 0 <= self.max_retry_attempts <= 10_000:
            raise ValueError(f"max_retry_attempts must be 0 to 10000, not {self.max_retry_attempts}")
        if not 60 <= self.max_record_age_seconds <= 604_800:
            raise ValueError(
                f"max_record_age_seconds must be 60 to 604800, not {self.max_record_age_seconds}"
            )


@dataclass(frozen=True)
class Throttle:
    """Requests a second API Gateway lets through on a route (`rate`, steady) and at once (`burst`);
    it answers the others 429."""

    rate: float
    burst: int


@dataclass(frozen=True)
class HttpRoute:
    """An API route that starts the workflow; `sync` answers with the execution's output."""

    method: str
    path: str
    sync: bool = False
    auth: bool = False
    throttle: Throttle | None = None  # as Route's


Trigger = Schedule | StreamTrigger | HttpRoute
Resource = Table | Topic | Bucket | Stream | StateMachine
# an item per workflow and error emailed lately, until its window `expires` (and DynamoDB deletes it)
ALERT_WINDOWS_TABLE = Table(ALERT_WINDOWS, ("alert", "S"), ttl_attribute="expires")
SHARED: Mapping[str, Resource] = {
    ALERTS_TOPIC: Topic(ALERTS_TOPIC, "Alerts"),
    ALERT_WINDOWS: ALERT_WINDOWS_TABLE,
}


@dataclass(frozen=True)
class Route:
    """An API route served by one of the workflow's functions (not a workflow start): the function
    takes an API Gateway HTTP API v2 event and returns {statusCode, headers, body}. `throttle`
    lowers the API's own limit (infra/api.py) for a route each request of which costs more than
    compute (an email sent)."""

    method: str
    path: str
    function: str
    auth: bool = False
    throttle: Throttle | None = None


@dataclass(frozen=True)
class Workflow:
    name: str
    description: str
    type: StateMachineType
    build: Callable[[], dict[str, Any]]
    input_schema: Mapping[str, Any]
    # how long a run may take before Step Functions ends it TIMED_OUT (the definition's top-level
    # TimeoutSeconds, which build writes): without one a Standard run that waits on an answer that
    # never comes runs for a year and no timed-out alarm ever fires. Check requires it, within the
    # type's maximum, no longer than its schedule's period and short enough for the function that
    # starts it synchronously to answer (definitions.timeout_problems)
    timeout_seconds: int | None = None
    functions: tuple[Function, ...] = ()
    tables: tuple[Table, ...] = ()
    topics: tuple[Topic, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    streams: tuple[Stream, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    # what the state machine itself does through service integrations (besides invoking its functions)
    integrations: tuple[Access, ...] = ()
    # valid input, shown in the console's start form (a batch, for a stream's workflow)
    example_input: Mapping[str, Any] | Sequence[Any] = field(default_factory=dict)
    # the most items any of its Maps iterates: bounds the worst-case history the linter computes
    max_map_items: int = 1
    # coverage edges (as workflows.coverage prints them) no execution can take, each with the reason
    unreachable: Mapping[str, str] = field(default_factory=dict)
    # API routes answered by its functions (reading its data, subscribing...), beside its triggers
    routes: tuple[Route, ...] = ()
    # where no redrive can run a failed execution on (Express), how to run again what it failed
    # to do, as `describe` says it; `{env}` is the environment's name
    replay: str | None = None
    # errors of a failed execution after which starting it afresh would do harm, each with why: the
    # console offers no Start again for such a run, and describe says why not
    fresh_start_warnings: Mapping[str, str] = field(default_factory=dict)
    # of those errors, the ones an operator makes good by hand (a lottery draw announced), each
    # with what reads whether it was: (environment, execution) -> the warning to give instead once
    # it was, else None. describe asks it of such a run only (one request), its advice then done
    made_good_by_hand: Mapping[str, Callable[[Any, Mapping[str, Any]], str | None]] = field(
        default_factory=dict
    )
    # fields of the input that name one request, which the workflow serves once (a client's
    # request id, an expense to approve): the benchmarks give each run its own value, where a
    # replay of the example input would be answered from its record or refused
    fresh_fields: tuple[str, ...] = ()

    @property
    def definition_path(self) -> Path:
        return DEFINITIONS_DIR / f"{self.name}.asl.json"

    def resources(self) -> dict[str, Resource]:
        """Logical name -> resource, including the environment's shared ones and the workflow's
        own state machine."""
        found: dict[str, Resource] = {**SHARED, STATE_MACHINE: StateMachine()}
        declared: tuple[Table | Topic | Bucket | Stream, ...] = (
            *self.tables,
            *self.topics,
            *self.buckets,
            *self.streams,
        )
        for resource in declared:
            if resource.name in found:
                raise ValueError(f"workflow {self.name}: resource name {resource.name!r} used twice")
            found[resource.name] = resource
        return found

    def function(self, name: str) -> Function:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(f"workflow {self.name} has no function {name!r}")

    def tokens(self) -> set[str]:
        """Every `${Token}` its definition may contain."""
        own = {fn.token for fn in self.functions} | {r.token for r in self.resources().values()}
        return own | {EXECUTION_LINK, ENVIRONMENT}

    def fresh_input(self) -> Any:
        """The example input, each of `fresh_fields` given a value no other run has (32 hex digits)."""
        given = copy.deepcopy(self.example_input)
        if not isinstance(given, Mapping):
            return given
        return {**given, **{name: uuid.uuid4().hex for name in self.fresh_fields}}

    def fresh_start_warning(self, execution: Mapping[str, Any]) -> str | None:
        """Why the execution must not be started afresh, or None."""
        if execution.get("status") != "FAILED":
            return None
        return self.fresh_start_warnings.get(str(execution.get("error")))
