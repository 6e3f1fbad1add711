"""The web console in headless Chromium (Debian's, driven by Playwright): start the lottery from
the form, read the coloured graph and a state's output, see field errors and a failed execution,
and an Express start's end on the form; the list's graphs can be read, Tab follows the flow, a
redrive tells how it ended, the breadcrumb keeps the list's filters, a business rejection is marked
and filtered apart, a failure's error shown in its row; an error inside an array names its item;
on a phone the tables' headers cover no row; the Alerts view shows a failed run's alert and opens
its run. Writes test-output/execution-page.png and alerts-page.png for a reviewer."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from werkzeug.serving import make_server

from console.app import create_app
from console.graph.render import COLOURS
from console.service import ExecutionService
from infra.environments import Environment
from localcloud import LocalCloud, mock_config
from tests.console import workflows as test_workflows
from tests.console.conftest import ROLE, fail_the_lottery
from workflows import WORKFLOWS
from workflows.asl import StateMachineType

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
TIMEOUT = 30_000  # ms: an execution's Lambda cold starts take a few seconds


@pytest.fixture(scope="module")
def console_url(lottery_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, lottery_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        # CI installs Chromium, so there its absence is a failure, not a skip.
        missing = pytest.fail if os.environ.get("PYFLOWS_REQUIRE_BROWSER") else pytest.skip
        missing("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        # launch() gives each run a fresh, empty profile directory.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def state(page: Any, name: str) -> Any:
    return page.locator(f"[data-testid=graph] g.node[data-state='{name}']")


def fill_of(page: Any, name: str) -> str:
    return str(state(page, name).locator("path, polygon").first.get_attribute("fill"))


def test_start_the_lottery_from_the_form_and_read_a_state(page: Any, console_url: str) -> None:
    page.goto(console_url)
    page.locator("[data-workflow=lottery] a.btn.primary").click()
    form = page.locator("[data-testid=start-form]")
    sync_api.expect(form.locator("[data-testid=name-hint]")).to_have_text(
        "(optional: makes the start idempotent)"
    )
    form.locator("#field-winners").fill("2")
    form.locator("#field-seed").fill("42")
    form.locator("button[type=submit]").click()

    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(
        re.compile("SUCCEEDED"), timeout=TIMEOUT
    )
    started = page.locator("h1").inner_text()

    # open it from the executions list
    page.locator("nav a[data-nav=executions]").click()
    row = page.locator("[data-testid=executions] tbody tr").filter(has_text=started)
    sync_api.expect(row).to_contain_text("SUCCEEDED")
    row.locator("a").click()
    sync_api.expect(page.locator("h1")).to_have_text(started)
    for name in ("Validate Request", "Draw Winners", "Check Past Winners", "Notify Winners", "Draw Complete"):
        sync_api.expect(state(page, name)).to_have_class(re.compile(r"\bsucceeded\b"))
        assert fill_of(page, name) == COLOURS["succeeded"][0]
    for name in ("Redraw Limit Reached", "Alert Failure", "Failed"):
        sync_api.expect(state(page, name)).to_have_class(re.compile(r"\bnot_reached\b"))

    state(page, "Draw Winners").click()
    details = page.locator("[data-testid=state-details]")
    sync_api.expect(details.locator("h2")).to_have_text("Draw Winners")
    sync_api.expect(details.locator("[data-testid=state-status]")).to_have_text(re.compile("succeeded"))
    output = details.locator("[data-testid=state-output]")
    sync_api.expect(output).to_contain_text('"selection"')
    sync_api.expect(output).to_contain_text('"employee_name"')
    sync_api.expect(page.locator("[data-testid=events] tr[data-type=ExecutionSucceeded]")).to_have_count(1)
    # a Lambda task's result reads its Payload first, not the SDK call's metadata
    result = page.locator("[data-testid=events] tr[data-type=TaskSucceeded] td.mono").first
    sync_api.expect(result).to_have_text(re.compile(r'^\{"Payload":\{'))

    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "execution-page.png"), full_page=True)


def test_bad_input_shows_the_field_error_and_starts_nothing(
    page: Any, console_url: str, lottery: Environment
) -> None:
    service = ExecutionService(lottery, WORKFLOWS)
    before = len(service.executions("lottery", limit=1000))
    page.goto(f"{console_url}#/workflows/lottery")
    page.locator("#field-winners").fill("0")
    page.locator("[data-testid=start-form] button[type=submit]").click()
    sync_api.expect(page.locator("[data-testid=error-winners]")).to_contain_text("minimum of 1")
    sync_api.expect(page.locator(".field[data-field=winners]")).to_have_class(re.compile("invalid"))

    page.locator("#field-winners").fill("")
    page.locator("[data-testid=start-form] button[type=submit]").click()
    sync_api.expect(page.locator("[data-testid=error-winners]")).to_contain_text("required")

    # what the browser cannot read as a number it empties: said as not a number, not as missing
    page.locator("#field-winners").press_sequentially("1e")
    page.locator("[data-testid=start-form] button[type=submit]").click()
    sync_api.expect(page.locator("[data-testid=error-winners]")).to_have_text("not a number")
    assert len(service.executions("lottery", limit=1000)) == before
    assert "#/workflows/lottery" in page.url


def start_the_lottery_on_the_form(page: Any, console_url: str, winners: int, name: str) -> None:
    """Opens the lottery's start form, fills in the winners and the execution's name, and starts."""
    page.goto(f"{console_url}#/workflows/lottery")
    page.locator("#field-winners").fill(str(winners))
    page.locator("#field-execution-name").fill(name)
    page.locator("[data-testid=start-form] button[type=submit]").click()


def test_a_name_used_by_a_run_that_ended_is_refused_on_the_form(
    page: Any, console_url: str, lottery: Environment
) -> None:
    """Step Functions refuses the name: the form says so, rather than open the old run as if it
    had just been started."""
    service = ExecutionService(lottery, WORKFLOWS)
    name = f"form-{time.monotonic_ns()}"
    earlier, _ = service.start("lottery", {"winners": 99}, name)  # more than can win: it fails
    while service.describe(earlier["executionArn"])["status"] == "RUNNING":
        time.sleep(0.1)
    before = len(service.executions("lottery", limit=1000))
    start_the_lottery_on_the_form(page, console_url, winners=99, name=name)
    sync_api.expect(page.locator("[data-testid=form-error]")).to_contain_text(
        re.compile(
            f"not started: the name '{name}' was used by an execution that ended FAILED at .*; give another name$"
        )
    )
    assert "#/workflows/lottery" in page.url
    assert len(service.executions("lottery", limit=1000)) == before


def test_a_start_with_the_name_and_input_of_a_running_run_opens_it_and_says_so(
    page: Any, console_url: str, lottery: Environment, held_check: Callable[[], None]
) -> None:
    service = ExecutionService(lottery, WORKFLOWS)
    name = f"form-{time.monotonic_ns()}"
    running, _ = service.start("lottery", {"winners": 1}, name)
    before = len(service.executions("lottery", limit=1000))
    start_the_lottery_on_the_form(page, console_url, winners=1, name=name)
    sync_api.expect(page.locator("#toast")).to_have_text(
        f"Already running with this name and input: {name}. Nothing new was started."
    )
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(re.compile("RUNNING"))
    assert running["executionArn"] in unquote(page.url)
    assert len(service.executions("lottery", limit=1000)) == before
    held_check()


def test_a_batch_input_is_edited_as_json_from_its_valid_example(page: Any, console_url: str) -> None:
    """flight-deals takes a stream's batch (an array), not fields: the form opens on the JSON editor."""
    page.goto(f"{console_url}#/workflows/flight-deals")
    editor = page.locator("[data-testid=start-form] details.advanced")
    sync_api.expect(editor).to_have_attribute("open", "")
    example = json.loads(page.locator("#raw-input").input_value())
    assert isinstance(example, list) and example[0]["sequenceNumber"] == "1"


