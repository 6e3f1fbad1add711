"""The HTTP API (`/api/...`): workflows, executions, histories and graphs, as JSON (and SVG).

Routes and their shapes are documented in `console/openapi.json`, which the server serves and a
test compares with these routes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, Response, current_app, jsonify, request

from console import graph, validation
from console.alerts import AlertInbox
from console.errors import BadRequest, ConsoleError, Forbidden, NotDeployed, from_aws
from console.graph.render import GraphvizMissing, node_ids, to_svg
from console.graph.runs import placed
from console.service import ExecutionService

api = Blueprint("api", __name__, url_prefix="/api")
_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


def service() -> ExecutionService:
    found: ExecutionService = current_app.extensions["console.service"]
    return found


@api.before_request
def from_this_console_only() -> None:
    """A page of another site may POST here (a form, a no-cors fetch) and so start, stop or redrive
    executions with the console's credentials; browsers name that page in Origin, and it is
    refused. Clients that are not browsers (curl, scripts) send no Origin."""
    origin = request.headers.get("Origin")
    if request.method in ("GET", "HEAD", "OPTIONS") or origin is None:
        return
    if urlsplit(origin).netloc != request.host:
        raise Forbidden(
            f"a page of {origin} may not {request.method} {request.path}: only the console's own page may"
        )


@api.errorhandler(ConsoleError)
def console_error(error: ConsoleError) -> tuple[Response, int]:
    return jsonify(error.body()), error.status


@api.errorhandler(BotoCoreError)
@api.errorhandler(ClientError)
@api.errorhandler(GraphvizMissing)
def external_error(error: Exception) -> tuple[Response, int]:
    found = from_aws(error)
    return jsonify(found.body()), found.status


def _document() -> Any:
    """The request body as JSON AWS would accept; None when there is no body."""
    if not request.content_length:
        return None
    try:
        return validation.loads(request.get_data())
    except validation.NotJson as error:
        raise BadRequest(f"the request body is not JSON: {error}") from None


def _body(*fields: str) -> dict[str, Any]:
    """The request's JSON object, holding only `fields` (a misspelt one would be ignored unseen)."""
    body = _document()
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest(f"unknown field {json.dumps(unknown[0])}: the body holds {' and '.join(fields)}")
    return body


MAX_LIMIT = 1000
# the alerts inbox is read whole for each page of them (console/alerts.py): a smaller page
ALERTS_LIMIT, MAX_ALERTS_LIMIT = 20, 100


def _limit(default: int = 100, most: int = MAX_LIMIT) -> int:
    """?limit=, as documented (1 to `most`): refused, not clamped, as the CLI refuses --limit 0."""
    text = request.args.get("limit", str(default))
    try:
        limit: int | None = int(text)
    except ValueError:
        limit = None
    if limit is None or not 1 <= limit <= most:
        raise BadRequest(f"limit must be an integer from 1 to {most}, not {text!r}")
    return limit


def _status() -> str | None:
    status = request.args.get("status") or None
    if status is not None and status.upper() not in _STATUSES:
        raise BadRequest(f"status must be one of {', '.join(_STATUSES)}")
    return status.upper() if status else None


def _rejected() -> bool | None:
    """?rejected=true keeps only the executions that ended in a business rejection, false leaves
    them out (the failures that need someone); without it, both."""
    text = request.args.get("rejected") or None
    if text is None:
        return None
    if text.lower() not in ("true", "false"):
        raise BadRequest(f"rejected must be true or false, not {text!r}")
    return text.lower() == "true"


def _graph_response(built: dict[str, Any]) -> Response:
    built["svgIds"] = node_ids(built)
    return jsonify(built)


@api.get("/workflows")
def list_workflows() -> Response:
    return jsonify({"workflows": service().list_workflows()})


@api.get("/workflows/<name>")
def get_workflow(name: str) -> Response:
    return jsonify(service().describe_workflow(name))


@api.get("/workflows/<name>/graph")
def workflow_graph(name: str) -> Response:
    return _graph_response(graph.build(service().definition(name)))


