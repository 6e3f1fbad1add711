"""The Lambda runtime: deployed zips run in warm worker processes, as on AWS."""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.helpers import (
    HANDLERS,
    deploy,
    deploy_source,
    invoke,
    on_demand_table,
    run,
    state_machine,
    zip_of,
)


def test_payload_round_trip_context_and_environment(cloud: LocalCloud) -> None:
    arn = deploy(cloud, "echo", "echo", MemorySize=256, Environment={"Variables": {"GREETING": "hi"}})

    payload, error = invoke(cloud, "echo", {"n": 1, "nested": {"list": [1, "two", None]}})

    assert error is None
    assert payload["event"] == {"n": 1, "nested": {"list": [1, "two", None]}}
    assert payload["function_name"] == "echo"
    assert payload["memory"] == "256"
    assert payload["arn"] == arn
    assert 0 < payload["remaining"] <= 3000
    assert payload["greeting"] == "hi"
    assert payload["endpoint"] == cloud.endpoint
    assert payload["pid"] != os.getpid()


@pytest.mark.parametrize("event", ["a JSON string", [1, 2], None, 3.5])
def test_any_json_payload_round_trips(cloud: LocalCloud, event: object) -> None:
    deploy(cloud, "echo", "echo")
    client = cloud.client("lambda")

    response = client.invoke(FunctionName="echo", Payload=json.dumps(event))

    assert json.loads(response["Payload"].read())["event"] == event


def test_a_function_is_found_by_a_partial_arn_as_lambda_finds_it(cloud: LocalCloud) -> None:
    arn = deploy(cloud, "echo", "echo")
    lam = cloud.client("lambda")
    lam.create_alias(
        FunctionName="echo", Name="live", FunctionVersion=lam.publish_version(FunctionName="echo")["Version"]
    )
    partial = arn.split(":", 4)[4]  # 123456789012:function:echo

    assert invoke(cloud, partial, {"n": 1})[0]["event"] == {"n": 1}
    assert invoke(cloud, f"{partial}:live", {"n": 2})[0]["arn"] == f"{arn}:live"
    assert lam.get_function(FunctionName=partial)["Configuration"]["FunctionArn"] == arn
    with pytest.raises(ClientError) as missing:
        lam.invoke(FunctionName=partial.replace("echo", "absent"))
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    definition = {
        "StartAt": "T",
        "States": {"T": {**task, "Parameters": {"FunctionName": partial, "Payload.$": "$"}}},
    }
    ran = run(cloud, state_machine(cloud, f"partial-{uuid.uuid4().hex[:6]}", definition), {"n": 3})
    assert ran["status"] == "SUCCEEDED" and json.loads(ran["output"])["Payload"]["event"] == {"n": 3}


def test_second_invoke_reuses_the_warm_worker(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")

    first, _ = invoke(cloud, "echo")
    second, _ = invoke(cloud, "echo")

    assert first["pid"] == second["pid"]


def test_concurrent_invokes_get_their_own_workers(cloud: LocalCloud) -> None:
    deploy(cloud, "sleeper", "sleeps")

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: invoke(cloud, "sleeper", {"seconds": 0.3}), range(3)))

    pids = {payload["pid"] for payload, _ in results}
    assert len(pids) == 3
    assert set(cloud.lambda_runtime.worker_pids("sleeper")) == pids  # type: ignore[union-attr]


def test_handler_past_its_timeout_is_killed_and_reported_like_aws(cloud: LocalCloud) -> None:
    deploy(cloud, "sleeper", "sleeps", timeout=1)
    before, _ = invoke(cloud, "sleeper", {"seconds": 0})

    payload, error = invoke(cloud, "sleeper", {"seconds": 30})

    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Task timed out after 1.00 seconds")
    with pytest.raises(ProcessLookupError):
        os.kill(before["pid"], 0)
    after, error = invoke(cloud, "sleeper", {"seconds": 0})
    assert error is None and after["pid"] != before["pid"]


