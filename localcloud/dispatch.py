"""A faster request path for moto's server, without changing what it answers.

- moto's dispatcher lists its own package folder (a directory read and ~130 `isdir` calls) on
  every request, under a process-wide lock; that was a sixth of the server's CPU and serialised
  concurrent requests. The folder does not change while the server runs, so it is read once.
- moto lists a response class's methods (`inspect.getmembers`) on every request to find the
  action; the classes are complete once the local cloud has started, so each is listed once.
- The server starts a thread per connection and waits until it runs, which under load waits for
  the GIL; here each connection is handled by a reused worker (localcloud.thread_pool).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from werkzeug.serving import ThreadedWSGIServer

from localcloud import pins
from localcloud.thread_pool import PooledThread

_backends = pins.resolve("moto.backends")
_list_of_moto_modules = pins.resolve("moto.backends", "list_of_moto_modules")
pins.resolve("moto.moto_server.threaded_moto_server", "ThreadedMotoServer", "_server_entry")
from moto.moto_server.threaded_moto_server import ThreadedMotoServer  # noqa: E402 (checked above)

_responses = pins.resolve("moto.core.responses")
_method_names_from_class = pins.resolve("moto.core.responses", "method_names_from_class")
_werkzeug_app = pins.resolve("moto.moto_server.werkzeug_app")
pins.resolve("moto.moto_server.werkzeug_app", "MotoRequestHandler")
pins.resolve("moto.moto_server.werkzeug_app", "DomainDispatcherApplication")


@cache
def _modules() -> tuple[str, ...]:
    return tuple(_list_of_moto_modules())


def list_of_moto_modules() -> Iterable[str]:
    return _modules()


@cache
def method_names_from_class(clazz: type) -> frozenset[str]:
    return frozenset(_method_names_from_class(clazz))


def install() -> None:
    """Idempotent: moto's dispatcher reads the module list, and each response class, once."""
    _backends.list_of_moto_modules = list_of_moto_modules
    _responses.method_names_from_class = method_names_from_class


class _PooledWSGIServer(ThreadedWSGIServer):
    def process_request(self, request: Any, client_address: Any) -> None:
        PooledThread(target=self.process_request_thread, args=(request, client_address)).start()


class MotoServer(ThreadedMotoServer):
    """moto's ThreadedMotoServer: the same application and request handler, pooled connections."""

    def _server_entry(self) -> None:
        app = _werkzeug_app.DomainDispatcherApplication(_werkzeug_app.create_backend_app)
        self._server = _PooledWSGIServer(
            self._ip_address, self._port, app, handler=_werkzeug_app.MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
