"""Running a form: which steps and fields apply, and checking what a person posted for a step.

Answers are a plain dict from field id to the field's clean value (JSON-ready, see
``docs/modules/forms.md``); the ``applications`` module keeps them with the draft.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rathaus.forms.checks import run_step_checks
from rathaus.forms.field_types import (
    FieldParser,
    Issue,
    QueryDictLike,
    RawData,
    posted_rows,
    to_raw,
)
from rathaus.forms.periods import STATES
from rathaus.forms.schema import Field, FormSchema, Step, is_answered
from rathaus.forms.uploads import UploadInspector

#: Submit button name for adding or removing a row of a person list without JavaScript.
ROW_ACTION = "_rows"


@dataclass
class StepResult:
    """The outcome of checking one step: clean answers, errors and warnings, new uploads."""

    step: Step
    cleaned: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    uploads: dict[str, list[UploadedFile]] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def issues_for(self, name: str) -> list[Issue]:
        """Issues about the input ``name`` (or about the whole field when ``name`` is a field)."""
        return [issue for issue in self.issues if issue.name == name]


@dataclass
class FormResult:
    """The outcome of checking all answers, e.g. before submission."""

    steps: list[StepResult]

    @property
    def is_valid(self) -> bool:
        return all(result.is_valid for result in self.steps)

    @property
    def errors(self) -> list[Issue]:
        return [issue for result in self.steps for issue in result.errors]

    @property
    def warnings(self) -> list[Issue]:
        return [issue for result in self.steps for issue in result.warnings]

    @property
    def first_invalid_step(self) -> Step | None:
        return next((result.step for result in self.steps if not result.is_valid), None)

    @property
    def cleaned(self) -> dict[str, Any]:
        return {key: value for result in self.steps for key, value in result.cleaned.items()}


def _visible(condition_holder: Step | Field, context: Mapping[str, Any]) -> bool:
    return condition_holder.show_if is None or condition_holder.show_if.evaluate(context)


def prune_answers(schema: FormSchema, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Only the answers of steps and fields that are shown given the answers before them."""
    kept: dict[str, Any] = {}
    for step in schema.steps:
        if not _visible(step, kept):
            continue
        for item in step.fields:
            if item.id in answers and _visible(item, kept) and is_answered(answers[item.id]):
                kept[item.id] = answers[item.id]
    return kept


def visible_steps(schema: FormSchema, answers: Mapping[str, Any]) -> list[Step]:
    """The steps a person goes through, given the answers so far."""
    context = prune_answers(schema, answers)
    return [step for step in schema.steps if _visible(step, context)]


def visible_fields(schema: FormSchema, step: Step, answers: Mapping[str, Any]) -> list[Field]:
    """The fields of ``step`` that apply, given the answers (including this step's own)."""
    context = prune_answers(schema, answers)
    own = {item.id for item in step.fields}
    context.update({key: value for key, value in answers.items() if key in own})
    return [item for item in step.fields if _visible(item, context)]


def next_step(schema: FormSchema, step_id: str, answers: Mapping[str, Any]) -> Step | None:
    """The step after ``step_id`` among the visible ones, or ``None`` at the end."""
    steps = visible_steps(schema, answers)
    ids = [step.id for step in steps]
    if step_id not in ids:
        return steps[0] if steps else None
    position = ids.index(step_id) + 1
    return steps[position] if position < len(steps) else None


def previous_step(schema: FormSchema, step_id: str, answers: Mapping[str, Any]) -> Step | None:
    steps = visible_steps(schema, answers)
    ids = [step.id for step in steps]
    if step_id not in ids or ids.index(step_id) == 0:
        return None
    return steps[ids.index(step_id) - 1]


