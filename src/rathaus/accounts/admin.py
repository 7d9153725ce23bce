"""Admin for users (identified by e-mail) with their citizen profile.

Changes to roles and rights, identity providers and linked identities are audited
(``rathaus.core.admin_audit``); changes to a profile by the names of the changed fields, which
ends the confirmation of a changed name or date of birth by a citizen-account login. Deleting a
user follows the rules of the citizen's own deletion (``services.delete_account``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import model_ngettext, unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rathaus.accounts import services, trust
from rathaus.accounts.models import FederatedIdentity, IdentityProvider, Profile, User
from rathaus.accounts.personal_data import ErasureBlocked
from rathaus.core import audit
from rathaus.core.admin_audit import AuditedAdmin


class ProfileInline(admin.StackedInline[Profile, User]):
    """The profile on the user page, its only place in the admin: saved through
    :meth:`UserAdmin.save_formset`, which audits it."""

    model = Profile
    can_delete = False
    extra = 0


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    # Only who may do what: the e-mail address and the profile are personal data, and the audit
    # trail outlives the account (Art. 17 GDPR).
    audit_fields = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")
    audit_inlines = False
    add_form = UserCreationForm
    form = UserEditForm
    inlines = [ProfileInline]
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined", "last_login"]
    search_fields = ["email", "profile__family_name", "profile__given_names"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    actions = ["delete_selected"]

    # --- deletion: the erasure rules of services.delete_account, never a plain cascade -------

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[Any, Any], set[Any], list[Any]]:
        """Whether an account may go is decided by :func:`services.delete_account`, not by the
        admin's list of protected objects: drafts protect their applicant too, yet are deleted
        with the account, while the applications the authority keeps refuse it
        (:class:`ErasureBlocked`, shown as an error)."""
        to_delete, model_count, perms_needed, _protected = super().get_deleted_objects(
            objs, request
        )
        return to_delete, model_count, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        """One account, by the administrator (audited as such); raises :class:`ErasureBlocked`
        with nothing deleted."""
        with transaction.atomic():
            self._record_deletion(request, obj)
            services.delete_account(user=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Each account on its own: the refused ones stay and are named in an error message,
        the others are deleted."""
        refused = []
        for user in queryset:
            try:
                self.delete_model(request, user)
            except ErasureBlocked as blocked:
                refused.append(f"{user}: {blocked}")
        if refused:
            self.message_user(
                request,
                gettext("Not deleted: %(accounts)s") % {"accounts": "; ".join(refused)},
                messages.ERROR,
            )

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ErasureBlocked as blocked:  # rolled back, the admin's log entry included
            self.message_user(
                request,
                gettext("The account was not deleted: %(reason)s") % {"reason": blocked},
                messages.ERROR,
            )
            change = reverse(f"{self.admin_site.name}:accounts_user_change", args=(object_id,))
            return HttpResponseRedirect(change)

    @admin.action(
        permissions=["delete"],
        description=django_delete_selected.short_description,  # type: ignore[attr-defined]
    )
    def delete_selected(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        """Django's action, except that after the confirmation only the accounts actually
        deleted are logged and counted (:meth:`delete_queryset` names the refused ones)."""
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)
        _objs, _count, perms_needed, _protected = self.get_deleted_objects(queryset, request)
        if perms_needed:
            raise PermissionDenied
        users = list(queryset)
        self.delete_queryset(request, queryset)
        remaining = set(
            User.objects.filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True)
        )
        deleted: list[Model] = [u for u in users if u.pk not in remaining]
        if deleted:
            self.log_deletions(request, deleted)  # type: ignore[arg-type]
            self.message_user(
                request,
                gettext("Successfully deleted %(count)d %(items)s.")
                % {"count": len(deleted), "items": model_ngettext(self.opts, len(deleted))},
                messages.SUCCESS,
            )
        return None

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm[User], formset: Any, change: bool
    ) -> None:
        """The profile inline, audited by the names of the changed fields
        (``services.record_profile_change_by_staff``): a name or date of birth typed here is no
        longer one a citizen-account login confirmed."""
        if formset.model is not Profile:
            super().save_formset(request, form, formset, change)
            return
        ids = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None]
        # From the database: validating the forms wrote the typed values into their instances.
        stored = {p.pk: p for p in Profile.objects.select_for_update().filter(pk__in=ids)}
        super().save_formset(request, form, formset, change)
        for profile in formset.new_objects:
            services.record_profile_change_by_staff(
                actor=request.user, profile=profile, before=None
            )
        for profile in Profile.objects.filter(pk__in=stored):
            services.record_profile_change_by_staff(
                actor=request.user, profile=profile, before=stored[profile.pk]
            )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's page for setting a user's password, audited: who set whose password when
        (never the password or its hash)."""
        user = self.get_object(request, unquote(id))
        before = user.password if user is not None else None
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and user is not None:
            user.refresh_from_db(fields=["password"])
            if user.password != before:
                audit.record(
                    actor=request.user,
                    action="admin.accounts.user.password_set",
                    obj=user,
                    after={"usable": user.has_usable_password()},
                )
        return response


class IdentityProviderForm(forms.ModelForm[IdentityProvider]):
    allowed_levels = forms.MultipleChoiceField(
        label=_("allowed trust levels"),
        choices=trust.Level.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The levels this citizen account may assert."),
    )

    class Meta:
        model = IdentityProvider
        fields = [
            "municipality",
            "name",
            "slug",
            "protocol",
            "enabled",
            "allowed_levels",
            "metadata_url",
            "metadata_xml",
            "idp_entity_id",
            "requested_attributes",
            "issuer",
            "client_id",
            "client_secret",
            "acr_values",
        ]
        # The secret is never sent back into the page; left empty, the stored one stays.
        widgets = {"client_secret": forms.PasswordInput(render_value=False)}
        field_classes = {"metadata_url": forms.CharField, "issuer": forms.CharField}

    def clean_client_secret(self) -> str:
        """Left empty when editing: the stored secret stays (it is never rendered back)."""
        value = str(self.cleaned_data.get("client_secret") or "")
        if not value and self.instance.pk:
            return str(self.instance.client_secret)
        return value

    def clean_metadata_url(self) -> str:
        return self._url("metadata_url")

    def clean_issuer(self) -> str:
        return self._url("issuer").rstrip("/")

    def _url(self, name: str) -> str:
        value = str(self.cleaned_data.get(name) or "").strip()
        if value and not value.startswith(("https://", "http://")):
            raise forms.ValidationError(_("Enter a full address beginning with https://."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        protocol = data.get("protocol")
        if protocol == IdentityProvider.Protocol.SAML:
            if not data.get("metadata_url") and not (data.get("metadata_xml") or "").strip():
                self.add_error("metadata_url", _("Give the IdP's metadata URL or paste its XML."))
        elif protocol == IdentityProvider.Protocol.OIDC:
            for name in ("issuer", "client_id", "client_secret"):
                if not data.get(name):
                    self.add_error(name, _("Required for OpenID Connect."))
        acr = data.get("acr_values") or {}
        if not isinstance(acr, dict) or any(k not in trust.ORDER for k in acr):
            self.add_error("acr_values", _('Use the keys "low", "substantial" and "high".'))
        requested = data.get("requested_attributes") or []
        if not isinstance(requested, list) or not all(isinstance(v, str) for v in requested):
            self.add_error("requested_attributes", _("A list of attribute names (urn:oid:…)."))
        return data


@admin.register(IdentityProvider)
class IdentityProviderAdmin(AuditedAdmin, admin.ModelAdmin[IdentityProvider]):
    audit_secret_fields = ("client_secret",)
    form = IdentityProviderForm
    list_display = ["name", "municipality", "protocol", "enabled", "slug"]
    list_filter = ["protocol", "enabled", "municipality"]
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (
            None,
            {"fields": ("municipality", "name", "slug", "protocol", "enabled", "allowed_levels")},
        ),
        (
            _("SAML 2.0 (BundID)"),
            {"fields": ("metadata_url", "metadata_xml", "idp_entity_id", "requested_attributes")},
        ),
        (_("OpenID Connect"), {"fields": ("issuer", "client_id", "client_secret", "acr_values")}),
    )


@admin.register(FederatedIdentity)
class FederatedIdentityAdmin(AuditedAdmin, admin.ModelAdmin[FederatedIdentity]):
    audit_fields = ("user", "provider", "trust_level", "linked_at")
    list_display = ["user", "provider", "trust_level", "linked_at", "last_login_at"]
    list_filter = ["provider", "trust_level"]
    search_fields = ["user__email"]
    readonly_fields = [
        "user",
        "provider",
        "issuer",
        "subject",
        "trust_level",
        "linked_at",
        "last_login_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
