"""Definition files: generated, up to date, structurally sound; the checker catches breakage."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from console import validation
from tasks.lottery.winners import CLAIM_LEASE as lottery_claims
from tasks.ticket_ranking.told import CLAIM_LEASE as deal_claims
from workflows import WORKFLOWS, actions, asl, definitions, handlers
from workflows.etf_signal import WORKFLOW as ETF_SIGNAL
from workflows.lottery import WORKFLOW as LOTTERY
from workflows.policies import ALERT_ACCESS, alert_and_fail, catch_to, lambda_task
from workflows.registry import SCHEDULED_TIME, Access, HttpRoute, Route, Schedule, StreamTrigger, Workflow


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_definition_file_is_current_and_valid(name: str) -> None:
    assert definitions.check(WORKFLOWS[name]) == []


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_example_input_is_valid_input(name: str) -> None:
    """The console's start form is filled with it: it must start the workflow as it is."""
    workflow = WORKFLOWS[name]
    assert validation.errors(workflow.input_schema, workflow.example_input) == []


def test_an_example_input_the_schema_refuses_is_named_by_check() -> None:
    wrong = dataclasses.replace(LOTTERY, example_input={"winners": 0})
    assert "lottery: example_input is not valid input: winners: 0 is less than the minimum of 1" in (
        definitions.check(wrong)
    )


def test_a_schedule_input_the_schema_refuses_is_named_by_check() -> None:
    """Every scheduled run would start with it; the scheduled time is checked as Scheduler writes it."""
    [schedule] = ETF_SIGNAL.triggers
    late = dataclasses.replace(schedule, input={"scheduled_time": SCHEDULED_TIME, "funds": []})
    assert definitions.check(dataclasses.replace(ETF_SIGNAL, triggers=(late,))) == [
        "etf-signal: schedule cron(30 17 ? * MON-FRI *): input is not valid input: "
        "funds: [] should be non-empty"
    ]
    written_by_hand = dataclasses.replace(schedule, input={"scheduled_time": "17:30"})
    assert definitions.check(dataclasses.replace(ETF_SIGNAL, triggers=(written_by_hand,))) == [
        "etf-signal: schedule cron(30 17 ? * MON-FRI *): input is not valid input: scheduled_time: "
        '"17:30" is not a UTC time written YYYY-MM-DDTHH:MM:SSZ '
        r"(the pattern ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$)"
    ]


def test_fresh_fields_the_example_lacks_or_the_schema_refuses_made_unique_are_named_by_check() -> None:
    """The benchmarks start the workflow with them made unique: a field the example does not hold,
    or one whose schema refuses a fresh value, would make every benchmark run fail."""
    ride = WORKFLOWS["ride-request"]
    absent = dataclasses.replace(ride, fresh_fields=("request_id", "ride_id"))
    assert definitions.check(absent) == ["ride-request: fresh_fields: example_input has no field 'ride_id'"]
    schema = copy.deepcopy(dict(ride.input_schema))
    schema["properties"]["request_id"] = {"type": "string", "maxLength": 16}  # the example's 14 fit
    [problem] = definitions.check(dataclasses.replace(ride, input_schema=schema))
    assert problem.startswith(
        "ride-request: example_input with fresh_fields made unique is not valid input: request_id: "
    )
    assert problem.endswith('" is too long')


def test_fresh_input_gives_each_run_its_own_request_id_and_keeps_the_rest() -> None:
    ride = WORKFLOWS["ride-request"]
    first, second = ride.fresh_input(), ride.fresh_input()
    assert first["request_id"] != second["request_id"] != ride.example_input["request_id"]
    assert {k: v for k, v in first.items() if k != "request_id"} == {
        k: v for k, v in ride.example_input.items() if k != "request_id"
    }
    assert LOTTERY.fresh_input() == LOTTERY.example_input