@api.get("/workflows/<name>/graph.svg")
def workflow_graph_svg(name: str) -> Response:
    return Response(to_svg(graph.build(service().definition(name))), mimetype="image/svg+xml")


@api.get("/workflows/<name>/executions")
def list_workflow_executions(name: str) -> Response:
    service().workflow(name)
    return jsonify({"executions": service().executions(name, _status(), _limit(), _rejected())})


@api.post("/workflows/<name>/executions")
def start_execution(name: str) -> tuple[Response, int]:
    body = _body("input", "name")
    execution_name = body.get("name")
    if execution_name is not None and not isinstance(execution_name, str):
        raise BadRequest("name must be a string")
    execution, created = service().start(name, body.get("input", {}), execution_name or None)
    return jsonify(execution), 201 if created else 200


@api.post("/workflows/<name>/validate")
def validate_input(name: str) -> Response:
    """Check an input against the workflow's schema without starting anything (the form uses it)."""
    svc = service()
    try:
        document = validation.loads(request.get_data()) if request.content_length else None
    except validation.NotJson as error:
        return jsonify(
            {"valid": False, "fields": [{"field": "$", "message": f"the body is not JSON: {error}"}]}
        )
    found = validation.errors(svc.workflow(name).input_schema, document if document is not None else {})
    return jsonify({"valid": not found, "fields": found})


@api.get("/executions")
def list_executions() -> Response:
    svc = service()
    named = request.args.get("workflow")
    status, limit, rejected = _status(), _limit(), _rejected()
    found: list[dict[str, Any]] = []
    for name in [named] if named else sorted(svc.workflows):
        try:
            found += svc.executions(svc.workflow(name).name, status, limit, rejected)
        except NotDeployed:
            if named:  # 409 for the one named; of every workflow, those deployed
                raise
    found.sort(key=lambda e: e["startDate"], reverse=True)
    return jsonify({"executions": found[:limit]})


@api.get("/alerts")
def list_alerts() -> Response:
    """The newest alerts of the environment's inbox, as `python -m workflows alerts` reads them:
    read, not acknowledged (they stay in the inbox for the CLI's --ack)."""
    limit = _limit(ALERTS_LIMIT, MAX_ALERTS_LIMIT)
    return jsonify({"alerts": AlertInbox(service()).read(limit, ack=False)})


def _arn(execution: str) -> str:
    """An execution's ARN from its ARN or, as the CLI takes it, its name (not taken for an ARN that
    then does not exist)."""
    return service().execution_arn(execution)


@api.get("/executions/<path:arn>")
def describe_execution(arn: str) -> Response:
    return jsonify(service().explain(_arn(arn)))


@api.get("/executions/<path:arn>/history")
def execution_history(arn: str) -> Response:
    # each event's state and Map item: a Map's items interleave their events
    return jsonify({"events": placed(service().history(_arn(arn)))})


def _execution_graph(arn: str) -> dict[str, Any]:
    svc = service()
    arn = _arn(arn)
    execution = svc.describe(arn)
    events = svc.history(arn)
    definition = svc.execution_definition(execution)
    return graph.build(definition, execution, events)


@api.get("/executions/<path:arn>/graph")
def execution_graph(arn: str) -> Response:
    return _graph_response(_execution_graph(arn))


@api.get("/executions/<path:arn>/graph.svg")
def execution_graph_svg(arn: str) -> Response:
    return Response(to_svg(_execution_graph(arn)), mimetype="image/svg+xml")


@api.post("/executions/<path:arn>/stop")
def stop_execution(arn: str) -> Response:
    body = _body("error", "cause")
    for field in ("error", "cause"):
        if not isinstance(body.get(field, ""), str):
            raise BadRequest(f"{field} must be a string")
    return jsonify(service().stop(_arn(arn), body.get("error"), body.get("cause")))


@api.post("/executions/<path:arn>/redrive")
def redrive_execution(arn: str) -> Response:
    body = _body("force")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadRequest("force must be true or false")
    # as the CLI's redrive: a run that would only fail again is redriven only when asked to be
    return jsonify(service().redrive(_arn(arn), force=force, how_to_force='{"force": true} in the body'))
