"""Django admin: tenancy and responsibilities are editable, the audit trail is read-only.

The admin site itself demands a second factor (accounts middleware); these tests call the model
admins directly, as the admin site does after that check.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Model
from django.test import RequestFactory

from rathaus.catalog.models import LifeSituation, Responsibility, Service
from rathaus.core.admin_audit import AuditedAdmin
from rathaus.core.models import AuditEvent, Authority, Municipality, OrgUnit


@pytest.fixture
def superuser(demo: None, django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser(email="admin@example.org", password="x" * 12)


def _request(user: Any, path: str = "/admin/") -> Any:
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize(
    "model", [Municipality, Authority, OrgUnit, Service, Responsibility, LifeSituation, AuditEvent]
)
def test_admin_changelists_render(superuser: Any, model: type[Model]) -> None:
    response = site._registry[model].changelist_view(_request(superuser))
    response.render()
    assert response.status_code == 200


def test_service_change_page_has_the_responsibility_inline(superuser: Any) -> None:
    service = Service.objects.get(slug="meldebescheinigung")
    response = site._registry[Service].change_view(_request(superuser), str(service.pk))
    html = response.render().content.decode()
    assert "responsibilities-TOTAL_FORMS" in html
    assert 'value="3"' in html  # one row per city


def test_tenancy_and_responsibilities_are_editable(superuser: Any) -> None:
    request = _request(superuser)
    for model in (Municipality, Authority, OrgUnit, Responsibility):
        assert site._registry[model].has_change_permission(request)
        assert site._registry[model].has_add_permission(request)


def test_audit_trail_cannot_be_added_changed_or_deleted(superuser: Any) -> None:
    model_admin = site._registry[AuditEvent]
    request = _request(superuser)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_changing_a_responsibility_in_the_admin_is_audited(superuser: Any) -> None:
    responsibility = Responsibility.objects.get(
        service__slug="einbuergerung", municipality__slug="remscheid"
    )
    previous = responsibility.authority_id
    remscheid = Authority.objects.get(municipality__slug="remscheid", kind="einbuergerung")
    responsibility.authority = remscheid
    site._registry[Responsibility].save_model(_request(superuser), responsibility, None, True)

    responsibility.refresh_from_db()
    assert responsibility.authority == remscheid
    event = AuditEvent.objects.get(action="catalog.responsibility_saved")
    assert event.before is not None and event.before["authority"] == previous
    assert event.after is not None and event.after["authority"] == remscheid.pk
    assert event.actor == superuser


@pytest.mark.parametrize(
    ("fees", "problem"),
    [
        ([{"label_de": "Gebühr", "label_en": "Fee", "amount": "1000000.00"}], "items[0].amount"),
        ([{"label_de": "Gebühr", "label_en": "Fee", "amount": "zwölf"}], "items[0].amount"),
        ({"amount": "12.00"}, "items"),
    ],
)
def test_fees_edited_in_the_admin_follow_the_rules_of_the_definition_files(
    demo: None, fees: Any, problem: str
) -> None:
    from django.core.exceptions import ValidationError

    service = Service.objects.get(slug="meldebescheinigung")
    service.fee_kind = "fixed"
    service.fees = [{"label_de": "Gebühr", "label_en": "Fee", "amount": "999999.99"}]
    service.full_clean()
    service.fees = fees
    with pytest.raises(ValidationError) as error:
        service.full_clean()
    assert problem in error.value.message_dict["fees"][0]


def test_deleting_responsibilities_from_the_list_is_audited(superuser: Any) -> None:
    # "Delete selected" calls delete_queryset, not delete_model
    chosen = Responsibility.objects.filter(service__slug="einbuergerung")
    count = chosen.count()
    assert count >= 2
    site._registry[Responsibility].delete_queryset(_request(superuser), chosen)
    assert not Responsibility.objects.filter(service__slug="einbuergerung").exists()
    events = AuditEvent.objects.filter(action="catalog.responsibility_deleted")
    assert events.count() == count
    assert all(e.before and e.before["service"] == "einbuergerung" for e in events)


def test_changing_a_service_in_the_admin_is_audited(superuser: Any) -> None:
    service = Service.objects.get(slug="meldebescheinigung")
    admin = site._registry[Service]
    assert isinstance(admin, AuditedAdmin) and isinstance(
        site._registry[LifeSituation], AuditedAdmin
    )
    request = _request(superuser)
    form_class = admin.get_form(request, service, change=True)
    form = form_class(instance=service)
    data = {
        name: field.prepare_value(form.initial.get(name))
        for name, field in form.fields.items()
        if form.initial.get(name) is not None
    }
    stored = service.trust_level
    data["trust_level"] = "low" if stored != "low" else "substantial"
    data["life_situations"] = [ls.pk for ls in service.life_situations.all()]
    bound = form_class(data, instance=service)
    assert bound.is_valid(), bound.errors
    obj = bound.save(commit=False)
    admin.save_model(request, obj, bound, True)
    admin.save_related(request, bound, [], True)  # as the change view does: records the event
    event = AuditEvent.objects.get(action="admin.catalog.service.changed")
    assert event.object_id == str(service.pk)
    assert event.before is not None and event.after is not None
    assert event.before["trust_level"] == stored
    assert event.after["trust_level"] == data["trust_level"]
    assert set(event.after) <= {"trust_level", "updated_at"}  # only what changed


def _local_fee_form(superuser: Any, local_fee: str) -> Any:
    row = Responsibility.objects.get(
        service__slug="bewohnerparkausweis", municipality__slug="wuppertal"
    )
    form_class = site._registry[Responsibility].get_form(_request(superuser), row)
    return form_class(
        data={
            "service": row.service_id,
            "municipality": row.municipality_id,
            "authority": row.authority_id,
            "local_fee": local_fee,
            "local_fee_note_de": "",
            "local_fee_note_en": "",
        },
        instance=row,
    )


def test_admin_refuses_a_negative_municipal_fee(superuser: Any) -> None:
    form = _local_fee_form(superuser, "-26.00")
    assert not form.is_valid()
    assert list(form.errors) == ["local_fee"]  # beside the field


@pytest.mark.parametrize(("amount", "valid"), [("26.005", False), ("0", True), ("30.70", True)])
def test_admin_takes_municipal_fees_with_at_most_two_decimals(
    superuser: Any, amount: str, valid: bool
) -> None:
    form = _local_fee_form(superuser, amount)
    assert form.is_valid() is valid, form.errors
    if not valid:
        assert list(form.errors) == ["local_fee"]


def test_the_database_refuses_a_negative_municipal_fee(demo: None) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Responsibility.objects.filter(service__slug="bewohnerparkausweis").update(
            local_fee=Decimal("-26.00")
        )
