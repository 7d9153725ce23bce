"""Answers as readable text: the review page (§ 9a OZG), receipts and the clerk's case view."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from rathaus.forms.countries import country_name
from rathaus.forms.engine import prune_answers, visible_steps
from rathaus.forms.field_types import format_number
from rathaus.forms.iban import format_iban
from rathaus.forms.schema import Field, FormSchema


@dataclass
class AnswerRow:
    label: str
    text: str
    field_id: str
    children: list[list[AnswerRow]] = field(default_factory=list)


@dataclass
class AnswerSection:
    step_id: str
    title: str
    rows: list[AnswerRow]


def _text(item: Field, value: Any) -> str:
    if value is None or value == "" or value == []:
        return _("(no answer)")
    kind = item.type
    if kind == "date":
        try:
            return date_format(datetime.date.fromisoformat(str(value)), "d.m.Y")
        except ValueError:
            return str(value)
    if kind in ("select", "radio", "country"):
        option = item.option(str(value))
        return str(option.label) if option else str(value)
    if kind == "checkbox":
        labels = []
        for entry in value if isinstance(value, list) else [value]:
            option = item.option(str(entry))
            labels.append(str(option.label) if option else str(entry))
        return ", ".join(labels)
    if kind == "yes_no":
        return _("Yes") if value is True else _("No")
    if kind == "iban":
        return format_iban(str(value))
    if kind == "number":
        try:
            return format_number(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return str(value)
    if kind == "person_name" and isinstance(value, Mapping):
        return _join(" ", value.get("given_names"), value.get("family_name"))
    if kind == "address" and isinstance(value, Mapping):
        street = _join(" ", value.get("street"), value.get("house_number"))
        town = _join(" ", value.get("postal_code"), value.get("place"))
        return _join(", ", street, value.get("address_supplement"), town)
    if kind == "address_abroad" and isinstance(value, Mapping):
        # line by line as on the envelope, the state last
        town = _join(" ", value.get("postal_code"), value.get("place"))
        lines = (value.get(key) for key in ("address_line1", "address_line2", "address_line3"))
        return _join(", ", *lines, town, country_name(value.get("country")))
    if kind == "file":
        files = value if isinstance(value, list) else []
        return ", ".join(str(f.get("name", "")) for f in files if isinstance(f, Mapping))
    return str(value)


def _join(separator: str, *parts: Any) -> str:
    """The non-empty parts as text (answers saved under an older schema may hold anything)."""
    return separator.join(str(part) for part in parts if part not in (None, ""))


def _row(item: Field, value: Any) -> AnswerRow:
    if item.type == "person_list":
        items = value if isinstance(value, list) else []
        children = [
            [
                _row(sub, entry.get(sub.id))
                for sub in item.fields
                if sub.show_if is None or sub.show_if.evaluate(entry)  # asked in this row
            ]
            for entry in items
            if isinstance(entry, Mapping)
        ]
        return AnswerRow(str(item.label), str(len(children)), item.id, children)
    return AnswerRow(str(item.label), _text(item, value), item.id)


def describe_answers(schema: FormSchema, answers: Mapping[str, Any]) -> list[AnswerSection]:
    """The visible steps with each shown field's label and answer as text."""
    answers = prune_answers(schema, answers)
    sections = []
    for step in visible_steps(schema, answers):
        rows = [
            _row(item, answers.get(item.id))
            for item in step.fields
            if item.show_if is None or item.show_if.evaluate(answers)
        ]
        sections.append(AnswerSection(step.id, str(step.title), rows))
    return sections