def test_the_json_editor_and_the_fields_show_the_same_input(page: Any, console_url: str) -> None:
    """Whichever the user edits last is what starts: each takes the other's values when opened."""
    page.goto(f"{console_url}#/workflows/lottery")
    page.locator("#field-winners").fill("3")
    page.locator("details.advanced summary").click()
    sync_api.expect(page.locator("#raw-input")).to_have_value(json.dumps({"winners": 3}, indent=2))
    page.locator("#raw-input").fill('{"winners": 4, "seed": 9}')
    page.locator("details.advanced summary").click()
    sync_api.expect(page.locator("#field-winners")).to_have_value("4")
    sync_api.expect(page.locator("#field-seed")).to_have_value("9")


def test_a_list_of_known_values_is_a_set_of_checkboxes(page: Any, console_url: str) -> None:
    page.goto(f"{console_url}#/workflows/etf-signal")
    funds = page.locator("#field-funds input[type=checkbox]")
    sync_api.expect(funds).to_have_count(
        len(WORKFLOWS["etf-signal"].input_schema["properties"]["funds"]["items"]["enum"])
    )
    funds.nth(0).check()
    funds.nth(2).check()
    page.locator("details.advanced summary").click()
    chosen = [json.loads(funds.nth(i).get_attribute("value")) for i in (0, 2)]
    example = dict(WORKFLOWS["etf-signal"].example_input)
    sync_api.expect(page.locator("#raw-input")).to_have_value(
        json.dumps({**example, "funds": chosen}, indent=2)
    )


def test_a_double_click_starts_one_execution(page: Any, console_url: str, lottery: Environment) -> None:
    service = ExecutionService(lottery, WORKFLOWS)
    before = len(service.executions("lottery", limit=1000))
    page.goto(f"{console_url}#/workflows/lottery")
    page.locator("#field-winners").fill("1")
    page.locator("[data-testid=start-form] button[type=submit]").dblclick()
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_be_visible()
    assert len(service.executions("lottery", limit=1000)) == before + 1


def test_a_page_that_loads_late_does_not_draw_over_the_next(page: Any, console_url: str) -> None:
    def slowly(route: Any) -> None:
        time.sleep(1.5)
        route.continue_()

    page.route("**/api/workflows/lottery/graph.svg", slowly)
    page.goto(f"{console_url}#/workflows/lottery")
    page.evaluate("location.hash = '#/executions'")
    sync_api.expect(page.locator("h1")).to_have_text("Executions")
    page.wait_for_timeout(2500)  # the workflow page's answers have all come by now
    sync_api.expect(page.locator("h1")).to_have_text("Executions")