def validate_step(
    schema: FormSchema,
    step_id: str,
    raw: QueryDictLike | Mapping[str, Any] | None,
    files: QueryDictLike | Mapping[str, Any] | None = None,
    *,
    answers: Mapping[str, Any] | None = None,
    inspector: UploadInspector | None = None,
    today: datetime.date | None = None,
    state: str | None = None,
) -> StepResult:
    """Check what was posted for ``step_id`` against the schema, given the earlier ``answers``.

    Never raises on bad input: every problem is an :class:`Issue` in the result. Fields that are
    hidden by a condition are ignored and listed in ``hidden``. ``state`` is the Land
    (``core.Municipality.state``, e.g. ``"NW"``) whose public holidays move the end of a period
    to the next working day; without it only the national holidays count. An unknown ``state``
    is the caller's mistake: ``ValueError``.
    """
    step = schema.step(step_id)
    today = today or timezone.localdate()
    if state is not None and state not in STATES:
        raise ValueError(f"unknown state {state!r}; use one of {', '.join(sorted(STATES))}")
    data = RawData(raw)
    earlier = dict(answers or {})
    own = {item.id for item in step.fields}
    context = prune_answers(schema, {k: v for k, v in earlier.items() if k not in own})
    result = StepResult(step=step)
    parser = FieldParser(data, today=today, state=state)
    failed: set[str] = set()
    for item in step.fields:
        if not _visible(item, context):
            result.hidden.add(item.id)
            continue
        before = len(parser.issues)
        if item.type == "file":
            value: Any = _validate_files(
                item, data, RawData(files), earlier.get(item.id), parser, result, inspector
            )
        else:
            value = parser.parse(item, item.id)
        if any(issue.severity == "error" for issue in parser.issues[before:]):
            failed.add(item.id)
        if is_answered(value):
            result.cleaned[item.id] = value
            context[item.id] = value
    result.issues = parser.issues
    result.issues += run_step_checks(schema, step, context, failed=failed, hidden=result.hidden)
    return result


def _validate_files(
    item: Field,
    data: RawData,
    files: RawData | Any,
    stored: Any,
    parser: FieldParser,
    result: StepResult,
    inspector: UploadInspector | None,
) -> list[Mapping[str, Any]] | None:
    """Keep the stored files not marked for removal, check the new uploads (count, size, type).

    The count comes first: too many files are refused together before any is inspected (the
    inspector may read and virus-scan each)."""
    removed = set(data.getlist(f"{item.id}__remove"))
    existing = [
        descriptor
        for descriptor in (stored if isinstance(stored, list) else [])
        if isinstance(descriptor, Mapping)
        and isinstance(descriptor.get("id"), str | int)
        and str(descriptor.get("id")) not in removed
    ]
    uploads = [upload for upload in _uploads(files, item.id) if upload.name]
    if len(existing) + len(uploads) > item.max_files:
        parser.report(
            item,
            item.id,
            ngettext(
                "Upload at most %(count)d file.", "Upload at most %(count)d files.", item.max_files
            )
            % {"count": item.max_files},
        )
        return existing or None
    accepted = []
    ok = True
    for upload in uploads:
        name = _display_name(upload.name or "")
        size = upload.size or 0
        if size == 0:
            parser.report(item, item.id, _("The file %(name)s is empty.") % {"name": name})
            ok = False
        elif size > item.max_size_bytes:
            parser.report(
                item,
                item.id,
                _("The file %(name)s is larger than %(size)d MB.")
                % {"name": name, "size": item.max_size_mb},
            )
            ok = False
        elif not _accepted_type(item, upload):
            parser.report(
                item,
                item.id,
                _("The file %(name)s is not of an accepted type (accepted: %(types)s).")
                % {"name": name, "types": ", ".join(item.accept)},
            )
            ok = False
        else:
            message = inspector.inspect(upload, field=item) if inspector else None
            if message:
                parser.report(item, item.id, message)
                ok = False
            else:
                accepted.append(upload)
    if not ok:
        return existing or None
    if not existing and not accepted and item.required:
        parser.report(item, item.id, _("Upload a file."))
        return None
    result.uploads[item.id] = accepted
    return existing


def _uploads(files: RawData | Any, key: str) -> list[UploadedFile]:
    source = files._data if isinstance(files, RawData) else files
    if hasattr(source, "getlist"):
        values: Iterable[Any] = source.getlist(key)
    else:
        value = source.get(key) if isinstance(source, Mapping) else None
        values = value if isinstance(value, list | tuple) else ([] if value is None else [value])
    return [value for value in values if isinstance(value, UploadedFile)]


