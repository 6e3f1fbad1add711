"""Deal rules and the deals they find: pure functions.

A rule is configuration, not code: a price threshold, optionally an airline (the record's
`gate`), a route (origin and/or destination) and a currency. A record is a deal when it matches
any rule. Rules come as JSON, e.g. from an SSM parameter:

    [{"name": "aeroflot-cheap", "max_cost": 5000, "airline": "Aeroflot", "currency": "rub"},
     {"name": "led-kzn", "max_cost": 3000, "origin": "LED", "destination": "KZN", "currency": "rub"}]

A threshold is a number of the fare's currency: a rule without `currency` takes 5000 dollars for
5000 roubles, so every rule here names one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# The rule used when none is configured: Aeroflot under 5,000 roubles (the original's
# `"cost" < 5000 and "gate" = 'Aeroflot'`, over fares its producer asked in roubles).
DEFAULT_RULES_JSON = (
    '[{"name": "aeroflot-under-5000", "max_cost": 5000, "airline": "Aeroflot", "currency": "rub"}]'
)
SHOWN_IN_ALERT = 10  # an SMS/email summary, not a dump: the cheapest few, then a count


@dataclass(frozen=True)
class DealRule:
    name: str
    max_cost: Decimal  # a deal costs strictly less
    airline: str | None = None
    origin: str | None = None
    destination: str | None = None
    currency: str | None = None  # lower case, as records carry it

    def matches(self, record: dict[str, Any]) -> bool:
        return (
            Decimal(str(record["cost"])) < self.max_cost
            and (self.airline is None or record["gate"].casefold() == self.airline.casefold())
            and (self.origin is None or record["origin"] == self.origin)
            and (self.destination is None or record["destination"] == self.destination)
            and (self.currency is None or record["currency"] == self.currency)
        )


def parse_rules(text: str) -> list[DealRule]:
    """Rules from JSON; ValueError names the rule and field that is wrong."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"deal rules: not JSON ({error})") from None
    if not isinstance(raw, list) or not raw:
        raise ValueError("deal rules: expected a non-empty JSON array")
    rules = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "max_cost" not in item:
            raise ValueError(f"deal rules[{i}]: max_cost is required")
        unknown = item.keys() - {"name", "max_cost", "airline", "origin", "destination", "currency"}
        if unknown:
            raise ValueError(f"deal rules[{i}]: unknown fields {json.dumps(sorted(unknown))}")
        max_cost = Decimal(str(item["max_cost"]))
        if max_cost <= 0:
            raise ValueError(f"deal rules[{i}].max_cost: must be positive")
        currency = item.get("currency")
        if currency is not None and not (isinstance(currency, str) and re.fullmatch("[A-Za-z]{3}", currency)):
            raise ValueError(
                f"deal rules[{i}].currency: {json.dumps(currency)} is no currency code, such as rub"
            )
        rules.append(
            DealRule(
                name=str(item.get("name") or f"rule-{i + 1}"),
                max_cost=max_cost,
                airline=item.get("airline"),
                origin=item.get("origin"),
                destination=item.get("destination"),
                # "RUB" or "rub": records carry it lower case (records.from_month_matrix)
                currency=currency.lower() if currency else None,
            )
        )
    return rules


def find_deals(records: Iterable[dict[str, Any]], rules: list[DealRule]) -> list[dict[str, Any]]:
    """Records matching any rule, cheapest first, each with the name of the first rule it matched."""
    deals = []
    for record in records:
        rule = next((r for r in rules if r.matches(record)), None)
        if rule is not None:
            deals.append({**record, "rule": rule.name})
    return sorted(deals, key=lambda d: (Decimal(str(d["cost"])), d["record_id"]))


def describe(deal: dict[str, Any]) -> str:
    changes = deal.get("number_of_changes", 0)
    stops = "direct" if changes == 0 else f"{changes} stop{'s' if changes > 1 else ''}"
    return (
        f"{deal['origin']}->{deal['destination']} {deal['depart_date']} {deal['gate']} "
        f"{deal['cost']} {deal['currency'].upper()} ({stops}; {deal['rule']})"
    )


def summary(batch_id: str, deals: list[dict[str, Any]]) -> tuple[str, str]:
    """Subject and message of the one alert a batch with deals raises."""
    count = len(deals)
    subject = f"{count} flight deal{'s' if count != 1 else ''} found"
    lines = [f"{count} deal{'s' if count != 1 else ''} in batch {batch_id}:"]
    lines += [f"- {describe(d)}" for d in deals[:SHOWN_IN_ALERT]]
    if count > SHOWN_IN_ALERT:
        lines.append(f"... and {count - SHOWN_IN_ALERT} more")
    return subject, "\n".join(lines)
