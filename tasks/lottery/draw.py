"""The lottery's decisions, as pure functions."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import TypeVar

from tasks.shared.errors import TaskError

T = TypeVar("T")


class NotEnoughEligibleEmployees(TaskError):
    """More winners were asked for than employees who have not won yet."""


def _winners(count: int) -> str:
    return f"{count} winner{'' if count == 1 else 's'}"


def check_enough(winners: int, employees: int, past_winners: int) -> int:
    """How many employees can still win; raises when fewer than `winners`."""
    eligible = employees - past_winners
    if winners > eligible:
        raise NotEnoughEligibleEmployees(
            f"{_winners(winners)} requested but only {max(eligible, 0)} of {employees} employees can still win"
        )
    return eligible


def draw_order(employees: int, seed: int | None, attempt: int) -> list[int]:
    """Every lottery serial in 1..employees, in the draw's random order: the winners are the first
    ones who have not won yet.

    With a seed the draw is reproducible: the same (seed, attempt) always gives the same order,
    so an audit can replay it against the winners table; a redraw (next attempt) orders afresh.
    """
    rng = random.Random(f"{seed}:{attempt}") if seed is not None else random.SystemRandom()
    order = list(range(1, employees + 1))
    rng.shuffle(order)
    return order


def first_eligible(order: Iterable[T], winners: int, eligible: Callable[[T], bool]) -> list[T]:
    """The first `winners` of `order` that are eligible; raises when fewer are."""
    picked: list[T] = []
    for candidate in order:
        if eligible(candidate):
            picked.append(candidate)
            if len(picked) == winners:
                return picked
    raise NotEnoughEligibleEmployees(f"{_winners(winners)} requested but only {len(picked)} can still win")


def announcement(names: Iterable[str]) -> str:
    return f"Congrats! [{', '.join(names)}] You have been selected as the Lucky Champ!"