def test_on_a_phone_no_page_is_wider_than_the_screen(
    browser: Any, console_url: str, lottery: Environment
) -> None:
    """And a table's headers sit above its first row: in the box the table scrolls in, a header
    sticking below the top bar would cover it."""
    execution, _ = ExecutionService(lottery, WORKFLOWS).start("lottery", {"winners": 99})  # fails
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        for path, ready in (
            ("#/", "[data-workflow=lottery]"),
            ("#/workflows/ticket-ranking", "[data-testid=start-form]"),
            ("#/executions", "[data-testid=executions]"),
            (f"#/executions/{execution['executionArn']}", "[data-testid=events]"),
            ("#/workflows/lottery", "[data-testid=executions]"),
            ("#/alerts", "[data-testid=alerts], p.empty"),
        ):
            page.goto(console_url + path)
            page.locator(ready).first.wait_for()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path}: {width} px wide"
            for table in page.locator("table.data:has(thead)").all():
                header = table.locator("thead th").first.bounding_box()
                first = table.locator("tbody tr").first.bounding_box()
                assert header and first, path
                assert header["y"] + header["height"] <= first["y"] + 1, f"{path}: {header} covers {first}"
            if path.startswith("#/executions/"):  # its graph at actual size, scrolling in its box
                box = page.locator(".graph-box")
                sync_api.expect(box).to_have_class(re.compile(r"\bzoomed\b"))
                sync_api.expect(page.locator("button.graph-tools")).to_have_text("Fit")
                assert box.evaluate("b => b.scrollWidth > b.clientWidth"), "the graph is fitted to the phone"
    finally:
        phone.close()


def test_a_failed_execution_shows_the_failed_state_and_the_error(
    page: Any, console_url: str, lottery: Environment
) -> None:
    service = ExecutionService(lottery, WORKFLOWS)
    execution, _ = service.start("lottery", {"winners": 99})  # more than the employees who can win
    page.goto(f"{console_url}#/executions/{execution['executionArn']}")

    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(
        re.compile("FAILED"), timeout=TIMEOUT
    )
    sync_api.expect(page.locator("[data-testid=execution-error]")).to_contain_text(
        "NotEnoughEligibleEmployees"
    )
    # where it failed, not the Fail state the Catch led it on to
    sync_api.expect(page.locator("[data-testid=failed-in]")).to_have_text("Failed in Validate Request")
    sync_api.expect(state(page, "Validate Request")).to_have_class(re.compile(r"\bcaught\b"))
    sync_api.expect(state(page, "Request Rejected")).to_have_class(re.compile(r"\bfailed\b"))
    assert fill_of(page, "Request Rejected") == COLOURS["failed"][0]
    sync_api.expect(state(page, "Alert Failure")).to_have_class(re.compile(r"\bnot_reached\b"))
    sync_api.expect(state(page, "Draw Winners")).to_have_class(re.compile(r"\bnot_reached\b"))
    sync_api.expect(page.locator("[data-testid=redrive]")).to_be_visible()

    state(page, "Request Rejected").click()
    sync_api.expect(page.locator("[data-testid=state-status]")).to_have_text(re.compile("failed"))
    sync_api.expect(page.locator("[data-testid=state-error]")).to_contain_text("NotEnoughEligibleEmployees")
    state(page, "Validate Request").click()
    sync_api.expect(page.locator("[data-testid=state-error]")).to_contain_text("99 winners requested")
    # the history reads the Lambda's message, not its error document
    failed = page.locator(
        "[data-testid=events] tr[data-type=LambdaFunctionFailed], [data-testid=events] tr[data-type=TaskFailed]"
    )
    sync_api.expect(failed.first).to_contain_text("NotEnoughEligibleEmployees: 99 winners requested")
    sync_api.expect(failed.first).not_to_contain_text("stackTrace")

    # Redrive restarts at the state that failed (the Fail state here), so it fails again: once more.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("[data-testid=redrive]").click()
    sync_api.expect(page.locator("[data-testid=summary-redrives]")).to_have_text("1", timeout=TIMEOUT)
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(re.compile("FAILED"))
    sync_api.expect(page.locator("[data-testid=events] tr[data-type=ExecutionRedriven]")).to_have_count(1)


def test_the_alerts_view_shows_a_failed_runs_alert_and_opens_its_execution(
    page: Any, console_url: str, lottery: Environment, local_cloud: LocalCloud
) -> None:
    """The draw fails twice with one error: the first alert was emailed, the second held back (one
    of its error was, within the hour); each links to its run's page in this console."""
    service = ExecutionService(lottery, WORKFLOWS)

    def start_it() -> str:
        return str(service.start("lottery", {"winners": 1})[0]["executionArn"])

    first, error = fail_the_lottery(lottery, local_cloud, start_it)
    second, _ = fail_the_lottery(lottery, local_cloud, start_it, error)
    page.goto(console_url)
    page.locator("nav a[data-nav=alerts]").click()
    sync_api.expect(page.locator("h1")).to_have_text("Alerts")
    sync_api.expect(page.locator("nav a[data-nav=alerts]")).to_have_class(re.compile(r"\bactive\b"))
    rows = page.locator("[data-testid=alerts] tbody tr")
    alerted = rows.locator(f"xpath=self::*[@data-execution='{first}' or @data-execution='{second}']")
    sync_api.expect(alerted).to_have_count(2)
    # newest first
    assert [alerted.nth(i).get_attribute("data-execution") for i in range(2)] == [second, first]
    row = rows.and_(page.locator(f"[data-execution='{first}']"))
    for text in ("[lottery] execution failed", "lottery", error, "no employee has lottery_serial 7"):
        sync_api.expect(row).to_contain_text(text)
    sync_api.expect(row.locator("[data-testid=alert-reason]")).to_contain_text("Failed in Draw Winners")
    sync_api.expect(row.locator("[data-testid=alert-emailed]")).to_have_text("emailed")
    held = rows.and_(page.locator(f"[data-execution='{second}']")).locator("[data-testid=alert-emailed]")
    sync_api.expect(held).to_have_text("not emailed: one of its error was, within the hour")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "alerts-page.png"), full_page=True)

    name = first.split(":")[-1]
    link = row.locator("a[data-testid=alert-execution]")
    sync_api.expect(link).to_have_text(name)
    link.click()
    sync_api.expect(page.locator("h1")).to_have_text(name)
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(re.compile("FAILED"))
    sync_api.expect(page.locator("[data-testid=failed-in]")).to_have_text("Failed in Draw Winners")
    assert unquote(page.url).endswith(f"#/executions/{first}")