def test_exception_is_returned_in_lambda_error_format(cloud: LocalCloud) -> None:
    deploy(cloud, "raises", "raises")

    payload, error = invoke(cloud, "raises", {"why": "testing"})

    assert error == "Unhandled"  # as Lambda's Python runtime says it, for a raised exception too
    assert payload["errorType"] == "MyCustomError"
    assert payload["errorMessage"] == "no good: testing"
    assert any("raise MyCustomError" in frame for frame in payload["stackTrace"])
    # the frames name the user's file where Lambda unpacks the zip
    assert payload["stackTrace"][-1].startswith('  File "/var/task/app.py", line ')


def test_an_unhandled_error_is_logged_as_the_function_s_last_words(cloud: LocalCloud) -> None:
    deploy(cloud, "raises", "raises")

    response = cloud.client("lambda").invoke(
        FunctionName="raises", Payload=json.dumps({"why": "logged"}), LogType="Tail"
    )

    assert "[ERROR] MyCustomError: no good: logged" in _tail(response)


def test_logs_go_to_cloudwatch_with_start_end_report(cloud: LocalCloud) -> None:
    deploy(cloud, "printer", "prints")
    invoke(cloud, "printer")

    logs = cloud.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/printer")["logStreams"]
    messages = [
        event["message"]
        for stream in streams
        for event in logs.get_log_events(
            logGroupName="/aws/lambda/printer", logStreamName=stream["logStreamName"]
        )["events"]
    ]
    assert messages[0].startswith("START RequestId: ")
    assert "hello from the handler" in messages
    assert "a warning" in messages
    assert messages[-2].startswith("END RequestId: ")
    assert messages[-1].startswith("REPORT RequestId: ") and "Init Duration" in messages[-1]


def test_results_are_marshalled_as_the_aws_python_runtime_does(cloud: LocalCloud) -> None:
    """bytes are the payload as they are; a Decimal (boto3's DynamoDB numbers) is a number."""
    deploy(cloud, "marshaller", "marshals")
    client = cloud.client("lambda")
    raw = client.invoke(FunctionName="marshaller", Payload=b'{"kind": "bytes"}')["Payload"].read()
    assert raw == b'{"raw": "as returned"}'
    assert invoke(cloud, "marshaller", {"kind": "decimals"}) == (
        {"count": 3, "price": 1.25, "big": 12345678901234567890},
        None,
    )
    error, kind = invoke(cloud, "marshaller", {"kind": "binary"})
    assert kind == "Unhandled" and error["errorType"] == "Runtime.MarshalError"
    assert "UTF-8" in error["errorMessage"]


def test_report_gives_the_worker_s_peak_memory(cloud: LocalCloud) -> None:
    import base64
    import re

    deploy(cloud, "allocator", "allocates", MemorySize=512)
    used = []
    for mb in (0, 96):
        response = cloud.client("lambda").invoke(
            FunctionName="allocator", Payload=json.dumps({"mb": mb}), LogType="Tail"
        )
        report = base64.b64decode(response["LogResult"]).decode().splitlines()[-1]
        used.append(int(re.search(r"Max Memory Used: (\d+) MB", report).group(1)))  # type: ignore[union-attr]
    assert 0 < used[0] < used[1] < 512 and used[1] - used[0] >= 90


def test_log_tail_is_returned_when_asked(cloud: LocalCloud) -> None:
    deploy(cloud, "printer", "prints")
    client = cloud.client("lambda")

    response = client.invoke(FunctionName="printer", Payload=b"{}", LogType="Tail")

    import base64

    assert "hello from the handler" in base64.b64decode(response["LogResult"]).decode()


def test_handler_boto3_calls_reach_the_local_cloud(cloud: LocalCloud) -> None:
    deploy(cloud, "putter", "puts")
    dynamodb = cloud.client("dynamodb")
    on_demand_table(cloud, "items")

    payload, error = invoke(cloud, "putter", {"table": "items", "pk": "a", "value": "1"})

    assert error is None and payload == {"stored": "a"}
    item = dynamodb.get_item(TableName="items", Key={"pk": {"S": "a"}})["Item"]
    assert item == {"pk": {"S": "a"}, "value": {"S": "1"}}


