"""Audit trail for changes made in the Django admin.

Who may see which cases (staff memberships, groups, routing), which identity providers citizens
sign in with and the tenancy itself are configured in the admin; a change there is as
consequential as one in the back office and goes into the audit trail the same way
(``rathaus.core.audit``). :class:`AuditedAdmin` records one event per saved or deleted object,
with the values of the changed fields before and after, many-to-many fields (a user's groups)
included.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from rathaus.core import audit
from rathaus.core.models import Municipality

#: Written into the trail instead of a secret's value (a password hash, an OIDC client secret).
HIDDEN = "(hidden)"

_BEFORE_ATTR = "_rathaus_audit_before"


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, bytes | memoryview):
        return f"({len(value)} bytes)"
    return str(value)


def _municipality_of(obj: Model) -> Municipality | None:
    """The municipality the object belongs to, for the trail's per-tenant view."""
    if isinstance(obj, Municipality):
        return obj
    for path in ("municipality", "authority", "org_unit", "provider"):
        try:
            related = getattr(obj, path, None)
        except ObjectDoesNotExist:  # a required relation not set yet
            return None
        if isinstance(related, Municipality):
            return related
        if related is not None:
            return _municipality_of(related)
    return None


class AuditedAdmin(admin.ModelAdmin):
    """Mixin for a ``ModelAdmin``: every add, change and delete is appended to the audit trail.

    The action is ``admin.<app label>.<model>.created|changed|deleted`` (also for the objects of
    inlines); ``audit_secret_fields`` are compared but never written, only that they changed.
    """

    #: The fields recorded; None for all. Name only what matters for access when the object
    #: holds personal data (the trail outlives an account's deletion, Art. 17 GDPR).
    audit_fields: tuple[str, ...] | None = None
    audit_secret_fields: tuple[str, ...] = ()
    #: Whether objects saved or deleted in inlines (an authority's org units) are recorded too.
    audit_inlines: bool = True

    def audit_state(self, obj: Model, *, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The object's fields (foreign keys as ids, many-to-many as sorted names)."""
        opts = obj._meta
        state: dict[str, Any] = {}
        for field in opts.concrete_fields:
            if fields is None or field.name in fields:
                state[field.name] = _json(field.value_from_object(obj))
        if obj.pk is not None:
            for field in opts.many_to_many:
                if fields is None or field.name in fields:
                    state[field.name] = sorted(str(o) for o in getattr(obj, field.name).all())
        return state

    def _state(self, obj: Model) -> dict[str, Any]:
        return self.audit_state(obj, fields=self.audit_fields)

    def _record(
        self,
        request: HttpRequest,
        obj: Model,
        action: str,
        *,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        municipality: Municipality | None,
    ) -> None:
        """One event; of a change only the fields that differ, secrets hidden."""
        if before is not None and after is not None:
            changed = sorted(k for k in after if before.get(k) != after[k])
            if not changed:
                return
            before = {k: before.get(k) for k in changed}
            after = {k: after[k] for k in changed}
        audit.record(
            actor=request.user,
            action=action,
            obj=obj,
            before=self._hide_secrets(before),
            after=self._hide_secrets(after),
            municipality=municipality,
        )

    def _hide_secrets(self, state: dict[str, Any] | None) -> dict[str, Any] | None:
        if state is None:
            return None
        return {
            k: (HIDDEN if v else v) if k in self.audit_secret_fields else v
            for k, v in state.items()
        }

    def _action(self, model: type[Model], verb: str) -> str:
        return f"admin.{model._meta.label_lower}.{verb}"

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        before = None
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = self._state(stored) if stored is not None else None
        setattr(form, _BEFORE_ATTR, before)
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        # Many-to-many fields (a user's groups) are saved here, after save_model.
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(form, _BEFORE_ATTR, None)
        self._record(
            request,
            obj,
            self._action(type(obj), "changed" if before is not None else "created"),
            before=before,
            after=self._state(obj),
            municipality=_municipality_of(obj),
        )

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: Any, change: bool
    ) -> None:
        if not self.audit_inlines:
            super().save_formset(request, form, formset, change)
            return
        model = formset.model
        municipality = _municipality_of(form.instance)
        stored = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None]
        before = {o.pk: self.audit_state(o) for o in model._default_manager.filter(pk__in=stored)}
        for deleted in formset.deleted_forms:  # before the deletion takes their ids
            if deleted.instance.pk in before:
                self._record(
                    request,
                    deleted.instance,
                    self._action(model, "deleted"),
                    before=before[deleted.instance.pk],
                    after=None,
                    municipality=municipality,
                )
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            self._record(
                request,
                obj,
                self._action(model, "created"),
                before=None,
                after=self.audit_state(obj),
                municipality=municipality,
            )
        for obj, _fields in formset.changed_objects:
            self._record(
                request,
                obj,
                self._action(model, "changed"),
                before=before.get(obj.pk, {}),
                after=self.audit_state(obj),
                municipality=municipality,
            )

    def _record_deletion(self, request: HttpRequest, obj: Model) -> None:
        self._record(
            request,
            obj,
            self._action(type(obj), "deleted"),
            before=self._state(obj),
            after=None,
            # The trail's municipality is protected: a municipality's own deletion names none.
            municipality=None if isinstance(obj, Municipality) else _municipality_of(obj),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            self._record_deletion(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._record_deletion(request, obj)
            super().delete_queryset(request, queryset)
