"""`python -m console --env local [--port 8080]`: serve the web console and the HTTP API.

Without --port it serves on the port of the local console's address (environments.toml's
`console`, or PYFLOWS_CONSOLE; 8080 by default), which a local deploy's links name.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sys
from urllib.parse import urlparse

from werkzeug.serving import make_server

from console.app import create_app
from infra.environments import ConfigError, load, names
from localcloud.run_files import port_number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, prog="python -m console", description=__doc__)
    parser.add_argument("--env", default="local", help=f"environment ({', '.join(names())}); default local")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port_number,
        help="port (0: any free port); default the local console's address's (PYFLOWS_CONSOLE), else 8080",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    try:
        env = load(args.env)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if shutil.which("dot") is None:
        print(
            "warning: Graphviz's dot is not installed: graphs will not draw (apt-get install graphviz)",
            file=sys.stderr,
        )
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    named = urlparse(env.console).port if env.is_local else None  # what deploy's links name
    port = args.port if args.port is not None else named or 8080
    try:
        server = make_server(args.host, port, create_app(env, listening_on=args.host), threaded=True)
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
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
