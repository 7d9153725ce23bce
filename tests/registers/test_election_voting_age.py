"""The voting age: "am Wahltage das achtzehnte Lebensjahr vollendet" (§ 12 Abs. 1 Nr. 1 BWahlG),
counted as the BGB counts years of life (§§ 187 Abs. 2 Satz 2, 188 Abs. 2 and 3 BGB)."""

from __future__ import annotations

import datetime

import pytest

from rathaus.registers.models import Election

D = datetime.date


@pytest.mark.parametrize(
    ("born", "election_day", "minimum_age", "may_vote"),
    [
        # Bundestagswahl 23.02.2025: the 18th year of life of someone born 24.02.2007 ends
        # with 23.02.2025, the election day; of someone born 25.02.2007 it ends a day later.
        (D(2007, 2, 23), D(2025, 2, 23), 18, True),
        (D(2007, 2, 24), D(2025, 2, 23), 18, True),
        (D(2007, 2, 25), D(2025, 2, 23), 18, False),
        # born 29 February: the year ends with 28 February in a common year ...
        (D(2008, 2, 29), D(2026, 2, 28), 18, True),
        (D(2008, 2, 29), D(2026, 2, 27), 18, False),
        # ... and in a leap year too (the day before 29 February)
        (D(2016, 2, 29), D(2032, 2, 28), 16, True),
        (D(2016, 2, 29), D(2032, 2, 27), 16, False),
        # born 1 March of a leap year: the day before the birthday is 28 February in 2026
        (D(2008, 3, 1), D(2026, 2, 28), 18, True),
        (D(2008, 3, 2), D(2026, 2, 28), 18, False),
        # the turn of the year: born 1 January, the year ends with 31 December
        (D(2012, 1, 1), D(2027, 12, 31), 16, True),
        (D(2012, 1, 2), D(2027, 12, 31), 16, False),
    ],
)
def test_a_voter_may_vote_when_the_year_of_life_ends_on_the_election_day_at_the_latest(
    born: datetime.date, election_day: datetime.date, minimum_age: int, may_vote: bool
) -> None:
    election = Election(name="Wahl", election_day=election_day, minimum_age=minimum_age)
    assert election.voter_is_old_enough(born) is may_vote


def test_a_birth_date_at_the_end_of_the_calendar_is_too_young_not_an_error() -> None:
    election = Election(name="Wahl", election_day=D(2030, 9, 15), minimum_age=18)
    assert election.voter_is_old_enough(datetime.date.max) is False
    assert election.voter_is_old_enough(D(9990, 1, 1)) is False