def test_executions_list_filters_by_status(page: Any, console_url: str, lottery: Environment) -> None:
    service = ExecutionService(lottery, WORKFLOWS)
    failed, _ = service.start("lottery", {"winners": 98})
    page.goto(f"{console_url}#/executions?workflow=lottery&status=FAILED")
    rows = page.locator("[data-testid=executions] tbody tr")
    sync_api.expect(rows.filter(has_text=failed["name"])).to_have_count(1, timeout=TIMEOUT)
    sync_api.expect(rows.filter(has_text="SUCCEEDED")).to_have_count(0)
    page.locator("input[type=search]").fill(failed["name"][:8])
    sync_api.expect(rows).to_have_count(1)


def ended(service: ExecutionService, execution: dict[str, Any]) -> None:
    while service.describe(execution["executionArn"])["status"] == "RUNNING":
        time.sleep(0.1)


def test_a_business_rejection_is_marked_and_the_lists_leave_it_out_or_show_it_alone(
    page: Any, console_url: str, lottery: Environment, local_cloud: LocalCloud
) -> None:
    """On-call reads the failures that need someone without the requests refused on purpose: a
    rejection stays FAILED, marked with its error, in the lists and on its page, and the filters
    keep the failures (rejections left out) or the rejections alone, for all workflows too."""
    service = ExecutionService(lottery, WORKFLOWS)
    runtime, draw = local_cloud.lambda_runtime, lottery.resource_name("lottery", "draw-winners")
    assert runtime is not None
    # the error Validate Request rejects with, raised where the workflow alerts: a failure
    runtime.inject(draw, "error", times=1, error_type="InvalidInput", message="seed is not a number")
    try:
        broke, _ = service.start("lottery", {"winners": 1})
        ended(service, broke)
    finally:
        runtime.clear_faults(draw)
    refused, _ = service.start("lottery", {"winners": 95})  # more than can win: rejected
    ended(service, refused)

    page.goto(f"{console_url}#/executions?workflow=lottery")
    rows = page.locator("[data-testid=executions] tbody tr")
    refused_row, broke_row = rows.filter(has_text=refused["name"]), rows.filter(has_text=broke["name"])
    sync_api.expect(refused_row.locator(".status")).to_have_text("FAILED", timeout=TIMEOUT)
    sync_api.expect(refused_row.locator("[data-testid=rejected]")).to_have_text(
        "rejected: NotEnoughEligibleEmployees"
    )
    sync_api.expect(broke_row.locator(".status")).to_have_text("FAILED")
    sync_api.expect(broke_row.locator("[data-testid=rejected]")).to_have_count(0)
    # a failure's error is in its row (a rejection's is on its badge)
    sync_api.expect(broke_row.locator("[data-testid=row-error]")).to_have_text("InvalidInput")
    sync_api.expect(broke_row.locator("[data-testid=row-error]")).to_have_attribute("title", "InvalidInput")
    sync_api.expect(refused_row.locator("[data-testid=row-error]")).to_have_count(0)

    badges = page.locator("[data-testid=executions] [data-testid=rejected]")
    page.locator("select[aria-label=status]").select_option("FAILED")
    page.locator("select[aria-label=rejections]").select_option(label="Rejections left out")
    sync_api.expect(refused_row).to_have_count(0)
    sync_api.expect(broke_row).to_have_count(1)
    sync_api.expect(badges).to_have_count(0)
    assert "status=FAILED" in page.url and "rejected=false" in page.url

    page.locator("select[aria-label=rejections]").select_option(label="Rejections only")
    every_workflow = "api/executions?status=FAILED&rejected=true"
    with page.expect_response(lambda answer: answer.url.endswith(every_workflow)):
        page.locator("select[aria-label=workflow]").select_option("")
    sync_api.expect(refused_row).to_have_count(1)
    sync_api.expect(broke_row).to_have_count(0)
    unmarked = rows.filter(has_not=page.locator("[data-testid=rejected]"))
    sync_api.expect(unmarked).to_have_count(0)

    refused_row.locator("a").click()
    sync_api.expect(page.locator("h1")).to_have_text(refused["name"])
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text("FAILED")
    sync_api.expect(page.locator("[data-testid=execution-rejected]")).to_have_text(
        "rejected: NotEnoughEligibleEmployees"
    )
    sync_api.expect(page.locator("[data-testid=rejected-note]")).to_contain_text(
        "the workflow refused this request on purpose"
    )
    page.locator(".crumbs a", has_text="Executions").click()
    sync_api.expect(page.locator("select[aria-label=rejections]")).to_have_value("true")

    page.goto(f"{console_url}#/executions/{broke['executionArn']}")
    sync_api.expect(page.locator("[data-testid=execution-error]")).to_contain_text("InvalidInput")
    sync_api.expect(page.locator("[data-testid=execution-rejected]")).to_have_count(0)
    sync_api.expect(page.locator("[data-testid=rejected-note]")).to_have_count(0)

    page.goto(f"{console_url}#/workflows/lottery")  # its recent executions
    recent = page.locator("[data-testid=executions] tbody tr").filter(has_text=refused["name"])
    sync_api.expect(recent.locator("[data-testid=rejected]")).to_have_text(
        "rejected: NotEnoughEligibleEmployees"
    )


