"""Warnings of a step (severity "warning"): they never block, but the citizen sees them. A step
whose answers bring a warning not shown yet is saved and shown once more with it; the same
answers sent again continue. The review page lists the warnings that still apply beside the
answers, so that the declaration is confirmed knowing them (§ 9a OZG)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.utils import translation
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications import services
from rathaus.applications.models import Application
from rathaus.catalog.form_schemas import schema_path
from rathaus.core.models import Municipality
from rathaus.forms.engine import StepResult
from rathaus.forms.field_types import Issue
from rathaus.forms.schema import load_schema_file
from tests.applications.wohnsitz import ADULT, people

TODAY = datetime.date(2026, 11, 20)
NOW = "2026-11-20 10:00:00"
LATE = "Der Einzug liegt mehr als zwei Wochen zurück."
START = "/antraege/neu/wohnsitz-anmelden/"


@pytest.fixture
def keeps_language() -> Iterator[None]:
    """A request in English leaves English active in this thread: the tests after it read
    German again."""
    with translation.override(translation.get_language()):
        yield


def _log_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


@pytest.fixture
def logged_in(client: Client, citizen: User, wuppertal: Municipality) -> Client:
    return _log_in(client, citizen)


def _move(days_ago: int, **changes: str) -> dict[str, str]:
    moved_in = TODAY - datetime.timedelta(days=days_ago)
    return {
        "move_in_date__day": str(moved_in.day),
        "move_in_date__month": str(moved_in.month),
        "move_in_date__year": str(moved_in.year),
        "new_address__street": "Friedrich-Engels-Allee",
        "new_address__house_number": "12",
        "new_address__postal_code": "42283",
        "new_address__place": "Wuppertal",
        "residence_kind": "main",
        **changes,
    }


def _seen(page: str) -> dict[str, list[str]]:
    """The warnings the page says it has shown, to send back as a browser does."""
    return {"_seen_warnings": re.findall(r'name="_seen_warnings" value="([0-9a-f]+)"', page)}


def _start(client: Client) -> str:
    response = client.post(START, {"gemeinde": "wuppertal"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return f"/antraege/{Application.objects.get().public_id}"


def test_a_warning_is_shown_once_with_everything_typed_and_the_second_submit_continues(
    logged_in: Client,
) -> None:
    with freeze_time(NOW):
        base = _start(logged_in)
        shown = logged_in.post(f"{base}/schritt/move/", _move(20, **{"continue": ""}))
        page = shown.content.decode()
        # shown as a note, not an error: status 200, no "Fehler" in the title, no error summary
        assert shown.status_code == 200
        assert "<title>Ihre neue Wohnung" in page and "Fehler" not in page
        assert 'id="error-summary"' not in page and 'aria-invalid="true"' not in page
        assert 'id="warning-summary"' in page and "Bitte beachten Sie" in page
        assert page.count(LATE) == 2  # in the summary and beside the date
        assert ">Hinweis</h2>" in page and "Ihre Angaben wurden gespeichert." in page
        # nothing typed is lost, and it is saved already
        assert 'value="Friedrich-Engels-Allee"' in page and 'value="42283"' in page
        application = Application.objects.get()
        assert application.answers["move_in_date"] == "2026-10-31"
        assert application.answers["new_address"]["street"] == "Friedrich-Engels-Allee"
        seen = _seen(page)
        assert len(seen["_seen_warnings"]) == 1
        # the same answers sent again continue
        again = logged_in.post(f"{base}/schritt/move/", {**_move(20), **seen})
    assert again.status_code == 302, again.content.decode()[:2000]
    assert again["Location"].endswith("/schritt/previous/")


def test_a_warning_shown_beside_an_error_counts_as_shown_once_the_error_is_corrected(
    logged_in: Client,
) -> None:
    with freeze_time(NOW):
        base = _start(logged_in)
        wrong = logged_in.post(f"{base}/schritt/move/", _move(20, new_address__postal_code="4228"))
        page = wrong.content.decode()
        assert wrong.status_code == 400 and 'id="error-summary"' in page and LATE in page
        assert "Ihre Angaben wurden gespeichert." not in page  # not saved: there is an error
        corrected = logged_in.post(f"{base}/schritt/move/", {**_move(20), **_seen(page)})
    assert corrected.status_code == 302
    assert corrected["Location"].endswith("/schritt/previous/")


def test_a_step_without_warnings_continues_at_once(logged_in: Client) -> None:
    with freeze_time(NOW):
        base = _start(logged_in)
        response = logged_in.post(f"{base}/schritt/move/", _move(3))
    assert response.status_code == 302
    assert response["Location"].endswith("/schritt/previous/")


def test_changed_answers_that_bring_a_warning_show_it(logged_in: Client) -> None:
    with freeze_time(NOW):
        base = _start(logged_in)
        assert logged_in.post(f"{base}/schritt/move/", _move(3)).status_code == 302
        back = logged_in.get(f"{base}/schritt/move/").content.decode()
        assert LATE not in back and not _seen(back)["_seen_warnings"]
        changed = logged_in.post(f"{base}/schritt/move/", {**_move(30), **_seen(back)})
        assert changed.status_code == 200
        assert LATE in changed.content.decode()
        assert Application.objects.get().answers["move_in_date"] == "2026-10-21"


def test_a_row_added_after_a_warning_keeps_it_seen(logged_in: Client) -> None:
    """Adding a person (without JavaScript: a button that posts the step) forgets nothing: the
    warnings the step showed before stay seen."""
    with freeze_time(NOW):
        base = _start(logged_in)
        for step, data in (("move", _move(3)), ("previous", {"previous_kept": "no"})):
            assert logged_in.post(f"{base}/schritt/{step}/", data).status_code == 302
        url = f"{base}/schritt/people/"
        seen = {"_seen_warnings": ["0123456789abcdef"]}
        added = logged_in.post(url, {**people(ADULT), **seen, "_rows": "add:persons"})
    page = added.content.decode()
    assert added.status_code == 200
    assert _seen(page) == seen


def test_keys_sent_back_name_only_the_warnings_they_were_made_for() -> None:
    step = load_schema_file(schema_path("wohnsitz-anmelden"), source="wohnsitz-anmelden").step(
        "move"
    )
    late = Issue("move_in_date", "move_in_date", "Date", LATE, severity="warning")
    other = Issue("phone", "phone", "Phone", "Without a phone …", severity="warning")
    error = Issue("street", "street", "Street", "Enter the street.")
    result = StepResult(step=step, issues=[late, other, error])
    key = services.warning_key(step_id="move", issue=late)
    assert services.unseen_warnings(result=result, seen=[]) == [late, other]
    assert services.unseen_warnings(result=result, seen=[key]) == [other]
    # the same warning on another step is another warning
    assert services.warning_key(step_id="previous", issue=late) != key
    assert services.unseen_warnings(result=result, seen=["", "garbage", key.upper()]) == [
        late,
        other,
    ]


def test_saving_for_later_with_a_warning_leaves_at_once(logged_in: Client) -> None:
    with freeze_time(NOW):
        base = _start(logged_in)
        left = logged_in.post(f"{base}/schritt/move/", {**_move(20), "save_and_leave": ""})
    assert left.status_code == 302 and left["Location"] == "/antraege/"
    assert Application.objects.get().answers["move_in_date"] == "2026-10-31"


def _complete(client: Client, base: str, days_ago: int) -> None:
    for step, data in (
        ("move", _move(days_ago)),
        ("previous", {"previous_kept": "no"}),
        ("people", people(ADULT)),
        ("landlord", {"landlord_way": "own_property"}),
    ):
        response = client.post(f"{base}/schritt/{step}/", data)
        if response.status_code == 200:  # shown once with its warnings: sent again
            response = client.post(
                f"{base}/schritt/{step}/", {**data, **_seen(response.content.decode())}
            )
        assert response.status_code == 302, (step, response.content.decode()[:2000])


def test_the_review_page_lists_the_warnings_that_still_apply_beside_the_answers(
    logged_in: Client, citizen: User
) -> None:
    with freeze_time(NOW):
        base = _start(logged_in)
        _complete(logged_in, base, 10)  # no warning yet: moved in ten days ago
        today = logged_in.get(f"{base}/pruefen/").content.decode()
    assert LATE not in today and 'id="notes-summary"' not in today
    with freeze_time("2026-11-26 10:00:00"):  # six days later, the two weeks have passed
        review = _log_in(logged_in, citizen).get(f"{base}/pruefen/")
    page = review.content.decode()
    assert review.status_code == 200
    assert "<title>Prüfen und absenden" in page
    summary = page.split('id="notes-summary"', 1)[1].split("</div>\n  </div>", 1)[0]
    assert 'href="#section-move"' in summary and f"Datum des Einzugs: {LATE}" in summary
    # beside the answer it is about, in the same list item as the date
    row = page.split(">Datum des Einzugs</dt>", 1)[1].split("</dd>", 1)[0]
    assert "10.11.2026" in row and LATE in row
    # and the declaration can still be sent with it
    reviewed = page.split('name="reviewed" value="', 1)[1].split('"', 1)[0]
    with freeze_time("2026-11-26 10:00:00"):
        sent = logged_in.post(
            f"{base}/pruefen/", {"submission_key": "k", "confirm": "yes", "reviewed": reviewed}
        )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    assert Application.objects.get().status == Application.Status.SUBMITTED


def test_the_notes_are_in_english_for_an_english_reader(
    logged_in: Client, keeps_language: None
) -> None:
    logged_in.cookies["django_language"] = "en"
    with freeze_time(NOW):
        base = _start(logged_in)
        page = logged_in.post(f"{base}/schritt/move/", _move(20)).content.decode()
        assert "You moved in more than two weeks ago." in page
        assert "Your answers have been saved." in page
        _complete(logged_in, base, 20)
        review = logged_in.get(f"{base}/pruefen/").content.decode()
    assert "These notes apply to your answers." in review
    assert "Date of moving in: You moved in more than two weeks ago." in review
