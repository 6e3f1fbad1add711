"""Deal rules: parsed from configuration, evaluated as a pure function, summarised in one alert."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tasks.flight_deals.deals import (
    DEFAULT_RULES_JSON,
    SHOWN_IN_ALERT,
    DealRule,
    find_deals,
    parse_rules,
    summary,
)


def record(
    n: int, cost: float, gate: str = "Aeroflot", route: str = "LED-KZN", currency: str = "rub"
) -> dict[str, Any]:
    origin, destination = route.split("-")
    return {
        "record_id": f"{n:032x}",
        "origin": origin,
        "destination": destination,
        "depart_date": "2026-12-03",
        "cost": cost,
        "currency": currency,
        "gate": gate,
        "found_at": "2026-12-01T10:00:00+03:00",
        "number_of_changes": n % 3,
    }


def test_the_default_rule_is_the_seeds_cheap_aeroflot_ticket() -> None:
    [rule] = parse_rules(DEFAULT_RULES_JSON)
    assert rule == DealRule(
        name="aeroflot-under-5000", max_cost=Decimal(5000), airline="Aeroflot", currency="rub"
    )
    assert rule.matches(record(1, 4999.99))
    # the seed's 5000 is roubles: 4,999 dollars is no deal (the producer takes --currency usd)
    assert rule.matches(record(1, 4999, currency="rub"))
    assert not rule.matches(record(1, 4999, currency="usd"))
    assert rule.matches(record(1, 100, gate="aeroflot"))  # airline names are not case-sensitive
    assert not rule.matches(record(1, 5000))  # strictly under the threshold
    assert not rule.matches(record(1, 100, gate="S7"))


def test_rules_filter_on_threshold_airline_and_route() -> None:
    rules = parse_rules(
        '[{"name": "kzn", "max_cost": 3000, "origin": "LED", "destination": "KZN"},'
        ' {"name": "s7-eur", "max_cost": 50, "airline": "S7", "currency": "EUR"}]'  # either case
    )
    records = [
        record(1, 2500),  # kzn
        record(2, 2500, route="LED-MOW"),  # wrong route
        record(3, 3500),  # too dear
        record(4, 40, gate="S7", route="MOW-AER", currency="eur"),  # s7-eur
        record(5, 40, gate="S7", route="MOW-AER", currency="rub"),  # wrong currency
        record(6, 1000, gate="S7"),  # kzn, whatever the airline
    ]
    deals = find_deals(records, rules)
    assert [(d["record_id"][-1], d["rule"]) for d in deals] == [("4", "s7-eur"), ("6", "kzn"), ("1", "kzn")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "non-empty JSON array"),
        ('[{"airline": "S7"}]', "deal rules[0]: max_cost is required"),
        ('[{"max_cost": 0}]', "deal rules[0].max_cost: must be positive"),
        ('[{"max_cost": 10, "airlines": "S7"}]', 'unknown fields ["airlines"]'),
        (
            '[{"max_cost": 10, "currency": "roubles"}]',
            'deal rules[0].currency: "roubles" is no currency code',
        ),
    ],
)
def test_bad_rules_are_refused_with_the_rule_and_field(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_rules(text)


def test_the_summary_lists_the_cheapest_deals_and_counts_the_rest() -> None:
    deals = find_deals(
        [record(n, 1000 + n) for n in range(SHOWN_IN_ALERT + 5)], parse_rules(DEFAULT_RULES_JSON)
    )
    subject, message = summary("batch-1", deals)
    assert subject == f"{SHOWN_IN_ALERT + 5} flight deals found"
    lines = message.splitlines()
    assert lines[0] == f"{SHOWN_IN_ALERT + 5} deals in batch batch-1:"
    assert lines[1] == "- LED->KZN 2026-12-03 Aeroflot 1000 RUB (direct; aeroflot-under-5000)"
    assert lines[-1] == "... and 5 more"
    assert summary("b", deals[:1])[0] == "1 flight deal found"


def test_a_route_rule_needs_both_its_origin_and_its_destination() -> None:
    [rule] = parse_rules('[{"name": "led-kzn", "max_cost": 3000, "origin": "LED", "destination": "KZN"}]')
    assert rule.matches(record(1, 2500))
    assert not rule.matches(record(2, 2500, route="MOW-KZN"))  # another origin
    assert not rule.matches(record(3, 2500, route="LED-MOW"))  # another destination


def test_a_deal_matching_several_rules_is_named_after_the_first() -> None:
    rules = parse_rules(
        '[{"name": "kzn", "max_cost": 3000, "destination": "KZN"}, {"name": "cheap", "max_cost": 5000}]'
    )
    assert [d["rule"] for d in find_deals([record(1, 2500), record(2, 4000)], rules)] == ["kzn", "cheap"]


def test_a_summary_of_exactly_the_deals_shown_promises_no_more() -> None:
    deals = find_deals([record(n, 1000 + n) for n in range(SHOWN_IN_ALERT)], parse_rules(DEFAULT_RULES_JSON))
    lines = summary("batch-1", deals)[1].splitlines()
    assert len(lines) == 1 + SHOWN_IN_ALERT and "more" not in lines[-1]
