"""An ``in`` filter with a number no integer column can hold matches nothing, never crashes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.forms import ModelMultipleChoiceField

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
