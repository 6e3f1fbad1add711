"""Aviasales (Travelpayouts) Data API, v2 month matrix: the prices of each day of a month.

    GET {base}/v2/prices/month-matrix?currency=rub&origin=LED&destination=KZN&month=2026-12-01
        &show_to_affiliates=true          header X-Access-Token: <token>
        -> {"success": true, "data": [{"origin", "destination", "depart_date", "return_date",
            "number_of_changes", "value", "gate", "trip_class", "found_at", "duration",
            "distance", "actual", "show_to_affiliates"}], "error": null}

The token travels in the header. Failed answers become named errors, never an empty result: AviasalesUnavailable (5xx, 429, no answer) is worth retrying, AviasalesRejected is not.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from tasks.shared.errors import TaskError
from tasks.shared.http import HttpUnreachable, request_json

DEFAULT_URL = "https://api.travelpayouts.com"


class AviasalesUnavailable(Exception):
    """No answer, 5xx or 429: try again later."""


class AviasalesRejected(TaskError):
    """The API refused the request (token, parameters) or answered something else than prices."""


@dataclass(frozen=True)
class AviasalesClient:
    token: str
    base_url: str = DEFAULT_URL
    timeout: float = 10.0

    def month_matrix(
        self,
        origin: str,
        destination: str,
        month: str,
        currency: str = "rub",
        show_to_affiliates: bool = True,
    ) -> list[dict[str, Any]]:
        """Prices of each day of `month` ("YYYY-MM" or "YYYY-MM-DD"), grouped by number of changes."""
        query = {
            "currency": currency,
            "origin": origin,
            "destination": destination,
            "month": month if len(month) == 10 else f"{month}-01",
            "show_to_affiliates": str(show_to_affiliates).lower(),
        }
        url = f"{self.base_url.rstrip('/')}/v2/prices/month-matrix?{urllib.parse.urlencode(query)}"
        try:
            answer = request_json("GET", url, headers={"X-Access-Token": self.token}, timeout=self.timeout)
        except HttpUnreachable as error:
            raise AviasalesUnavailable(str(error)) from None
        where = f"month-matrix {origin}-{destination} {month}"
        if answer.status == 429 or answer.status >= 500:
            raise AviasalesUnavailable(f"{where}: HTTP {answer.status}")
        body = answer.body
        if answer.status >= 400 or not isinstance(body, dict) or not body.get("success"):
            reason = body.get("error") if isinstance(body, dict) else str(body)[:200]
            raise AviasalesRejected(f"{where}: HTTP {answer.status}: {reason}")
        data = body.get("data")
        if not isinstance(data, list):
            raise AviasalesRejected(f"{where}: no data list in the answer")
        return data
