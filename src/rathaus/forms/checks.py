"""The checks of a schema: date rules, patterns, ranges (one field) and cross-field rules (a step).

Each check has a severity: an ``error`` blocks the step, a ``warning`` is shown and lets the
person go on (e.g. a move reported more than two weeks late, § 17 Abs. 1 BMG). Months are
calendar months and a period may end on the next working day (``forms.periods``).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from rathaus.forms.field_types import Issue, first_input_name, format_number
from rathaus.forms.periods import days_after, months_after, next_working_day
from rathaus.forms.schema import Check, Field, FormSchema, Severity, Step, is_answered


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _show_date(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def period_end(check: Check, value: datetime.date, state: str | None) -> datetime.date:
    """The last day of the period of ``check`` (``max_days_ago``, ``max_months_ago``) that
    begins with ``value``: counted from the next day (§ 187 Abs. 1 BGB), so that it ends on the
    day with the same number (§ 188 Abs. 2 BGB); with ``ends_on_working_day`` moved to the next
    working day of the Land ``state`` (§ 31 Abs. 3 VwVfG)."""
    if check.rule == "max_months_ago":
        end = months_after(value, check.months or 0)
    else:
        end = days_after(value, check.days or 0)
    return next_working_day(end, state) if check.ends_on_working_day else end


def _period_message(check: Check, end: datetime.date) -> str:
    months = check.rule == "max_months_ago"
    count = (check.months if months else check.days) or 0
    if check.ends_on_working_day:  # the end may have moved: name it
        if months:
            text = ngettext(
                "The period of %(count)d month from this date ended on %(date)s.",
                "The period of %(count)d months from this date ended on %(date)s.",
                count,
            )
        else:
            text = ngettext(
                "The period of %(count)d day from this date ended on %(date)s.",
                "The period of %(count)d days from this date ended on %(date)s.",
                count,
            )
        return text % {"count": count, "date": _show_date(end)}
    if months:
        return ngettext(
            "The date must not be more than %(months)d month ago.",
            "The date must not be more than %(months)d months ago.",
            count,
        ) % {"months": count}
    return ngettext(
        "The date must not be more than %(days)d day ago.",
        "The date must not be more than %(days)d days ago.",
        count,
    ) % {"days": count}


def _date_rule(
    check: Check, value: datetime.date, today: datetime.date, state: str | None
) -> str | None:
    """The default message if ``value`` breaks the date rule ``check``, else ``None``."""
    rule = check.rule
    if rule == "not_in_future" and value > today:
        return _("The date must not be in the future.")
    if rule == "not_in_past" and value < today:
        return _("The date must not be in the past.")
    if rule in {"max_days_ago", "max_months_ago"} and value < today:
        end = period_end(check, value, state)
        return _period_message(check, end) if end < today else None
    if rule == "max_days_ahead" and value > days_after(today, check.days or 0):
        return ngettext(
            "The date must not be more than %(days)d day ahead.",
            "The date must not be more than %(days)d days ahead.",
            check.days or 0,
        ) % {"days": check.days}
    if rule == "max_months_ahead" and value > months_after(today, check.months or 0):
        return ngettext(
            "The date must not be more than %(months)d month ahead.",
            "The date must not be more than %(months)d months ahead.",
            check.months or 0,
        ) % {"months": check.months}
    years = check.years or 0
    if rule == "min_years_ago" and value > _years_before(today, years):
        return ngettext(
            "The date must be at least %(years)d year ago.",
            "The date must be at least %(years)d years ago.",
            years,
        ) % {"years": years}
    if rule == "max_years_ago" and value < _years_before(today, years):
        return ngettext(
            "The date must not be more than %(years)d year ago.",
            "The date must not be more than %(years)d years ago.",
            years,
        ) % {"years": years}
    if rule == "earliest" and check.date is not None and value < check.date:
        return _("The date must be on or after %(date)s.") % {"date": _show_date(check.date)}
    if rule == "latest" and check.date is not None and value > check.date:
        return _("The date must be on or before %(date)s.") % {"date": _show_date(check.date)}
    return None


def run_field_checks(
    field: Field, value: Any, *, today: datetime.date, state: str | None = None
) -> Iterator[tuple[Severity, str]]:
    """Severity and message of each check of ``field`` that its (parsed) ``value`` breaks;
    ``state``: the Land whose public holidays move the end of a period (None: national ones)."""
    for check in field.checks:
        message: str | None = None
        if field.kind == "date":
            message = _date_rule(check, datetime.date.fromisoformat(value), today, state)
        elif check.rule == "pattern" and check.pattern is not None:
            if not check.pattern.fullmatch(str(value)):
                message = _("Enter the value in the format asked for.")
        elif check.rule in {"min", "max"} and check.value is not None:
            number = Decimal(str(value))
            if check.rule == "min" and number < check.value:
                message = _("Enter a number of at least %(min)s.") % {
                    "min": format_number(check.value)
                }
            if check.rule == "max" and number > check.value:
                message = _("Enter a number of at most %(max)s.") % {
                    "max": format_number(check.value)
                }
        if message is not None:
            yield check.severity, str(check.message) if check.message else message


_DATE_OPS = {
    "==": gettext_noop("The date must be the same as “%(other)s”."),
    "!=": gettext_noop("The date must differ from “%(other)s”."),
    "<": gettext_noop("The date must be before “%(other)s”."),
    "<=": gettext_noop("The date must be on or before “%(other)s”."),
    ">": gettext_noop("The date must be after “%(other)s”."),
    ">=": gettext_noop("The date must be on or after “%(other)s”."),
}
_NUMBER_OPS = {
    "==": gettext_noop("The number must be equal to “%(other)s”."),
    "!=": gettext_noop("The number must differ from “%(other)s”."),
    "<": gettext_noop("The number must be less than “%(other)s”."),
    "<=": gettext_noop("The number must be at most “%(other)s”."),
    ">": gettext_noop("The number must be greater than “%(other)s”."),
    ">=": gettext_noop("The number must be at least “%(other)s”."),
}
_TEXT_OPS = {
    "==": gettext_noop("The answer must be the same as in “%(other)s”."),
    "!=": gettext_noop("The answer must differ from “%(other)s”."),
}


def _compare_message(op: str, kind: str) -> str:
    table = _DATE_OPS if kind == "date" else _NUMBER_OPS if kind == "number" else _TEXT_OPS
    return _(table[op])


def _compare(left: Any, op: str, right: Any, kind: str) -> bool:
    a: Any
    b: Any
    if kind == "number":
        a, b = Decimal(str(left)), Decimal(str(right))
    elif kind == "date":
        a, b = datetime.date.fromisoformat(left), datetime.date.fromisoformat(right)
    else:
        a, b = left, right
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]


def after_limit(check: Check, start: datetime.date) -> datetime.date:
    """The last date allowed by ``max_days_after`` / ``max_months_after`` after ``start``."""
    if check.rule == "max_months_after":
        return months_after(start, check.months or 0)
    return days_after(start, check.days or 0)


def _after_message(check: Check, other: Field, latest: datetime.date) -> str:
    values = {"other": other.label, "date": _show_date(latest)}
    if check.rule == "max_months_after":
        return ngettext(
            "The date must be at most %(count)d month after “%(other)s”, on or before %(date)s.",
            "The date must be at most %(count)d months after “%(other)s”, on or before %(date)s.",
            check.months or 0,
        ) % {**values, "count": check.months}
    return ngettext(
        "The date must be at most %(count)d day after “%(other)s”, on or before %(date)s.",
        "The date must be at most %(count)d days after “%(other)s”, on or before %(date)s.",
        check.days or 0,
    ) % {**values, "count": check.days}


def run_row_checks(field: Field, row: Mapping[str, Any]) -> Iterator[tuple[Check, Field, str]]:
    """Each compare check of the person list ``field`` that one ``row`` (its clean values)
    breaks, with the field of the row it is about and the message. Like a step's checks, a
    check is skipped while one of its fields is empty or not asked in the row."""
    subfields = {sub.id: sub for sub in field.fields}
    for check in field.checks:
        if check.rule != "compare" or check.field is None or check.other is None:
            continue
        target, other = subfields[check.field], subfields[check.other]
        left, right = row.get(check.field), row.get(check.other)
        if check.op is None or not is_answered(left) or not is_answered(right):
            continue
        if not _compare(left, check.op, right, target.kind):  # clean values of this row
            message = _compare_message(check.op, target.kind) % {"other": other.label}
            yield check, target, str(check.message) if check.message else message


def run_step_checks(
    schema: FormSchema,
    step: Step,
    answers: Mapping[str, Any],
    *,
    failed: set[str],
    hidden: Collection[str] = (),
) -> list[Issue]:
    """Cross-field checks of ``step`` on the merged ``answers``, skipping ``failed`` fields.

    A check whose field is hidden by a condition does not apply, and ``at_least_one`` counts
    only the fields the citizen can see (all hidden: it does not apply): a question that is not
    asked cannot be demanded."""
    issues = []
    for check in step.checks:
        assert check.field is not None
        if check.field in hidden:
            continue
        target = schema.field(check.field)
        anchor = first_input_name(target, target.id)
        message: str | None = None
        if check.rule == "compare":
            assert check.other is not None and check.op is not None
            left, right = answers.get(check.field), answers.get(check.other)
            if check.field in failed or check.other in failed:
                continue
            if not is_answered(left) or not is_answered(right):
                continue
            try:
                ok = _compare(left, check.op, right, target.kind)
            except (InvalidOperation, ValueError, TypeError):
                continue  # a stale answer of another type; its own step reports it
            if not ok:
                other = schema.field(check.other)
                message = _compare_message(check.op, target.kind) % {"other": other.label}
        elif check.rule in {"max_days_after", "max_months_after"}:
            assert check.other is not None
            if check.field in failed or check.other in failed:
                continue
            left, right = answers.get(check.field), answers.get(check.other)
            if not isinstance(left, str) or not isinstance(right, str) or not left or not right:
                continue  # empty, or a stale answer of another type: its own step reports it
            try:
                day, start = datetime.date.fromisoformat(left), datetime.date.fromisoformat(right)
            except ValueError:
                continue
            latest = after_limit(check, start)
            if day > latest:
                message = _after_message(check, schema.field(check.other), latest)
        elif check.rule == "at_least_one":
            shown = [name for name in check.fields if name not in hidden]
            if not shown or any(name in failed for name in shown):
                continue
            if not any(is_answered(answers.get(name)) for name in shown):
                labels = ", ".join(str(schema.field(name).label) for name in shown)
                message = _("Fill in at least one of these fields: %(fields)s.") % {
                    "fields": labels
                }
        if message is not None:
            issues.append(
                Issue(
                    field=target.id,
                    name=anchor,
                    label=str(target.label),
                    message=str(check.message) if check.message else message,
                    severity=check.severity,
                )
            )
    return issues
