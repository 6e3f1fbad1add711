"""Fixtures shared by all tests: the local cloud, started once per session (once per pytest-xdist
worker), in-process; and the session's summaries, printed once whatever the number of workers."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from tests import counters


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[LocalCloud]:
    """The local cloud on a free port; boto3 clients created after this point go to it."""
    cloud = LocalCloud(port=0).start()
    counters.count_faults(cloud.lambda_runtime)  # for the session's quality summary
    saved = {k: os.environ.get(k) for k in cloud.env()}
    os.environ.update(cloud.env())
    try:
        yield cloud
    finally:
        cloud.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def cloud(local_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> LocalCloud:
    """The session's local cloud, emptied before the test (resources, faults, schedules, checkpoints)."""
    local_cloud.reset()
    # Another fixture (unit tests' mock_aws) may have changed them for its own test.
    for key, value in local_cloud.env().items():
        monkeypatch.setenv(key, value)
    return local_cloud


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No AWS credentials anywhere boto3 looks (nor the instance metadata service, which would wait)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


class Inbox:
    """An SQS queue subscribed to an SNS topic: what a subscriber would have received.

    `client` makes a boto3 client for a service: `LocalCloud.client`, or `boto3.client` under moto.
    Raw delivery keeps each message as published; without it each comes in SNS's envelope, which
    holds its Subject too.
    """

    def __init__(
        self,
        client: Callable[[str], Any],
        topic_arn: str,
        raw: bool = True,
        filter_policy: dict[str, Any] | None = None,
    ) -> None:
        self.sqs = client("sqs")
        self.url = self.sqs.create_queue(QueueName=f"inbox-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        # moto reads any value of RawMessageDelivery, "false" included, as raw: leave it out instead
        client("sns").subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={
                **({"RawMessageDelivery": "true"} if raw else {}),
                **({"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}),
            },
        )

    def messages(self) -> list[str]:
        """Every message delivered since the last read (SNS delivers to SQS before Publish returns)."""
        received: list[str] = []
        while batch := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            received += [m["Body"] for m in batch]
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
        return received

    def notifications(self) -> list[dict[str, Any]]:
        """Every envelope (Subject, Message...) delivered since the last read, to an inbox that is not raw."""
        return [json.loads(body) for body in self.messages()]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files that hold a slow test first, each file's tests in their order: started last, one
    would keep its worker busy long after the others finished (make test keeps this order:
    --no-loadscope-reorder)."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pytest-xdist worker hands its records to the controller, which prints the summaries."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["pyflows"] = counters.state()


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: the controller hears a worker finish
def pytest_testnodedown(node: Any, error: Any) -> None:
    records = getattr(node, "workeroutput", {}).get("pyflows")
    if records:
        counters.merge(records)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    coverage_summary(terminalreporter)
    if counters.inputs_tried or counters.faults_injected or counters.loss_checks:
        terminalreporter.section("quality")
        for text in counters.reports:
            terminalreporter.write_line(text)
        terminalreporter.write_line(counters.summary())


def coverage_summary(terminalreporter: Any) -> None:
    """Print each workflow's path coverage; fail on a missed edge of a workflow the gate holds:
    PYFLOWS_COVERAGE_GATE=1 every workflow (`make test`), =NAME[,NAME] those alone (their own
    test files run by themselves)."""
    from workflows import WORKFLOWS
    from workflows.coverage import gated

    write = terminalreporter.write_line
    try:
        gate = gated(os.environ.get("PYFLOWS_COVERAGE_GATE"), WORKFLOWS)
    except ValueError as error:
        terminalreporter.section("workflow path coverage")
        write(f"FAILED: {error}")
        terminalreporter._session.exitstatus = 1
        return
    histories = counters.HISTORIES
    if not histories and not gate:
        return
    from workflows import definitions
    from workflows.coverage import coverage

    terminalreporter.section("workflow path coverage")
    missed = []
    for name in sorted(histories):
        workflow = WORKFLOWS[name]
        report = coverage(name, definitions.load(workflow), histories[name], workflow.unreachable)
        write(f"{report.line()}  ({len(histories[name])} executions)")
        for edge, why in sorted(report.excused.items()):
            write(f"    unreachable by construction: {edge} ({why})")
        for edge in report.missed:
            write(f"    not reached: {edge}")
        if report.missed and name in gate:
            missed.append(name)
    untested = sorted(gate - set(histories))  # of those the gate holds: the others' were not meant to run
    if untested:
        write(f"no workflow test ran: {', '.join(untested)}")
    failed = sorted({*missed, *untested})
    if failed:
        write(
            f"FAILED ({', '.join(failed)}): every state, Choice branch, Catch and Retry edge must be "
            "reached by a workflow test"
        )
        terminalreporter._session.exitstatus = 1
