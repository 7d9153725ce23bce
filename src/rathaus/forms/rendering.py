"""Rendering a step as accessible HTML in the KERN UX design system, without JavaScript.

Every input has a ``<label>`` (groups a ``<fieldset>`` with ``<legend>``), hints and messages
are tied to it with ``aria-describedby``, inputs with an error carry ``aria-invalid``, and an
error summary at the top links to each input (``href="#field-…"``). What the person typed is
shown again as typed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from rathaus.forms.countries import country_choices, in_display_order
from rathaus.forms.engine import ROW_ACTION, StepResult, initial_data, prune_answers
from rathaus.forms.field_types import (
    ADDRESS_ABROAD_PARTS,
    ADDRESS_PARTS,
    DATE_PARTS,
    NAME_PARTS,
    Issue,
    QueryDictLike,
    RawData,
    html_id,
    part_label,
    posted_rows,
)
from rathaus.forms.iban import format_iban
from rathaus.forms.schema import Condition, Field, FormSchema, Step

_PART_AUTOCOMPLETE = {
    "given_names": "given-name",
    "family_name": "family-name",
    "street": "address-line1",
    "address_supplement": "address-line2",
    "postal_code": "postal-code",
    "place": "address-level2",
    "address_line1": "address-line1",
    "address_line2": "address-line2",
    "address_line3": "address-line3",
    "country": "country",
}
_TYPE_AUTOCOMPLETE = {"email": "email", "phone": "tel", "iban": "off"}


@dataclass
class BoundOption:
    value: str
    label: str
    id: str
    checked: bool
    hint: str = ""
    hint_id: str = ""


@dataclass
class BoundInput:
    """One ``<input>``, ``<select>`` or ``<textarea>``; a part of a field that shows its messages
    beside each part (``address_abroad``) has its own ``errors``."""

    name: str
    id: str
    label: str
    value: str = ""
    input_type: str = "text"
    invalid: bool = False
    describedby: str = ""
    autocomplete: str = ""
    inputmode: str = ""
    width: str = ""  # KERN width modifier: "2" or "4" characters wide
    spellcheck: bool = True
    required: bool = False
    errors: list[str] = dataclasses.field(default_factory=list)
    options: list[BoundOption] = dataclasses.field(default_factory=list)  # of a ``select``

    @property
    def error_id(self) -> str:
        return f"{self.id}-error" if self.errors else ""


@dataclass
class BoundRow:
    number: int
    legend: str
    fields: list[BoundField]
    remove_value: str = ""


@dataclass
class BoundFile:
    id: str
    name: str
    size: str
    checkbox_id: str
    remove_checked: bool = False


@dataclass
class BoundField:
    """A field as the templates need it: ids, texts, messages and values for one field."""

    field: Field
    name: str
    id: str
    label: str
    hint: str
    template: str
    errors: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    inputs: list[BoundInput] = dataclasses.field(default_factory=list)
    options: list[BoundOption] = dataclasses.field(default_factory=list)
    rows: list[BoundRow] = dataclasses.field(default_factory=list)
    files: list[BoundFile] = dataclasses.field(default_factory=list)
    row_count: int = 0
    add_row_value: str = ""
    add_row_label: str = ""
    show_if: str = ""
    accept: str = ""

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint" if self.hint else ""

    @property
    def error_id(self) -> str:
        return f"{self.id}-error" if self.errors else ""

    @property
    def has_errors(self) -> bool:
        """An error about the whole field or, where parts show their own, about one part."""
        return bool(self.errors) or any(single.errors for single in self.inputs)

    @property
    def warning_id(self) -> str:
        return f"{self.id}-warning" if self.warnings else ""

    @property
    def describedby(self) -> str:
        return " ".join(filter(None, [self.hint_id, self.error_id, self.warning_id]))

    @property
    def required(self) -> bool:
        return self.field.required

    @property
    def single_input(self) -> BoundInput:
        return self.inputs[0]


class _Binder:
    def __init__(self, data: RawData, issues: Sequence[Issue]) -> None:
        self.data = data
        self.issues = issues

    def bind(self, item: Field, name: str, label: str, *, existing: Any = None) -> BoundField:
        if item.type == "person_list":  # the rows' own fields show their messages themselves
            messages = [issue for issue in self.issues if issue.name == name]
        else:
            messages = [issue for issue in self.issues if issue.concerns(name)]
        bound = BoundField(
            field=item,
            name=name,
            id=html_id(name),
            label=label,
            hint=str(item.hint) if item.hint else "",
            template=f"forms/fields/{_template_for(item)}.html",
            errors=[issue.message for issue in messages if issue.severity == "error"],
            warnings=[issue.message for issue in messages if issue.severity == "warning"],
        )
        invalid_names = {issue.name for issue in messages if issue.severity == "error"}
        whole_invalid = name in invalid_names

        def make_input(
            part_name: str, part: str, *, optional: bool = False, **kwargs: Any
        ) -> BoundInput:
            return BoundInput(
                name=part_name,
                id=html_id(part_name),
                label=part,
                value=self.data.get(part_name),
                invalid=(whole_invalid and not optional) or part_name in invalid_names,
                describedby=bound.describedby,
                required=item.required,
                **kwargs,
            )

        if item.type == "date":
            autocomplete = item.autocomplete == "bday"
            for part in DATE_PARTS:
                bound.inputs.append(
                    make_input(
                        f"{name}__{part}",
                        part_label(part),
                        inputmode="numeric",
                        width="4" if part == "year" else "2",
                        autocomplete=f"bday-{part}" if autocomplete else "",
                    )
                )
        elif item.type in {"person_name", "address"}:
            parts = NAME_PARTS if item.type == "person_name" else ADDRESS_PARTS
            for key, _english, _length, part_required in parts:
                single = make_input(
                    f"{name}__{key}",
                    part_label(key)
                    if part_required
                    else _("%(part)s (optional)") % {"part": part_label(key)},
                    autocomplete=_PART_AUTOCOMPLETE.get(key, ""),
                    inputmode="numeric" if key == "postal_code" else "",
                    width={"postal_code": "4", "house_number": "4"}.get(key, ""),
                    optional=not part_required,
                )
                single.required = item.required and part_required
                bound.inputs.append(single)
        elif item.type == "address_abroad":
            self._bind_abroad(bound, item, name, messages, make_input)
        elif item.type in {"select", "radio", "checkbox", "yes_no", "country"}:
            chosen = set(self.data.getlist(name))
            if item.type == "yes_no":
                options = [("yes", _("Yes"), ""), ("no", _("No"), "")]
            elif item.type == "country":
                named = [(o.value, str(o.label)) for o in item.options]
                options = [(code, label, "") for code, label in in_display_order(named)]
            else:
                options = [
                    (o.value, str(o.label), str(o.hint) if o.hint else "") for o in item.options
                ]
            for index, (value, option_label, option_hint) in enumerate(options):
                option_id = bound.id if index == 0 else f"{bound.id}-{index + 1}"
                bound.options.append(
                    BoundOption(
                        value=value,
                        label=option_label,
                        id=option_id,
                        checked=value in chosen,
                        hint=option_hint,
                        hint_id=f"{option_id}-hint" if option_hint else "",
                    )
                )
            if item.type in {"select", "country"}:
                bound.inputs.append(make_input(name, label))
        elif item.type == "person_list":
            self._bind_rows(bound, item, name)
        elif item.type == "file":
            bound.accept = ",".join(item.accept)
            stored = existing if isinstance(existing, list) else []
            removed = set(self.data.getlist(f"{name}__remove"))
            for index, descriptor in enumerate(stored):
                if not isinstance(descriptor, Mapping) or "id" not in descriptor:
                    continue
                file_id = str(descriptor["id"])
                bound.files.append(
                    BoundFile(
                        id=file_id,
                        name=str(descriptor.get("name", file_id)),
                        size=_size(descriptor.get("size")),
                        checkbox_id=f"{bound.id}-remove-{index + 1}",
                        remove_checked=file_id in removed,
                    )
                )
            bound.inputs.append(make_input(name, label, input_type="file"))
        else:
            single = make_input(
                name,
                label,
                input_type={"email": "email", "phone": "tel"}.get(item.type, "text"),
                autocomplete=item.autocomplete or _TYPE_AUTOCOMPLETE.get(item.type, ""),
                inputmode="decimal"
                if item.type == "number" and item.decimals
                else ("numeric" if item.type == "number" else ""),
                spellcheck=item.type not in {"email", "iban", "phone"},
            )
            if item.type == "iban" and single.value and " " not in single.value:
                single.value = format_iban(single.value)
            bound.inputs.append(single)
        if item.autocomplete and bound.inputs and item.type not in {"date"}:
            bound.inputs[0].autocomplete = item.autocomplete
        return bound

    def _bind_abroad(
        self,
        bound: BoundField,
        item: Field,
        name: str,
        messages: Sequence[Issue],
        make_input: Callable[..., BoundInput],
    ) -> None:
        """An address abroad: each part's message beside it (six inputs are too many to find
        the one meant from a message above them all); the fieldset keeps those about the whole
        field ("Enter the address.")."""
        bound.errors = [i.message for i in messages if i.name == name and i.severity == "error"]
        bound.warnings = [i.message for i in messages if i.name == name and i.severity == "warning"]
        for key, _english, _length, part_required in ADDRESS_ABROAD_PARTS:
            part_name = f"{name}__{key}"
            single = make_input(
                part_name,
                part_label(key)
                if part_required
                else _("%(part)s (optional)") % {"part": part_label(key)},
                input_type="select" if key == "country" else "text",
                autocomplete=_PART_AUTOCOMPLETE[key],
                spellcheck=key not in {"postal_code", "country"},
                optional=not part_required,
            )
            single.required = item.required and part_required
            single.errors = [
                i.message for i in messages if i.name == part_name and i.severity == "error"
            ]
            single.describedby = single.error_id
            if key == "country":
                single.options = [
                    BoundOption(code, country, "", code == single.value)
                    for code, country in country_choices(item.countries)
                ]
            bound.inputs.append(single)

    def _bind_rows(self, bound: BoundField, item: Field, name: str) -> None:
        # every row posted is shown again, those beyond max_items too: they carry a message
        count = max(len(posted_rows(item, self.data, name)), item.initial_items)
        item_label = str(item.item_label) if item.item_label else _("Entry")
        bound.row_count = count
        siblings = {sub.id: sub for sub in item.fields}
        for number in range(1, count + 1):
            prefix = f"{name}__{number}__"
            fields = []
            for sub in item.fields:
                bound_sub = self.bind(sub, prefix + sub.id, str(sub.label))
                if sub.show_if is not None:  # a row's condition names fields of the same row
                    bound_sub.show_if = _condition_json(sub.show_if, siblings, prefix)
                fields.append(bound_sub)
            bound.rows.append(
                BoundRow(
                    number=number,
                    legend=f"{item_label} {number}",
                    fields=fields,
                    remove_value=f"remove:{name}:{number}"
                    if count > max(item.min_items, 1)
                    else "",
                )
            )
        if count < item.max_items:
            bound.add_row_value = f"add:{name}"
            bound.add_row_label = _("Add another %(item)s") % {"item": item_label}


def _template_for(item: Field) -> str:
    if item.type in {"radio", "yes_no"}:
        return "radio"
    if item.type in {"person_name", "address", "date"}:
        return "group"
    if item.type == "address_abroad":
        return "address_abroad"
    if item.type == "country":
        return "select"
    if item.type in {"email", "phone", "iban", "number"}:
        return "text"
    if item.type == "text" and item.multiline:
        return "textarea"
    return item.type


def _size(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return ""
    if value < 1024 * 1024:
        return _("%(size)s KB") % {"size": max(1, round(value / 1024))}
    return _("%(size)s MB") % {"size": round(value / 1024 / 1024, 1)}


def _condition_json(condition: Condition, fields: Mapping[str, Field], prefix: str = "") -> str:
    """The condition for ``data-show-if``: each field named by its input name (``prefix`` + id:
    a person list's row names its own inputs) and with its type, so the script reads it right."""

    def encode(node: Condition) -> dict[str, Any]:
        if node.op in {"all", "any"}:
            return {node.op: [encode(child) for child in node.children]}
        if node.op == "not":
            return {"not": encode(node.children[0])}
        assert node.field is not None
        named = {"field": prefix + node.field, "type": fields[node.field].type}
        if node.op in {"answered", "not_answered"}:
            return {**named, "answered": node.op == "answered"}
        value = list(node.value) if isinstance(node.value, tuple) else node.value
        return {**named, node.op: value if not hasattr(value, "is_finite") else str(value)}

    return json.dumps(encode(condition), ensure_ascii=False)


def bind_step(
    schema: FormSchema,
    step: Step,
    *,
    data: RawData,
    issues: Sequence[Issue],
    answers: Mapping[str, Any],
) -> list[BoundField]:
    """The fields of ``step`` to show, bound to the posted ``data`` and the ``issues``.

    A field whose condition depends on an earlier step is shown or left out by the answers;
    one that depends on a field of this same step is always shown (without JavaScript nothing
    can hide it) and carries its condition in ``data-show-if`` for progressive enhancement.
    """
    own = {item.id for item in step.fields}
    context = prune_answers(schema, {k: v for k, v in answers.items() if k not in own})
    binder = _Binder(data, issues)
    bound_fields = []
    for item in step.fields:
        show_if = ""
        if item.show_if is not None:
            if item.show_if.fields() & own:
                show_if = _condition_json(item.show_if, {f.id: f for f in step.fields})
            elif not item.show_if.evaluate(context):
                continue
        bound = binder.bind(item, item.id, str(item.label), existing=answers.get(item.id))
        bound.show_if = show_if
        bound_fields.append(bound)
    return bound_fields


def render_step(
    schema: FormSchema,
    step_id: str,
    *,
    data: QueryDictLike | Mapping[str, Any] | None = None,
    result: StepResult | None = None,
    answers: Mapping[str, Any] | None = None,
) -> SafeString:
    """The HTML of a step's fields with the error summary on top (without ``<form>`` and buttons).

    ``data`` is what was posted (shown again as typed); without it the saved ``answers`` are
    shown. ``result`` supplies the messages. The page around it provides the ``<form>`` element
    (``enctype="multipart/form-data"`` when :func:`step_has_files`), the CSRF token and the
    buttons, and should prefix its ``<title>`` with "Fehler: " when there are errors.
    """
    answers = answers or {}
    step = schema.step(step_id)
    raw = RawData(data if data is not None else initial_data(schema, step_id, answers))
    issues = result.issues if result is not None else []
    fields = bind_step(schema, step, data=raw, issues=issues, answers=answers)
    errors = [issue for issue in issues if issue.severity == "error"]
    warnings = [issue for issue in issues if issue.severity == "warning"]
    return render_to_string(
        "forms/step.html",
        {
            "step": step,
            "title": str(step.title),
            "intro": str(step.intro) if step.intro else "",
            "fields": fields,
            "errors": errors,
            "warnings": warnings,
            "row_action": ROW_ACTION,
            "has_rows": any(bound.field.type == "person_list" for bound in fields),
        },
    )


def step_has_files(schema: FormSchema, step_id: str) -> bool:
    """The step has an upload field, so its ``<form>`` needs ``enctype="multipart/form-data"``."""
    return any(item.type == "file" for item in schema.step(step_id).fields)


def largest_file_on_step(schema: FormSchema, step_id: str) -> int:
    """The most bytes one file may have on the step (0: it takes no files): a request's files
    are read only that far (``core.uploads.FileSizeCap``)."""
    sizes = [item.max_size_bytes for item in schema.step(step_id).fields if item.type == "file"]
    return max(sizes, default=0)
