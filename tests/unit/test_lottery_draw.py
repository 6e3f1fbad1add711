"""The lottery's pure decisions."""

import pytest

from tasks.lottery.draw import NotEnoughEligibleEmployees, announcement, check_enough, pick_serials


def test_enough_eligible_employees_returns_how_many_can_win() -> None:
    assert check_enough(winners=3, employees=20, past_winners=5) == 15


def test_more_winners_than_eligible_employees_is_refused_with_the_numbers() -> None:
    with pytest.raises(NotEnoughEligibleEmployees, match="4 winners requested but only 3 of 20"):
        check_enough(winners=4, employees=20, past_winners=17)


def test_every_employee_already_won_is_refused_instead_of_looping() -> None:
    with pytest.raises(NotEnoughEligibleEmployees, match="only 0 of 5"):
        check_enough(winners=1, employees=5, past_winners=5)


def test_serials_are_distinct_and_in_range() -> None:
    for attempt in range(50):
        serials = pick_serials(winners=10, employees=12, seed=None, attempt=attempt)
        assert len(set(serials)) == 10
        assert all(1 <= s <= 12 for s in serials)


def test_a_seeded_draw_is_reproducible_and_a_redraw_differs() -> None:
    first = pick_serials(winners=3, employees=1000, seed=42, attempt=0)
    assert first == pick_serials(winners=3, employees=1000, seed=42, attempt=0)
    assert first != pick_serials(winners=3, employees=1000, seed=42, attempt=1)


def test_announcement_names_every_winner() -> None:
    assert (
        announcement(["Ada", "Linus"]) == "Congrats! [Ada, Linus] You have been selected as the Lucky Champ!"
    )
