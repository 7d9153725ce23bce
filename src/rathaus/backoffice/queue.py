"""The clerks' work queue: filters, search, sort and a count-free page of cases.

The queue starts from ``casework.selectors.cases_visible_to``, so no filter here can widen what a
person sees. Search finds a case by its number or Aktenzeichen (exact, indexed) or by the
applicant's name: full-text with the ``german`` configuration on PostgreSQL (prefix matching, so
"Muster" finds "Mustermann"), a case-insensitive substring on SQLite. Format characters (a zero
width non-joiner between two letters of a Persian name, …) count neither in what is typed nor
in the name (``casework.selectors.NAME_FORMAT_CHARACTERS``): the name is found either way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from rathaus.backoffice.forms import shown_in_queue
from rathaus.casework.models import Case
from rathaus.casework.permissions import (
    StaffScope,
    staff_scope,
    visibility_branches,
    visibility_filter,
)
from rathaus.casework.selectors import (
    NAME_FORMAT_CHARACTERS,
    cases_visible_to,
    name_vector,
    without_format_characters,
)
from rathaus.casework.services import MAX_CASES_PER_ASSIGNMENT
from rathaus.catalog.selectors import service_labels
from rathaus.core.url_patterns import INT_SAMPLE, url_pattern

PAGE_SIZE = 25

OPEN = "open"
SCOPE_ALL = "all"
SCOPE_MINE = "mine"
SCOPE_UNITS = "units"
SCOPE_UNASSIGNED = "unassigned"

# Cases without a due date come last either way (PostgreSQL and SQLite differ by default).
SORTS: dict[str, tuple[OrderBy, ...]] = {
    "due": (F("due_on").asc(nulls_last=True), F("id").asc()),
    "-due": (F("due_on").desc(nulls_last=True), F("id").desc()),
    "opened": (F("opened_at").asc(), F("id").asc()),
    "-opened": (F("opened_at").desc(), F("id").desc()),
    "number": (F("number").asc(), F("id").asc()),
    "-number": (F("number").desc(), F("id").desc()),
}

_WORD_CHARACTER = re.compile(r"\w")


class QueueFilterForm(forms.Form):
    """The queue's GET parameters; invalid values fall back to the defaults with a message."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=120,
        help_text=_("Case number, file reference or the applicant's name"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    # By slug; a plain choice field, so the options come from one small query instead of a
    # server-side cursor over whole service rows (ModelChoiceField) on every rendering.
    service = forms.ChoiceField(label=_("Service"), required=False)
    scope = forms.ChoiceField(
        label=_("Cases"),
        required=False,
        choices=[
            (SCOPE_ALL, _("All cases I may see")),
            (SCOPE_MINE, _("Assigned to me")),
            (SCOPE_UNITS, _("My org units")),
            (SCOPE_UNASSIGNED, _("Not assigned to anyone")),
        ],
    )
    overdue = forms.BooleanField(label=_("Only overdue cases"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("due", _("Due date, earliest first")),
            ("-due", _("Due date, latest first")),
            ("-opened", _("Received, newest first")),
            ("opened", _("Received, oldest first")),
            ("number", _("Case number, ascending")),
            ("-number", _("Case number, descending")),
        ],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [
            (OPEN, _("Open (received, in review, waiting)")),
            ("", _("Any status")),
            *Case.Status.choices,
        ]
        service_field = self.fields["service"]
        assert isinstance(service_field, forms.ChoiceField)
        services = service_labels()
        self.service_ids = {slug: pk for pk, slug, _de, _en in services}
        #: The services' names in the page's language, by id (the queue's rows use them too).
        self.service_names = _service_names(services)
        service_field.choices = [
            ("", _("All services")),
            *((slug, self.service_names[pk]) for pk, slug, _de, _en in services),
        ]

    def clean_service(self) -> int | None:
        """The id of the chosen service (``None``: all services)."""
        slug = self.cleaned_data.get("service")
        return self.service_ids.get(slug) if slug else None


def _service_names(services: list[tuple[int, str, str, str]]) -> dict[int, str]:
    """Id → name in the page's language (German where no English name is given)."""
    english = (translation.get_language() or "de").startswith("en")
    return {
        pk: (name_en or name_de) if english else name_de for pk, _slug, name_de, name_en in services
    }


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue, ready to print (dates as DD.MM.YYYY, names resolved)."""

    pk: int
    url: str
    number: str
    service: str
    applicant: str
    status: str
    overdue: bool
    opened: str
    due: str
    assignee: str
    #: Open, and the user may assign it (``permissions.can_assign``): it can be selected for the
    #: bulk assignment.
    assignable: bool = False
    #: The clerk and unit shown (``forms.shown_in_queue``): the bulk assignment sends it back.
    shown: str = ""


@dataclass(frozen=True)
class QueuePage:
    cases: list[QueueRow]
    number: int
    has_previous: bool
    has_next: bool
    #: Of a page beyond the last one (a bookmark, cases closed since): the last page with cases
    #: (1 when no case matches), so that the page can lead back to it.
    last_page: int | None = None


def search_cases(queryset: QuerySet[Case], text: str) -> QuerySet[Case]:
    """Narrow ``queryset`` to cases whose number, Aktenzeichen or applicant's name match.

    A case number or Aktenzeichen is looked up first (exact, indexed); when the text is one,
    the result is that case. Otherwise the name is searched. Keeping the two apart (no OR)
    lets PostgreSQL combine the name index with the org unit's instead of reading all matches.
    """
    # Format characters count nowhere (a number copied from a right-to-left text may carry
    # direction marks); inside a word they do not split it (UAX #29), nor do they here.
    text = without_format_characters(text).strip()
    if not text:
        return queryset
    if any(character.isdigit() for character in text):  # numbers and Aktenzeichen have digits
        # Not capped: a number or an Aktenzeichen is unique per authority, so this is at most
        # one case per authority, and any cap could drop the clerk's own case from the list
        # in an installation of many authorities.
        exact = list(Case.objects.filter(number__iexact=text).values_list("id", flat=True))
        exact += Case.objects.filter(file__reference__iexact=text).values_list("id", flat=True)
        if exact:
            return queryset.filter(pk__in=exact)
    words = _words(text)
    if not words:
        return queryset.none()
    if connection.vendor == "postgresql":
        # Each word as a prefix, all words required: "erika muster" → 'erika':* & 'muster':*
        raw = " & ".join(f"'{word}':*" for word in words)
        query = SearchQuery(raw, config="german", search_type="raw")
        # alias, not annotate: the stored vector of casework 0007, which its indexes carry.
        return queryset.alias(name_search=name_vector()).filter(name_search=query)
    by_name = Q()
    for word in words:
        by_name &= Q(applicant_name__iregex=_spelt_with_format_characters(word))
    return queryset.filter(by_name)


def _words(text: str) -> list[str]:
    """The words of ``text``: runs of letters, digits and underscores (``\\w``) with the
    combining marks among them, which ``\\w`` leaves out but PostgreSQL's parser keeps in the
    word (the virama and vowel signs of an Indic name)."""
    words: list[str] = []
    word = ""
    for character in text:
        if _WORD_CHARACTER.match(character) or (
            word and unicodedata.category(character).startswith("M")
        ):
            word += character
        elif word:
            words.append(word)
            word = ""
    return [*words, word] if word else words


def _spelt_with_format_characters(word: str) -> str:
    """A regular expression for ``word`` with any format characters between its letters, as
    the stored name may hold them (SQLite, which has no stored name without them)."""
    return f"{NAME_FORMAT_CHARACTERS}*".join(re.escape(character) for character in word)


def _narrowed(cases: QuerySet[Case], *, user: Any, filters: dict[str, Any]) -> QuerySet[Case]:
    """``cases`` narrowed by the queue's (cleaned) filters (not by what ``user`` may see)."""
    status = filters.get("status", OPEN)
    if status == OPEN:
        cases = cases.filter(status__in=Case.OPEN_STATUSES)
    elif status:
        cases = cases.filter(status=status)
    if filters.get("service"):
        cases = cases.filter(service_id=filters["service"])
    scope = filters.get("scope") or SCOPE_ALL
    if scope == SCOPE_MINE:
        cases = cases.filter(assigned_to=user)
    elif scope == SCOPE_UNITS:
        cases = cases.filter(org_unit__memberships__user=user)
    elif scope == SCOPE_UNASSIGNED:
        cases = cases.filter(assigned_to__isnull=True)
    if filters.get("overdue"):
        cases = cases.filter(due_on__lt=timezone.localdate())
        if status != OPEN:  # repeating the same condition would mislead PostgreSQL's planner
            cases = cases.filter(status__in=Case.OPEN_STATUSES)
    return search_cases(cases, filters.get("q") or "")


def _order(filters: dict[str, Any]) -> tuple[OrderBy, ...]:
    return SORTS.get(filters.get("sort") or "due", SORTS["due"])


_ROW_FIELDS = (
    *("id", "number", "applicant_name", "status", "opened_at", "due_on"),
    # The service by id, its name from a dict: a join to the services lets PostgreSQL plan a
    # name search as one index scan per service (seen at a million cases, 300 ms).
    "service_id",
    *("assigned_to_id", "assigned_to__first_name", "assigned_to__last_name"),
    *("assigned_to__email", "org_unit_id", "org_unit__code", "org_unit__name"),
    # Whether the user may assign the case (``_may_assign``), without a query per row.
    *("authority_id", "applicant_id"),
)
#: What an empty cell shows.
NOTHING = "\N{EN DASH}"


def _page_values(
    *, user: Any, filters: dict[str, Any], start: int, stop: int
) -> list[dict[str, Any]]:
    """Rows ``start``…``stop`` of the user's queue, as values.

    On PostgreSQL each branch of what the user may see (one per org unit, the cases assigned to
    them, …) is read on its own, sorted and cut at ``stop`` — in index order, casework 0005 —
    and the branches are merged by a UNION: a unit whose newest cases are months old no longer
    means scanning the whole installation's cases for them.
    """
    order = _order(filters)
    branches = visibility_branches(user)
    if not branches:
        return []
    cases = _narrowed(Case.objects.all(), user=user, filters=filters)
    if connection.vendor == "postgresql" and len(branches) > 1:
        parts = [
            cases.filter(branch).order_by(*order).values(*_ROW_FIELDS)[:stop] for branch in branches
        ]
        merged = parts[0].union(*parts[1:]).order_by(*order)
        return list(merged[start:stop])
    visible = visibility_filter(user)
    assert visible is not None  # there are branches
    return list(cases.filter(visible).order_by(*order).values(*_ROW_FIELDS)[start:stop])


def queue_page(
    *, user: Any, filters: dict[str, Any], service_names: dict[int, str] | None = None
) -> QueuePage:
    """One page without counting the whole queue (fetches one row more to know of a next page).

    The rows are read as values, not model instances, and formatted here: a page of the queue
    is the clerks' most frequent request (bench/casework_queries.py). ``service_names`` (id →
    name, e.g. the filter form's) is otherwise taken from the catalog cache.
    """
    number = filters.get("page") or 1
    start = (number - 1) * PAGE_SIZE
    values = _page_values(user=user, filters=filters, start=start, stop=start + PAGE_SIZE + 1)
    return QueuePage(
        cases=_rows(values[:PAGE_SIZE], service_names, user=user),
        number=number,
        has_previous=number > 1,
        has_next=len(values) > PAGE_SIZE,
        last_page=_last_page(user=user, filters=filters, before=start)
        if not values and number > 1
        else None,
    )


def _last_page(*, user: Any, filters: dict[str, Any], before: int) -> int:
    """The last page of the user's queue that has cases, counting at most the ``before`` rows
    that precede the empty page asked for (the pages are counted only when one is empty)."""
    visible = visibility_filter(user)
    if visible is None:
        return 1
    matching = _narrowed(Case.objects.filter(visible), user=user, filters=filters)
    count = matching.values("id")[:before].count()
    return max(1, -(-count // PAGE_SIZE))


def selected_elsewhere(
    *, user: Any, selected: list[str], page: QueuePage, service_names: dict[int, str] | None
) -> list[QueueRow]:
    """The open cases among ``selected`` (ids as posted) that ``user`` may see and assign but
    ``page`` does not list, as they are now, in order of their numbers: after a refused bulk
    assignment a case assigned meanwhile may have left the filtered list, and stays selected
    here. One the user may no longer assign (moved to another unit meanwhile) is not: it could
    not stay selected."""
    listed = {row.pk for row in page.cases}
    ids = {int(pk) for pk in selected[:MAX_CASES_PER_ASSIGNMENT] if _is_id(pk)} - listed
    if not ids:
        return []
    values = (
        cases_visible_to(user)
        .filter(pk__in=ids, status__in=Case.OPEN_STATUSES)
        .order_by("number", "id")
        .values(*_ROW_FIELDS)
    )
    return [row for row in _rows(list(values), service_names, user=user) if row.assignable]


def _is_id(value: str) -> bool:
    return len(value) <= 19 and value.isascii() and value.isdigit() and int(value) < 2**63


def _may_assign(value: dict[str, Any], *, user_pk: Any, scope: StaffScope) -> bool:
    """``permissions.can_assign`` on a case's values (``_ROW_FIELDS``) rather than a case:
    a team lead who works on it (it lies in one of their units, is assigned to them, or is not
    routed to any unit, in one of their authorities) and did not apply for it (§ 20 Abs. 1
    Nr. 1 VwVfG). The administrator role lets a team lead read the authority's other cases,
    not assign them. tests/backoffice/test_bulk_assignment.py holds the two rules together."""
    authority, unit = value["authority_id"], value["org_unit_id"]
    return (
        scope.is_team_lead
        and scope.works_on_cases
        and authority in scope.authority_ids
        and value["applicant_id"] != user_pk
        and (
            (unit, authority) in scope.unit_authorities
            or value["assigned_to_id"] == user_pk
            or unit is None
        )
    )


def _rows(
    values: list[dict[str, Any]], service_names: dict[int, str] | None, *, user: Any
) -> list[QueueRow]:
    """Queue rows, ready to print, from case values (``_ROW_FIELDS``) as ``user`` sees them."""
    scope = staff_scope(user)
    statuses = {value: str(label) for value, label in Case.Status.choices}
    open_statuses = set(Case.OPEN_STATUSES)
    today = timezone.localdate()
    url = url_pattern("backoffice:case", INT_SAMPLE)
    services = service_names if service_names is not None else _service_names(service_labels())
    rows = []
    for value in values:
        assignee = " ".join(
            part
            for part in (value["assigned_to__first_name"], value["assigned_to__last_name"])
            if part
        ) or (value["assigned_to__email"] or "")
        if not assignee and value["org_unit__code"] is not None:
            assignee = f"{value['org_unit__code']} {value['org_unit__name']}"
        due_on = value["due_on"]
        is_open = value["status"] in open_statuses
        rows.append(
            QueueRow(
                pk=value["id"],
                url=url.format(value["id"]),
                number=value["number"],
                service=services.get(value["service_id"], ""),
                applicant=value["applicant_name"] or NOTHING,
                status=statuses.get(value["status"], value["status"]),
                overdue=bool(is_open and due_on and due_on < today),
                opened=f"{timezone.localtime(value['opened_at']):%d.%m.%Y}",
                due=f"{due_on:%d.%m.%Y}" if due_on else NOTHING,
                assignee=assignee or NOTHING,
                assignable=is_open and _may_assign(value, user_pk=user.pk, scope=scope),
                shown=shown_in_queue(value["assigned_to_id"], value["org_unit_id"]),
            )
        )
    return rows