@pytest.fixture
def held_check(local_cloud: LocalCloud, lottery: Environment) -> Iterator[Callable[[], None]]:
    """Check Past Winners waits, once, until the test calls what this gives: time to watch it run."""
    runtime, check = local_cloud.lambda_runtime, lottery.resource_name("lottery", "check-winners")
    assert runtime is not None
    runtime.inject(check, "hold", times=1)
    yield lambda: runtime.release(check)
    runtime.clear_faults()


def test_the_execution_page_updates_live_while_it_runs(
    page: Any, console_url: str, lottery: Environment, held_check: Callable[[], None]
) -> None:
    execution, _ = ExecutionService(lottery, WORKFLOWS).start("lottery", {"winners": 1})
    page.goto(f"{console_url}#/executions/{execution['executionArn']}")
    sync_api.expect(state(page, "Check Past Winners")).to_have_class(re.compile(r"\brunning\b"))
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(re.compile("RUNNING"))
    sync_api.expect(page.locator("[data-testid=stop]")).to_be_visible()
    held_check()
    # no reload: the page polls until the execution ends
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(
        re.compile("SUCCEEDED"), timeout=TIMEOUT
    )
    sync_api.expect(state(page, "Check Past Winners")).to_have_class(re.compile(r"\bsucceeded\b"))
    sync_api.expect(page.locator("[data-testid=stop]")).to_have_count(0)


def test_stop_a_running_execution(
    page: Any, console_url: str, lottery: Environment, held_check: Callable[[], None]
) -> None:
    execution, _ = ExecutionService(lottery, WORKFLOWS).start("lottery", {"winners": 1})
    page.goto(f"{console_url}#/executions/{execution['executionArn']}")
    sync_api.expect(state(page, "Check Past Winners")).to_have_class(re.compile(r"\brunning\b"))
    page.once("dialog", lambda dialog: dialog.accept("a duplicate of another draw"))
    page.locator("[data-testid=stop]").click()
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(re.compile("ABORTED"))
    # the reason given is kept with the run and shown to whoever opens it
    sync_api.expect(page.locator("[data-testid=execution-error]")).to_contain_text(
        "a duplicate of another draw"
    )
    sync_api.expect(state(page, "Draw Complete")).to_have_class(re.compile(r"\bnot_reached\b"))
    sync_api.expect(page.locator("[data-testid=ended-in]")).to_have_text("Stopped in Check Past Winners")
    sync_api.expect(page.locator("[data-testid=redrive]")).to_be_visible()
    # a stopped run redrives from the state it was in: nothing to warn about
    sync_api.expect(page.locator("[data-testid=redrive-note]")).to_have_count(0)
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer)
    page.locator("[data-testid=redrive]").click()
    assert asked == ["Redrive this execution from where it was stopped?"]
    # and nothing in its place: no stray "null" under the summary
    sync_api.expect(page.locator("[data-testid=summary-redrives]")).to_have_text("0")
    assert "null" not in page.locator("#view").inner_text().split("\n")


def test_a_redriven_run_shows_why_it_was_stopped_before(
    page: Any, console_url: str, lottery: Environment
) -> None:
    """After a redrive the execution's error is its last run's: the stops it went on from are
    shown beside the count of redrives."""
    sfn = lottery.client("stepfunctions")
    waiting = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}}
    machine = sfn.create_state_machine(
        name=f"page-redriven-{time.monotonic_ns()}", definition=json.dumps(waiting), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    service = ExecutionService(lottery, WORKFLOWS)
    service.stop(arn, "Cancelled", "a duplicate of run 7")
    service.redrive(arn)
    try:
        page.goto(f"{console_url}#/executions/{arn}")
        sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(re.compile("RUNNING"))
        sync_api.expect(page.locator("[data-testid=summary-redrives]")).to_have_text("1")
        sync_api.expect(page.locator("[data-testid=stopped-before]")).to_have_text(
            "Stopped before redrive 1: Cancelled: a duplicate of run 7"
        )
    finally:
        service.stop(arn)


CAPPED = {  # an Express machine: doubles `count`, and fails above 3
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.count", "NumericGreaterThan": 3, "Next": "Too Many"}],
            "Default": "Double",
        },
        "Too Many": {"Type": "Fail", "Error": "TooMany", "Cause": "count is above 3"},
        "Double": {
            "Type": "Pass",
            "Parameters": {"twice.$": "States.MathAdd($.count, $.count)"},
            "End": True,
        },
    },
}


