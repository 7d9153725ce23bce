"""Two clerks at once: one decision wins; case numbers stay unique (PostgreSQL, real locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from rathaus.accounts.models import User
from rathaus.casework import services
from rathaus.casework.errors import CaseworkError, ChangedMeanwhileError, TransitionError
from rathaus.casework.models import Case, CaseEvent, Notice
from rathaus.core.models import AuditEvent
from rathaus.ledger.models import Entry

pytestmark = pytest.mark.django_db(transaction=True)


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with real row locks and concurrent connections (PostgreSQL)")


def _run_together(*calls: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            result = call()
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_two_clerks_deciding_the_same_case_at_once_only_one_wins(
    case: Case, clerk: User, second_clerk: User
) -> None:
    _needs_postgresql()
    granted = services.draft_notice(case=case, template_key="granted", actor=clerk)

    def issue(actor: User) -> Notice:
        # both read the page with the same version of the one draft
        return services.issue_notice(
            notice=Notice.objects.get(pk=granted.pk), actor=actor, version=granted.version
        )

    results, errors = _run_together(lambda: issue(clerk), lambda: issue(second_clerk))
    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], TransitionError)
    assert case.number in str(errors[0])
    assert "entschieden" in str(errors[0])
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED
    assert case.notices.filter(status=Notice.Status.ISSUED).count() == 1
    assert case.events.filter(kind=CaseEvent.Kind.NOTICE_ISSUED).count() == 1
    assert AuditEvent.objects.filter(action="case.notice_issued").count() == 1
    # the loser's rolled-back transaction left nothing in the transparency log
    assert Entry.objects.filter(kind=Entry.Kind.ISSUE).count() == 1


def test_two_clicks_on_draft_at_once_make_one_draft(case: Case, clerk: User) -> None:
    _needs_postgresql()

    def draft() -> Notice:
        return services.draft_notice(
            case=Case.objects.get(pk=case.pk), template_key="granted", actor=clerk
        )

    results, errors = _run_together(draft, draft)
    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], CaseworkError)
    assert "Bescheidentwurf" in str(errors[0])
    assert case.notices.count() == 1


def test_case_numbers_are_unique_when_many_cases_open_at_once(
    make_case: Callable[..., Case],
) -> None:
    _needs_postgresql()
    results, errors = _run_together(*[make_case for _ in range(6)])
    assert errors == []
    numbers = sorted(c.number for c in results)
    year = numbers[0][:4]
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 7)]


def test_two_bulk_assignments_of_the_same_cases_at_once_do_not_overwrite_each_other(
    make_case: Callable[..., Case], team_lead: User, clerk: User, second_clerk: User
) -> None:
    """Both read the queue with the cases unassigned and select them in another order: one
    assignment wins whole, the other is refused whole (the rows are locked in one order, so
    neither waits for the other in a deadlock)."""
    _needs_postgresql()
    first, second = make_case(), make_case()
    seen = {case.pk: services.Assignment.of(case) for case in (first, second)}

    def give(to: User, order: list[Case]) -> list[Case]:
        cases = [Case.objects.get(pk=case.pk) for case in order]
        return services.assign(cases=cases, user=to, actor=team_lead, seen=seen)

    results, errors = _run_together(
        lambda: give(clerk, [first, second]), lambda: give(second_clerk, [second, first])
    )
    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], ChangedMeanwhileError), errors
    winner = results[0][0].assigned_to
    assert {c.assigned_to for c in Case.objects.filter(pk__in=[first.pk, second.pk])} == {winner}
    assert AuditEvent.objects.filter(action="case.assigned").count() == 2
