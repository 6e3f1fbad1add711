"""What every fake external API shares: an HTTP server on loopback in a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class FakeServer:
    """start(port)/stop()/url for a fake; subclasses say how a request is answered (`handler`)."""

    _server: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, port: int = 0) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self.handler())
        self._server.daemon_threads = True
        name = f"fake-{type(self).__name__}"
        threading.Thread(target=self._server.serve_forever, name=name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