@pytest.mark.parametrize(
    ("handler", "problem"),
    [
        (
            "tasks.lottery.record_winners.handle",
            "tasks/lottery/record_winners.py defines no 'handle': did you mean 'handler'?",
        ),
        (
            "tasks.lottery.record_winner.handler",
            "handler module tasks.lottery.record_winner not found under ",
        ),
        ("handler", "handler 'handler': not <module>.<function>"),
    ],
    ids=["function", "module", "no module"],
)
def test_a_handler_lambda_would_not_find_is_named_by_check(handler: str, problem: str) -> None:
    """Lambda says so only when the function is invoked (Runtime.HandlerNotFound), mid-run."""
    record = dataclasses.replace(LOTTERY.function("record-winners"), handler=handler)
    functions = tuple(record if fn.name == "record-winners" else fn for fn in LOTTERY.functions)
    found = definitions.check(dataclasses.replace(LOTTERY, functions=functions))
    assert len(found) == 1, found
    assert found[0].startswith("lottery: function record-winners: ") and problem in found[0]


def test_a_handler_module_not_found_is_named_with_the_module_it_is_likely_a_typo_of() -> None:
    problem = handlers.handler_problem("tasks.lottery.record_winner.handler")
    assert problem is not None and problem.endswith(": did you mean tasks.lottery.record_winners?"), problem
    problem = handlers.handler_problem("tasks.lotery.record_winners.handler")
    assert problem is not None and problem.endswith(": did you mean tasks.lottery?"), problem
    assert "did you mean" not in (handlers.handler_problem("tasks.lottery.zzzzqqq.handler") or "")


def test_a_handler_in_a_folder_without_init_is_named_by_check_as_deploy_refuses_it(tmp_path: Path) -> None:
    """Packaging takes each parent package's __init__.py and refuses a folder without one:
    check says so before the deploy does."""
    (tmp_path / "tasks" / "newflow").mkdir(parents=True)
    (tmp_path / "tasks" / "__init__.py").write_text("")
    (tmp_path / "tasks" / "newflow" / "start.py").write_text(
        "def handler(event, context):\n    return event\n"
    )
    assert handlers.handler_problem("tasks.newflow.start.handler", tmp_path) == (
        "handler module tasks.newflow: tasks/newflow/ has no __init__.py "
        "(every folder of tasks/ is a package, which Lambda imports)"
    )
    (tmp_path / "tasks" / "newflow" / "__init__.py").write_text("")
    assert handlers.handler_problem("tasks.newflow.start.handler", tmp_path) is None


def test_a_workflow_module_that_workflows_does_not_list_is_named() -> None:
    """build, check and deploy see only what WORKFLOWS lists: a forgotten entry is said, not skipped."""
    assert definitions.registry_problems(WORKFLOWS) == []
    problems = definitions.registry_problems({n: w for n, w in WORKFLOWS.items() if n != "lottery"})
    assert problems == [
        "workflows.lottery declares workflow 'lottery', which WORKFLOWS (workflows/__init__.py) does not "
        "list: add it there",
        "lottery.asl.json: no workflow of WORKFLOWS builds it: list its workflow in workflows/__init__.py, "
        "or delete the file",
    ]


def _lottery() -> dict[str, Any]:
    return copy.deepcopy(json.loads(definitions.render(LOTTERY)))


def test_a_next_to_a_missing_state_is_reported() -> None:
    definition = _lottery()
    definition["States"]["Draw Winners"]["Next"] = "Nowhere"
    assert "Draw Winners: goes to 'Nowhere', which is not a state here" in definitions.graph_problems(
        definition
    )


@pytest.mark.parametrize("way", ["Next", "Default", "Catch"])
def test_a_target_naming_no_state_is_named_with_the_state_it_is_likely_a_typo_of(way: str) -> None:
    definition = _lottery()
    states = definition["States"]
    name = {"Next": "Draw Winners", "Default": "Any Past Winner?", "Catch": "Record Winners"}[way]
    block = states[name]["Catch"][-1] if way == "Catch" else states[name]
    target = block["Next" if way == "Catch" else way]
    block["Next" if way == "Catch" else way] = target + "z"
    assert (
        f"{name}: goes to {target + 'z'!r}, which is not a state here: did you mean {target!r}?"
        in definitions.graph_problems(definition)
    )


def test_an_unreachable_state_is_reported() -> None:
    definition = _lottery()
    definition["States"]["Orphan"] = {"Type": "Succeed"}
    assert any("Orphan: not reachable" in p for p in definitions.graph_problems(definition))


def test_a_dangling_state_inside_a_parallel_branch_is_reported() -> None:
    definition = json.loads(definitions.render(WORKFLOWS["flight-deals"]))
    branch = definition["States"]["Process Records"]["Branches"][1]
    del branch["States"]["Alert Deals"]["End"]
    problems = definitions.graph_problems(definition)
    assert any("branch 2: Alert Deals: neither Next nor End" in p for p in problems)


