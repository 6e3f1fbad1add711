"""Ticket ranking's pure logic: seat quality, scores, the order of a ranking, new deals, which run
is current for which dates."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tasks.ticket_ranking import coverage
from tasks.ticket_ranking.ranking import (
    DEAL_MIN_SCORE,
    THEATRES_DIR,
    UnknownTheatre,
    deals_message,
    load_theatre,
    new_deals,
    parse_theatre,
    rank,
    same_section,
    score,
    seat_quality,
)

# A small theatre whose numbers are easy to follow: row A is 0.9, row E 0.7; seats 1-2 of rows
# D-E sit behind a pillar (penalty 0.35). No side penalty, so a seat's quality is its row's.
THEATRE = parse_theatre(
    {
        "theatre_id": "test-house",
        "name": "Test House",
        "reference_price": 200,
        "sections": [
            {
                "name": "Orchestra",
                "aliases": ["ORCH"],
                "rows": "A-E",
                "seats_per_row": 10,
                "front_quality": 0.9,
                "back_quality": 0.7,
                "side_penalty": 0.0,
                "obstructions": [{"rows": "D-E", "seats": "1-2", "penalty": 0.35, "reason": "pillar"}],
            }
        ],
    }
)


def listing(
    listing_id: str, row: str, seats: list[int], price: float, notes: list[str] | None = None
) -> dict[str, Any]:
    return {
        "listing_id": listing_id,
        "section": "Orchestra",
        "row": row,
        "seats": seats,
        "quantity": len(seats),
        "price": price,
        "face_value": 150.0,
        "notes": notes or [],
    }


def test_a_cheaper_obstructed_seat_loses_to_a_dearer_clear_one() -> None:
    # Row D, seats 1-2: quality 0.75 - 0.35 = 0.40 at $150.
    # Row D, seats 5-6: quality 0.75, clear, at $240 (60% dearer).
    cheap_obstructed = listing("cheap", "D", [1, 2], 150.0)
    dear_clear = listing("clear", "D", [5, 6], 240.0)

    ranking = rank([cheap_obstructed, dear_clear], THEATRE)

    assert [r["listing_id"] for r in ranking] == ["clear", "cheap"]
    clear, cheap = ranking
    assert clear["score"] == score(0.75, 240.0, 200) == pytest.approx(46.88)
    assert cheap["score"] == score(0.40, 150.0, 200) == pytest.approx(21.33)
    assert cheap["obstructed"] is True and cheap["reasons"] == ["pillar"]
    assert clear["obstructed"] is False


def test_without_the_obstruction_the_cheaper_seat_wins() -> None:
    # The same two prices in the same row, both clear: value for money decides.
    ranking = rank([listing("cheap", "D", [5, 6], 150.0), listing("dear", "D", [7, 8], 240.0)], THEATRE)
    assert [r["listing_id"] for r in ranking] == ["cheap", "dear"]


def test_a_broker_note_counts_as_an_obstruction_where_our_map_has_none() -> None:
    quality = seat_quality(THEATRE, "Orchestra", "B", [5], ["Partial view of stage right"])
    assert quality.obstructed is True
    assert quality.value == pytest.approx(0.85 - 0.25)
    assert quality.reasons == ("Partial view of stage right",)


def test_sections_are_found_by_alias_and_case() -> None:
    assert seat_quality(THEATRE, "orch", "a", [5], []).value == pytest.approx(0.9)


def test_a_section_is_searched_by_its_name_or_an_alias_in_any_case() -> None:
    assert same_section(THEATRE, "ORCH", "orchestra") and same_section(THEATRE, "Orchestra", "Orch")
    assert not same_section(THEATRE, "Orchestra", "Mezzanine")
    # a section our map lacks: by its name alone
    assert same_section(THEATRE, "Standing Room", "standing room")
    assert not same_section(THEATRE, "Standing Room", "Orchestra")
    assert not same_section(THEATRE, "Orchestra", "Standing Room")


def test_an_unmapped_seat_is_ranked_as_poor_and_says_why() -> None:
    quality = seat_quality(THEATRE, "Standing Room", "Z", [], [])
    assert quality.value == pytest.approx(0.4)
    assert quality.reasons == ("unmapped seat Standing Room Z",)


def test_ties_are_broken_by_price_then_quality_then_listing_id() -> None:
    # Same score (quality 0.9 at $200 and 0.9 at $200): listing id decides, whatever the input order.
    same = [listing("b", "A", [5], 200.0), listing("a", "A", [6], 200.0)]
    assert [r["listing_id"] for r in rank(same, THEATRE)] == ["a", "b"]
    assert [r["listing_id"] for r in rank(list(reversed(same)), THEATRE)] == ["a", "b"]
    assert [r["rank"] for r in rank(same, THEATRE)] == [1, 2]


def test_equal_scores_go_to_the_cheaper_ticket_then_the_better_seat() -> None:
    # Row C (0.8) at $128 and row A (0.9) at $162 both score 100.0: the cheaper one first.
    same_score = [listing("a", "A", [5], 162.0), listing("c", "C", [5], 128.0)]
    assert [(r["listing_id"], r["score"]) for r in rank(same_score, THEATRE)] == [("c", 100.0), ("a", 100.0)]
    # Rows B (0.85) and A (0.9) at the same price whose scores round alike (0.04): the better seat first.
    same_price = [listing("a", "B", [5], 400_000.0), listing("b", "A", [5], 400_000.0)]
    assert [(r["listing_id"], r["score"]) for r in rank(same_price, THEATRE)] == [("b", 0.04), ("a", 0.04)]


def test_a_listing_is_obstructed_when_any_of_its_seats_is_and_the_worst_penalty_applies() -> None:
    # Row D, seats 2-3: seat 2 is behind the pillar (0.35); a broker's note (0.25) does not add to it.
    quality = seat_quality(THEATRE, "Orchestra", "D", [2, 3], ["Obstructed view"])
    assert quality.obstructed is True
    assert quality.value == pytest.approx(0.75 - 0.35)
    assert quality.reasons == ("pillar", "Obstructed view")


# The same house with a side penalty: a seat at either end of a row loses 0.2, the centre nothing.
SIDED = parse_theatre(
    {
        "theatre_id": "sided-house",
        "name": "Sided House",
        "reference_price": 200,
        "sections": [
            {"name": "Orchestra", "rows": "A-E", "seats_per_row": 11, "front_quality": 0.9,
             "back_quality": 0.7, "side_penalty": 0.2, "obstructions": []},
        ],
    }
)  # fmt: skip


def test_seats_lose_quality_towards_either_end_of_the_row_alike() -> None:
    def quality(seat: int) -> float:
        return seat_quality(SIDED, "Orchestra", "A", [seat], []).value

    assert quality(6) == pytest.approx(0.9)  # the centre of 11 seats
    assert quality(1) == quality(11) == pytest.approx(0.7)
    assert quality(3) == quality(9) < quality(6)


def test_undisclosed_seats_are_taken_to_be_in_the_middle_of_the_row() -> None:
    assert seat_quality(SIDED, "Orchestra", "A", [], []).value == pytest.approx(0.9)
    middle_of_d = seat_quality(THEATRE, "Orchestra", "D", [], [])  # seats 1-2 of row D are behind a pillar
    assert middle_of_d.obstructed is False and middle_of_d.value == pytest.approx(0.75)


def test_a_row_our_map_lacks_is_ranked_as_poor_not_refused() -> None:
    quality = seat_quality(THEATRE, "Orchestra", "Z", [5], [])
    assert quality.value == pytest.approx(0.4)
    assert quality.reasons == ("unmapped seat Orchestra Z",)
    noted = seat_quality(THEATRE, "Standing Room", "Z", [], ["Restricted view"])
    assert noted.obstructed is True and noted.value == pytest.approx(0.4 - 0.25)
    assert noted.reasons == ("unmapped seat Standing Room Z", "Restricted view")


def test_a_free_or_broken_price_never_tops_the_ranking() -> None:
    for price in (0.0, -5.0, math.nan, math.inf):
        assert score(0.9, price, 200) == 0.0, price


def best(performance_id: str, score_: float, price: float = 100.0) -> dict[str, Any]:
    return {
        "performance_id": performance_id,
        "listing_id": f"{performance_id}-1",
        "score": score_,
        "price": price,
    }


def test_the_first_run_announces_every_deal_best_first() -> None:
    found = new_deals([best("p1", 70), best("p2", 90), best("p3", DEAL_MIN_SCORE - 1)], told={})
    assert [d["performance_id"] for d in found] == ["p2", "p1"]


def test_a_best_ticket_scoring_exactly_the_threshold_is_a_deal() -> None:
    assert [d["performance_id"] for d in new_deals([best("p1", DEAL_MIN_SCORE)], told={})] == ["p1"]


def test_an_identical_run_announces_nothing() -> None:
    bests = [best("p1", 70), best("p2", 90)]
    assert new_deals(bests, told={"p1": 70, "p2": 90}) == []


def test_only_a_better_deal_than_the_one_told_is_announced() -> None:
    found = new_deals([best("p1", 75), best("p2", 85)], told={"p1": 70, "p2": 90})
    assert [d["performance_id"] for d in found] == ["p1"]


def test_the_message_names_each_deal() -> None:
    deal = {
        "performance_id": "p1",
        "date": "2026-12-01",
        "theatre_name": "Test House",
        "section": "Orchestra",
        "row": "D",
        "quantity": 2,
        "price": 240.0,
        "score": 46.875,
        "obstructed": False,
    }
    subject, text = deals_message([deal], "hamilton")
    assert subject == "1 new hamilton ticket deal"
    assert "2026-12-01 at Test House: Orchestra row D, 2 x $240.00 (clear view, score 46.9)" in text
    _, text = deals_message([{**deal, "obstructed": True}], "hamilton")
    assert "(obstructed view, score 46.9)" in text


@pytest.mark.parametrize("theatre_id", ["nowhere", "../../etc/passwd", ""])
def test_an_unknown_theatre_is_a_named_error(theatre_id: str) -> None:
    with pytest.raises(UnknownTheatre):
        load_theatre(theatre_id)


@pytest.mark.parametrize("path", sorted(THEATRES_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_theatre_data_file_is_consistent(path: Any) -> None:
    data = json.loads(path.read_text())
    theatre = load_theatre(path.stem)
    assert data["theatre_id"] == path.stem and theatre.reference_price > 0
    for section in {id(s): s for s in theatre.sections.values()}.values():
        assert 0 < section.back_quality <= section.front_quality <= 1
        for obstruction in section.obstructions:
            assert obstruction.rows <= set(section.rows), f"{section.name}: {obstruction.reason}"
            assert max(obstruction.seats) <= section.seats_per_row
            assert 0 < obstruction.penalty < 1


def span(run_id: str, fetched_at: str, first: str, last: str) -> dict[str, Any]:
    return {"run_id": run_id, "fetched_at": fetched_at, "from": first, "to": last}


def test_a_run_is_current_for_the_dates_it_covered_and_no_newer_run_did() -> None:
    wide = span("wide", "2026-12-06T10:00", "2026-12-06", "2027-04-05")
    spans, won = coverage.merge([], wide)
    assert (spans, won) == ([wide], [wide])

    narrow = span("narrow", "2026-12-06T11:00", "2026-12-06", "2026-12-07")
    spans, won = coverage.merge(spans, narrow)
    assert (spans, won) == ([narrow, {**wide, "from": "2026-12-08"}], [narrow])

    # A slow run fetched before the narrow one keeps none of the narrow run's dates.
    slow = span("slow", "2026-12-06T10:30", "2026-12-06", "2027-04-05")
    spans, won = coverage.merge(spans, slow)
    assert won == [{**slow, "from": "2026-12-08"}]  # what its deals may be announced for
    assert spans == [narrow, {**slow, "from": "2026-12-08"}]
    assert coverage.merge(spans, {**wide, "to": "2026-12-07"}) == (spans, [])  # older, fully covered

    # The same run marked again (a retry) changes nothing; a later run drops the days now past.
    assert coverage.merge(spans, narrow) == (spans, [narrow])
    tomorrow = span("tomorrow", "2026-12-07T09:00", "2026-12-07", "2026-12-08")
    spans, _ = coverage.merge(spans, tomorrow)
    assert spans == [tomorrow, {**slow, "from": "2026-12-09"}]


def test_the_spans_of_runs_whose_rankings_expired_are_dropped() -> None:
    gone = span("gone", "2026-11-20T10:00", "2026-12-06", "2026-12-20")
    live = span("live", "2026-12-01T10:00", "2026-12-21", "2027-04-05")
    narrow = span("narrow", "2026-12-06T11:00", "2026-12-06", "2026-12-07")
    week_ago = "2026-11-29T11:00"
    assert coverage.merge([gone, live], narrow, week_ago) == ([narrow, live], [narrow])
    assert coverage.merge([gone, live], narrow)[0] == [narrow, {**gone, "from": "2026-12-08"}, live]
    every_date = span("gone", "2026-11-20T10:00", "0001-01-01", "9999-12-31")  # an item without spans
    assert coverage.merge([every_date], narrow, week_ago) == ([narrow], [narrow])


def test_a_search_reads_each_date_from_the_run_current_for_it() -> None:
    spans = [span("a", "t2", "2026-12-06", "2026-12-07"), span("b", "t1", "2026-12-08", "2027-04-05")]
    assert coverage.within(spans, "2026-12-07", "2026-12-10") == [
        span("a", "t2", "2026-12-07", "2026-12-07"),
        span("b", "t1", "2026-12-08", "2026-12-10"),
    ]
    assert coverage.within(spans, "2027-05-01", "2027-06-01") == []
