"""The local cloud's server keeps a connection open between requests when the next request is sure
to be read from its start, and closes it otherwise, when idle, and when the server stops."""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import struct
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug import serving
from werkzeug.wrappers import Request, Response

from localcloud import LocalCloud, dispatch
from localcloud.keep_alive import KeepAliveHandler
from tests.localcloud.helpers import deploy

# only so that a test that fails does not wait for ever; nothing here is timed
GUARD_SECONDS = 30


class Connections:
    """The connections the server accepts and closes while a test runs (the session's local cloud
    may hold others, from earlier tests)."""

    def __init__(self) -> None:
        self._ours: set[Any] = set()
        self.accepted = 0
        self.closed = 0
        self._changed = threading.Condition()

    def accept(self, request: Any) -> None:
        with self._changed:
            self._ours.add(request)
            self.accepted += 1

    def close(self, request: Any) -> None:
        with self._changed:
            if request in self._ours:
                self.closed += 1
                self._changed.notify_all()

    def wait_closed(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.closed >= count, timeout=GUARD_SECONDS)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    seen = Connections()
    process_request = dispatch._PooledWSGIServer.process_request
    shutdown_request = dispatch._PooledWSGIServer.shutdown_request

    def accepting(server: Any, request: Any, client_address: Any) -> None:
        seen.accept(request)
        process_request(server, request, client_address)

    def closing(server: Any, request: Any) -> None:
        shutdown_request(server, request)
        seen.close(request)

    monkeypatch.setattr(dispatch._PooledWSGIServer, "process_request", accepting)
    monkeypatch.setattr(dispatch._PooledWSGIServer, "shutdown_request", closing)
    return seen


_CLIENT_LEFT = threading.Event()  # /after-the-client-left answers once the test's client has reset


@Request.application  # type: ignore[arg-type]
def _app(request: Request) -> Response:
    if request.path == "/echo":
        return Response(request.method.encode() + b":" + request.get_data())
    if request.path == "/fails-midway":

        def body() -> Iterator[bytes]:
            yield b"part"
            raise RuntimeError("the answer fails after its first part")

        return Response(body(), headers={"Content-Length": "100"})
    if request.path == "/after-the-client-left":
        _CLIENT_LEFT.wait(GUARD_SECONDS)
        return Response(b"unheard" * 100)
    if request.path == "/in-parts":  # no length: werkzeug sends it in chunks
        return Response(iter([b"first ", b"second"]))
    return Response(b"ignored")  # the body is left unread


class Served:
    def __init__(self) -> None:
        self.server = dispatch._PooledWSGIServer("127.0.0.1", 0, _app)
        self.address = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(*self.address, timeout=GUARD_SECONDS)

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join()  # the server has closed


@pytest.fixture
def served(connections: Connections) -> Iterator[Served]:
    server = Served()
    try:
        yield server
    finally:
        server.stop()


