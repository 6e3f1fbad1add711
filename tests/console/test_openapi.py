"""The served OpenAPI document matches the server's routes, and real answers match its schemas."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft7Validator

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def flask_routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([A-Za-z0-9_]+)>", r"{\1}", rule.rule)
        found |= {(path, method.lower()) for method in rule.methods or () if method.lower() in HTTP_METHODS}
    return found


def spec_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_every_route_is_documented_and_every_documented_route_exists(app: Flask, client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = flask_routes(app) - {("/", "get")}  # the console page itself
    assert spec_routes(document) == routes
    assert document["paths"]["/shapes"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "required"
    ] == ["count"]


def test_every_operation_is_described(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), f"{method} {path}"
            assert operation.get("responses"), f"{method} {path}"
            ids.append(operation["operationId"])
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in path
    assert len(ids) == len(set(ids))


def _json_schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    """An OpenAPI 3.0 component as JSON Schema (`nullable: true` -> also null)."""

    def convert(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: convert(v) for k, v in node.items()}
            if node.pop("nullable", False) and "type" in node:
                node["type"] = [node["type"], "null"]
            node.pop("example", None)
            return node
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node

    components = convert(copy.deepcopy(document["components"]))
    return {"$ref": f"#/components/schemas/{name}", "components": components}


def test_answers_match_the_documented_schemas(client: FlaskClient, finished: Callable[[str], Any]) -> None:
    document = client.get("/openapi.json").get_json()

    def check(schema: str, body: Any) -> None:
        errors = [e.message for e in Draft7Validator(_json_schema(document, schema)).iter_errors(body)]
        assert not errors, (schema, errors)

    for workflow in client.get("/api/workflows").get_json()["workflows"]:
        check("Workflow", workflow)
    started = client.post("/api/workflows/broken/executions", json={"input": {"count": 1}}).get_json()
    check("Execution", started)
    finished(started["executionArn"])
    arn = started["executionArn"]
    described = client.get(f"/api/executions/{arn}").get_json()
    check("DescribedExecution", described)
    assert described["failedIn"] == "Publish" and described["redriveRerunsOnly"] == "Give Up"
    check("Graph", client.get(f"/api/executions/{arn}/graph").get_json())
    check("ExecutionList", client.get("/api/executions").get_json())
    for event in client.get(f"/api/executions/{arn}/history").get_json()["events"]:
        check("HistoryEvent", event)
    check("ValidationError", client.post("/api/workflows/broken/executions", json={"input": {}}).get_json())
    check("Error", client.get("/api/workflows/nope").get_json())
