"""Whoever types a voter's name and birth date into their own postal-vote application must not
learn whether, when or under which reference another account applied for that voter: the
refusal is neutral, the hint about other elections counts only the account's own applications,
and each such refusal is audited and counted against a limit."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.service_rules import POLLING_CARD_REFUSALS
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.registers.models import Election
from tests.accounts.factories import ProfileFactory
from tests.applications.test_postal_vote_choice import (  # noqa: F401 (fixtures)
    MAY,
    _send,
    _start,
    briefwahl,
    europe,
    local,
)
from tests.applications.test_postal_vote_rules import VOTER_ERIKA, _fill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_counts() -> None:
    cache.clear()


def _stranger() -> User:
    return ProfileFactory(given_names="Max", family_name="Neugier").user


def test_another_account_learns_neither_reference_nor_day_and_is_audited(
    citizen: User,
    briefwahl: Service,  # noqa: F811
    wuppertal: Municipality,
    europe: Election,  # noqa: F811
    local: Election,  # noqa: F811
) -> None:
    with freeze_time(MAY):
        for key, election in (("eu", europe), ("local", local)):
            own = _start(citizen, briefwahl, wuppertal, str(election.pk))
            _fill(briefwahl, own, VOTER_ERIKA)
            sent = _send(citizen, own, key)
        stranger = _stranger()
        probe = _start(stranger, briefwahl, wuppertal, str(europe.pk))
        _fill(briefwahl, probe, VOTER_ERIKA)  # Erika's name and birth date
        with pytest.raises(ApplicationError) as refused:
            _send(stranger, probe, "probe")
    message = str(refused.value)
    assert "kann für diese wahlberechtigte Person nicht online beantragt werden" in message
    assert sent.reference not in message and "A-2029" not in message and "Mai" not in message
    # the hint counts only the stranger's own applications: it does not tell that Erika
    # applied for the Kommunalwahl too
    assert "noch beantragen für: Kommunalwahl am 10. Juni 2029" in message
    probe.refresh_from_db()
    assert probe.is_draft
    event = AuditEvent.objects.get(
        action="applications.polling_card_refused", object_id=str(probe.pk)
    )
    assert event.actor_id == stranger.pk
    assert event.after == {"election": europe.pk, "refusals_in_window": 1}


def test_the_refusals_of_one_account_are_limited(
    citizen: User,
    briefwahl: Service,  # noqa: F811
    wuppertal: Municipality,
    europe: Election,  # noqa: F811
) -> None:
    with freeze_time(MAY):
        own = _start(citizen, briefwahl, wuppertal, None)
        _fill(briefwahl, own, VOTER_ERIKA)
        _send(citizen, own, "erika")
        stranger = _stranger()
        probe = _start(stranger, briefwahl, wuppertal, None)
        _fill(briefwahl, probe, VOTER_ERIKA)
        allowed = POLLING_CARD_REFUSALS[0]
        for attempt in range(allowed):
            with pytest.raises(ApplicationError, match="nicht online beantragt"):
                _send(stranger, probe, f"p{attempt}")
        with pytest.raises(ApplicationError) as stopped:
            _send(stranger, probe, "over")
    assert "Zu viele" in str(stopped.value)
    assert AuditEvent.objects.filter(action="applications.polling_card_refused").count() == allowed
