"""Posted answers for the people step of the Wohnsitzanmeldung (the Meldeschein's data of every
person, § 3 Abs. 1 BMG), shared by the tests that fill the form."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

#: An adult with a German ID card, valid for years to come.
ADULT: dict[str, str] = {
    "name__given_names": "Erika",
    "name__family_name": "Mustermann",
    "birth_date__day": "27",
    "birth_date__month": "3",
    "birth_date__year": "1985",
    "birth_place": "Wuppertal",
    "sex": "female",
    "nationality": "DE",
    "religion": "none",
    "marital_status": "single",
    "has_document": "yes",
    "document_type": "id_card",
    "document_number": "L01X00T47",
    "document_authority": "Stadt Wuppertal",
    "document_issued_on__day": "2",
    "document_issued_on__month": "5",
    "document_issued_on__year": "2021",
    "document_valid_until__day": "1",
    "document_valid_until__month": "5",
    "document_valid_until__year": str(datetime.date.today().year + 5),
}

#: A child without an identity document of its own.
CHILD: dict[str, str] = {
    "name__given_names": "Paul",
    "name__family_name": "Mustermann",
    "birth_date__day": "14",
    "birth_date__month": "2",
    "birth_date__year": "2019",
    "birth_place": "Krakau",
    "birth_country": "PL",
    "sex": "male",
    "nationality": "DE",
    "nationality_2": "PL",
    "religion": "rk",
    "marital_status": "single",
    "has_document": "no",
}


def people(*persons: Mapping[str, str]) -> dict[str, str]:
    """The posted data of the step "People moving in" with one row per person."""
    data = {"persons__rows": str(len(persons))}
    for number, person in enumerate(persons, start=1):
        data.update({f"persons__{number}__{key}": value for key, value in person.items()})
    return data