@pytest.fixture(scope="module")
def express_url(console_env: Environment) -> Iterator[str]:
    """A console of one Express workflow, `capped`."""
    console_env.client("stepfunctions").create_state_machine(
        name=console_env.resource_name("capped"), definition=json.dumps(CAPPED), roleArn=ROLE, type="EXPRESS"
    )
    capped = dataclasses.replace(
        test_workflows.WORKFLOWS["shapes"], name="capped", type=StateMachineType.EXPRESS
    )
    server = make_server("127.0.0.1", 0, create_app(console_env, {"capped": capped}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_an_express_start_shows_its_end_on_the_form(page: Any, express_url: str) -> None:
    """AWS keeps no Express execution to open later: the start's answer is shown where it was made.
    Express names need not be unique: two starts with one name are two executions."""
    page.goto(f"{express_url}#/workflows/capped")
    sync_api.expect(page.locator("[data-testid=name-hint]")).to_contain_text(
        "each start with it is a new execution"
    )
    page.locator("#field-execution-name").fill("same1")
    page.locator("#field-count").fill("2")
    page.locator("[data-testid=start-form] button[type=submit]").click()
    result = page.locator("[data-testid=run-result]")
    sync_api.expect(result.locator("[data-testid=run-status]")).to_have_text("SUCCEEDED")
    sync_api.expect(result.locator("[data-testid=run-output]")).to_contain_text('"twice": 4')
    assert page.url.endswith("#/workflows/capped")

    page.locator("#field-count").fill("5")
    page.locator("[data-testid=start-form] button[type=submit]").click()
    sync_api.expect(result.locator("[data-testid=run-status]")).to_have_text("FAILED")
    sync_api.expect(result.locator("[data-testid=execution-error]")).to_contain_text("TooMany")
    sync_api.expect(result.locator("[data-testid=execution-error]")).to_contain_text("count is above 3")
    sync_api.expect(result.locator("[data-testid=run-output]")).to_have_count(0)
    # both runs are in the page's recent executions (the local cloud keeps Express runs to inspect),
    # each opening its own page
    rows = page.locator("[data-testid=executions] tbody tr")
    sync_api.expect(rows).to_have_count(2)
    links = [rows.nth(i).locator("a").get_attribute("href") for i in range(2)]
    assert links[0] != links[1]
    for link, status in zip(links, ("FAILED", "SUCCEEDED"), strict=True):  # newest first
        page.goto(f"{express_url}{link}")
        sync_api.expect(page.locator("h1")).to_have_text("same1")
        sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(re.compile(status))


LEDGER = {  # an input with an array of objects
    "type": "object",
    "properties": {
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "amount": {"type": "number", "minimum": 0},
                    "category": {"enum": ["travel", "office"]},
                },
                "required": ["amount", "category"],
            },
        }
    },
    "required": ["lines"],
}


