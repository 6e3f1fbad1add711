"""Ticket ranking: seat quality per theatre, value for money, and which deals are new. Pure functions.

Seat quality (0..1) comes from the theatre's data file (`data/theatres/<id>.json`): each section
has a quality at its front row and at its back row (linear in between), a penalty for seats far
from the centre line, and obstructions (rows x seats, with a penalty and a reason). A broker's
note such as "obstructed view" counts as an obstruction even where our map has none.

    score = 100 * quality ** QUALITY_WEIGHT * reference_price / price

`reference_price` is the theatre's typical price of a good seat, so scores compare across dates
(the cross-date search) and within a theatre a cheaper date ranks higher for the same seat.
Quality counts twice (QUALITY_WEIGHT = 2) because a view is what the ticket buys: an obstructed
seat at two thirds of the price of a clear one is not the better deal (see the unit tests).
Ties are broken by lower price, then higher quality, then listing id: the order is total.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tasks.shared.errors import TaskError

THEATRES_DIR = Path(__file__).resolve().parent / "data" / "theatres"
QUALITY_WEIGHT = 2
# A broker note matching this is an obstruction even where our map shows none.
OBSTRUCTION_NOTE = re.compile(r"obstruct|partial view|limited view|restricted view|side view", re.I)
NOTE_PENALTY = 0.25
UNMAPPED_QUALITY = 0.4  # a section or row our map lacks: ranked, but as a poor seat
DEAL_MIN_SCORE = 60.0  # a performance's best ticket is a "deal" from this score up
_THEATRE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class UnknownTheatre(TaskError):
    """No seat-quality data for the theatre: add data/theatres/<id>.json."""


@dataclass(frozen=True)
class Obstruction:
    rows: frozenset[str]
    seats: frozenset[int]
    penalty: float
    reason: str


@dataclass(frozen=True)
class Section:
    name: str
    rows: tuple[str, ...]
    seats_per_row: int
    front_quality: float
    back_quality: float
    side_penalty: float
    obstructions: tuple[Obstruction, ...]


@dataclass(frozen=True)
class Theatre:
    theatre_id: str
    name: str
    reference_price: float
    sections: Mapping[str, Section]  # normalised name or alias -> section


@dataclass(frozen=True)
class Quality:
    value: float
    obstructed: bool
    reasons: tuple[str, ...]


def _letters(spec: str) -> tuple[str, ...]:
    first, _, last = spec.partition("-")
    return tuple(chr(c) for c in range(ord(first), ord(last or first) + 1))


def _numbers(spec: str) -> frozenset[int]:
    found: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return frozenset(found)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def parse_theatre(data: Mapping[str, Any]) -> Theatre:
    sections: dict[str, Section] = {}
    for raw in data["sections"]:
        section = Section(
            name=raw["name"],
            rows=_letters(raw["rows"]),
            seats_per_row=int(raw["seats_per_row"]),
            front_quality=float(raw["front_quality"]),
            back_quality=float(raw["back_quality"]),
            side_penalty=float(raw.get("side_penalty", 0.0)),
            obstructions=tuple(
                Obstruction(
                    frozenset(_letters(o["rows"])), _numbers(o["seats"]), float(o["penalty"]), o["reason"]
                )
                for o in raw.get("obstructions", [])
            ),
        )
        for name in (raw["name"], *raw.get("aliases", [])):
            sections[_key(name)] = section
    return Theatre(data["theatre_id"], data["name"], float(data["reference_price"]), sections)


@cache
def load_theatre(theatre_id: str) -> Theatre:
    path = THEATRES_DIR / f"{theatre_id}.json"
    if not _THEATRE_ID.match(theatre_id) or not path.exists():
        raise UnknownTheatre(f"no seat-quality data for theatre {theatre_id!r}")
    return parse_theatre(json.loads(path.read_text()))


def known_theatres() -> set[str]:
    return {p.stem for p in THEATRES_DIR.glob("*.json")}


def same_section(theatre: Theatre, listed: str, wanted: str) -> bool:
    """Whether a listing's section is the one wanted, by name or alias in any case ("Orch" is the
    Orchestra, as brokers write it); a section our map lacks is compared by name alone."""
    section = theatre.sections.get(_key(listed))
    if section is None:
        return _key(listed) == _key(wanted)
    return section is theatre.sections.get(_key(wanted))


def seat_quality(
    theatre: Theatre, section_name: str, row: str, seats: Sequence[int], notes: Iterable[str]
) -> Quality:
    """Mean quality of the listing's seats; the worst obstruction of any seat applies to the listing."""
    noted = [n for n in notes if OBSTRUCTION_NOTE.search(n)]
    section = theatre.sections.get(_key(section_name))
    if section is None or row.upper() not in section.rows:
        base = UNMAPPED_QUALITY
        penalty, reasons = (NOTE_PENALTY, tuple(noted)) if noted else (0.0, ())
        return Quality(
            round(max(base - penalty, 0.0), 4), bool(noted), (f"unmapped seat {section_name} {row}", *reasons)
        )
    depth = section.rows.index(row.upper()) / max(len(section.rows) - 1, 1)
    base = section.front_quality + (section.back_quality - section.front_quality) * depth
    centre = (section.seats_per_row + 1) / 2
    numbers = list(seats) or [round(centre)]  # undisclosed seats: assume the middle of the row
    side = sum(abs(s - centre) / max(centre - 1, 1) for s in numbers) / len(numbers)
    obstructions = [
        o for o in section.obstructions if row.upper() in o.rows and any(s in o.seats for s in numbers)
    ]
    penalty = max([o.penalty for o in obstructions] + ([NOTE_PENALTY] if noted else []), default=0.0)
    reasons = tuple(o.reason for o in obstructions) + tuple(noted)
    value = min(max(base - section.side_penalty * side - penalty, 0.0), 1.0)
    return Quality(round(value, 4), penalty > 0, reasons)


