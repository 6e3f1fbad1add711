"""The lottery's pure decisions."""

import pytest

from tasks.lottery.draw import (
    NotEnoughEligibleEmployees,
    announcement,
    check_enough,
    draw_order,
    first_eligible,
)


def test_enough_eligible_employees_returns_how_many_can_win() -> None:
    assert check_enough(winners=3, employees=20, past_winners=5) == 15


def test_more_winners_than_eligible_employees_is_refused_with_the_numbers() -> None:
    with pytest.raises(NotEnoughEligibleEmployees, match="4 winners requested but only 3 of 20"):
        check_enough(winners=4, employees=20, past_winners=17)


def test_every_employee_already_won_is_refused_instead_of_looping() -> None:
    with pytest.raises(NotEnoughEligibleEmployees, match=r"^1 winner requested but only 0 of 5"):
        check_enough(winners=1, employees=5, past_winners=5)


def test_the_draw_order_holds_every_serial_once() -> None:
    for attempt in range(50):
        assert sorted(draw_order(employees=12, seed=None, attempt=attempt)) == list(range(1, 13))


def test_a_seeded_draw_is_reproducible_and_a_redraw_differs() -> None:
    first = draw_order(employees=1000, seed=42, attempt=0)
    assert first == draw_order(employees=1000, seed=42, attempt=0)
    assert first != draw_order(employees=1000, seed=42, attempt=1)


def test_the_winners_are_the_first_eligible_of_the_order() -> None:
    assert first_eligible([5, 3, 8, 1, 9], 2, lambda s: s not in {3, 8}) == [5, 1]


def test_fewer_eligible_than_winners_is_refused_with_the_numbers() -> None:
    with pytest.raises(NotEnoughEligibleEmployees, match="3 winners requested but only 1 can still win"):
        first_eligible([1, 2, 3], 3, lambda s: s == 2)


def test_announcement_names_every_winner() -> None:
    assert (
        announcement(["Ada", "Linus"]) == "Congrats! [Ada, Linus] You have been selected as the Lucky Champ!"
    )