def test_an_unknown_token_is_reported() -> None:
    text = definitions.render(LOTTERY).replace("${AlertsTopicArn}", "${AlertTopicArn}")
    assert definitions.token_problems(LOTTERY, text) == [
        "unknown token ${AlertTopicArn}; did you mean ${AlertsTopicArn}?"
    ]


def test_an_unknown_token_like_none_is_reported_with_the_known_ones() -> None:
    text = definitions.render(LOTTERY).replace("${AlertsTopicArn}", "${Pager}")
    [problem] = definitions.token_problems(LOTTERY, text)
    assert problem.startswith(
        "unknown token ${Pager}; known: ${AlertWindowsTableName}, ${AlertsTopicArn}, ${Announcements"
    )


def test_invalid_asl_is_rejected_by_the_parser() -> None:
    definition = _lottery()
    definition["States"]["Draw Winners"]["Type"] = "Taks"
    assert definitions.parse_problems(json.dumps(definition))


def test_the_parsers_list_of_expected_tokens_is_cut_to_the_closest() -> None:
    """The grammar's every field name would follow a misspelt one: the problem names the likely one."""
    misspelt = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Nxt": "B", "End": True}}}
    (problem,) = definitions.parse_problems(json.dumps(misspelt))
    assert problem.startswith("ASL parser: ") and len(problem) < 300, problem
    assert "mismatched input '\"Nxt\"' expecting one of " in problem and "such as '\"Next\"'" in problem
    (few,) = definitions.parse_problems(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Taks"}}}))
    assert few.endswith("'\"Parallel\"', '\"Map\"'}")  # eight: all named


def test_check_builds_the_definition_once() -> None:
    """The staleness and the timeout checks read one build."""
    builds = []

    def build() -> dict[str, Any]:
        builds.append(1)
        return LOTTERY.build()

    assert definitions.check(dataclasses.replace(LOTTERY, build=build)) == []
    assert len(builds) == 1


def test_a_stale_file_is_reported(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "lottery.asl.json"
    stale.write_text(definitions.render(LOTTERY).replace("Lucky", "Lucky"))
    stale.write_text(stale.read_text().replace('"MaxAttempts": 3', '"MaxAttempts": 4', 1))
    monkeypatch.setattr(type(LOTTERY), "definition_path", property(lambda self: stale))
    assert any("stale" in p for p in definitions.check(LOTTERY))


def test_an_integration_the_workflow_does_not_grant_is_named_with_the_grant_to_add() -> None:
    """Without the alerts grant, deploy gives the role no sns:Publish on it: every alert would fail."""
    lottery = WORKFLOWS["lottery"]
    assert definitions.grant_problems(lottery, definitions.load(lottery)) == []
    ungranted = dataclasses.replace(
        lottery, integrations=tuple(a for a in lottery.integrations if a.resource != "alerts")
    )
    problems = definitions.grant_problems(ungranted, definitions.load(lottery))
    assert problems == [
        "Alert Failure: calls sns:Publish on ${AlertsTopicArn}, which the workflow's integrations do not "
        'grant: add Access("alerts", ("sns:Publish",))'
    ]


def test_a_grant_is_read_as_iam_reads_it_and_every_pattern_of_a_call_is_checked() -> None:
    lottery = WORKFLOWS["lottery"]
    definition = copy.deepcopy(definitions.load(lottery))
    definition["States"]["Alert Failure"]["Resource"] = "arn:aws:states:::sns:publish.waitForTaskToken"
    others = tuple(a for a in lottery.integrations if a.resource != "alerts")
    wildcard = dataclasses.replace(lottery, integrations=(*others, Access("alerts", ("SNS:*",))))
    assert definitions.grant_problems(wildcard, definition) == []
    ungranted = dataclasses.replace(lottery, integrations=others)
    assert [p.split(":")[0] for p in definitions.grant_problems(ungranted, definition)] == ["Alert Failure"]


def _with_draw(**changes: Any) -> Any:
    """The lottery with its draw-winners function changed."""
    draw = dataclasses.replace(LOTTERY.function("draw-winners"), **changes)
    return dataclasses.replace(
        LOTTERY, functions=tuple(draw if fn.name == "draw-winners" else fn for fn in LOTTERY.functions)
    )


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_workflows_grants_resources_and_seeds_are_there(name: str) -> None:
    assert definitions.wiring_problems(WORKFLOWS[name]) == []


KNOWN = "known: alert-windows, alerts, announcements, employees, state-machine, winners"


def test_a_grant_on_a_resource_the_workflow_does_not_declare_is_named_by_check() -> None:
    """Deploy would stop on it, naming neither the function nor the field."""
    draw = LOTTERY.function("draw-winners")
    found = definitions.check(_with_draw(access=(*draw.access, Access("employee", ("dynamodb:GetItem",)))))
    assert found == [
        f"lottery: function draw-winners: access: no resource named 'employee' (did you mean 'employees'? {KNOWN})"
    ]
    integrations = (*LOTTERY.integrations, Access("pager", ("sns:Publish",)))
    assert definitions.check(dataclasses.replace(LOTTERY, integrations=integrations)) == [
        f"lottery: state machine: integrations: no resource named 'pager' ({KNOWN})"
    ]


def test_a_key_prefix_on_a_grant_it_cannot_narrow_is_named_by_check() -> None:
    """A prefix narrows a bucket's keys: on a table, on a bucket action other than a listing, or
    holding IAM's wildcards, the policy would grant more than the registry says."""
    draw = LOTTERY.function("draw-winners")
    on_table = Access("winners", ("dynamodb:PutItem",), prefix="2026/")
    assert definitions.check(_with_draw(access=(*draw.access, on_table))) == [
        "lottery: function draw-winners: access to 'winners': prefix '2026/': a key prefix narrows "
        "a bucket's grant only, and this is a table"
    ]
    integrations = (*LOTTERY.integrations, Access("alerts", ("sns:Publish",), prefix="x/"))
    assert definitions.check(dataclasses.replace(LOTTERY, integrations=integrations)) == [
        "lottery: state machine: integrations to 'alerts': prefix 'x/': a key prefix narrows a "
        "bucket's grant only, and this is a topic"
    ]
    send = ETF_SIGNAL.function("send-report")
    for grant, problem in (
        (
            Access("reports", ("s3:GetObject", "s3:GetBucketTagging"), prefix="signals/"),
            "prefix 'signals/' narrows object actions and s3:ListBucket only, not s3:GetBucketTagging: "
            "grant those in an Access of their own, without a prefix",
        ),
        (
            Access("reports", ("s3:GetObject",), prefix="signals/*/"),
            "prefix 'signals/*/': IAM would read its * or ? as a wildcard, widening the grant",
        ),
    ):
        changed = dataclasses.replace(send, access=(grant,))
        wrong = dataclasses.replace(
            ETF_SIGNAL,
            functions=tuple(changed if fn.name == send.name else fn for fn in ETF_SIGNAL.functions),
        )
        assert definitions.wiring_problems(wrong) == [
            f"etf-signal: function send-report: access to 'reports': {problem}"
        ]


def test_an_environment_value_naming_no_resource_is_named_by_check() -> None:
    found = definitions.check(_with_draw(environment={"WINNERS_TABLE": "winner"}))
    assert found == [
        "lottery: function draw-winners: environment WINNERS_TABLE: no resource named 'winner' "
        f"(did you mean 'winners'? {KNOWN})"
    ]


def test_a_route_naming_no_function_of_the_workflow_is_named_by_check() -> None:
    """Deploy would stop on it while making the API, after its other changes."""
    search = WORKFLOWS["ticket-ranking"]
    wrong = dataclasses.replace(search, routes=(Route("GET", "/tickets/search", "api-serch"),))
    found = definitions.check(wrong)
    assert found == [
        "ticket-ranking: route GET /tickets/search: no function named 'api-serch' (did you mean "
        "'api-search'? known: api-search, fetch-inventory, find-deals, mark-current, rank-performance, "
        "record-deals, store-ranking)"
    ]


def test_a_stream_trigger_naming_no_stream_of_the_workflow_is_named_by_check() -> None:
    """A resource that is not a stream is no stream either: the pipe would read a Kinesis ARN of
    that name."""
    deals = WORKFLOWS["flight-deals"]
    for stream, hint in (("price-record", "did you mean 'price-records'? "), ("deals", "")):
        wrong = dataclasses.replace(deals, triggers=(StreamTrigger(stream=stream),))
        assert definitions.check(wrong) == [
            f"flight-deals: stream trigger: no stream named {stream!r} ({hint}known: price-records)"
        ]


def test_a_route_whose_function_outlasts_api_gateways_wait_is_named_by_check() -> None:
    """An HTTP API waits at most 30 seconds: past that the caller gets an error while the function
    still runs (and is paid for)."""
    slow = dataclasses.replace(ETF_SIGNAL.function("api-signals"), timeout=30)
    etf = dataclasses.replace(
        ETF_SIGNAL, functions=tuple(slow if fn.name == slow.name else fn for fn in ETF_SIGNAL.functions)
    )
    problem = "function api-signals has a 30 s timeout, but API Gateway stops waiting after 30 s: give it at most 29"
    assert definitions.wiring_problems(etf) == [
        f"etf-signal: route GET /etf/signals: {problem}",
        f"etf-signal: route GET /etf/signals/{{date}}: {problem}",
    ]


@pytest.mark.parametrize(
    "unwired",
    [
        {"access": ()},  # may not publish the alert nor write its window
        {"environment": {"SIGNALS_TOPIC": "signals"}},  # does not know where they are
    ],
)
def test_a_route_whose_function_cannot_alert_its_failures_is_named_by_check(unwired: dict[str, Any]) -> None:
    """tasks.shared.api.route alerts what a route's function did not expect: else no one hears of it."""
    mute = dataclasses.replace(ETF_SIGNAL.function("api-subscribe"), **unwired)
    etf = dataclasses.replace(
        ETF_SIGNAL, functions=tuple(mute if fn.name == mute.name else fn for fn in ETF_SIGNAL.functions)
    )
    assert definitions.wiring_problems(etf) == [
        "etf-signal: route POST /etf/subscriptions: function api-subscribe cannot alert its failures "
        "(tasks.shared.api.route): give it *ALERT_ACCESS and **ALERT_ENVIRONMENT (workflows.policies)"
    ]


def test_a_sync_route_of_a_standard_workflow_is_named_by_check() -> None:
    """AWS refuses StartSyncExecution on a Standard state machine: every request would fail."""
    lottery = dataclasses.replace(LOTTERY, triggers=(HttpRoute("POST", "/draw", sync=True),))
    assert definitions.check(lottery) == [
        "lottery: route POST /draw: sync, but StartSyncExecution starts only EXPRESS state machines: "
        "make the workflow EXPRESS or the route not sync"
    ]
    assert definitions.check(dataclasses.replace(LOTTERY, triggers=(HttpRoute("POST", "/draw"),))) == []


def test_a_route_two_workflows_declare_is_named() -> None:
    """The environment's API has one route per method and path: one of them would not be served."""
    lottery = dataclasses.replace(LOTTERY, routes=(Route("post", "/ride", "draw-winners"),))
    problems = definitions.registry_problems({**WORKFLOWS, "lottery": lottery})
    assert [p for p in problems if p.startswith("route ")] == [
        "route POST /ride: declared by lottery and ride-request: the environment's one API has one route "
        "per method and path"
    ]


def _alerting(name: str, alerted_as: str) -> Workflow:
    """A workflow whose one task's failure is alerted by `alert_and_fail(alerted_as)`."""

    def build() -> dict[str, Any]:
        alert = alert_and_fail(alerted_as)
        work = lambda_task("Work", "WorkFunctionArn")
        catch_to(work, alert)
        return asl.Graph(asl.Chain([work, asl.Succeed("Done")])).to_dict()

    work = dataclasses.replace(LOTTERY.function("draw-winners"), name="work", access=(), environment={})
    return Workflow(
        name,
        "one task",
        asl.StateMachineType.STANDARD,
        build,
        {"type": "object"},
        timeout_seconds=60,
        functions=(work,),
        integrations=ALERT_ACCESS,
    )


def test_an_alert_that_names_another_workflow_is_named_by_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every workflow alerts on one topic: the on-call would look at the wrong workflow's runs."""
    monkeypatch.setattr(
        Workflow, "definition_path", property(lambda self: tmp_path / f"{self.name}.asl.json")
    )
    own, other = _alerting("payroll", "payroll"), _alerting("payroll", "lottery")
    definitions.write(own)
    assert definitions.check(own) == []
    definitions.write(other)
    assert definitions.check(other) == [
        "payroll.asl.json: Alert Failure: alert Subject '[lottery] execution failed' names workflow "
        "'lottery': begin it with '[payroll]' (policies.alert_and_fail takes the workflow's own name)"
    ]


def test_an_alert_whose_subject_names_no_workflow_is_named() -> None:
    definition = _lottery()
    definition["States"]["Alert Failure"]["Parameters"]["Subject"] = "Execution failed"
    assert definitions.alert_problems(LOTTERY, definition) == [
        "Alert Failure: alert Subject 'Execution failed' names no workflow: begin it with '[lottery]' "
        "(policies.alert_and_fail takes the workflow's own name)"
    ]


def test_a_seed_file_that_is_not_there_is_named_by_check() -> None:
    """Deploy would find it missing only after making its changes."""
    employees = dataclasses.replace(LOTTERY.tables[0], seed="lottery-employee.json")
    found = definitions.check(dataclasses.replace(LOTTERY, tables=(employees, *LOTTERY.tables[1:])))
    assert found == [
        "lottery: table employees: seed: no file in workflows/data/ named 'lottery-employee.json' "
        "(did you mean 'lottery-employees.json'? known: lottery-employees.json, ride-request-unicorns.json)"
    ]


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        (
            "dynamodb:GetItems",
            "'dynamodb:GetItems' is not a dynamodb action; did you mean 'dynamodb:GetItem'?",
        ),
        ("lambda:InvokeFunctions", "did you mean 'lambda:InvokeFunction'?"),
        ("s3:Gte*", "'s3:Gte*' matches no s3 action"),
        ("dynamo:Scan", "'dynamo:Scan': no service 'dynamo'; did you mean 'dynamodb'?"),
        ("Scan", "'Scan' is not <service>:<action>"),
    ],
    ids=["misspelt", "not an operation", "wildcard", "service", "no service"],
)
def test_an_iam_action_no_service_has_is_named_by_check(action: str, problem: str) -> None:
    """IAM takes any name: the call would be denied at run time."""
    draw = LOTTERY.function("draw-winners")
    found = definitions.check(_with_draw(access=(*draw.access, Access("winners", (action,)))))
    assert len(found) == 1, found
    assert (
        found[0].startswith("lottery: function draw-winners: access to 'winners': ") and problem in found[0]
    )