def score(quality: float, price: float, reference_price: float) -> float:
    """Value for money against seat quality (see the module docstring)."""
    if not 0 < price < math.inf:  # NaN too: it would compare as neither better nor worse
        return 0.0
    return round(100 * quality**QUALITY_WEIGHT * reference_price / price, 2)


def rank(listings: Iterable[Mapping[str, Any]], theatre: Theatre) -> list[dict[str, Any]]:
    """The listings best first, each with quality, obstruction, reasons, score and rank (1-based)."""
    ranked = []
    for listing in listings:
        quality = seat_quality(
            theatre,
            listing["section"],
            listing["row"],
            listing.get("seats") or [],
            listing.get("notes") or [],
        )
        ranked.append(
            {
                **listing,
                "quality": quality.value,
                "obstructed": quality.obstructed,
                "reasons": list(quality.reasons),
                "score": score(quality.value, float(listing["price"]), theatre.reference_price),
            }
        )
    ranked.sort(key=lambda r: (-r["score"], r["price"], -r["quality"], r["listing_id"]))
    return [{**r, "rank": i} for i, r in enumerate(ranked, 1)]


def new_deals(
    best: Iterable[Mapping[str, Any]], told: Mapping[str, float], min_score: float = DEAL_MIN_SCORE
) -> list[dict[str, Any]]:
    """Performances whose best ticket is a deal better than what subscribers were last told.

    `best` holds each performance's top ticket; `told` maps performance id -> the score last
    announced for it. An identical run finds nothing new; a better ticket is announced again.
    Best deals first, same tie-breaks as `rank`.
    """
    found = [
        dict(b)
        for b in best
        if b["score"] >= min_score and b["score"] > told.get(b["performance_id"], float("-inf"))
    ]
    found.sort(key=lambda d: (-d["score"], d["price"], d["performance_id"]))
    return found


def deals_message(deals: Sequence[Mapping[str, Any]], show: str) -> tuple[str, str]:
    """(subject, text) of the announcement; SNS subjects are at most 100 characters."""
    subject = f"{len(deals)} new {show} ticket deal{'s' if len(deals) != 1 else ''}"[:100]
    lines = [f"New best tickets for {show}, ranked on price and view:", ""]
    for d in deals:
        view = "obstructed view" if d.get("obstructed") else "clear view"
        lines.append(
            f"- {d['date']} at {d['theatre_name']}: {d['section']} row {d['row']}, "
            f"{d['quantity']} x ${d['price']:.2f} ({view}, score {d['score']:.1f})"
        )
    return subject, "\n".join(lines)
