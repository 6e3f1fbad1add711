"""The console's Flask application: the API, the OpenAPI file, the web pages and the workflows' routes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException, MethodNotAllowed, SecurityError

from console import routes
from console.api import api
from console.errors import ConsoleError, from_aws
from console.graph.render import GraphvizMissing
from console.service import ExecutionService
from infra.environments import Environment
from workflows import WORKFLOWS
from workflows.registry import Workflow

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
OPENAPI = HERE / "openapi.json"


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI.read_text())
    return document


def trusted_hosts(listening_on: str) -> list[str] | None:
    """The host names the console answers to. A page of another site whose name was made to resolve
    to this machine (DNS rebinding) sends its own name, and gets 400. Listening on every address,
    the console is served to the network on purpose and answers to any name; so it does on an
    IPv6 address, which Werkzeug's check cannot take."""
    if listening_on in ("", "0.0.0.0") or ":" in listening_on:
        return None
    return sorted({"127.0.0.1", "localhost", listening_on})


def create_app(
    env: Environment,
    workflows: Mapping[str, Workflow] = WORKFLOWS,
    service: ExecutionService | None = None,
    listening_on: str = "127.0.0.1",
) -> Flask:
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["TRUSTED_HOSTS"] = trusted_hosts(listening_on)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["console.service"] = service or ExecutionService(env, workflows)
    app.register_blueprint(api)

    @app.errorhandler(ConsoleError)
    def console_error(error: ConsoleError) -> tuple[Response, int]:
        return jsonify(error.body()), error.status

    @app.errorhandler(BotoCoreError)
    @app.errorhandler(ClientError)
    @app.errorhandler(GraphvizMissing)
    def external_error(error: Exception) -> tuple[Response, int]:
        found = from_aws(error)
        return jsonify(found.body()), found.status

    # a wrong method or path gets JSON too (clients of the routes and the API read JSON), not Flask's page
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        allowed = error.valid_methods if isinstance(error, MethodNotAllowed) else None
        message = error.description or error.name
        if isinstance(error, SecurityError) and app.config["TRUSTED_HOSTS"]:
            names = " and ".join(app.config["TRUSTED_HOSTS"])
            message += f" The console answers to {names}; `--host` adds the address it listens on."
        if allowed:
            shown = [m for m in allowed if m not in ("HEAD", "OPTIONS")]
            message = f"{request.method} is not allowed on {request.path}: use {' or '.join(shown)}"
        response = jsonify({"error": type(error).__name__, "message": message})
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response, error.code or 500

    @app.get("/openapi.json")
    def openapi() -> Response:
        document = openapi_document()
        document["paths"].update(routes.openapi_paths(app.extensions["console.routes"]))
        document.setdefault("components", {}).setdefault("securitySchemes", {}).update(
            routes.SECURITY_SCHEMES
        )
        return jsonify(document)

    @app.get("/api/environment")
    def environment() -> Response:
        return jsonify({"name": env.name, "region": env.region, "local": env.is_local, "app": env.app})

    # The single-page console: every page is index.html, the hash picks the view.
    @app.get("/")
    def index() -> Response:
        response = send_from_directory(STATIC, "index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.extensions["console.routes"] = routes.mount(app, app.extensions["console.service"])
    return app
