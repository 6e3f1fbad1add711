"""What the benchmarks share: every workflow deployed into an in-process local cloud, with the fake
external APIs answering, and each workflow's typical work.

    from harness import Bench
    bench = Bench()                 # start, deploy, seed (about 20 s)
    events = bench.run(WORKFLOWS["lottery"])
    bench.stop()
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import infra  # noqa: E402
from localcloud import LocalCloud, metering  # noqa: E402
from localcloud.fakes.aviasales import FakeAviasales  # noqa: E402
from localcloud.fakes.ticket_broker import FakeTicketBroker  # noqa: E402
from localcloud.fakes.tushare import FakeTushare  # noqa: E402
from tasks.flight_deals.aviasales import AviasalesClient  # noqa: E402
from tasks.flight_deals.producer import encode, fetch_records, put_records  # noqa: E402
from workflows import WORKFLOWS  # noqa: E402
from workflows.registry import Route, StreamTrigger, Workflow  # noqa: E402

FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# The field of a workflow's input that a signed-in request takes from its token, not its body
SIGNED_IN = "rider"


class Bench:
    """The local cloud with every workflow deployed and the fake external APIs answering."""

    def __init__(self, log_level: str | None = None) -> None:
        """`log_level`: the functions' (POWERTOOLS_LOG_LEVEL), if not the local environment's."""
        self.cloud = LocalCloud(port=0).start()
        os.environ.update(self.cloud.env())
        os.environ["PYFLOWS_ENDPOINT"] = self.cloud.endpoint
        metering.install()
        self.broker = FakeTicketBroker(seed=7, performances=36).start()
        self.tushare = FakeTushare().start()
        self.env = infra.load("local")
        if log_level:
            self.env = dataclasses.replace(self.env, log_level=log_level)
        settings = {
            "/{app}/{env}/ticket-broker/base-url": self.broker.url,
            "{app}/{env}/ticket-broker/api-key": self.broker.api_key,
            "/{app}/{env}/tushare/base-url": self.tushare.url,
            "{app}/{env}/tushare/token": self.tushare.token,
        }
        self.env.give_settings(settings)
        infra.deploy(self.env, out=lambda line: None)
        infra.seed(self.env, out=lambda line: None)
        self.outputs = infra.outputs(self.env)
        self.sfn = self.cloud.client("stepfunctions")

    def memory(self) -> dict[str, int]:
        return {
            self.outputs[wf.name]["functions"][fn.name]["name"]: fn.memory
            for wf in WORKFLOWS.values()
            for fn in wf.functions
        }

    def state_machine(self, wf: Workflow) -> str:
        arn: str = self.outputs[wf.name]["state_machine_arn"]
        return arn

    def run(self, wf: Workflow) -> list[dict[str, Any]]:
        """One execution of the workflow's typical work; its history."""
        arn = self.state_machine(wf)
        if wf.streams:
            return self.history(self.wait(self.run_from_stream(wf)[0]))
        started = self.sfn.start_execution(
            stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(wf.fresh_input())
        )["executionArn"]
        return self.history(self.wait(started))

    def call_route(self, wf: Workflow, route: Route) -> dict[str, Any]:
        """One request to a route's function as API Gateway makes it (payload format 2.0, the
        token's claims put in by the route's JWT authorizer): the workflow's fresh input as the
        body, but for the user it names, who is signed in. The function's answer."""
        body, key = wf.fresh_input(), f"{route.method} {route.path}"
        context: dict[str, Any] = {"requestId": uuid.uuid4().hex, "routeKey": key}
        context["http"] = {"method": route.method, "path": route.path}
        if route.auth:
            user = str(body.pop(SIGNED_IN, "bench-user"))
            context["authorizer"] = {"jwt": {"claims": {"cognito:username": user}}}
        event = {
            "version": "2.0",
            "routeKey": key,
            "rawPath": route.path,
            "requestContext": context,
            "body": json.dumps(body),
            "isBase64Encoded": False,
        }
        function = self.outputs[wf.name]["functions"][route.function]["alias_arn"]
        answer = self.cloud.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event))
        result: dict[str, Any] = json.loads(answer["Payload"].read())
        return result

    def run_from_stream(self, wf: Workflow, batches: int = 1) -> list[str]:
        """`batches` batches put on the workflow's stream and delivered by its pipe, as in production;
        the executions the pipe started (it starts them and does not wait: FIRE_AND_FORGET)."""
        stream = self.outputs[wf.name]["resources"][wf.streams[0].name].rsplit("/", 1)[-1]
        kinesis = self.cloud.client("kinesis")
        for _ in range(batches):
            put_records(kinesis, stream, flight_records(wf_batch_size(wf)))
        delivered = len(self.cloud.streams.deliveries)
        self.cloud.streams.drain()
        return [d.detail for d in self.cloud.streams.deliveries[delivered:] if d.ok]

    def wait(self, execution_arn: str, interval: float = 0.005, not_before: float = 0.0) -> str:
        """Poll DescribeExecution until the execution has ended, first at `not_before` (a
        time.perf_counter() value), then every `interval` seconds; its ARN."""
        time.sleep(max(0.0, not_before - time.perf_counter()))
        while self.sfn.describe_execution(executionArn=execution_arn)["status"] not in FINISHED:
            time.sleep(interval)
        return execution_arn

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        args = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**args)
            events += page["events"]
            if not page.get("nextToken"):
                return events
            args["nextToken"] = page["nextToken"]

    def stop(self) -> None:
        self.broker.stop()
        self.tushare.stop()
        self.cloud.stop()


def wf_batch_size(wf: Workflow) -> int:
    return next(t.batch_size for t in wf.triggers if isinstance(t, StreamTrigger))


@functools.cache
def flight_records(count: int) -> list[tuple[bytes, str]]:
    """What the producer puts on the stream: month-matrix prices from the fake Aviasales API."""
    with FakeAviasales(seed=1) as fake:
        api = AviasalesClient(token=fake.token, base_url=fake.url)
        months = [f"2026-{m:02d}" for m in range(1, 13)]
        records = fetch_records(api, [("LED", "MOW"), ("MOW", "AER"), ("LED", "KZN")], months)
    return encode(records[:count])