@pytest.mark.parametrize(
    "action",
    ["dynamodb:getitem", "SNS:*", "*", "s3:Get*", "dynamodb:?can", "lambda:InvokeFunction", "s3:ListBucket"],
)
def test_an_action_is_read_as_iam_reads_it(action: str) -> None:
    """Case aside, wildcards matching some action, and the actions IAM names unlike their operation."""
    assert actions.action_problem(action) is None


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_definition_ends_a_run_at_its_workflows_timeout(name: str) -> None:
    """Without a top-level TimeoutSeconds a Standard run stuck on an answer that never comes runs for
    a year, and its timed-out alarm never fires."""
    workflow = WORKFLOWS[name]
    assert workflow.timeout_seconds is not None
    assert definitions.load(workflow)["TimeoutSeconds"] == workflow.timeout_seconds


def test_a_stuck_draw_or_ranking_run_times_out_before_its_claims_lapse() -> None:
    """A run still going when its claims lapse could record winners or announce deals another run took."""
    assert LOTTERY.timeout_seconds is not None and LOTTERY.timeout_seconds < lottery_claims.total_seconds()
    ranking = WORKFLOWS["ticket-ranking"].timeout_seconds
    assert ranking is not None and ranking < deal_claims.total_seconds()


def test_a_workflow_without_a_timeout_is_named_by_check() -> None:
    assert definitions.timeout_problems(dataclasses.replace(LOTTERY, timeout_seconds=None)) == [
        "lottery: no timeout_seconds: a run waiting on an answer that never comes would run for a year, "
        "unnoticed; declare how long its longest path may take (its Tasks' timeouts through their "
        "retries), saying why"
    ]


