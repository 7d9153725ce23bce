"""The landlord's form for a Wohnungsgeberbestätigung (§ 19 Abs. 3 BMG)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import Municipality
from rathaus.core.unicode_text import has_refused_invisible
from rathaus.registers.landlord_confirmations import MAX_PERSONS, MoveIn, Person

# Rows for persons shown at first; "Add a person" shows one more, up to MAX_PERSONS.
FIRST_ROWS = 3


def refuse_invisible_characters(value: str) -> None:
    """Refuse control and invisible characters (``core.unicode_text``: a zero width
    (non-)joiner only between letters, as Persian, Kurdish and Indic names are spelt); the
    registration compares names without them (``registers.selectors._canon``)."""
    if has_refused_invisible(value):
        raise forms.ValidationError(
            _(
                "The text contains characters that are not allowed, such as invisible or "
                "control characters. Please type it again without them."
            ),
            code="invisible_characters",
        )


_POSTAL_CODE = re.compile(r"[0-9]{5}")
_HOUSE_NUMBER = re.compile(r"[0-9]{1,5} ?[A-Za-z]?(?: ?[-/] ?[0-9]{1,5} ?[A-Za-z]?)?")


class LandlordConfirmationForm(forms.Form):
    municipality = forms.ModelChoiceField(
        label=_("Municipality of the home"),
        queryset=Municipality.objects.none(),
        empty_label=_("Please choose"),
        error_messages={
            "required": _("Please choose the municipality the home is in."),
            "invalid_choice": _("Please choose the municipality the home is in."),
        },
    )
    street = forms.CharField(
        label=_("Street of the home"),
        max_length=55,
        error_messages={"required": _("Please enter the street of the home.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    house_number = forms.CharField(
        label=_("House number"),
        max_length=9,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    address_supplement = forms.CharField(
        label=_("Address supplement"),
        max_length=40,
        required=False,
        help_text=_("For example the floor or the flat number."),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=5,
        error_messages={"required": _("Please enter the postal code of the home.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    place = forms.CharField(
        label=_("Place"),
        max_length=50,
        error_messages={"required": _("Please enter the place of the home.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    move_in_date = forms.DateField(
        label=_("Date of moving in"),
        help_text=_("For example 27.03.2026"),
        input_formats=["%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"],
        error_messages={
            "required": _("Please enter the date the persons moved in."),
            "invalid": _("Please enter the date like 27.03.2026."),
        },
    )
    landlord_name = forms.CharField(
        label=_("Your name or company (landlord)"),
        max_length=200,
        error_messages={"required": _("Please enter your name as the landlord.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    landlord_address = forms.CharField(
        label=_("Your address"),
        max_length=300,
        help_text=_(
            "Street, house number, postal code and place, for example Hauptstr. 1, 42103 Wuppertal"
        ),
        error_messages={"required": _("Please enter your address as the landlord.")},
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    is_owner = forms.TypedChoiceField(
        label=_("Are you the owner of the home?"),
        choices=[("yes", _("Yes")), ("no", _("No, the owner is someone else"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please say whether you own the home.")},
    )
    owner_name = forms.CharField(
        label=_("Name of the owner"),
        max_length=200,
        required=False,
        help_text=_("Only if you are not the owner (§ 19 Abs. 3 BMG)."),
    )
    declaration = forms.BooleanField(
        label=_(
            "I confirm that the persons named moved into this home on this date. I know that "
            "confirming a move-in that did not happen is an administrative offence (§ 54 BMG)."
        ),
        error_messages={"required": _("Please confirm that your information is correct.")},
    )

    def __init__(self, *args: Any, municipalities: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if municipalities is not None:
            self.fields["municipality"].queryset = municipalities  # type: ignore[attr-defined]
        # The persons moving in: rows of given names and family name (no JavaScript needed).
        for i in range(1, MAX_PERSONS + 1):
            self.fields[f"person_{i}_given_names"] = forms.CharField(
                label=_("Person %(n)s: given names") % {"n": i},
                max_length=80,
                required=False,
            )
            self.fields[f"person_{i}_family_name"] = forms.CharField(
                label=_("Person %(n)s: family name") % {"n": i},
                max_length=120,
                required=False,
            )
        order = [
            "municipality",
            "street",
            "house_number",
            "address_supplement",
            "postal_code",
            "place",
            "move_in_date",
            *[
                f"person_{i}_{part}"
                for i in range(1, MAX_PERSONS + 1)
                for part in ("given_names", "family_name")
            ],
            "landlord_name",
            "landlord_address",
            "is_owner",
            "owner_name",
            "declaration",
        ]
        self.order_fields(order)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(refuse_invisible_characters)

    def rows_shown(self, *, add: bool = False) -> int:
        """How many rows for persons to show: at least :data:`FIRST_ROWS`, as many as the page
        showed before (``person_rows``, sent with the page; not a field, as nothing a person
        can correct), every row with something typed in it, and one more when ``add``."""
        source = self.data if self.is_bound else self.initial
        try:
            shown = int(source.get("person_rows") or 0)
        except (TypeError, ValueError):
            shown = 0
        filled = [
            i
            for i in range(1, MAX_PERSONS + 1)
            if any(
                str(source.get(f"person_{i}_{p}") or "").strip()
                for p in ("given_names", "family_name")
            )
        ]
        rows = max(FIRST_ROWS, min(shown, MAX_PERSONS), *filled)
        return min(rows + 1 if add else rows, MAX_PERSONS)

    def person_fields(self, rows: int) -> list[tuple[forms.BoundField, forms.BoundField]]:
        """The given names and family name of the first ``rows`` persons, row by row."""
        return [
            (self[f"person_{i}_given_names"], self[f"person_{i}_family_name"])
            for i in range(1, rows + 1)
        ]

    def clean_postal_code(self) -> str:
        value: str = self.cleaned_data["postal_code"].replace(" ", "")
        if not _POSTAL_CODE.fullmatch(value):
            raise forms.ValidationError(_("Enter a postal code with 5 digits, like 42103."))
        return value

    def clean_house_number(self) -> str:
        value: str = self.cleaned_data["house_number"].strip()
        if value and not _HOUSE_NUMBER.fullmatch(value):
            raise forms.ValidationError(_("Enter a house number like 12, 12a or 12-14."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        persons = []
        for i in range(1, MAX_PERSONS + 1):
            if f"person_{i}_given_names" in self.errors or f"person_{i}_family_name" in self.errors:
                continue  # refused already (e.g. invisible characters): one message is enough
            given = (data.get(f"person_{i}_given_names") or "").strip()
            family = (data.get(f"person_{i}_family_name") or "").strip()
            if given and not family:
                self.add_error(
                    f"person_{i}_family_name", _("Please enter the family name of this person.")
                )
            elif family and not given:
                self.add_error(
                    f"person_{i}_given_names", _("Please enter the given names of this person.")
                )
            elif given and family:
                persons.append(Person(given_names=given, family_name=family))
        if not persons and not any(
            f"person_{i}_{p}" in self.errors
            for i in range(1, MAX_PERSONS + 1)
            for p in ("given_names", "family_name")
        ):
            self.add_error(
                "person_1_given_names", _("Please name at least one person who moves in.")
            )
        if data.get("is_owner") == "no" and not (data.get("owner_name") or "").strip():
            self.add_error("owner_name", _("Please enter the name of the owner."))
        self.persons = tuple(persons)
        return data

    def move_in(self) -> MoveIn:
        data = self.cleaned_data
        return MoveIn(
            street=data["street"],
            house_number=data["house_number"],
            address_supplement=data["address_supplement"],
            postal_code=data["postal_code"],
            place=data["place"],
            move_in_date=data["move_in_date"],
            persons=self.persons,
            landlord_name=data["landlord_name"],
            landlord_address=data["landlord_address"],
            owner_name=data["owner_name"] if data["is_owner"] == "no" else "",
        )
