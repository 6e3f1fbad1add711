"""Executions from the command line: `python -m workflows
list|start|executions|describe|history|graph|stop|redrive|alerts|example|token`.

Every command takes --env (default local) and --json. An execution is named by its ARN or its
name. `start --wait`, and any start of an Express workflow (it runs to its end in the call), prints
the output or the error. Exit codes, as the README's table has them: 1 when the execution (or what
was asked of AWS) failed, 2 when nothing was done and the command must change (bad options, input or
environment: invalid input names the field; an unknown workflow or execution, a name two
executions share, a --name Step Functions refuses (the rule it breaks is said before any call), a
stop of a run that is not running, no credentials, no Graphviz), 3 when
nothing was redriven (a redrive that would only run a Fail state again is refused unless --force is
given).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from console import authorizer, graph, validation
from console.alerts import AlertInbox
from console.errors import (
    BadRequest,
    Conflict,
    ConsoleError,
    InvalidInput,
    NotDeployed,
    NotFound,
    Unavailable,
    from_aws,
)
from console.graph import runs
from console.graph.definition import join_id
from console.graph.render import FILE_FORMATS, GraphvizMissing, to_file_format
from console.graph.runs import CLOSED, event_details
from console.service import ExecutionService
from infra.environments import ConfigError, load
from tasks.shared.errors import cause_message

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED")  # `executions --status` these shows each one's error
# The exit codes of every command (the README's table): 1 is a run, or an AWS call, that failed.
# 2, as argparse exits for bad options: the user's options, input or environment must change
BAD_USAGE_EXIT = 2
# not 1: a script can tell a refused redrive (nothing ran) from a run that failed
NOTHING_REDRIVEN_EXIT = 3
# what describe says of a business rejection
REJECTED_MEANS = "the workflow refused the request on purpose (the caller's mistake); no alert was sent"
# what the user names or has that cannot be used, as opposed to an operation that failed: a
# Conflict is a refusal before anything ran (a name two executions share, a --name in use, a stop
# of a run that ended); redrive says its own with NOTHING_REDRIVEN_EXIT
_USAGE_ERRORS = (BadRequest, NotFound, NotDeployed, Unavailable, Conflict)


def _reason(error: str | None, cause: str | None) -> str:
    """`error: message of the cause`, each part when there is one."""
    return ": ".join(part for part in (error, cause_message(cause)) if part)


def _service(args: argparse.Namespace) -> ExecutionService:
    from workflows import WORKFLOWS  # here, not at import: workflows.cli imports this module

    return ExecutionService(load(args.env), WORKFLOWS)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _duration(execution: dict[str, Any]) -> str:
    start = datetime.fromisoformat(execution["startDate"])
    stop = datetime.fromisoformat(execution["stopDate"]) if execution.get("stopDate") else datetime.now(UTC)
    return f"{(stop - start).total_seconds():.2f}s"


class BadInput(BadRequest):
    """An option's value that cannot be used (--input not readable or not JSON, --out not
    writable): invalid input, exit 2."""


def _read_input(text: str) -> Any:
    """`--input '{"a": 1}'` or `--input @file.json` (`@-`: standard input)."""
    if text.startswith("@"):
        try:
            data = sys.stdin.buffer.read() if text == "@-" else Path(text[1:]).read_bytes()
            text = validation.text_of(data)
        except OSError as error:
            raise BadInput(f"--input {text}: {error.strerror or error}") from None
        except validation.NotText as error:
            raise BadInput(f"--input {text}: {error}") from None
    try:
        return validation.loads(text)
    except validation.NotJson as error:
        raise BadInput(f"--input is not JSON: {error}") from None


def cmd_list(args: argparse.Namespace) -> int:
    workflows = _service(args).list_workflows()
    if args.json:
        _print_json(workflows)
        return 0
    rows = [["workflow", "type", "deployed", "state machine"]]
    rows += [
        [w["name"], w["type"], "yes" if w["deployed"] else "no", w["stateMachineName"]] for w in workflows
    ]
    _table(rows)
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    svc = _service(args)
    redrive = f"python -m workflows redrive {{name}}{'' if args.env == 'local' else ' --env ' + args.env}"
    try:
        execution, created = svc.start(
            args.workflow,
            _read_input(args.input),
            args.name,
            args.case,
            how_to_rename="another --name",
            how_to_redrive=redrive,
        )
    except InvalidInput as error:
        if args.json:
            _print_json(error.body())
        for problem in error.errors:
            print(f"invalid input: {problem['field']}: {problem['message']}", file=sys.stderr)
        if not args.json:
            print(
                f"a valid input to start from: python -m workflows example {args.workflow}", file=sys.stderr
            )
        return 2
    arn = execution["executionArn"]
    if not args.json and created:
        print(f"started {arn}")
    elif not args.json:  # Step Functions answers a start with the run of that name and input
        print(f"already running {arn} (started earlier with this name and input; nothing new was started)")
    # An Express start (StartSyncExecution) returns once the execution has ended, and a named one
    # may have ended before: say how, as --wait does, rather than exit 1 silently.
    if args.wait or execution["status"] in CLOSED:
        execution = _until_done(svc, execution, args.poll)
        if not args.json:
            print(f"{execution['status']} in {_duration(execution)}")
            if execution.get("output") is not None:
                _print_json(execution["output"])
            _print_error(execution)
    if args.json:
        _print_json(execution)
    return _exit_code(execution)


def cmd_executions(args: argparse.Namespace) -> int:
    svc = _service(args)
    found = svc.executions(args.workflow, args.status, args.limit, args.rejected)
    ended_badly = args.status in ENDED_BADLY or args.rejected
    if ended_badly:  # asked for failures: why each ended, which ListExecutions does not say
        for execution in found:
            # a failed one's was read with its ending (no second request); a stop's or a timeout's
            ended = svc.ending(execution) if execution["status"] == "FAILED" else {}
            if not ended.get("error"):  # a timeout's or a stop without a reason: where it was
                ended = svc.explain(execution["executionArn"])
            execution.update({k: ended[k] for k in ("error", "cause", "endedIn") if ended.get(k)})
    if args.json:
        _print_json(found)
        return 0
    if not found:
        print("no executions")
        return 0
    rows = [["name", "status", "started", "duration", *(["error"] if ended_badly else [])]]
    for e in found:
        why = _reason(e.get("error"), e.get("cause"))
        if not why and e.get("endedIn"):
            why = f"{_ENDED_IN[e['status']]} {e['endedIn']}"
        why = _short(why, 120)  # cut as history's, marked
        rows.append(
            [e["name"], _status_shown(e), e["startDate"], _duration(e), *([why] if ended_badly else [])]
        )
    _table(rows)
    return 0


_ENDED_IN = {"TIMED_OUT": "timed out in", "ABORTED": "stopped in"}
_ENDED_BY = {"ExecutionTimedOut": "TIMED_OUT", "ExecutionAborted": "ABORTED"}


def _status_shown(execution: dict[str, Any]) -> str:
    """Its status, and for a business rejection, that it was one: FAILED as Step Functions says,
    but refused on purpose and alerted to no one."""
    if execution.get("rejected"):
        return f"{execution['status']} (rejected: {execution.get('error')})"
    return str(execution["status"])


def cmd_describe(args: argparse.Namespace) -> int:
    svc = _service(args)
    execution = svc.explain(svc.execution_arn(args.execution))  # failedIn... as the API's
    if args.json:
        _print_json(execution)
        return 0
    _describe_outcome(execution)
    _describe_redrives(execution)
    _describe_running_again(svc, execution)
    print(f"{'duration':<10} {_duration(execution)}")
    for key in ("input", "output"):
        print(f"{key}:")
        _print_json(execution.get(key))
    return 0


def _describe_outcome(execution: dict[str, Any]) -> None:
    """What ran, how it ended, and where it failed."""
    for key in ("name", "workflow", "status", "startDate", "stopDate", "error"):
        if execution.get(key) is not None:
            print(f"{key:<10} {execution[key]}")
    if execution["rejected"]:
        print(f"{'rejected':<10} {REJECTED_MEANS}")
    if execution.get("cause"):
        print(f"{'cause':<10} {cause_message(execution.get('cause'))}")  # --json: the whole cause
    if execution["failedIn"]:
        print(f"{'failed in':<10} {execution['failedIn']}")
    if execution["endedIn"]:
        print(f"{_ENDED_IN[execution['status']]:<10} {execution['endedIn']}")


def _describe_redrives(execution: dict[str, Any]) -> None:
    """How often it was redriven, and how it had stopped before each redrive."""
    count = execution.get("redriveCount") or 0
    if not count:
        return
    print(f"{'redriven':<10} {count} time{'s' if count > 1 else ''}, last at {execution.get('redriveDate')}")
    for stop in execution["stoppedBeforeRedrives"]:
        reason = _reason(stop["error"], stop["cause"])
        print(f"{'stopped':<10} before redrive {stop['redrive']}{': ' + reason if reason else ''}")


def _describe_running_again(svc: ExecutionService, execution: dict[str, Any]) -> None:
    """Whether it can be redriven, how to replay its work when not, and why not to start it afresh."""
    status = execution["status"]
    if status in CLOSED and status != "SUCCEEDED" and execution.get("redriveStatus"):
        redrivable = execution["redriveStatus"] == "REDRIVABLE"
        shown = "possible" if redrivable else execution.get("redriveStatusReason", "not possible")
        if execution["redriveRerunsOnly"]:
            shown += f", but {runs.only_fails_again(execution['redriveRerunsOnly'])}"
        print(f"{'redrive':<10} {shown}")
        replay = svc.workflows[execution["workflow"]].replay if execution.get("workflow") else None
        if replay and not redrivable and status == "FAILED":  # its work, kept to run again
            print(f"{'replay':<10} {replay.format(env=svc.env.name)}")
    if execution.get("freshStartWarning"):
        print(f"{'start':<10} not again: {execution['freshStartWarning']}")
    elif execution["redriveRerunsOnly"] and execution.get("workflow") and not execution["rejected"]:
        # what to do instead (a rejection's input is what must change)
        given = json.dumps(execution.get("input"), separators=(",", ":"))
        shown = f"'{given}'" if len(given) <= 200 and "'" not in given else "@input.json (its input, below)"
        print(
            f"{'start':<10} afresh once its cause is mended: python -m workflows start "
            f"{execution['workflow']} --env {svc.env.name} --input {shown}"
        )


def cmd_history(args: argparse.Namespace) -> int:
    svc = _service(args)
    events = runs.placed(svc.history(svc.execution_arn(args.execution)))
    if args.json:  # each event with its state and Map item, as GET .../history gives them
        _print_json(events)
        return 0
    rows = [["id", "type", "state", "timestamp", "input / output / error"]]
    for event in events:
        details = event_details(event)
        shown = _shown(details.get("input") or details.get("output") or "")
        if details.get("error"):  # the reason beside the name: what --json would be read for
            shown = _reason(details["error"], details.get("cause"))
        # which item, on every event of it: a Map's items interleave
        state, item = event["state"], event["mapItem"]
        state = f"{state or ''} #{item}" if item else state or ""
        rows.append([str(event["id"]), event["type"], state, event["timestamp"], _short(shown)])
    _table(rows)
    # only when it ended so: a redrive may have run it on to success since
    last = events[-1]["type"] if events else None
    if last == "ExecutionFailed" and (failed_in := runs.failed_in(events)):
        print(f"failed in {failed_in}")
    elif last in _ENDED_BY and (ended_in := runs.ended_in(events)):
        print(f"{_ENDED_IN[_ENDED_BY[last]]} {ended_in}")
    return 0


def _until_done(svc: ExecutionService, execution: dict[str, Any], poll: float = 0.5) -> dict[str, Any]:
    while execution["status"] not in CLOSED:
        time.sleep(poll)
        execution = svc.describe(execution["executionArn"])
    return execution


def _print_error(execution: dict[str, Any]) -> None:
    if execution.get("error"):
        print(f"error: {execution['error']}: {cause_message(execution.get('cause'))}", file=sys.stderr)


_SDK_METADATA = ("SdkHttpMetadata", "SdkResponseMetadata")


def _shown(text: Any) -> str:
    """An event's input or output as the history table shows it: compact JSON, a Task's result
    without the SDK metadata AWS adds (it would fill the column), a Lambda Task's as its Payload."""
    try:
        document = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if isinstance(document, dict) and "SdkHttpMetadata" in document:
        document = document.get("Payload", {k: v for k, v in document.items() if k not in _SDK_METADATA})
    return json.dumps(document, separators=(",", ":"))