def _read_to_end(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:  # closed with our request unread
        pass
    return received


class _NothingWaiting:
    """A selector that finds nothing to read: werkzeug's look for what a request left unread,
    which finds the rest of a body only while the next request has not come yet."""

    def __init__(self) -> None:
        self.register = self.close = lambda *args: None

    def select(self, timeout: float | None = None) -> list[Any]:
        return []


@pytest.mark.parametrize(
    ("size", "werkzeug_looks"),
    [(10, False), (1_000_000, True)],
    ids=["small-next-request-later", "large-next-request-at-once"],
)
def test_a_body_the_application_left_unread_is_skipped_before_the_next_request(
    served: Served, connections: Connections, monkeypatch: pytest.MonkeyPatch, size: int, werkzeug_looks: bool
) -> None:
    if not werkzeug_looks:
        monkeypatch.setattr(
            serving, "selectors", SimpleNamespace(DefaultSelector=_NothingWaiting, EVENT_READ=1)
        )
    connection = served.connect()
    connection.request("POST", "/ignores", body=b"x" * size)
    assert connection.getresponse().read() == b"ignored"
    kept = connection.sock
    connection.request("POST", "/echo", body=b"hello")
    assert connection.getresponse().read() == b"POST:hello"
    assert connection.sock is kept and kept is not None
    assert connections.accepted == 1


def test_an_answer_s_headers_and_body_go_out_in_one_send(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """werkzeug wrote them apart: a client woken by the headers waited again for the body."""
    port = served.address[1]
    sent: list[bytes] = []

    def counting(send: Any) -> Any:
        def counted(sock: socket.socket, data: bytes, *args: Any) -> Any:
            if sock.getsockname()[1] == port:  # the server's end
                sent.append(bytes(data))
            return send(sock, data, *args)

        return counted

    for name in ("send", "sendall"):
        monkeypatch.setattr(socket.socket, name, counting(getattr(socket.socket, name)))
    connection = served.connect()
    connection.request("POST", "/echo", body=b"hello")
    assert connection.getresponse().read() == b"POST:hello"
    assert len(sent) == 1 and sent[0].startswith(b"HTTP/1.1 200 ") and sent[0].endswith(b"\r\n\r\nPOST:hello")


def test_a_client_that_expects_100_continue_has_it_before_it_sends_the_body(served: Served) -> None:
    with socket.create_connection(served.address, timeout=GUARD_SECONDS) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        assert received.startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(b"hello")
        while not received.endswith(b"POST:hello") and (chunk := sock.recv(65536)):
            received += chunk
    assert received.count(b"HTTP/1.1 200 ") == 1 and received.endswith(b"POST:hello")


def test_an_answer_of_unknown_length_ends_and_its_connection_serves_the_next(
    served: Served, connections: Connections
) -> None:
    connection = served.connect()
    connection.request("GET", "/in-parts")
    assert connection.getresponse().read() == b"first second"
    connection.request("POST", "/echo", body=b"next")
    assert connection.getresponse().read() == b"POST:next"
    assert connections.accepted == 1


@pytest.mark.parametrize(
    "request_",
    [
        b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        b"POST /echo HTTP/1.0\r\nHost: h\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
        b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
    ],
    ids=["chunked", "client-closes", "http-1.0", "two-lengths", "signed-length"],
)
def test_a_request_whose_end_is_not_certain_is_answered_on_a_connection_then_closed(
    served: Served, request_: bytes
) -> None:
    with socket.create_connection(served.address, timeout=GUARD_SECONDS) as sock:
        sock.sendall(request_)
        answer = _read_to_end(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nConnection: close" in head
    if b"+5" not in request_:  # werkzeug takes no length that is not plain digits
        assert body == b"POST:hello"


def test_an_answer_that_failed_midway_ends_its_connection(served: Served) -> None:
    with socket.create_connection(served.address, timeout=GUARD_SECONDS) as sock:
        sock.sendall(b"GET /fails-midway HTTP/1.1\r\nHost: h\r\n\r\n")
        received = b""
        while not received.endswith(b"part"):
            received += sock.recv(65536)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # closed already
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: h\r\n\r\n")
        received += _read_to_end(sock)
    assert received.startswith(b"HTTP/1.1 200 ")
    assert received.count(b"HTTP/1.1 ") == 1, "a request after the broken answer was answered"


def test_an_idle_connection_is_closed_without_a_word_in_the_log(
    served: Served,
    connections: Connections,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(KeepAliveHandler, "timeout", 1.0)  # ample for the second request to come
    connection = served.connect()
    for _ in range(2):
        connection.request("GET", "/echo")
        assert connection.getresponse().read() == b"GET:"
    assert connection.sock is not None
    assert connection.sock.recv(1) == b""  # the server closed it
    connections.wait_closed(1)
    assert connections.accepted == 1
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []


def test_an_answer_to_a_client_that_left_is_dropped_without_a_word(
    served: Served, connections: Connections, capsys: pytest.CaptureFixture[str]
) -> None:
    """The answer waits in the connection's buffer until it is sent whole: its send failing, the
    connection is closed quietly, as when each part was sent at once."""
    _CLIENT_LEFT.clear()
    client = socket.create_connection(served.address, timeout=GUARD_SECONDS)
    client.sendall(b"GET /after-the-client-left HTTP/1.1\r\nHost: local\r\nContent-Length: 0\r\n\r\n")
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # a reset: the server's send fails
    _CLIENT_LEFT.set()
    connections.wait_closed(1)
    assert "Exception occurred" not in capsys.readouterr().err


def test_a_server_that_stops_ends_the_connections_it_kept(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(KeepAliveHandler, "timeout", None)  # never idle: only the stop ends it
    connection = served.connect()
    connection.request("GET", "/echo")
    connection.getresponse().read()
    assert connection.sock is not None
    served.stop()
    assert connection.sock.recv(1) == b""


def test_a_clients_requests_share_one_connection(local_cloud: LocalCloud, connections: Connections) -> None:
    sns = local_cloud.client("sns")
    for _ in range(3):
        sns.list_topics()
    assert connections.accepted == 1


def test_a_client_whose_idle_connection_the_server_closed_opens_another(
    local_cloud: LocalCloud, connections: Connections, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(KeepAliveHandler, "timeout", 0.1)
    sns = local_cloud.client("sns", retries={"max_attempts": 0})  # an error would surface
    sns.list_topics()
    connections.wait_closed(1)
    assert "Topics" in sns.list_topics()
    assert connections.accepted == 2


def test_a_request_that_outlasts_the_idle_timeout_is_answered_and_its_connection_kept(
    cloud: LocalCloud, connections: Connections, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(cloud, "keep-alive-sleeps", "sleeps")
    # the next request comes well within the idle timeout; each outlasts it
    monkeypatch.setattr(KeepAliveHandler, "timeout", 1.0)
    lambda_ = cloud.client("lambda", retries={"max_attempts": 0})
    accepted = connections.accepted
    for _ in range(2):
        response = lambda_.invoke(FunctionName="keep-alive-sleeps", Payload=b'{"seconds": 1.5}')
        assert "pid" in response["Payload"].read().decode()
    assert connections.accepted == accepted + 1


def test_many_kept_connections_leave_a_worker_for_the_next_request(
    local_cloud: LocalCloud, connections: Connections
) -> None:
    kept = []
    for _ in range(80):  # more than the pool keeps idle
        connection = http.client.HTTPConnection(local_cloud.host, local_cloud.port, timeout=GUARD_SECONDS)
        connection.request("GET", "/moto-api/")
        connection.getresponse().read()
        kept.append(connection)
    assert connections.accepted == 80 and connections.closed == 0
    assert "Topics" in local_cloud.client("sns", read_timeout=GUARD_SECONDS).list_topics()
    for connection in kept:
        connection.close()


def test_s3_metadata_keeps_the_underscores_in_its_names(cloud: LocalCloud) -> None:
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="keep-alive-metadata")
    s3.put_object(Bucket="keep-alive-metadata", Key="k", Body=b"x", Metadata={"with_underscore": "kept"})
    assert s3.head_object(Bucket="keep-alive-metadata", Key="k")["Metadata"] == {"with_underscore": "kept"}
