"""A filter with a number no integer column can hold matches nothing (or everything), never
crashes: on an integer column with ``in``, and on a foreign key with any comparison."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.forms import ModelMultipleChoiceField
from django.test import Client

from rathaus.core.audit import record
from rathaus.core.models import AuditEvent, Municipality

pytestmark = pytest.mark.django_db
HUGE = 10**23


def test_a_number_beyond_the_column_is_left_out_of_an_in_filter() -> None:
    group = Group.objects.create(name="Bürgeramt")
    assert list(Group.objects.filter(pk__in=[HUGE, group.pk])) == [group]
    assert list(Group.objects.filter(pk__in=[HUGE])) == []
    assert list(Group.objects.filter(pk__in=[-HUGE, str(HUGE)])) == []
    assert Group.objects.exclude(pk__in=[HUGE]).count() == Group.objects.count()


def test_a_model_choice_field_refuses_such_a_number_as_an_invalid_choice() -> None:
    field = ModelMultipleChoiceField(queryset=Permission.objects.all())
    with pytest.raises(ValidationError) as refused:
        field.clean([str(HUGE)])
    assert refused.value.code == "invalid_choice"


def test_a_foreign_key_compared_with_a_number_no_key_can_hold_matches_nothing() -> None:
    municipality = Municipality.objects.create(
        name="Solingen", slug="solingen", ags="05122000", state="NW"
    )
    event = record(actor=None, action="created", obj=municipality, municipality=municipality)
    events = AuditEvent.objects.filter(pk=event.pk)
    assert list(events.filter(municipality=HUGE)) == []
    assert list(events.filter(municipality=str(HUGE))) == []
    assert list(events.filter(municipality__in=[HUGE, municipality.pk])) == [event]
    assert list(events.filter(municipality__in=[str(HUGE)])) == []
    assert list(events.filter(municipality__gt=HUGE)) == []
    assert list(events.filter(municipality__gte=-HUGE)) == [event]
    assert list(events.filter(municipality__lt=HUGE)) == [event]
    assert list(events.filter(municipality__lte=-HUGE)) == []
    assert list(events.exclude(municipality=HUGE)) == [event]
    # the other way round: the municipality of an authority
    assert list(Municipality.objects.filter(authorities=HUGE)) == []
    assert list(Municipality.objects.filter(authorities__in=[HUGE])) == []


@pytest.fixture
def fresh_login_limits() -> Iterator[None]:
    """allauth counts logins per address in the cache: the other tests' admin logins too."""
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    "query",
    [f"municipality={HUGE}", f"actor={HUGE}", f"municipality__in={HUGE}", f"actor__gt=-{HUGE}"],
)
def test_a_foreign_key_filter_no_key_can_hold_is_a_wrong_filter_not_a_500(
    fresh_login_limits: None, admin_client: Client, query: str
) -> None:
    answer = admin_client.get(f"/admin/core/auditevent/?{query}")
    assert answer.status_code in (200, 302), answer.status_code
