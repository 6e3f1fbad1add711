"""The workflows' own HTTP routes (`POST /ride`, ...), served as API Gateway HTTP API v2 would.

Every registry route (an HttpRoute trigger, or a Route a workflow lists in `routes`) becomes a
Flask route. A route with `auth` first checks the bearer token as the route's JWT authorizer
does (console/authorizer.py): 401 without a valid one, else the claims go into the event. Then:

- a Route's `function` (a Function of its workflow): the deployed Lambda is invoked with a v2
  event and its {statusCode, headers, body} becomes the response, as API Gateway does;
- an HttpRoute starts the workflow (sync: StartSyncExecution, answering its output).

With the environment's `cors_origins`, preflight requests and the answers' CORS headers are
API Gateway's for the CORS configuration deploy gives the API (`Cors`).
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from flask import Flask, Response, request

from console import authorizer, validation
from console.errors import InvalidInput, NotDeployed
from console.service import ExecutionService
from infra.api import cors_configuration
from workflows.registry import Workflow

# the OpenAPI security scheme of routes with auth: a user pool's ID or access token
BEARER = "cognitoJwt"
SECURITY_SCHEMES = {BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
_PARAM = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


def flask_path(path: str) -> str:
    """API Gateway `/signals/{day}` and `/files/{key+}` -> Flask `/signals/<day>`, `/files/<path:key>`."""
    return _PARAM.sub(lambda m: f"<path:{m[1]}>" if m[2] else f"<{m[1]}>", path)


def routes_of(workflow: Workflow) -> Iterator[Any]:
    for route in (*workflow.triggers, *getattr(workflow, "routes", ())):
        if hasattr(route, "method") and hasattr(route, "path"):
            yield route


def event_of(route_key: str, path_parameters: dict[str, str]) -> dict[str, Any]:
    """The API Gateway HTTP API (payload format 2.0) event of the current Flask request."""
    raw = request.get_data()
    text = raw.decode("utf-8", errors="replace") if raw else None
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode(),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "queryStringParameters": dict(request.args) or None,
        "pathParameters": path_parameters or None,
        "requestContext": {
            "accountId": "local",
            "apiId": "local",
            "domainName": request.host,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text,
        "isBase64Encoded": False,
    }


def response_of(result: Any) -> Response:
    """A Lambda's result as API Gateway v2 turns it into HTTP (a bare value is a 200 JSON body)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return Response(json.dumps(result), 200, mimetype="application/json")
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = dict(result.get("headers") or {})
    headers.setdefault("Content-Type", "application/json")
    response = Response(data, int(result["statusCode"]), headers=headers)
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, default=str), status, mimetype="application/json")


# What API Gateway answers when the integration's function fails, or cannot be invoked.
_INTEGRATION_FAILED = {"statusCode": 500, "body": json.dumps({"message": "Internal Server Error"})}


class RouteHandler:
    def __init__(
        self, service: ExecutionService, workflow: Workflow, route: Any, keys: authorizer.PoolKeys
    ) -> None:
        self.service, self.workflow, self.route, self.keys = service, workflow, route, keys
        self.route_key = f"{route.method.upper()} {route.path}"
        # Flask's endpoint name, and the operationId in the OpenAPI document
        self.__name__ = re.sub(r"\W+", "_", f"route_{workflow.name}_{route.method}_{route.path}").strip("_")

    def __call__(self, **path_parameters: str) -> Response:
        event = event_of(self.route_key, path_parameters)
        if self.route.auth:
            try:
                event = authorizer.with_claims(event, self._claims(event))
            except authorizer.Unauthorized:
                answer = _json(401, {"message": "Unauthorized"})  # API Gateway's own answer
                answer.headers["WWW-Authenticate"] = "Bearer"
                return answer
        function = getattr(self.route, "function", None)
        if function:
            return response_of(self._invoke(function, event))
        return self._start(event)

    def _claims(self, event: dict[str, Any]) -> dict[str, Any]:
        self.service.require_arn(self.workflow.name)  # a clear 409 before the user pool's lookup
        return self.keys.claims(event)

    def _invoke(self, function: str, event: dict[str, Any]) -> Any:
        env = self.service.env
        name = env.resource_name(self.workflow.name, self.workflow.function(function).name)
        # API Gateway calls its integration once: a throttle or a Lambda service error is the
        # caller's 500, not retried into a success it would not see on AWS
        client = env.client("lambda", retries={"total_max_attempts": 1})
        payload = json.dumps(event).encode()
        try:
            # The environment's alias, as the deployed API Gateway integration calls it.
            answer = client.invoke(FunctionName=name, Qualifier=env.name, Payload=payload)
        except client.exceptions.ResourceNotFoundException:
            try:
                answer = client.invoke(FunctionName=name, Payload=payload)
            except client.exceptions.ResourceNotFoundException:
                raise NotDeployed(
                    f"workflow {self.workflow.name!r} is not deployed in {env.name} (no function {name}): "
                    f"run {env.deploy_command}"
                ) from None
            except ClientError:
                return _INTEGRATION_FAILED
        except ClientError:  # throttled, Lambda's service error...: API Gateway's integration failure
            return _INTEGRATION_FAILED
        result = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            return _INTEGRATION_FAILED
        return result

    def _start(self, event: dict[str, Any]) -> Response:
        try:
            document = validation.loads(event["body"] or "{}")
        except validation.NotJson:
            return _json(400, {"message": "the body must be JSON", "field": "$"})
        try:
            self.service.validate(self.workflow.name, document)
        except InvalidInput as error:
            return _json(
                400, {"message": str(error), "field": error.errors[0]["field"], "fields": error.errors}
            )
        arn = self.service.require_arn(self.workflow.name)
        sfn = self.service.sfn
        if not getattr(self.route, "sync", False):
            started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(document))
            return _json(202, {"executionArn": started["executionArn"], "startDate": started["startDate"]})
        done = sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps(document))
        if done["status"] == "SUCCEEDED":
            return response_of(json.loads(done.get("output") or "null"))
        return _json(
            500, {"message": "execution failed", "error": done.get("error"), "cause": done.get("cause")}
        )


