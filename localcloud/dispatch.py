"""A faster request path for moto's server, without changing what it answers.

- moto's dispatcher lists its own package folder (a directory read and ~130 `isdir` calls) on
  every request, under a process-wide lock; that was a sixth of the server's CPU and serialised
  concurrent requests. The folder does not change while the server runs, so it is read once.
- moto lists a response class's methods (`inspect.getmembers`) on every request to find the
  action; the classes are complete once the local cloud has started, so each is listed once.
- moto's response serialiser asks a chain of alias providers, for every member of every
  structure it writes, under which names the value could be found (the member's, its snake_case,
  its model name, its name without the structure's prefix or the value's class name, its class's
  `Meta` aliases). The names depend only on the member's shape, its structure and the value's
  class, so each combination is asked once.
- moto finds a request's service by matching its host against every service's URL patterns, on
  every request; the answer for a host does not change, so each host is matched once.
- The server starts a thread per connection and waits until it runs, which under load waits for
  the GIL; here each connection is handled by a reused worker (localcloud.thread_pool).
- The server closes the connection after every answer, so every request paid for a new one;
  here a connection stays open for the client's next request (localcloud.keep_alive).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from localcloud import pins
from localcloud.keep_alive import KeepAliveServer
from localcloud.loopback_only import LoopbackOnly
from localcloud.thread_pool import PooledThread

_backends = pins.resolve("moto.backends")
_list_of_moto_modules = pins.resolve("moto.backends", "list_of_moto_modules")
pins.resolve("moto.moto_server.threaded_moto_server", "ThreadedMotoServer", "_server_entry")
from moto.moto_server.threaded_moto_server import ThreadedMotoServer  # noqa: E402 (checked above)

_responses = pins.resolve("moto.core.responses")
_method_names_from_class = pins.resolve("moto.core.responses", "method_names_from_class")
_werkzeug_app = pins.resolve("moto.moto_server.werkzeug_app")
_dispatcher = pins.resolve("moto.moto_server.werkzeug_app", "DomainDispatcherApplication")
pins.resolve("moto.moto_server.werkzeug_app", "DomainDispatcherApplication", "get_backend_for_host")
_picker = pins.resolve("moto.core.serialize", "XFormedAttributePicker")
pins.resolve("moto.core.serialize", "XFormedAttributePicker", "get_possible_keys")


@cache
def _modules() -> tuple[str, ...]:
    return tuple(_list_of_moto_modules())


def list_of_moto_modules() -> Iterable[str]:
    return _modules()


@cache
def method_names_from_class(clazz: type) -> frozenset[str]:
    return frozenset(_method_names_from_class(clazz))


def _names_once(get_possible_keys: Any) -> Any:
    # (value class, shape, its structure, member, providers) -> the names; the objects are kept with
    # them so that a key's ids stay theirs (the service models, and with them the shapes, live on)
    known: dict[tuple[Any, ...], tuple[Any, Any, Any, tuple[str, ...]]] = {}

    def possible_keys(self: Any, context: Any) -> Any:
        shape, providers = context.shape, self.alias_providers
        parent = getattr(shape, "parent", None)
        key = (type(context.obj), id(shape), id(parent), context.key, id(providers))
        entry = known.get(key)
        if entry is None:
            names = tuple(get_possible_keys(self, context))
            entry = known[key] = (shape, parent, providers, names)
        return entry[3]

    possible_keys.__localcloud_original__ = get_possible_keys  # type: ignore[attr-defined]
    return possible_keys


def _host_once(get_backend_for_host: Any) -> Any:
    known: dict[str | None, Any] = {}

    def backend_for_host(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = get_backend_for_host(self, host)
        return known[host]

    backend_for_host.__localcloud_original__ = get_backend_for_host  # type: ignore[attr-defined]
    return backend_for_host


def install() -> None:
    """Idempotent: moto's dispatcher reads the module list, each response class, each host and
    each serialised member's names once."""
    _backends.list_of_moto_modules = list_of_moto_modules
    _responses.method_names_from_class = method_names_from_class
    _picker.get_possible_keys = _names_once(pins.original(_picker.get_possible_keys))
    _dispatcher.get_backend_for_host = _host_once(pins.original(_dispatcher.get_backend_for_host))


class _BindFailed(Exception):
    """The server's port could not be bound (the OSError is its argument)."""


class _PooledWSGIServer(KeepAliveServer):
    def server_bind(self) -> None:
        # werkzeug prints an OSError here and exits the thread, which moto's start() then waits
        # for for ever: raised as another exception, it reaches MotoServer.
        try:
            super().server_bind()
        except OSError as error:
            raise _BindFailed(error) from error

    def process_request(self, request: Any, client_address: Any) -> None:
        PooledThread(target=self.process_request_thread, args=(request, client_address)).start()


class MotoServer(ThreadedMotoServer):
    """moto's ThreadedMotoServer: the same application and request handler, its connections kept
    open and each served by a pooled worker, no request from a web page of another site
    (localcloud.loopback_only); a port it cannot bind (another server took it) fails start() with
    the OSError."""

    _bind_error: OSError | None = None

    def start(self) -> None:
        super().start()
        if self._bind_error is not None:
            raise self._bind_error

    def _server_entry(self) -> None:
        app = LoopbackOnly(
            _werkzeug_app.DomainDispatcherApplication(_werkzeug_app.create_backend_app), self._ip_address
        )
        try:
            self._server = _PooledWSGIServer(self._ip_address, self._port, app)
        except _BindFailed as failed:
            self._bind_error = failed.args[0]
            return
        finally:
            self._server_ready_event.set()
        self._server.serve_forever()