def _display_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name
    return base if len(base) <= 80 else base[:77] + "…"


def _accepted_type(item: Field, upload: UploadedFile) -> bool:
    """The file ending or the declared type is on the field's ``accept`` list (if it has one).

    This is only a first filter for the person; ``applications`` sniffs the real content.
    """
    if not item.accept:
        return True
    suffix = PurePath(upload.name or "").suffix.lower()
    content_type = (upload.content_type or "").lower()
    for accepted in item.accept:
        if accepted.startswith("."):
            if suffix == accepted:
                return True
        elif accepted.endswith("/*"):
            if content_type.startswith(accepted[:-1]):
                return True
        elif content_type == accepted:
            return True
    return False


def apply_step(
    schema: FormSchema, answers: Mapping[str, Any], result: StepResult
) -> dict[str, Any]:
    """The answers after a valid step: this step's answers replaced, hidden answers dropped."""
    own = {item.id for item in result.step.fields}
    merged = {key: value for key, value in answers.items() if key not in own}
    merged.update(result.cleaned)
    return prune_answers(schema, merged)


def initial_data(
    schema: FormSchema, step_id: str, answers: Mapping[str, Any]
) -> dict[str, list[str]]:
    """The saved answers of a step as posted strings, to show them in the form again."""
    data: dict[str, list[str]] = {}
    for item in schema.step(step_id).fields:
        data.update(to_raw(item, answers.get(item.id), item.id))
    return data


def validate_all(
    schema: FormSchema,
    answers: Mapping[str, Any],
    *,
    today: datetime.date | None = None,
    state: str | None = None,
) -> FormResult:
    """Check all answers again, step by step (before submission: dates may have aged);
    ``state`` as for :func:`validate_step`."""
    answers = prune_answers(schema, answers)
    results = []
    for step in visible_steps(schema, answers):
        raw = initial_data(schema, step.id, answers)
        results.append(
            validate_step(schema, step.id, raw, answers=answers, today=today, state=state)
        )
    return FormResult(results)


def _row_number(text: str) -> bool:
    """A row number as the remove buttons send it: ASCII digits only (``"²".isdigit()`` is true,
    but ``int("²")`` fails), at most three of them (``row_ceiling`` is far below 1000)."""
    return text.isascii() and text.isdigit() and len(text) <= 3


def row_action(
    schema: FormSchema, step_id: str, raw: QueryDictLike | Mapping[str, Any]
) -> dict[str, list[str]] | None:
    """Posted data with a person-list row added or removed, if the person pressed such a button.

    The buttons post ``_rows=add:<field>`` or ``_rows=remove:<field>:<row>``. Returns ``None``
    when no such button was pressed; then the view checks the step as usual. Otherwise the view
    shows the step again with the returned data and no messages.
    """
    data = RawData(raw)
    action = data.get(ROW_ACTION)
    if not action:
        return None
    parts = action.split(":")
    step = schema.step(step_id)
    lists = {item.id: item for item in step.fields if item.type == "person_list"}
    posted = data.as_lists()
    posted.pop(ROW_ACTION, None)
    if len(parts) < 2 or parts[1] not in lists:
        return posted
    item = lists[parts[1]]
    count_key = f"{item.id}__rows"
    count = len(posted_rows(item, data, item.id))
    if parts[0] == "add" and len(parts) == 2:
        posted[count_key] = [str(count + 1 if count < item.max_items else count)]
    elif parts[0] == "remove" and len(parts) == 3 and _row_number(parts[2]):
        removed = int(parts[2])
        if 1 <= removed <= count:
            for index in range(removed, count + 1):
                prefix, next_prefix = f"{item.id}__{index}__", f"{item.id}__{index + 1}__"
                for key in [key for key in posted if key.startswith(prefix)]:
                    del posted[key]
                for key in [key for key in posted if key.startswith(next_prefix)]:
                    posted[prefix + key[len(next_prefix) :]] = posted.pop(key)
            posted[count_key] = [str(max(count - 1, 0))]
    return posted