def _exit_code(execution: dict[str, Any]) -> int:
    """0 while the execution runs or once it succeeded, 1 when it ended otherwise."""
    return 0 if execution["status"] in ("SUCCEEDED", "RUNNING") else 1


def _short(text: str, width: int = 60) -> str:
    """One line of at most `width` characters (--json shows everything)."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _out_format(path: str) -> str:
    """The format `--out`'s extension names: .svg, .png or .pdf (not SVG under another name)."""
    extension = Path(path).suffix.lower().lstrip(".")
    if extension not in FILE_FORMATS:
        shown = ", ".join(f".{f}" for f in FILE_FORMATS[:-1]) + f" or .{FILE_FORMATS[-1]}"
        raise BadInput(f"--out {path}: the file must end in {shown} (the format the graph is drawn in)")
    return extension


def cmd_graph(args: argparse.Namespace) -> int:
    out_format = _out_format(args.out) if args.out else None  # before any call: nothing to draw into
    svc = _service(args)
    if args.target in svc.workflows:
        built = graph.build(svc.definition(args.target))
    else:
        try:
            arn = svc.execution_arn(args.target)
        except NotFound:
            close = svc.close_workflow(args.target)
            hint = f"; did you mean the workflow {close!r}?" if close else ""
            raise NotFound(
                f"no workflow or execution named {args.target!r} in {svc.env.name}{hint}"
            ) from None

        execution = svc.describe(arn)
        built = graph.build(svc.execution_definition(execution), execution, svc.history(arn))
    if out_format:
        # before any output: a path that fails leaves nothing printed
        _write(args.out, to_file_format(built, out_format))
    if args.json:
        _print_json(built)
    elif args.out:
        print(f"wrote {args.out}")
    elif built["execution"] is None:
        _table([["state", "type", "transitions"], *_transitions(built)])
    else:
        for name in built["order"]:
            print(f"{built['states'][name]['status']:<12} {name}")
    return 0


