"""The lottery's decisions, as pure functions."""

from __future__ import annotations

import random
from collections.abc import Iterable

from tasks.shared.errors import TaskError


class NotEnoughEligibleEmployees(TaskError):
    """More winners were asked for than employees who have not won yet."""


def check_enough(winners: int, employees: int, past_winners: int) -> int:
    """How many employees can still win; raises when fewer than `winners`."""
    eligible = employees - past_winners
    if winners > eligible:
        raise NotEnoughEligibleEmployees(
            f"{winners} winners requested but only {max(eligible, 0)} of {employees} employees can still win"
        )
    return eligible


def pick_serials(winners: int, employees: int, seed: int | None, attempt: int) -> list[int]:
    """Distinct lottery serials in 1..employees.

    With a seed the draw is reproducible: the same (seed, attempt) always picks the same
    serials, so an audit can replay it; a redraw (next attempt) picks afresh.
    """
    rng = random.Random(f"{seed}:{attempt}") if seed is not None else random.SystemRandom()
    return sorted(rng.sample(range(1, employees + 1), winners))


def announcement(names: Iterable[str]) -> str:
    return f"Congrats! [{', '.join(names)}] You have been selected as the Lucky Champ!"
