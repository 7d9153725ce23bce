"""Wahlschein und Briefwahl with several elections open at once: the citizen chooses the election
on the start page, the application stays for it, and the pages, the receipt and the case name it.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from freezegun import freeze_time
from pypdf import PdfReader

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.receipts import build_receipt
from rathaus.applications.selectors import applied_for
from rathaus.applications.service_context import ChoiceRequired
from rathaus.applications.services import start_application, submit_application
from rathaus.backoffice import case_page
from rathaus.casework import services as casework
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.registers.models import BERLIN, Election, PollingCardApplication
from tests.accounts.factories import StaffFactory
from tests.applications.test_postal_vote_rules import VOTER_ERIKA, _fill

MAY = "2029-05-20 10:00:00"
ELECTION_DAY = datetime.date(2029, 6, 10)


@pytest.fixture
def briefwahl(demo: None) -> Service:
    return Service.objects.get(slug="briefwahl")


@pytest.fixture
def europe(wuppertal: Municipality) -> Election:
    return Election.objects.create(
        municipality=wuppertal,
        name="Europawahl",
        election_day=ELECTION_DAY,
        minimum_age=16,
        vote_key="euw-2029",
    )


@pytest.fixture
def local(wuppertal: Municipality) -> Election:
    """The Kommunalwahl on the same day; its applications close a day earlier than the law's
    default (to tell the two deadlines apart)."""
    return Election.objects.create(
        municipality=wuppertal,
        name="Kommunalwahl",
        election_day=ELECTION_DAY,
        minimum_age=16,
        postal_vote_deadline=datetime.datetime(2029, 6, 7, 18, 0, tzinfo=BERLIN),
    )


def _start(user: User, service: Service, town: Municipality, choice: str | None) -> Application:
    return start_application(
        applicant=user, service=service, municipality=town, trust_level="low", choice=choice
    )


def _send(user: User, application: Application, key: str) -> Application:
    return submit_application(
        application=application, idempotency_key=key, confirmed=True, actor=user
    )


# --- the choice, in the service ---------------------------------------------------------------


def test_with_one_open_election_the_draft_starts_without_a_question(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election
) -> None:
    with freeze_time(MAY):
        application = _start(citizen, briefwahl, wuppertal, None)
    assert application.context["election_id"] == europe.pk
    assert application.context["election"] == {"name": "Europawahl", "election_day": "2029-06-10"}


def test_with_two_open_elections_the_start_asks_which_and_opens_no_draft(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    with freeze_time(MAY), pytest.raises(ChoiceRequired) as asked:
        _start(citizen, briefwahl, wuppertal, None)
    choice = asked.value.choice
    assert asked.value.refusal == ""
    assert choice.legend == "Für welche Wahl beantragen Sie den Wahlschein?"
    assert {option.value for option in choice.options} == {str(europe.pk), str(local.pk)}
    labels = " | ".join(option.label for option in choice.options)
    assert "Europawahl am 10. Juni 2029 (Anträge bis 8. Juni 2029 18:00)" in labels
    assert "Kommunalwahl am 10. Juni 2029 (Anträge bis 7. Juni 2029 18:00)" in labels
    assert not Application.objects.exists()


def test_the_chosen_election_is_kept_and_applied_for_at_submission(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    with freeze_time(MAY):
        application = _start(citizen, briefwahl, wuppertal, str(local.pk))
        assert application.context["election_id"] == local.pk
        _fill(briefwahl, application, VOTER_ERIKA)
        sent = _send(citizen, application, "local")
    assert sent.context["election_id"] == local.pk
    entry = PollingCardApplication.objects.get(application_id=sent.pk)
    assert (entry.election_id, entry.scope) == (local.pk, f"election:{local.pk}")
    # the case knows it too: the notice templates read it from the particulars
    assert sent.case is not None
    assert sent.case.particulars["election"] == {
        "name": "Kommunalwahl",
        "election_day": "2029-06-10",
    }
    with freeze_time(MAY):
        notice = casework.draft_notice(case=sent.case, template_key="granted", actor=StaffFactory())
    assert "ein Wahlschein für die Wahl „Kommunalwahl“ am 10.06.2029 erteilt" in notice.body
    # and the clerk's case page names it above the answers
    page = case_page.context(case=sent.case, user=StaffFactory())
    assert [(line.label, line.text) for line in page["applied_for"]] == [
        ("Wahl", "Kommunalwahl am 10. Juni 2029")
    ]


def test_a_duplicate_for_the_chosen_election_is_refused_with_a_hint_about_the_other(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    """§ 28 Abs. 10 BWahlO: one polling card per voter and vote. The second application is not
    moved to the Kommunalwahl: it is refused, and the citizen told they can still apply for it."""
    with freeze_time(MAY):
        first = _start(citizen, briefwahl, wuppertal, str(europe.pk))
        _fill(briefwahl, first, VOTER_ERIKA)
        sent = _send(citizen, first, "first")
        second = _start(citizen, briefwahl, wuppertal, str(europe.pk))
        _fill(briefwahl, second, VOTER_ERIKA)
        with pytest.raises(ApplicationError) as refused:
            _send(citizen, second, "second")
    message = str(refused.value)
    assert f"bereits ein Wahlschein beantragt (Antragsnummer {sent.reference}" in message
    assert (
        "Einen Wahlschein können Sie noch beantragen für: Kommunalwahl am 10. Juni 2029. "
        "Bitte stellen Sie dafür einen neuen Antrag." in message
    )
    second.refresh_from_db()
    assert second.is_draft and second.context["election_id"] == europe.pk
    assert not PollingCardApplication.objects.filter(scope=f"election:{local.pk}").exists()


def test_no_hint_names_an_election_the_voter_has_applied_for_already(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    with freeze_time(MAY):
        for key, election in (("eu", europe), ("local", local)):
            application = _start(citizen, briefwahl, wuppertal, str(election.pk))
            _fill(briefwahl, application, VOTER_ERIKA)
            _send(citizen, application, key)
        again = _start(citizen, briefwahl, wuppertal, str(europe.pk))
        _fill(briefwahl, again, VOTER_ERIKA)
        with pytest.raises(ApplicationError, match="bereits") as refused:
            _send(citizen, again, "again")
    assert "Kommunalwahl" not in str(refused.value)


def test_a_tampered_election_is_refused_at_the_start(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    solingen = Municipality.objects.get(slug="solingen")
    elsewhere = Election.objects.create(
        municipality=solingen, name="Europawahl", election_day=ELECTION_DAY
    )
    past = Election.objects.create(
        municipality=wuppertal, name="Bürgerentscheid", election_day=datetime.date(2029, 3, 4)
    )
    cases = {
        str(elsewhere.pk): "Bitte wählen Sie eine der aufgeführten Wahlen aus.",
        "abc": "Bitte wählen Sie eine der aufgeführten Wahlen aus.",
        "-1": "Bitte wählen Sie eine der aufgeführten Wahlen aus.",
        "9" * 40: "Bitte wählen Sie eine der aufgeführten Wahlen aus.",
        "": "Bitte geben Sie an, für welche Wahl Sie den Wahlschein beantragen.",
        str(past.pk): "Die Frist für Briefwahlanträge (2. März 2029 18:00) ist abgelaufen.",
    }
    with freeze_time(MAY):
        for value, message in cases.items():
            with pytest.raises(ChoiceRequired) as refused:
                _start(citizen, briefwahl, wuppertal, value)
            assert message in refused.value.refusal, value
            offered = {option.value for option in refused.value.choice.options}
            assert offered == {str(europe.pk), str(local.pk)}, value
    assert not Application.objects.exists()


def test_a_chosen_election_whose_deadline_passed_is_refused_at_start_and_submission(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    with freeze_time("2029-06-06 10:00:00"):
        draft = _start(citizen, briefwahl, wuppertal, str(local.pk))
        _fill(briefwahl, draft, VOTER_ERIKA)
    with freeze_time("2029-06-08 08:00:00"):  # the Kommunalwahl's deadline has passed
        with pytest.raises(
            ApplicationError, match=r"Frist für Briefwahlanträge \(7\. Juni 2029"
        ) as late:
            _send(citizen, draft, "late")
        # the Europawahl is still open for this voter: the refusal says so
        assert "noch beantragen für: Europawahl am 10. Juni 2029" in str(late.value)
        with pytest.raises(ChoiceRequired) as refused:
            _start(citizen, briefwahl, wuppertal, str(local.pk))
    assert "Frist für Briefwahlanträge (7. Juni 2029 18:00)" in refused.value.refusal
    assert [option.value for option in refused.value.choice.options] == [str(europe.pk)]
    draft.refresh_from_db()
    assert draft.is_draft and draft.context["election_id"] == local.pk  # not moved


def test_the_receipt_names_the_election(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    with freeze_time(MAY):
        application = _start(citizen, briefwahl, wuppertal, str(local.pk))
        _fill(briefwahl, application, VOTER_ERIKA)
        sent = _send(citizen, application, "receipt")
    pdf = build_receipt(sent)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    lines = text.splitlines()
    # in the letter's information block beside the file reference: "Wahl", then the election
    assert "Wahl" in lines
    assert "Kommunalwahl am 10. Juni 2029" in " ".join(text.split())


# --- the start page and the whole flow ---------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


START = "/antraege/neu/briefwahl/"


def test_the_start_page_asks_for_the_election_only_when_several_are_open(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election
) -> None:
    with freeze_time(MAY):
        client = _client(citizen)
        one = client.post(START, {"gemeinde": "wuppertal"})
        assert one.status_code == 302 and "/schritt/applicant/" in one["Location"]
        Election.objects.create(
            municipality=wuppertal, name="Kommunalwahl", election_day=ELECTION_DAY
        )
        two = client.post(START, {"gemeinde": "wuppertal"})
    page = two.content.decode()
    assert two.status_code == 200
    assert "Für welche Wahl beantragen Sie den Wahlschein?" in page
    assert f'name="auswahl" type="radio" value="{europe.pk}"' in page
    assert "Kommunalwahl am 10. Juni 2029" in page
    assert 'name="auswahl_gefragt"' in page
    assert 'option value="wuppertal" selected' in page  # the municipality is kept
    assert Application.objects.count() == 1  # only the one started with a single election


def test_the_start_page_refuses_a_missing_or_tampered_choice_beside_it(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    solingen = Municipality.objects.get(slug="solingen")
    elsewhere = Election.objects.create(
        municipality=solingen, name="Europawahl", election_day=ELECTION_DAY
    )
    with freeze_time(MAY):
        client = _client(citizen)
        answers: list[tuple[dict[str, Any], str]] = [
            ({"auswahl_gefragt": "1"}, "Bitte geben Sie an, für welche Wahl"),
            ({"auswahl": str(elsewhere.pk)}, "Bitte wählen Sie eine der aufgeführten Wahlen aus."),
            ({"auswahl": "x" * 5000}, "Bitte wählen Sie eine der aufgeführten Wahlen aus."),
        ]
        for data, message in answers:
            response = client.post(START, {"gemeinde": "wuppertal", **data})
            page = response.content.decode()
            assert response.status_code == 400, data
            assert message in page, data
            assert 'href="#auswahl-1"' in page and "kern-fieldset--error" in page
    assert not Application.objects.exists()


def test_a_postal_vote_for_the_second_election_from_start_to_receipt_list(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    with freeze_time(MAY):
        client = _client(citizen)
        started = client.post(
            START, {"gemeinde": "wuppertal", "auswahl_gefragt": "1", "auswahl": str(local.pk)}
        )
        assert started.status_code == 302, started.content.decode()[:2000]
        application = Application.objects.get()
        base = f"/antraege/{application.public_id}"
        for step, data in (
            ("applicant", {"applies_for": "self"}),
            ("voter", VOTER_ERIKA),
            ("delivery", {"delivery_to": "home"}),
        ):
            answer = client.post(f"{base}/schritt/{step}/", data)
            assert answer.status_code == 302, answer.content.decode()[:2000]
        review = client.get(f"{base}/pruefen/").content.decode()
        assert ">Wahl</dt>" in review and "Kommunalwahl am 10. Juni 2029" in review
        reviewed = review.split('name="reviewed" value="', 1)[1].split('"', 1)[0]
        sent = client.post(
            f"{base}/pruefen/", {"submission_key": "k", "confirm": "yes", "reviewed": reviewed}
        )
        assert sent.status_code == 302, sent.content.decode()[:2000]
        # a second draft, for the Europawahl, left for later
        client.post(START, {"gemeinde": "wuppertal", "auswahl": str(europe.pk)})
        detail = client.get(f"{base}/").content.decode()
        listing = client.get("/antraege/").content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert PollingCardApplication.objects.get(application_id=application.pk).election == local
    assert "Kommunalwahl am 10. Juni 2029" in detail
    assert "Wahl: Kommunalwahl am 10. Juni 2029" in listing
    assert "Wahl: Europawahl am 10. Juni 2029" in listing  # the draft's election


@pytest.mark.parametrize("context", [[], ["x"], "garbage", 5, None])
def test_a_context_that_is_not_an_object_names_nothing_and_raises_nothing(
    db: None, context: Any
) -> None:
    assert applied_for(service_slug="briefwahl", context=context) == []


# --- review fixes ------------------------------------------------------------------------------


@pytest.fixture
def keeps_language() -> Iterator[None]:
    """A request in English leaves English active in this thread: the tests after it read
    German again."""
    with translation.override(translation.get_language()):
        yield


def test_the_refusal_notice_names_the_chosen_election(
    citizen: User, briefwahl: Service, wuppertal: Municipality, europe: Election, local: Election
) -> None:
    """§ 37 Abs. 1 VwVfG: the refusal is specific about which election it refuses."""
    with freeze_time(MAY):
        application = _start(citizen, briefwahl, wuppertal, str(local.pk))
        _fill(briefwahl, application, VOTER_ERIKA)
        sent = _send(citizen, application, "refused")
        assert sent.case is not None
        notice = casework.draft_notice(case=sent.case, template_key="refused", actor=StaffFactory())
    assert "für die Wahl „Kommunalwahl“ am 10.06.2029" in notice.body


@pytest.mark.parametrize("which", ["not_open_yet", "open_with_leading_zero"])
def test_only_an_election_past_its_deadline_is_called_so(
    citizen: User,
    briefwahl: Service,
    wuppertal: Municipality,
    europe: Election,
    local: Election,
    which: str,
) -> None:
    later = Election.objects.create(
        municipality=wuppertal,
        name="Landtagswahl",
        election_day=datetime.date(2029, 9, 23),
        postal_vote_from=datetime.datetime(2029, 8, 1, 8, 0, tzinfo=BERLIN),
    )
    value = str(later.pk) if which == "not_open_yet" else f"0{local.pk}"
    with freeze_time(MAY), pytest.raises(ChoiceRequired) as refused:
        _start(citizen, briefwahl, wuppertal, value)
    assert "abgelaufen" not in refused.value.refusal, refused.value.refusal
    if which == "not_open_yet":  # it says from when
        assert refused.value.refusal == (
            "Briefwahlanträge für die Landtagswahl am 23. September 2029 sind ab 1. August 2029 "
            "08:00 möglich. Bitte wählen Sie eine der aufgeführten Wahlen aus."
        )
    else:
        assert refused.value.refusal == "Bitte wählen Sie eine der aufgeführten Wahlen aus."
    assert [option.value for option in refused.value.choice.options] == [
        str(europe.pk),
        str(local.pk),
    ]
    assert not Application.objects.exists()


def test_elections_of_one_day_are_offered_by_name_whatever_order_they_were_entered_in(
    citizen: User, briefwahl: Service, wuppertal: Municipality
) -> None:
    entered_first = Election.objects.create(
        municipality=wuppertal, name="Kommunalwahl", election_day=ELECTION_DAY
    )
    entered_second = Election.objects.create(
        municipality=wuppertal, name="Europawahl", election_day=ELECTION_DAY
    )
    with freeze_time(MAY), pytest.raises(ChoiceRequired) as asked:
        _start(citizen, briefwahl, wuppertal, None)
    assert [option.value for option in asked.value.choice.options] == [
        str(entered_second.pk),
        str(entered_first.pk),
    ]


def test_the_language_switch_on_the_election_question_keeps_the_municipality(
    citizen: User,
    briefwahl: Service,
    wuppertal: Municipality,
    europe: Election,
    local: Election,
    keeps_language: None,
) -> None:
    with freeze_time(MAY):
        client = _client(citizen)
        page = client.post(START, {"gemeinde": "wuppertal"}).content.decode()
        assert "Für welche Wahl beantragen Sie den Wahlschein?" in page
        next_url = page.split('name="next" value="', 1)[1].split('"', 1)[0]
        switched = client.post("/i18n/setlang/", {"language": "en", "next": next_url})
        again = client.get(switched["Location"])
    page = again.content.decode()
    assert again.status_code == 200
    assert 'value="wuppertal" selected' in page
    assert "For which election are you applying for a polling card?" in page
    assert f'name="auswahl" type="radio" value="{local.pk}"' in page
    assert "<title>Error" not in page and "kern-fieldset--error" not in page
    assert not Application.objects.exists()  # asking again opens no draft


@pytest.mark.parametrize("gemeinde", ["atlantis", "wupper tal", "x" * 5000, "<b>", ""])
def test_the_start_page_with_an_unknown_municipality_is_the_plain_start_page(
    citizen: User,
    briefwahl: Service,
    wuppertal: Municipality,
    europe: Election,
    local: Election,
    gemeinde: str,
) -> None:
    with freeze_time(MAY):
        response = _client(citizen).get(START, {"gemeinde": gemeinde})
    page = response.content.decode()
    assert response.status_code == 200
    assert " selected>" not in page
    assert 'name="auswahl"' not in page and "<b>" not in page
    assert 'name="next" value="/antraege/neu/briefwahl/"' in page
    assert not Application.objects.exists()