def test_the_registrys_timeout_is_written_into_the_definition() -> None:
    shorter = dataclasses.replace(LOTTERY, timeout_seconds=60)
    assert json.loads(definitions.render(shorter))["TimeoutSeconds"] == 60
    assert list(json.loads(definitions.render(shorter)))[:3] == ["Comment", "TimeoutSeconds", "StartAt"]
    assert "lottery.asl.json: stale; run `python -m workflows build`" in definitions.check(shorter)


def test_a_timeout_beyond_what_aws_allows_its_type_is_named_by_check() -> None:
    deals = WORKFLOWS["flight-deals"]
    assert definitions.check(dataclasses.replace(deals, timeout_seconds=301))[-1:] == [
        "flight-deals: timeout_seconds 301: EXPRESS executions last 1 to 300 seconds"
    ]
    assert definitions.timeout_problems(dataclasses.replace(LOTTERY, timeout_seconds=0)) == [
        "lottery: timeout_seconds 0: STANDARD executions last 1 to 31536000 seconds"
    ]


def test_a_timeout_longer_than_the_time_between_two_scheduled_starts_is_named_by_check() -> None:
    """A run could still go when the next one starts."""
    ranking = WORKFLOWS["ticket-ranking"]
    assert definitions.timeout_problems(dataclasses.replace(ranking, timeout_seconds=31 * 60)) == [
        "ticket-ranking: timeout_seconds 1860 is longer than schedule rate(30 minutes) allows between two "
        "starts (1800 s): a run could still go when the next one starts"
    ]
    [daily] = ETF_SIGNAL.triggers
    twice = dataclasses.replace(daily, expression="cron(30 9,10 ? * MON-FRI *)")
    assert definitions.timeout_problems(dataclasses.replace(ETF_SIGNAL, triggers=(twice,))) == [
        "etf-signal: timeout_seconds 7200 is longer than schedule cron(30 9,10 ? * MON-FRI *) allows "
        "between two starts (3600 s): a run could still go when the next one starts"
    ]