@pytest.fixture(scope="module")
def ledger_url(console_env: Environment, test_machines: dict[str, str]) -> Iterator[str]:
    """A console of `shapes` taking a ledger's lines (nothing of it starts: its input is refused)."""
    ledger = dataclasses.replace(
        test_workflows.WORKFLOWS["shapes"], input_schema=LEDGER, example_input={"lines": []}
    )
    server = make_server("127.0.0.1", 0, create_app(console_env, {"shapes": ledger}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_an_error_inside_an_array_names_its_item_and_field(page: Any, ledger_url: str) -> None:
    page.goto(f"{ledger_url}#/workflows/shapes")
    page.locator("#field-lines").fill('[{"amount": -5, "category": "food"}]')
    page.locator("[data-testid=start-form] button[type=submit]").click()
    error = page.locator("[data-testid=error-lines]")
    sync_api.expect(error).to_contain_text("lines[0].amount: -5 is less than")
    sync_api.expect(error).to_contain_text(re.compile(r"lines\[0\]\.category: .food. is not one of"))
    # in the JSON editor too
    page.locator("details.advanced summary").click()
    page.locator("[data-testid=start-form] button[type=submit]").click()
    sync_api.expect(page.locator("[data-testid=error-\\$]")).to_contain_text("lines[0].amount: ")


READABLE_PX = 10  # a state name smaller than this on the screen is hard to read


def test_the_workflow_list_draws_each_graph_with_readable_state_names(browser: Any, console_url: str) -> None:
    """Each workflow's graph in the list is sized by the graph, never shrunk below readable names;
    on a phone it scrolls inside its box (the page stays as wide as the screen)."""
    for width, height in ((1400, 1000), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        try:
            page.goto(console_url)
            for name in WORKFLOWS:
                texts = page.locator(f"[data-workflow='{name}'] .thumb g.node.state text")
                texts.first.wait_for()
                sizes = texts.evaluate_all(
                    "els => els.map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"
                )
                assert min(sizes) >= READABLE_PX, f"{name} at {width} px: names {min(sizes):.1f} px high"
            sync_api.expect(page.locator("[data-workflow=lottery] .thumb")).to_contain_text(
                "Check Past Winners"
            )
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            context.close()


def test_tab_goes_through_the_states_in_flow_order(page: Any, console_url: str, lottery: Environment) -> None:
    """StartAt first, then along the transitions (Parallel branches before its Next, Choice rules
    before Default), not in the order the states are written; Enter and Space still select."""
    execution, _ = ExecutionService(lottery, WORKFLOWS).start("lottery", {"winners": 99})  # fails
    page.goto(f"{console_url}#/executions/{execution['executionArn']}")
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(
        re.compile("FAILED"), timeout=TIMEOUT
    )
    page.locator("[data-testid=graph] g.node.state").first.wait_for()
    page.locator(".graph-tools").focus()  # just before the graph
    focused = []
    for _ in range(14):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.dataset.state || null"))
    assert focused == [
        "Validate Request",
        "Draw Winners",
        "Check Past Winners",
        "Any Past Winner?",
        "Record Winners",
        "Notify Winners",
        "Draw Complete",
        "Redraw Limit Reached",
        "Alert Window",
        "Alert Failure",
        "Failed",
        "Count Redraw",
        "Request Rejected",
        "Not Announced",
    ]
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("[data-testid=state-details] h2")).to_have_text("Not Announced")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press(" ")
    sync_api.expect(page.locator("[data-testid=state-details] h2")).to_have_text("Request Rejected")


def test_a_redrive_that_fails_again_says_so(page: Any, console_url: str, lottery: Environment) -> None:
    """The lottery's redrive restarts at its Fail state, so the run fails again at once: no message
    may say it was redriven as if that had worked."""
    execution, _ = ExecutionService(lottery, WORKFLOWS).start("lottery", {"winners": 97})  # fails
    page.goto(f"{console_url}#/executions/{execution['executionArn']}")
    sync_api.expect(page.locator("[data-testid=redrive]")).to_be_visible(timeout=TIMEOUT)
    page.evaluate(
        """() => {
          const toast = document.getElementById("toast");
          window.toasts = [];
          new MutationObserver(() => { if (!toast.hidden) window.toasts.push(toast.textContent); })
            .observe(toast, { childList: true, characterData: true, subtree: true, attributes: true });
        }"""
    )
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("[data-testid=redrive]").click()
    sync_api.expect(page.locator("#toast")).to_contain_text("failed again", timeout=TIMEOUT)
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(re.compile("FAILED"))
    shown = page.evaluate("window.toasts")
    assert shown and all(text == "Redrive started" or "failed again" in text for text in shown), shown


def test_a_run_that_ended_in_its_fail_state_says_a_redrive_would_fail_again_and_starts_afresh(
    page: Any, console_url: str, lottery: Environment
) -> None:
    """Before the redrive, not after it: the Catch led the run to its Fail state, where a redrive
    restarts, so only a new execution can succeed; Start again fills the form with its input."""
    execution, _ = ExecutionService(lottery, WORKFLOWS).start("lottery", {"winners": 94})  # fails
    page.goto(f"{console_url}#/executions/{execution['executionArn']}")
    sync_api.expect(page.locator("[data-testid=redrive-note]")).to_have_text(
        "A redrive would only run Request Rejected again, and fail as this run did.", timeout=TIMEOUT
    )
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("[data-testid=redrive]").click()
    sync_api.expect(page.locator("[data-testid=summary-redrives]")).to_have_text("0")
    assert asked and "would only run Request Rejected again" in asked[0], asked

    page.locator("[data-testid=start-afresh]").click()
    sync_api.expect(page.locator("[data-testid=started-from]")).to_have_text(
        f"With the input of {execution['name']}"
    )
    sync_api.expect(page.locator("[data-testid=start-form] #field-winners")).to_have_value("94")


def test_a_draw_recorded_but_not_announced_is_not_offered_a_fresh_start(
    page: Any, console_url: str, lottery: Environment
) -> None:
    """A new draw would pick other winners: its error marks the run, and the page says what to do
    instead of offering Start again."""
    service = ExecutionService(lottery, WORKFLOWS)
    config = {
        "StateMachines": {
            service.state_machine_name("lottery"): {
                "TestCases": {"NotAnnounced": {"Notify Winners": "SnsDenied"}}
            }
        },
        "MockedResponses": {
            "SnsDenied": {"0": {"Throw": {"Error": "SNS.AuthorizationErrorException", "Cause": "denied"}}}
        },
    }
    with mock_config.loaded(config):
        execution, _ = service.start("lottery", {"winners": 1}, case="NotAnnounced")
        page.goto(f"{console_url}#/executions/{execution['executionArn']}")
        sync_api.expect(page.locator("[data-testid=execution-error]")).to_contain_text(
            "DrawNotAnnounced", timeout=TIMEOUT
        )
    warning = WORKFLOWS["lottery"].fresh_start_warnings["DrawNotAnnounced"]
    sync_api.expect(page.locator("[data-testid=start-afresh-note]")).to_have_text(
        f"Not to be started again: {warning}"
    )
    sync_api.expect(page.locator("[data-testid=start-afresh]")).to_have_count(0)
    sync_api.expect(page.locator("[data-testid=redrive]")).to_be_visible()  # which would only fail again
    sync_api.expect(page.locator("[data-testid=execution-error]")).to_contain_text(
        "python -m tasks.lottery.announce --env local --draw " + execution["name"]
    )


def test_the_event_history_says_which_map_item_each_event_is_in(
    page: Any, console_url: str, lottery: Environment
) -> None:
    """A Map's items interleave their events: each row of an item says its number, the rows of a
    Task's attempts their state too (their events name none)."""
    each = {
        "Type": "Map",
        "MaxConcurrency": 3,
        "ItemProcessor": {"StartAt": "Look", "States": {"Look": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    sfn = lottery.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"console-map-{time.monotonic_ns()}",
        definition=json.dumps({"StartAt": "Each", "States": {"Each": each}}),
        roleArn=ROLE,
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="[0, 1, 2]")["executionArn"]
    page.goto(f"{console_url}#/executions/{arn}")
    sync_api.expect(page.locator("[data-testid=execution-status]")).to_have_text(
        re.compile("SUCCEEDED"), timeout=TIMEOUT
    )
    rows = page.locator("[data-testid=events] tbody tr")
    for index in range(3):
        entered = rows.filter(has_text="PassStateEntered").filter(has_text=f"Look #{index}")
        sync_api.expect(entered).to_have_count(1)
    sync_api.expect(rows.filter(has_text="MapIterationSucceeded").filter(has_text="Each #2")).to_have_count(1)
    sync_api.expect(
        page.locator("[data-testid=events] tr[data-type=MapStateExited] [data-testid=map-item]")
    ).to_have_count(0)
    # the state's runs are named by their items, as the rows are
    rows.filter(has_text="PassStateEntered").filter(has_text="Look #0").locator("a").click()
    named = page.locator("[data-testid=state-details] table.runs td:first-child")
    sync_api.expect(named).to_have_count(3)
    assert sorted(named.all_inner_texts()) == ["item 0", "item 1", "item 2"]


def test_the_breadcrumb_goes_back_to_the_filtered_list(
    page: Any, console_url: str, lottery: Environment
) -> None:
    failed, _ = ExecutionService(lottery, WORKFLOWS).start("lottery", {"winners": 96})
    page.goto(f"{console_url}#/executions?workflow=lottery&status=FAILED")
    rows = page.locator("[data-testid=executions] tbody tr")
    sync_api.expect(rows.filter(has_text=failed["name"])).to_have_count(1, timeout=TIMEOUT)
    page.locator("input[type=search]").fill(failed["name"][:8])
    rows.filter(has_text=failed["name"]).locator("a").click()
    sync_api.expect(page.locator("h1")).to_have_text(failed["name"])

    page.locator(".crumbs a", has_text="Executions").click()
    sync_api.expect(page.locator("h1")).to_have_text("Executions")
    sync_api.expect(page.locator("select[aria-label=workflow]")).to_have_value("lottery")
    sync_api.expect(page.locator("select[aria-label=status]")).to_have_value("FAILED")
    sync_api.expect(page.locator("input[type=search]")).to_have_value(failed["name"][:8])
    sync_api.expect(rows.filter(has_text=failed["name"])).to_have_count(1)
    sync_api.expect(rows.filter(has_text="SUCCEEDED")).to_have_count(0)
    assert "status=FAILED" in page.url and "workflow=lottery" in page.url


@pytest.fixture(scope="module")
def undeployed_url(console_env: Environment) -> Iterator[str]:
    """A console of one workflow, `nowhere`, that is not deployed."""
    nowhere = dataclasses.replace(test_workflows.WORKFLOWS["shapes"], name="nowhere")
    server = make_server("127.0.0.1", 0, create_app(console_env, {"nowhere": nowhere}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_a_workflow_not_deployed_says_so_where_its_executions_would_be(
    page: Any, undeployed_url: str
) -> None:
    """Not "No executions yet": there is no list to read until it is deployed (the API's 409)."""
    said = "workflow 'nowhere' is not deployed in local (no state machine pyflows-local-nowhere): run "
    page.goto(f"{undeployed_url}#/workflows/nowhere")
    sync_api.expect(page.locator("[data-testid=not-deployed]")).to_contain_text(said)
    sync_api.expect(page.locator(".empty").filter(has_text="No executions")).to_have_count(0)
    page.goto(f"{undeployed_url}#/executions?workflow=nowhere")
    sync_api.expect(page.locator("[data-testid=not-deployed]")).to_contain_text(said)
    page.locator("input[type=search]").fill("x")  # filtering the names keeps saying it
    sync_api.expect(page.locator("[data-testid=not-deployed]")).to_contain_text(said)
    page.locator("select[aria-label=workflow]").select_option("")  # every deployed workflow's: none
    sync_api.expect(page.locator(".empty")).to_have_text("No executions match these filters.")


@pytest.fixture(scope="module")
def front_end() -> Iterator[int]:
    """A front end's page, served on this machine as app.localhost:<port> (and any other name)."""

    def page_of(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<p>front end</p>"]

    server = make_server("127.0.0.1", 0, page_of, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


@pytest.fixture(scope="module")
def cors_url(
    console_env: Environment, test_machines: dict[str, str], echo_function: str, front_end: int
) -> Iterator[str]:
    """The test workflows' routes served for the pages of http://app.localhost:<port> (cors_origins)."""
    env = dataclasses.replace(console_env, cors_origins=(f"http://app.localhost:{front_end}",))
    app = create_app(env, test_workflows.WORKFLOWS, ExecutionService(env, test_workflows.WORKFLOWS))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


FETCH = """async ([url, body]) => {
  try {
    const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body});
    return [r.status, await r.json()];
  } catch (e) { return [0, String(e)]; }
}"""


def test_a_page_cors_origins_names_calls_a_route_and_another_page_cannot(
    page: Any, cors_url: str, front_end: int, service: ExecutionService
) -> None:
    """A front end's fetch with a JSON body: Chromium asks first (a preflight), the route answers
    for http://app.localhost:<port>, and the execution starts; from another page the browser stops
    at the preflight, so nothing is sent and nothing starts."""

    def from_page(host: str, label: str) -> Any:
        page.goto(f"http://{host}:{front_end}/")
        return page.evaluate(FETCH, [f"{cors_url}shapes", json.dumps({"count": 1, "label": label})])

    status, started = from_page("app.localhost", "from-the-front-end")
    assert status == 202 and started["executionArn"].startswith("arn:aws:states:")
    assert service.describe(started["executionArn"])["input"]["label"] == "from-the-front-end"

    before = {e["executionArn"] for e in service.executions("shapes", None, 100)}
    assert from_page("other.localhost", "from-another-page") == [0, "TypeError: Failed to fetch"]
    assert {e["executionArn"] for e in service.executions("shapes", None, 100)} == before
