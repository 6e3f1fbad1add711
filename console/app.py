"""The console's Flask application: the API, the OpenAPI file, the web pages and the workflows' routes."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping
from functools import cache
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from console import routes
from console.api import api
from console.errors import ConsoleError, Misdirected, from_aws
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


@cache
def _own_names() -> frozenset[str]:
    # asked once: getfqdn asks the resolver
    return frozenset({"localhost", socket.gethostname().lower(), socket.getfqdn().lower()})


def this_machine(listening_on: str) -> Callable[[str], bool]:
    """Whether a request's Host (`name[:port]`) names this machine. A page of another site whose
    name was made to resolve to it (DNS rebinding) names its own site, and is refused; an address
    (IPv4 or IPv6) cannot be rebound, and localhost, this machine's own names and the address the
    console listens on are this machine's."""
    names = {listening_on.lower(), *_own_names()}

    def named(host: str) -> bool:
        name = (urlsplit(f"//{host}").hostname or "").rstrip(".")
        try:
            ip_address(name)
            return True
        except ValueError:
            return name in names or name.endswith(".localhost")

    return named


def create_app(
    env: Environment,
    workflows: Mapping[str, Workflow] = WORKFLOWS,
    service: ExecutionService | None = None,
    listening_on: str = "127.0.0.1",
) -> Flask:
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    named = this_machine(listening_on)

    @app.before_request
    def on_this_machine_only() -> None:
        if not named(request.host):
            raise Misdirected(
                f"Host {request.host!r} is not this machine's name: the console answers to its "
                "addresses, localhost and this machine's own names (a page whose name was made to "
                "resolve to this machine?)"
            )

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
