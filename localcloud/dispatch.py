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
  class, so each combination is asked once. With the names known, a member's value is read
  under them directly, without the context object and dotted path moto builds for every member
  (12-18 µs of a DescribeExecution's 270 µs in the server).
- moto matches a request against its service's operations each time the response asks for its
  action, three to five times a request, and spells the action's snake_case name out each time;
  each request is matched once, each name spelled once (5-24 µs a request).
- moto's Flask application runs in debug mode, in which Flask builds a class for every request
  to explain a file sent as a form field; a request without form fields needs none (8-14 µs).
- werkzeug assembles a request's root URL (quoted, then converted to an IRI) for every request,
  for moto to rebuild the request's URL from; the root of a scheme, host and path is made once
  (10 µs).
- moto finds a request's service by matching its host against every service's URL patterns, on
  every request; the answer for a host does not change, so each host is matched once.
- The server starts a thread per connection and waits until it runs, which under load waits for
  the GIL; here each connection is handled by a reused worker (localcloud.thread_pool).
- The server closes the connection after every answer, so every request paid for a new one;
  here a connection stays open for the client's next request, and an answer's headers and body
  go out in one send, not two (localcloud.keep_alive).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache
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
_base_response = pins.resolve("moto.core.responses", "BaseResponse")
pins.resolve("moto.core.responses", "BaseResponse", "_get_action")
pins.resolve("moto.core.responses", "camelcase_to_underscores")
# moto's server's own Flask and werkzeug, whose per-request work two hooks below spare
_flask_debug = pins.resolve("flask.debughelpers")
pins.resolve("flask.debughelpers", "attach_enctype_error_multidict")
_werkzeug_request = pins.resolve("werkzeug.sansio.request")
pins.resolve("werkzeug.sansio.request", "get_current_url")
_picker = pins.resolve("moto.core.serialize", "XFormedAttributePicker")
pins.resolve("moto.core.serialize", "XFormedAttributePicker", "get_possible_keys")
_serializer = pins.resolve("moto.core.serialize", "ResponseSerializer")
pins.resolve("moto.core.serialize", "ResponseSerializer", "get_value")
_value_under = pins.resolve("moto.core.serialize", "get_value")
_MISSING = pins.resolve("moto.core.serialize", "MISSING")


@cache
def _modules() -> tuple[str, ...]:
    return tuple(_list_of_moto_modules())


def list_of_moto_modules() -> Iterable[str]:
    return _modules()


@cache
def method_names_from_class(clazz: type) -> frozenset[str]:
    return frozenset(_method_names_from_class(clazz))


# (value class, shape, its structure, member, providers) -> the names; the objects are kept with
# them so that a key's ids stay theirs (the service models, and with them the shapes, live on)
_known_names: dict[tuple[Any, ...], tuple[Any, Any, Any, tuple[str, ...]]] = {}


def _names_key(value: Any, shape: Any, member: str, providers: Any) -> tuple[Any, ...]:
    return (type(value), id(shape), id(getattr(shape, "parent", None)), member, id(providers))


def _names_once(get_possible_keys: Any) -> Any:
    def possible_keys(self: Any, context: Any) -> Any:
        shape, providers = context.shape, self.alias_providers
        key = _names_key(context.obj, shape, context.key, providers)
        entry = _known_names.get(key)
        if entry is None:
            names = tuple(get_possible_keys(self, context))
            entry = _known_names[key] = (shape, getattr(shape, "parent", None), providers, names)
        return entry[3]

    possible_keys.__localcloud_original__ = get_possible_keys  # type: ignore[attr-defined]
    return possible_keys


def _picked_by_known_names(get_value: Any) -> Any:
    # For every member it writes, the serialiser makes a context object and the member's dotted
    # path, for the picker to find the value under the member's names and then apply a response
    # transformer whose path matches. With no transformer, and the names known, the value is the
    # first found under them; anything else (names not yet known, another picker) goes moto's way.
    def picked(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if type(picker) is _picker and not picker.response_transformers:
            entry = _known_names.get(_names_key(value, shape, key, picker.alias_providers))
            if entry is not None:
                for name in entry[3]:
                    found = _value_under(value, name, _MISSING)
                    if found is not _MISSING:
                        return found
                return None
        return get_value(self, value, key, shape)

    picked.__localcloud_original__ = get_value  # type: ignore[attr-defined]
    return picked


def _host_once(get_backend_for_host: Any) -> Any:
    known: dict[str | None, Any] = {}

    def backend_for_host(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = get_backend_for_host(self, host)
        return known[host]

    backend_for_host.__localcloud_original__ = get_backend_for_host  # type: ignore[attr-defined]
    return backend_for_host


def _action_once(get_action: Any) -> Any:
    # moto matches the request against the service's operations each time a response asks for its
    # action: three to five times a request (metering, parameters, dispatch, serialiser). The
    # request does not change meanwhile, so a match found is kept with the response, which lives
    # for one request; the operation's URI parameters are handed out afresh, as moto does.
    def _get_action(self: Any) -> Any:
        request = self.normalized_request
        found = self.__dict__.get("_localcloud_action")
        if found is not None and found[0] is request:
            self.uri_match = dict(found[2])
            return found[1]
        action = get_action(self)
        if action is not None:  # none found leaves uri_match as it was: asked again, as moto does
            self._localcloud_action = (request, action, dict(self.uri_match))
        return action

    _get_action.__localcloud_original__ = get_action  # type: ignore[attr-defined]
    return _get_action


def _spelled_once(camelcase_to_underscores: Any) -> Any:
    # the action's snake_case name, spelled out character by character on every request; bounded,
    # as a service such as Timestream takes its action from a header as sent
    spelled = lru_cache(maxsize=4096)(camelcase_to_underscores)
    spelled.__localcloud_original__ = camelcase_to_underscores  # type: ignore[attr-defined]
    return spelled


def _files_error_only_for_forms(attach: Any) -> Any:
    # moto's Flask application runs in debug mode, in which Flask builds a class for every request
    # without files, whose only change is the error raised for a missing file that was sent as a
    # form field instead. With no form field at all (any JSON request) it raises the KeyError it caught.
    def attach_enctype_error_multidict(request: Any) -> None:
        if request.form:
            attach(request)

    attach_enctype_error_multidict.__localcloud_original__ = attach  # type: ignore[attr-defined]
    return attach_enctype_error_multidict


def _roots_once(get_current_url: Any) -> Any:
    # moto rebuilds each request's URL from werkzeug's root URL (scheme, host, the application's
    # path), which werkzeug quotes and converts to an IRI for every request; the root of the same
    # parts is the same text (the host is one of this machine's few names: localcloud.loopback_only)
    roots = lru_cache(maxsize=256)(get_current_url)

    def current_url(*args: Any, **kwargs: Any) -> str:
        if len(args) <= 3 and not kwargs:  # (scheme, host, root_path): a root
            return str(roots(*args))
        return str(get_current_url(*args, **kwargs))

    current_url.__localcloud_original__ = get_current_url  # type: ignore[attr-defined]
    return current_url


def install() -> None:
    """Idempotent: moto's dispatcher reads the module list, each response class, each host and
    each serialised member's names once, and each request's action once."""
    _backends.list_of_moto_modules = list_of_moto_modules
    _responses.method_names_from_class = method_names_from_class
    _picker.get_possible_keys = _names_once(pins.original(_picker.get_possible_keys))
    _serializer.get_value = _picked_by_known_names(pins.original(_serializer.get_value))
    _dispatcher.get_backend_for_host = _host_once(pins.original(_dispatcher.get_backend_for_host))
    _base_response._get_action = _action_once(pins.original(_base_response._get_action))
    _responses.camelcase_to_underscores = _spelled_once(pins.original(_responses.camelcase_to_underscores))
    _flask_debug.attach_enctype_error_multidict = _files_error_only_for_forms(
        pins.original(_flask_debug.attach_enctype_error_multidict)
    )
    _werkzeug_request.get_current_url = _roots_once(pins.original(_werkzeug_request.get_current_url))


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