def _write(path: str, data: bytes) -> None:
    """`data` into the file at `path`, whole or not at all (written beside it, then renamed)."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise BadInput(f"--out {path}: {error.strerror or error}") from None


def _transitions(built: dict[str, Any]) -> list[list[str]]:
    """Each state of a workflow's graph in flow order, with where it goes: Next, Choice rules and
    Default, Parallel branches and Map iterators, Catch (a container's own transitions leave its
    join node)."""
    owner = {join_id(name): name for name in built["states"]}
    leaving: dict[str, list[str]] = {name: [] for name in built["states"]}
    for edge in built["edges"]:
        source = owner.get(edge["from"], edge["from"])
        if source not in leaving:
            continue  # from the start node
        target = {built["end"]: "end"}.get(edge["to"], edge["to"])
        kind = edge["kind"]
        in_map = built["states"][owner.get(edge["to"], source)]["type"] == "Map"
        if kind == "join":
            leaving[source].append("end of iteration" if in_map else "end of branch")
        elif kind == "branch":
            leaving[source].append(f"{'iterator' if in_map else 'branch'} {target}")
        elif kind in ("choice", "default", "catch"):
            leaving[source].append(f"{'catch ' if kind == 'catch' else ''}{edge['label']} -> {target}")
        else:
            leaving[source].append(f"-> {target}")
    return [[name, built["states"][name]["type"], "; ".join(leaving[name])] for name in built["order"]]


def cmd_stop(args: argparse.Namespace) -> int:
    svc = _service(args)
    arn = svc.execution_arn(args.execution)
    execution = svc.stop(arn, args.error, args.cause)  # Conflict when it has ended: exit 2
    if args.json:
        _print_json(execution)
    else:
        print(f"{execution['status']} {arn}")
    return 0


def cmd_redrive(args: argparse.Namespace) -> int:
    svc = _service(args)
    arn = svc.execution_arn(args.execution)
    try:
        execution = svc.redrive(arn, force=args.force, how_to_force="--force")
    except Conflict as refused:  # it succeeded, is running, would only fail again...
        return _failed(args, refused, NOTHING_REDRIVEN_EXIT)
    if args.wait:
        execution = _until_done(svc, execution)
    if args.json:
        _print_json(execution)
    else:
        print(f"{execution['status']} {arn} (redrive {execution.get('redriveCount', '?')})")
        _print_error(execution)
    return _exit_code(execution)


def cmd_alerts(args: argparse.Namespace) -> int:
    alerts = AlertInbox(_service(args)).read(args.limit, ack=args.ack)
    if args.json:  # each with its whole message and cause
        _print_json(alerts)
        return 0
    if not alerts:
        print("no alerts")
        return 0
    for alert in alerts:
        held = "" if alert["emailed"] else "  (not emailed: one of its error was, within the hour)"
        print(f"{alert['sent']}  {alert['subject'] or ''}{held}")
        rows = [
            ("execution", alert.get("name")),
            ("link", alert.get("link")),
            ("function", alert.get("function")),
            ("request", alert.get("request")),
            ("failed in", alert.get("failedIn")),
            ("error", alert.get("error")),
            ("alarm", alert.get("alarm")),
            ("cause", alert.get("reason")),
            ("note", alert.get("note")),
        ]
        if "reason" not in alert:  # neither a failure's nor an alarm's: as it was sent
            rows.append(("message", alert["message"]))
        for key, value in rows:
            if value:
                print(f"  {key:<10} {value}")
    print(
        f"{len(alerts)} alert(s) acknowledged: removed from the inbox"
        if args.ack
        else f"{len(alerts)} alert(s), kept in the inbox (--ack removes those shown)"
    )
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    token = authorizer.local_token(load(args.env), args.username)
    if args.json:
        _print_json({"username": args.username, "token": token})
    else:
        print(token)
    return 0


def cmd_example(args: argparse.Namespace) -> int:
    _print_json(_service(args).workflow(args.workflow).example_input)
    return 0


def add_common_options(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    """--env and --json, which every execution command takes; `suppress` leaves an option out of
    the result when it is not given (the root parser's value then stands)."""
    env, json_ = (argparse.SUPPRESS, argparse.SUPPRESS) if suppress else ("local", False)
    parser.add_argument("--env", default=env, help="environment of environments.toml (default local)")
    parser.add_argument("--json", action="store_true", default=json_, help="print JSON")


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def register(sub: Any) -> None:
    """Add the execution commands to `python -m workflows`'s subparsers."""
    from workflows import WORKFLOWS  # here, not at import: workflows.cli imports this module

    # the names in the usage line; not argparse's choices, whose refusal would lose the service's
    # "did you mean" (an unknown name exits 2 all the same)
    workflow: dict[str, Any] = {"metavar": "{" + ",".join(WORKFLOWS) + "}", "help": "the workflow"}
    # before or after the command: given after it, they win; not given, the root parser's stand
    common = argparse.ArgumentParser(allow_abbrev=False, add_help=False)
    add_common_options(common, suppress=True)

    def add(name: str, run: Any, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(
            name, parents=[common], help=help_text, allow_abbrev=False
        )
        parser.set_defaults(run=_guarded(run))
        return parser

    add("list", cmd_list, "the workflows and their state machines")
    start = add("start", cmd_start, "start an execution (input validated with the workflow's schema)")
    start.add_argument("workflow", **workflow)
    start.add_argument("--input", default="{}", help="JSON, or @file.json, UTF-8 (@- for standard input)")
    start.add_argument(
        "--name",
        help='execution name (1 to 80 characters, no whitespace, < > { } [ ] ? * " # %% \\ ^ | ~ ` $ & , ; : / '
        "or control characters): for a Standard workflow the same name and input start once; "
        "each Express start with a name is a new execution",
    )
    start.add_argument(
        "--case", help="local cloud only: run this test case of its mock configuration (SFN_MOCK_CONFIG)"
    )
    start.add_argument(
        "--wait",
        action="store_true",
        help="wait for the end; exit 1 unless it succeeded (an Express workflow's start always does)",
    )
    start.add_argument("--poll", type=float, default=0.5, help=argparse.SUPPRESS)
    executions = add("executions", cmd_executions, "a workflow's executions, newest first")
    executions.add_argument("workflow", **workflow)
    executions.add_argument("--status", type=str.upper, choices=STATUSES, help=", ".join(STATUSES))
    executions.add_argument(
        "--limit", type=_at_least_one, default=50, help="list at most this many, 1 or more (default 50)"
    )
    executions.add_argument(
        "--rejected",
        action=argparse.BooleanOptionalAction,
        help="only the business rejections (FAILED, the request refused on purpose, unalerted); "
        "--no-rejected leaves them out: with --status FAILED, the failures that need someone",
    )
    # an execution by its ARN, or by its name among the deployed workflows' executions
    execution: dict[str, Any] = {"metavar": "NAME|ARN", "help": "the execution's name or ARN"}
    add("describe", cmd_describe, "an execution's status, input and output").add_argument(
        "execution", **execution
    )
    add("history", cmd_history, "an execution's event history").add_argument("execution", **execution)
    drawn = add(
        "graph",
        cmd_graph,
        "a workflow's states and transitions, or an execution's states and how each ended; "
        "as SVG, PNG or PDF with --out, as JSON with --json",
    )
    drawn.add_argument(
        "target", metavar="WORKFLOW|EXECUTION", help="a workflow, or an execution's name or ARN"
    )
    drawn.add_argument(
        "--out",
        metavar="FILE.svg|.png|.pdf",
        help="write the graph into this file, drawn as its extension says: .svg, .png or .pdf",
    )
    stop = add("stop", cmd_stop, "stop a running execution")
    stop.add_argument("execution", **execution)
    stop.add_argument("--error", help="an error name to stop it with, kept in its history (e.g. Cancelled)")
    stop.add_argument("--cause", help="why it was stopped, kept in its history")
    redrive = add("redrive", cmd_redrive, "redrive a failed execution")
    redrive.add_argument("execution", **execution)
    redrive.add_argument("--wait", action="store_true", help="wait for the end; exit 1 unless it succeeded")
    redrive.add_argument(
        "--force",
        action="store_true",
        help=f"redrive even a run that ended in its Fail state, which would only fail again "
        f"(refused otherwise, exit {NOTHING_REDRIVEN_EXIT})",
    )
    inbox = add(
        "alerts",
        cmd_alerts,
        "the alerts sent on the environment's alerts topic, newest first, from its inbox (kept there "
        "until --ack)",
    )
    inbox.add_argument(
        "--ack", action="store_true", help="acknowledge the alerts shown: remove them from the inbox"
    )
    inbox.add_argument(
        "--limit", type=_at_least_one, default=20, help="show at most this many, 1 or more (default 20)"
    )
    add("example", cmd_example, "a workflow's example input, valid to start it with").add_argument(
        "workflow", **workflow
    )
    signed_in = add(
        "token", cmd_token, "local only: an ID token of a user of the user pool, for routes with auth"
    )
    signed_in.add_argument("username", metavar="NAME", help="the user's name in the user pool")


def _failed(args: argparse.Namespace, error: Exception, code: int) -> int:
    """One line on standard error; with --json, the error as JSON on standard output too."""
    if args.json:
        body = (
            error.body()
            if isinstance(error, ConsoleError)
            else {"error": type(error).__name__, "message": str(error)}
        )
        _print_json(body)
    print(f"error: {error}", file=sys.stderr)
    return code


def _guarded(run: Any) -> Any:
    """Errors the user can act on print one line, not a traceback: exit 2 for options, input or
    environment (a name AWS refuses too, no credentials, no Graphviz), else 1."""

    def guarded(args: argparse.Namespace) -> int:
        try:
            code: int = run(args)
            return code
        except ConfigError as error:
            return _failed(args, error, BAD_USAGE_EXIT)
        except ConsoleError as error:
            return _failed(args, error, _exit_for(error))
        except (BotoCoreError, ClientError, GraphvizMissing) as error:
            found = from_aws(error)
            return _failed(args, found, _exit_for(found))

    return guarded


def _exit_for(error: ConsoleError) -> int:
    return BAD_USAGE_EXIT if isinstance(error, _USAGE_ERRORS) else 1