@pytest.mark.parametrize(
    ("expression", "timezone", "seconds"),
    [
        ("rate(30 minutes)", "UTC", 1800),
        ("cron(30 17 ? * MON-FRI *)", "Asia/Shanghai", 24 * 3600),  # Friday to Monday is longer
        ("cron(0/20 8-9 * * ? *)", "UTC", 20 * 60),
        ("cron(30 1 * * ? *)", "Europe/London", 23 * 3600),  # the night the clocks go forward
        ("at(2026-11-20T09:30:00)", "UTC", None),
    ],
)
def test_the_shortest_time_between_two_scheduled_starts(
    expression: str, timezone: str, seconds: int | None
) -> None:
    assert definitions.shortest_period(Schedule(expression, timezone=timezone)) == seconds


def test_a_timeout_its_synchronous_caller_cannot_outlast_is_named_by_check() -> None:
    """The caller would be ended before it answers the run that timed out, and alerts: API Gateway's
    bare 503, no request id, no alert."""
    ride = WORKFLOWS["ride-request"]
    assert definitions.timeout_problems(dataclasses.replace(ride, timeout_seconds=26)) == [
        "ride-request: timeout_seconds 26: route POST /ride's function api-ride (its timeout) is 29 s, so "
        "at most 25 s lets it answer and alert when the run times out"
    ]
    deals = dataclasses.replace(WORKFLOWS["flight-deals"], triggers=(HttpRoute("POST", "/deals", sync=True),))
    assert definitions.timeout_problems(deals) == [
        "flight-deals: timeout_seconds 300: sync route POST /deals (API Gateway's limit) is 30 s, so at "
        "most 26 s lets it answer and alert when the run times out"
    ]
    assert definitions.timeout_problems(dataclasses.replace(deals, timeout_seconds=26)) == []


def test_a_timeout_the_builder_sets_itself_is_named_by_check() -> None:
    """Build writes the registry's: the builder's own would be silently replaced."""

    def build() -> dict[str, Any]:
        return {**LOTTERY.build(), "TimeoutSeconds": 60}

    own = dataclasses.replace(LOTTERY, build=build)
    assert json.loads(definitions.render(own))["TimeoutSeconds"] == LOTTERY.timeout_seconds
    assert definitions.timeout_problems(own) == [
        "lottery: its builder's graph sets TimeoutSeconds 60, which build replaces with timeout_seconds "
        "900: declare it in the Workflow alone"
    ]