class Cors:
    """API Gateway's CORS for the routes, from the configuration deploy gives the API: a preflight
    request is answered without reaching a route or its authorizer, and a route's answer to a page
    of an allowed origin names that origin (or `*`), whatever headers its function set."""

    def __init__(self, configuration: dict[str, Any] | None) -> None:
        self.configuration = configuration or {}

    def allowed(self, origin: str | None) -> str | None:
        origins = self.configuration.get("AllowOrigins", [])
        if origin is None or not origins:
            return None
        return "*" if "*" in origins else origin if origin in origins else None

    def preflight(self, **_path_parameters: str) -> Response:
        answer = Response(status=204)
        origin = self.allowed(request.headers.get("Origin"))
        if origin:
            answer.headers.update(
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": ",".join(self.configuration["AllowMethods"]),
                    "Access-Control-Allow-Headers": ",".join(self.configuration["AllowHeaders"]),
                    "Access-Control-Max-Age": str(self.configuration["MaxAge"]),
                }
            )
        return answer

    def answer(self, response: Response) -> Response:
        if not self.configuration:
            return response
        for header in {k for k, _ in response.headers.items() if k.lower().startswith("access-control-")}:
            del response.headers[header]
        origin = self.allowed(request.headers.get("Origin"))
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.vary.add("Origin")
        return response


def mount(app: Flask, service: ExecutionService) -> list[RouteHandler]:
    """Add every workflow route to `app`, with the CORS answers API Gateway would give."""
    mounted: list[RouteHandler] = []
    keys = authorizer.PoolKeys(service.env)  # one user pool serves every route with auth
    found = [(workflow, route) for workflow in service.workflows.values() for route in routes_of(workflow)]
    cors = Cors(cors_configuration(service.env.cors_origins, [route for _, route in found]))
    preflighted: set[str] = set()  # one preflight answer per path, whatever its methods
    for workflow, route in found:
        handler, path = RouteHandler(service, workflow, route, keys), flask_path(route.path)
        app.add_url_rule(
            path, view_func=handler, methods=[route.method.upper()], provide_automatic_options=False
        )
        if cors.configuration and path not in preflighted:
            app.add_url_rule(path, f"{handler.__name__}_preflight", cors.preflight, methods=["OPTIONS"])
            preflighted.add(path)
        mounted.append(handler)
    routes = {handler.__name__ for handler in mounted}

    @app.after_request
    def cors_headers(response: Response) -> Response:
        # every answer of a route, an error's (a 409 NotDeployed, AWS's) too: a front end reads it
        return cors.answer(response) if request.endpoint in routes else response

    return mounted


def openapi_paths(handlers: list[RouteHandler]) -> dict[str, Any]:
    """The workflows' routes as OpenAPI path items, for the served document."""
    paths: dict[str, Any] = {}
    for handler in handlers:
        route, workflow = handler.route, handler.workflow
        function = getattr(route, "function", None)
        starts = not function
        answered = "starts the workflow" if starts else f"answered by {function}"
        operation: dict[str, Any] = {
            "tags": ["workflow routes"],
            "operationId": handler.__name__,
            "summary": f"{workflow.name}: {answered}",
            "responses": {
                "default": {"description": "The route's answer (API Gateway HTTP API v2 semantics)"}
            },
        }
        if starts:
            operation["requestBody"] = {
                "content": {"application/json": {"schema": dict(workflow.input_schema)}}
            }
            operation["responses"] = {
                "200" if getattr(route, "sync", False) else "202": {
                    "description": "Started (sync: the output)"
                },
                "400": {"description": "Invalid input: `field` names the wrong field"},
            }
        if route.auth:
            operation["security"] = [{BEARER: []}]
            operation["responses"]["401"] = {"description": "No valid token of the user pool"}
        parameters = [
            {"name": m[1], "in": "path", "required": True, "schema": {"type": "string"}}
            for m in _PARAM.finditer(route.path)
        ]
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(_PARAM.sub(lambda m: "{" + m[1] + "}", route.path), {})[route.method.lower()] = (
            operation
        )
    return paths
