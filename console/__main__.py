"""`python -m console --env local [--port 8080] [--reload]`: serve the web console and the HTTP API.

Without --port it serves on the port of the local console's address (environments.toml's
`console`, or PYFLOWS_CONSOLE; 8080 by default), which a local deploy's links name. With --reload
it starts again when a Python file of the project changes (a workflow added by `workflows new`, a
builder or task edited), on the same port.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

from werkzeug.serving import is_running_from_reloader, make_server, run_simple

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def main(argv: list[str] | None = None) -> int:
    if not is_running_from_reloader():
        return _main(argv)
    # the reloader's child: the project's code is imported here, and may be mid-edit
    try:
        return _main(argv)
    except Exception:
        failure = traceback.format_exc()
        print(failure, file=sys.stderr, flush=True)
        why = f"The console could not start; it starts again when a file changes.\n\n{failure}"
        # on the socket the reloader's parent bound (the address is not used), until the next change
        run_simple("127.0.0.1", 0, _answering(why), use_reloader=True, reloader_type="stat")
        return 1


def _main(argv: list[str] | None) -> int:
    from console.app import create_app  # here, with the workflows it imports: see main
    from infra.environments import ConfigError, load, names
    from localcloud.run_files import port_number

    parser = argparse.ArgumentParser(allow_abbrev=False, prog="python -m console", description=__doc__)
    parser.add_argument("--env", default="local", help=f"environment ({', '.join(names())}); default local")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port_number,
        help="port (0: any free port); default the local console's address's (PYFLOWS_CONSOLE), else 8080",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--reload", action="store_true", help="start again when a Python file of the project changes"
    )
    args = parser.parse_args(argv)
    try:
        env = load(args.env)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.verbose:
        logging.getLogger("werkzeug").addFilter(_reloads_only)
    named = urlparse(env.console).port if env.is_local else None  # what deploy's links name
    port = args.port if args.port is not None else named or 8080
    app = create_app(env, listening_on=args.host)
    if is_running_from_reloader():  # the child that serves, on the socket its parent bound
        run_simple(args.host, port, app, threaded=True, use_reloader=True, reloader_type="stat")
        return 0
    if shutil.which("dot") is None:
        print(
            "warning: Graphviz's dot is not installed: graphs will not draw (apt-get install graphviz)",
            file=sys.stderr,
        )
    try:
        server = make_server(args.host, port, app, threaded=True)
    except SystemExit:  # werkzeug's, having printed why it cannot listen there (a port in use...)
        return 2  # nothing served: the command must change, as the README's table
    where = env.endpoint or f"AWS {env.region}"
    print(
        f"console for {env.app}-{env.name} ({where}) on http://{args.host}:{server.server_port}/", flush=True
    )
    if named and server.server_port != named:
        print(
            f"note: deploy's links name {env.console}; export PYFLOWS_CONSOLE=http://{args.host}:"
            f"{server.server_port}/ and deploy again for them to name this one",
            flush=True,
        )
    if args.reload:
        # werkzeug's reloader binds the port again and serves from a child it starts anew when a
        # file changes; the socket is closed first, the port known (--port 0 picked one)
        server.server_close()
        print("restarting when a Python file of the project changes", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            run_simple(args.host, server.server_port, app, use_reloader=True, reloader_type="stat")
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def _answering(text: str) -> WsgiApp:
    """An app answering every request 500 with `text`."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain; charset=utf-8")])
        return [text.encode()]

    return app


def _reloads_only(record: logging.LogRecord) -> bool:
    """werkzeug's log without --verbose: warnings and the reloader's restarts, not every request."""
    return record.levelno >= logging.WARNING or "Detected change" in record.getMessage()


if __name__ == "__main__":
    sys.exit(main())
