"""The local cloud takes requests from this machine's programs and pages only, never from a web page
of another site.

It checks no credentials, and it runs the code of the functions deployed into it on this machine.
A page of any site the user visits can send it requests: directly (a form, a `no-cors` fetch: the
browser names the page in `Origin`; an image, a script or a link: a GET without `Origin`, which
the browser marks `Sec-Fetch-Site: cross-site`, and moto acts on some, such as
`/moto-api/recorder/replay-recording`), or as the same origin once its own name resolves to
127.0.0.1 (DNS rebinding: the browser then sends the site's name as `Host`). Each is refused
with 403 before moto sees it. moto's own answer to CORS (any origin allowed) then only ever
reaches pages of this machine, such as a front end served from `localhost:3000`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

# a leading dot takes the name and its subdomains: S3's virtual-host style is <bucket>.localhost
LOOPBACK_NAMES = ("127.0.0.1", ".localhost")
_LOOPBACK_ORIGIN_HOSTS = ("127.0.0.1", "::1", "localhost")


def loopback_origin(origin: str) -> bool:
    """A page served from this machine (any port); "null" (a sandboxed frame, a file) is not."""
    host = urlsplit(origin).hostname or ""
    return host in _LOOPBACK_ORIGIN_HOSTS or host.endswith(".localhost")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"


class LoopbackOnly:
    """WSGI middleware: a request whose Host is not one of this machine's names, or whose Origin (a
    cross-site GET's Referer) is a page of another site, is answered 403 and goes no further."""

    def __init__(self, app: Callable[..., Iterable[bytes]], listening_on: str) -> None:
        self.app = app
        self.names = list(dict.fromkeys((*LOOPBACK_NAMES, listening_on)))
        self.shown = ", ".join(name.lstrip(".") for name in self.names) + " and *.localhost"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None and environ.get("HTTP_SEC_FETCH_SITE") == "cross-site":
            # a GET of another site's page names it in Referer, unless that page hides it
            origin = _origin_of(environ.get("HTTP_REFERER") or "null")
        try:
            get_host(environ, self.names)
        except SecurityError:
            return self._refuse(
                start_response,
                f"Host {environ.get('HTTP_HOST')!r} is not this machine's name: the local cloud answers "
                f"to {self.shown} (a web page whose name was made to resolve to 127.0.0.1?)",
            )
        if origin is not None and not loopback_origin(origin):
            return self._refuse(
                start_response,
                f"a web page of {origin} may not use the local cloud: only programs and pages of "
                "this machine may",
            )
        return self.app(environ, start_response)

    @staticmethod
    def _refuse(start_response: Callable[..., Any], message: str) -> Iterable[bytes]:
        body = message.encode()
        start_response(
            "403 Forbidden",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]
