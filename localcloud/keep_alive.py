"""Connections kept open between requests.

werkzeug's server, which moto's is, closes the connection after every answer: http.server reads
the next request line where the last request ended, and cannot know where that is when the
application left part of a body unread. So every boto3 request opened a new TCP connection.
Here the application is given a request's body as its Content-Length bytes and no more, what it
leaves unread is read once it has answered, and the connection stays open for the next request
whenever that is sure to start where it should. It is closed, as before, whenever it is not: a
body of another framing (chunked) or of a Content-Length that is not one number, a client that
asks (`Connection: close`, HTTP/1.0), an application that failed, a connection that failed
while the answer was sent, the server closing.

A kept connection holds its server thread (one connection each: localcloud.thread_pool starts
another when none is idle, so requests that wait on other requests, such as a synchronous
Invoke whose function calls back, always find one). One left idle for IDLE_SECONDS is closed
without a word in the log; a client finds it closed before reusing it (urllib3 checks) and
opens another. Should the close cross a request on its way, that request was not read, and
botocore retries it as it retries any dropped connection (a client with retries turned off sees
the error).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from werkzeug.serving import ThreadedWSGIServer
from werkzeug.wsgi import LimitedStream

from localcloud import pins

pins.resolve("moto.moto_server.werkzeug_app", "MotoRequestHandler", "make_environ")
from moto.moto_server.werkzeug_app import MotoRequestHandler  # noqa: E402 (checked above)

# how long a connection waits for its next request; a request in progress is not bound by it
# (the server reads nothing while the application works), only each read or write is
IDLE_SECONDS = 5.0
_ANSWERED = "localcloud.keep_alive.answered"  # environ: the application's answer came out whole


class _Body(LimitedStream):
    """A request's body: its Content-Length bytes and no more, so that the next request follows.
    A connection that ends sooner reads as its end, as the socket itself would, and is noted."""

    cut = False

    def on_disconnect(self, error: Exception | None = None) -> None:
        self.cut = True


def _answered_whole(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterator[bytes]]:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        answer = app(environ, start_response)
        try:
            yield from answer
            environ[_ANSWERED] = True
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()

    return application


class KeepAliveHandler(MotoRequestHandler):
    """moto's request handler (its environ keeps headers with underscores), whose connections stay
    open when the next request is sure to be read from its start."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS  # StreamRequestHandler: each read or write of the connection
    # An answer's headers and body go out in one send (werkzeug writes them apart, and flushes
    # after each part of the answer, http.server after each request): a client woken by the
    # headers alone waits again for the body, a second wake-up, and in the server's own process
    # a second hand-over of the GIL. A body larger than the buffer goes out in a send of its own.
    wbufsize = 64 * 1024
    # a write must not wait for the client to acknowledge the one before, which on a kept
    # connection it may put off
    disable_nagle_algorithm = True
    _keeping = False
    rfile: Any  # the connection's reader; the request's body while the application answers

    def handle_one_request(self) -> None:
        self._keeping = False
        try:
            self.rfile.peek(1)  # the next request, or the end of the connection
        except TimeoutError:  # idle: close quietly (http.server would log it as an error)
            self.close_connection = True
            return
        super().handle_one_request()

    def finish(self) -> None:
        # An answer the client did not stay for is still in the buffer: closing would try to send
        # it again, and the error would reach the server's log as a failed request.
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.wfile.close()
        self.rfile.close()

    def make_environ(self) -> dict[str, Any]:
        # werkzeug has just written its 100 Continue, which the client awaits to send the body
        self.wfile.flush()
        return super().make_environ()

    def run_wsgi(self) -> None:
        length = self._body_length()
        if length is None or self.close_connection or self.request_version != "HTTP/1.1":
            super().run_wsgi()  # werkzeug's way: answered with Connection: close
            return
        self._keeping = True
        connection, body = self.rfile, _Body(self.rfile, length)
        self.rfile = body  # the environ's wsgi.input, and what werkzeug reads after the answer
        try:
            super().run_wsgi()
            body.exhaust()
        finally:
            self.rfile = connection
        if body.cut or not self.environ.get(_ANSWERED):
            self.close_connection = True

    def _body_length(self) -> int | None:
        """The body's length, when it is certain."""
        if "Transfer-Encoding" in self.headers:
            return None
        lengths = self.headers.get_all("Content-Length") or ["0"]
        length = lengths[0].strip()
        if len(lengths) > 1 or not (length.isascii() and length.isdigit()):
            return None
        return int(length)

    def send_header(self, keyword: str, value: str) -> None:
        # werkzeug says Connection: close in every answer; a WSGI application sends no Connection
        # header (PEP 3333: hop-by-hop headers are the server's)
        if self._keeping and keyword.lower() == "connection":
            return
        super().send_header(keyword, value)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True


class KeepAliveServer(ThreadedWSGIServer):
    """werkzeug's threaded server, its connections kept open (KeepAliveHandler) until idle, and
    ended when the server closes: a stopped server answers no more, on a new connection or not."""

    def __init__(
        self, host: str, port: int, app: Callable[..., Iterable[bytes]], handler: type = KeepAliveHandler
    ) -> None:
        self._connections: set[socket.socket] = set()  # before binding, which closes when it fails
        self._connections_lock = threading.Lock()
        super().__init__(host, port, _answered_whole(app), handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def server_close(self) -> None:
        super().server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # its handler reads the end of the connection; an answer being sent still goes out
            with contextlib.suppress(OSError):  # closed meanwhile
                connection.shutdown(socket.SHUT_RD)