def test_new_code_gets_a_new_worker(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")
    first, _ = invoke(cloud, "echo")

    cloud.client("lambda").update_function_code(
        FunctionName="echo", ZipFile=zip_of(HANDLERS["echo"].replace("import os", "import os  # v2"))
    )
    second, _ = invoke(cloud, "echo")

    assert second["pid"] != first["pid"]


def test_a_new_environment_or_memory_size_gets_a_new_worker(cloud: LocalCloud) -> None:
    lam = cloud.client("lambda")
    deploy(cloud, "echo", "echo", Environment={"Variables": {"GREETING": "hi"}})
    first, _ = invoke(cloud, "echo")
    lam.update_function_configuration(FunctionName="echo", Environment={"Variables": {"GREETING": "bye"}})
    second, _ = invoke(cloud, "echo")
    lam.update_function_configuration(FunctionName="echo", MemorySize=256)
    third, _ = invoke(cloud, "echo")

    assert (first["greeting"], second["greeting"], third["greeting"]) == ("hi", "bye", "bye")
    assert (second["memory"], third["memory"]) == ("128", "256")
    assert len({first["pid"], second["pid"], third["pid"]}) == 3


def test_import_error_is_reported(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")
    cloud.client("lambda").update_function_configuration(FunctionName="echo", Handler="missing.handler")

    payload, error = invoke(cloud, "echo")

    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == "Unable to import module 'missing': No module named 'missing'"


def test_a_handler_missing_from_its_module_is_reported_as_lambda_reports_it(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")
    cloud.client("lambda").update_function_configuration(FunctionName="echo", Handler="app.absent")

    payload, error = invoke(cloud, "echo")

    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.HandlerNotFound"
    assert payload["errorMessage"] == "Handler 'absent' missing on module 'app'"


def test_what_a_handler_writes_to_file_descriptor_1_does_not_spoil_its_answer(cloud: LocalCloud) -> None:
    source = """
        import os

        def handler(event, context):
            os.write(1, b"written below Python's sys.stdout\\n")
            return {"answered": True}
    """
    deploy_source(cloud, "raw-writer", source)

    assert invoke(cloud, "raw-writer") == ({"answered": True}, None)


def test_the_remaining_time_counts_down_from_the_function_s_timeout_in_milliseconds(
    cloud: LocalCloud,
) -> None:
    deploy(cloud, "echo", "echo", timeout=60)

    remaining = invoke(cloud, "echo")[0]["remaining"]

    assert 30_000 < remaining <= 60_000


@pytest.mark.parametrize(
    ("fault", "code"), [("throttle", "TooManyRequestsException"), ("service_error", "ServiceException")]
)
def test_injected_api_faults(cloud: LocalCloud, fault: str, code: str) -> None:
    deploy(cloud, "echo", "echo")
    cloud.lambda_runtime.inject("echo", fault, times=1)  # type: ignore[union-attr]

    with pytest.raises(ClientError) as raised:
        invoke(cloud, "echo")

    assert raised.value.response["Error"]["Code"] == code
    _, error = invoke(cloud, "echo")  # times=1: the next call is served
    assert error is None


def test_injected_error_and_timeout(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")
    runtime = cloud.lambda_runtime
    assert runtime is not None
    runtime.inject("echo", "error", error_type="Boom", times=1)
    runtime.inject("echo", "timeout", times=1)

    errors = [invoke(cloud, "echo")[0].get("errorType") for _ in range(3)]

    assert errors == ["Boom", "Sandbox.Timedout", None]
    runtime.inject("echo", "error", error_type="Boom", message="as asked", times=1)
    payload, error = invoke(cloud, "echo")
    assert error == "Unhandled"
    assert payload == {"errorType": "Boom", "errorMessage": "as asked", "stackTrace": []}
    runtime.inject("echo", "error", rate=0.0)
    runtime.clear_faults()
    assert invoke(cloud, "echo")[1] is None


@pytest.mark.parametrize("end", ["release", "clear_faults"])  # clear_faults: a test that ends early
def test_a_held_invocation_runs_once_released(cloud: LocalCloud, end: str) -> None:
    deploy(cloud, "echo", "echo")
    runtime = cloud.lambda_runtime
    assert runtime is not None
    runtime.inject("echo", "hold", times=1)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(invoke, cloud, "echo")
        while runtime._faults["echo"][0].times != 0:  # drawn: the invocation is held
            time.sleep(0.01)
        with pytest.raises(FuturesTimeout):
            held.result(timeout=0.5)  # an invocation not held answers in milliseconds
        getattr(runtime, end)("echo")
        assert held.result(timeout=30)[1] is None  # then runs as usual


def test_a_hold_released_before_the_invocation_comes_holds_nothing(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")
    runtime = cloud.lambda_runtime
    assert runtime is not None
    runtime.inject("echo", "hold")  # every invocation, until ended
    runtime.release("echo")  # as a test may, before the Task it holds is invoked

    assert invoke(cloud, "echo")[1] is None


def _overlapping_calls(cloud: LocalCloud, name: str) -> tuple[str, str]:
    """A 2-second invocation of `name`, and another while it holds a worker: how each ended."""
    runtime = cloud.lambda_runtime
    assert runtime is not None

    def call(seconds: float) -> str:
        try:
            invoke(cloud, name, {"seconds": seconds})
            return "ok"
        except ClientError as error:
            return str(error.response["Error"]["Code"])

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(call, 2.0)
        while runtime.worker_pids(name) and not first.done():
            time.sleep(0.01)  # until the first invocation holds the idle worker
        second = call(0)
        return first.result(), second


def test_reserved_concurrency_throttles(cloud: LocalCloud) -> None:
    deploy(cloud, "sleeper", "sleeps")
    cloud.client("lambda").put_function_concurrency(FunctionName="sleeper", ReservedConcurrentExecutions=1)
    invoke(cloud, "sleeper", {"seconds": 0})  # warm: the next invocation takes the one idle worker

    assert _overlapping_calls(cloud, "sleeper") == ("ok", "TooManyRequestsException")


def test_the_accounts_concurrency_is_what_its_quota_leaves_unreserved_as_lambda_reports_it(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deploy asks it before reserving concurrency (moto does not answer GetAccountSettings)."""
    deploy(cloud, "sleeper", "sleeps")
    lam = cloud.client("lambda")
    lam.put_function_concurrency(FunctionName="sleeper", ReservedConcurrentExecutions=30)

    def limit() -> tuple[int, int]:
        found = lam.get_account_settings()["AccountLimit"]
        return found["ConcurrentExecutions"], found["UnreservedConcurrentExecutions"]

    assert limit() == (1000, 970)  # AWS's default quota
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "400")  # which moto then holds reservations to
    assert limit() == (400, 370)
    deploy(cloud, "echo", "echo")
    with pytest.raises(ClientError, match="UnreservedConcurrentExecution below its minimum"):
        lam.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=271)
    lam.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=270)  # 100 left
    assert limit() == (400, 100)
    assert lam.get_account_settings()["AccountUsage"]["FunctionCount"] == 2


def test_reserved_concurrency_set_on_a_warm_function_throttles_and_retires_extra_workers(
    cloud: LocalCloud,
) -> None:
    name = "warm-sleeper"
    deploy(cloud, name, "sleeps", Environment={"Variables": {"RUN": str(uuid.uuid4())}})
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda _: invoke(cloud, name, {"seconds": 0.3}), range(3)))
    runtime = cloud.lambda_runtime
    assert runtime is not None and len(runtime.worker_pids(name)) == 3

    cloud.client("lambda").put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    invoke(cloud, name, {"seconds": 0})

    assert len(runtime.worker_pids(name)) == 1
    assert _overlapping_calls(cloud, name) == ("ok", "TooManyRequestsException")


def test_event_invocation_answers_at_once_and_runs_in_the_background(cloud: LocalCloud) -> None:
    deploy(cloud, "putter", "puts")
    dynamodb = cloud.client("dynamodb")
    on_demand_table(cloud, "items")
    event = {"table": "items", "pk": "async", "value": "1"}

    response = cloud.client("lambda").invoke(
        FunctionName="putter", InvocationType="Event", Payload=json.dumps(event)
    )

    assert response["StatusCode"] == 202
    key = {"pk": {"S": "async"}}
    for _ in range(500):
        if "Item" in dynamodb.get_item(TableName="items", Key=key):
            break
        time.sleep(0.01)
    assert dynamodb.get_item(TableName="items", Key=key)["Item"]["value"] == {"S": "1"}
    # the 202 names the request id that the background invocation ran and logged with
    request_id = response["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in _logged(cloud, "putter", "REPORT RequestId")


def _logged(cloud: LocalCloud, name: str, until: str) -> list[str]:
    """The messages of a function's log group, once one starts with `until` (logs come last)."""
    logs = cloud.client("logs")
    for _ in range(500):
        try:
            messages = [
                e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
            ]
        except logs.exceptions.ResourceNotFoundException:
            messages = []
        if any(m.startswith(until) for m in messages):
            return messages
        time.sleep(0.01)
    raise AssertionError(f"no log line of {name} starts with {until!r}")


def test_handler_sees_only_its_zip_and_the_installed_packages(cloud: LocalCloud) -> None:
    source = """
        import importlib.util

        def handler(event, context):
            return {name: importlib.util.find_spec(name) is not None for name in event["modules"]}
    """
    deploy_source(cloud, "paths", source)

    payload, _ = invoke(
        cloud, "paths", {"modules": ["app", "boto3", "aws_lambda_powertools", "localcloud", "tests"]}
    )

    assert payload == {
        "app": True,
        "boto3": True,
        "aws_lambda_powertools": True,
        "localcloud": False,
        "tests": False,
    }


def test_module_that_exits_at_import_is_reported_and_retried(cloud: LocalCloud) -> None:
    deploy_source(cloud, "exits", "import os\nos._exit(3)\n")

    for _ in range(2):  # no broken worker is kept: each invoke tries a fresh sandbox
        payload, error = invoke(cloud, "exits")
        assert error == "Unhandled"
        assert payload["errorType"] == "Runtime.ExitError"
        assert "exit status 3" in payload["errorMessage"]


def test_handler_that_kills_its_process_is_reported_and_replaced(cloud: LocalCloud) -> None:
    source = """
        import os

        def handler(event, context):
            if event.get("die"):
                os._exit(7)
            return {"pid": os.getpid()}
    """
    deploy_source(cloud, "dies", source)
    first, _ = invoke(cloud, "dies")

    payload, error = invoke(cloud, "dies", {"die": True})
    after, after_error = invoke(cloud, "dies")

    assert error == "Unhandled" and payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith(" Error: Runtime exited with error: exit status 7")
    assert after_error is None and after["pid"] != first["pid"]


def test_least_recently_used_function_is_evicted_past_the_pool_cap(cloud: LocalCloud) -> None:
    runtime = cloud.lambda_runtime
    assert runtime is not None
    deploy(cloud, "echo", "echo")
    # A configuration no earlier test used, so that its first invoke creates a pool.
    deploy(cloud, "sleeper", "sleeps", Environment={"Variables": {"RUN": str(uuid.uuid4())}})
    cap, runtime.max_pools = runtime.max_pools, 1
    try:
        first, _ = invoke(cloud, "echo")
        invoke(cloud, "sleeper")

        assert runtime.worker_pids("echo") == []
        with pytest.raises(ProcessLookupError):
            os.kill(first["pid"], 0)
        assert invoke(cloud, "echo")[1] is None  # comes back cold
    finally:
        runtime.max_pools = cap


def test_each_invocation_has_its_own_x_ray_trace_header(cloud: LocalCloud) -> None:
    """What the AWS runtime sets for the X-Ray SDK (Powertools' Tracer reads it)."""
    deploy_source(
        cloud,
        "traced",
        "import os\ndef handler(event, context):\n    return os.environ['_X_AMZN_TRACE_ID']\n",
    )
    headers = [invoke(cloud, "traced")[0] for _ in range(3)]
    pattern = re.compile(r"Root=1-([0-9a-f]{8})-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0")
    assert all(pattern.fullmatch(header) for header in headers), headers
    assert len(set(headers)) == 3
    seconds = int(pattern.fullmatch(headers[0]).group(1), 16)  # type: ignore[union-attr]
    assert abs(seconds - time.time()) < 60  # the root's time: epoch seconds in hex


def test_a_sandbox_error_names_the_invocation_s_request_id_as_lambda_does(cloud: LocalCloud) -> None:
    deploy(cloud, "sleeper", "sleeps", timeout=1)
    client = cloud.client("lambda", retries={"max_attempts": 0})

    response = client.invoke(FunctionName="sleeper", Payload=json.dumps({"seconds": 30}))

    request_id = response["ResponseMetadata"]["RequestId"]
    assert json.loads(response["Payload"].read()) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }


def test_a_handler_killed_by_a_signal_is_reported_with_the_signal_s_name(cloud: LocalCloud) -> None:
    """As Lambda words it ("signal: killed" for an out-of-memory kill), not by the signal's number."""
    source = """
        import os, signal

        def handler(event, context):
            os.kill(os.getpid(), getattr(signal, event["signal"]))
    """
    deploy_source(cloud, "killed", source)
    client = cloud.client("lambda", retries={"max_attempts": 0})

    for name, shown in (("SIGKILL", "killed"), ("SIGTERM", "terminated")):
        response = client.invoke(FunctionName="killed", Payload=json.dumps({"signal": name}))

        request_id = response["ResponseMetadata"]["RequestId"]
        assert "FunctionError" in response
        assert json.loads(response["Payload"].read()) == {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: {shown}",
        }


def _tail(response: dict[str, Any]) -> list[str]:
    """The log lines an invoke with LogType Tail answers with."""
    return base64.b64decode(response["LogResult"]).decode().splitlines()


def test_a_cold_start_logs_the_import_s_output_and_its_init_duration_and_a_warm_one_neither(
    cloud: LocalCloud,
) -> None:
    source = """
        print("imported once")

        def handler(event, context):
            print(f"handled {event['n']}")
            return {}
    """
    deploy_source(cloud, "cold", source)
    client = cloud.client("lambda")

    cold, warm = (
        _tail(client.invoke(FunctionName="cold", Payload=json.dumps({"n": n}), LogType="Tail"))
        for n in (1, 2)
    )

    assert "imported once" in cold and "handled 1" in cold
    assert warm[1:-2] == ["handled 2"]  # between START and END: its own output only
    assert "\tInit Duration: " in cold[-1]
    assert warm[-1].startswith("REPORT RequestId: ") and "Init Duration" not in warm[-1]


def test_the_report_of_an_invocation_that_timed_out_or_crashed_says_so(cloud: LocalCloud) -> None:
    source = """
        import os, time

        def handler(event, context):
            if event.get("die"):
                os._exit(1)
            time.sleep(event.get("seconds", 0))
            return {}
    """
    deploy_source(cloud, "ends-badly", source, timeout=1)
    client = cloud.client("lambda", retries={"max_attempts": 0})

    def report(event: dict[str, Any]) -> str:
        response = client.invoke(FunctionName="ends-badly", Payload=json.dumps(event), LogType="Tail")
        return _tail(response)[-1]

    assert "Status:" not in report({})
    assert report({"seconds": 30}).endswith("\tStatus: timeout")
    assert report({"die": True}).endswith("\tStatus: error")


def test_an_invoke_without_a_payload_gives_the_handler_an_empty_object(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")

    response = cloud.client("lambda").invoke(FunctionName="echo")

    assert json.loads(response["Payload"].read())["event"] == {}


def test_reserved_concurrency_of_zero_throttles_every_invocation(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")
    cloud.client("lambda").put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=0)

    with pytest.raises(ClientError) as throttled:
        invoke(cloud, "echo")

    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_a_module_whose_import_hangs_times_out_its_sandbox(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localcloud import lambda_runtime

    monkeypatch.setattr(lambda_runtime, "_INIT_TIMEOUT", 0.5)
    deploy_source(cloud, "hangs", "import time\ntime.sleep(60)\n")

    payload, error = invoke(cloud, "hangs")

    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith(" Error: Init timed out")
