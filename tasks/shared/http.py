"""A small JSON-over-HTTP helper (standard library only) for the external API clients.

It sends one request and returns the status and decoded body; it never retries: retries are
the workflow's job (Retry in the ASL), so each client only turns an answer into a named error.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT = 10.0


class HttpUnreachable(OSError):
    """No answer: connection refused, DNS failure, timeout."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: Any  # decoded JSON, or the raw text when the body is not JSON

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def request_json(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Response:
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return _response(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        return _response(error.code, dict(error.headers or {}), error.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise HttpUnreachable(f"{method} {url}: {error}") from None


def _response(status: int, headers: dict[str, str], raw: bytes) -> Response:
    text = raw.decode("utf-8", errors="replace")
    try:
        body: Any = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = text
    return Response(status, {k.lower(): v for k, v in headers.items()}, body)
