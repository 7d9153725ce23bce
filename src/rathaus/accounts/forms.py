"""Forms of the account pages (profile, account deletion) and Rathaus' variants of allauth's
forms (sign-up, second-factor codes, adding a passkey)."""

from __future__ import annotations

from datetime import date
from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.webauthn.forms import AddWebAuthnForm
from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from rathaus.accounts import totp_steps
from rathaus.accounts.login_limits import check_second_factor_limit
from rathaus.accounts.models import Profile, User
from rathaus.accounts.selectors import fields_not_taken_over
from rathaus.core.unicode_text import has_refused_invisible

#: Oldest birth year we accept as plausible (nobody alive was born earlier).
EARLIEST_BIRTH_YEAR = 1900
ADDRESS_FIELDS = ("street", "house_number", "postal_code", "place")
#: The profile's typed entries: names and address prefill the application forms, which refuse
#: invisible characters, so the profile refuses them too.
TYPED_FIELDS = ("given_names", "family_name", *ADDRESS_FIELDS, "phone")


def page_language() -> str:
    """The language the page is shown in, as a :class:`Profile.Language` value."""
    language = (translation.get_language() or "")[:2]
    return language if language in Profile.Language.values else settings.LANGUAGE_CODE


class ProfileForm(forms.ModelForm[Profile]):
    """Name, date of birth and address ("Anschrift Inland") for prefilling applications."""

    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as DD.MM.YYYY, e.g. 24.12.1980.")},
    )

    class Meta:
        model = Profile
        fields = [
            "given_names",
            "family_name",
            "birth_date",
            "street",
            "house_number",
            "postal_code",
            "place",
            "phone",
            "preferred_language",
        ]
        widgets = {
            "given_names": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "family_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "house_number": forms.TextInput(attrs={"autocomplete": "off"}),
            "postal_code": forms.TextInput(
                attrs={"autocomplete": "postal-code", "inputmode": "numeric"}
            ),
            "place": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }
        error_messages = {
            "street": {"max_length": _("The street may have at most 55 characters.")},
            "postal_code": {"max_length": _("A German postal code has exactly five digits.")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._offer_languages()
        if self.instance.user_id is None:
            return
        for name in fields_not_taken_over(user_id=self.instance.user_id):
            if name in self.fields:
                # beside the field: the eID value is authoritative, so the citizen checks it
                self.fields[name].help_text = _(
                    "The value your citizen account sent for this entry could not be taken "
                    "over. Please check the entry and fill it in yourself if needed."
                )

    def _offer_languages(self) -> None:
        """German or English, preselected as stored; without a stored preference the language
        the page is shown in, never German by default (the citizen sees what saving keeps)."""
        field = self.fields["preferred_language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = Profile.Language.choices  # no empty entry: saving chooses one
        field.required = True
        field.help_text = _(
            "The pages are shown in this language after you log in, and receipts and e-mails "
            "are written in it."
        )
        field.error_messages["required"] = _("Please choose a language.")
        if not self.instance.preferred_language:
            self.initial["preferred_language"] = page_language()

    def clean_birth_date(self) -> date | None:
        value: date | None = self.cleaned_data.get("birth_date")
        if value is None:
            return None
        if value > timezone.localdate():
            raise forms.ValidationError(
                _("The date of birth cannot be in the future."), code="future"
            )
        if value.year < EARLIEST_BIRTH_YEAR:
            raise forms.ValidationError(
                _("Please check the date of birth: it lies before %(year)s."),
                code="implausible",
                params={"year": EARLIEST_BIRTH_YEAR},
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._refuse_invisible()
        # The cleaned values (stripped): a part of spaces only is no part. A part that failed
        # its own validation counts as given (its error is shown already).
        given = [name for name in ADDRESS_FIELDS if cleaned.get(name) or name in self.errors]
        if given:
            for name in ADDRESS_FIELDS:
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(
                        name,
                        forms.ValidationError(
                            _("Please complete the address: this part is missing."),
                            code="address_incomplete",
                        ),
                    )
        return cleaned

    def _refuse_invisible(self) -> None:
        """A control or invisible format character (zero-width space, soft hyphen, direction
        marks and overrides, byte order mark) is refused beside its field as the form engine
        does (``core.unicode_text``): a clerk would not see it, and U+202E shows the text
        reversed. A zero width (non-)joiner between letters (Persian, Kurdish and Indic names)
        is allowed. The message replaces the field's others: a length or format message would
        be about a character the person cannot see."""
        for name in TYPED_FIELDS:
            text = self.fields[name].to_python(self[name].data)
            if not isinstance(text, str) or not has_refused_invisible(text):
                continue
            self.errors.pop(name, None)
            self.add_error(
                name,
                forms.ValidationError(
                    _(
                        "This entry contains an invisible character that cannot stand there, "
                        "such as a zero-width space, a soft hyphen or a text direction control. "
                        "Type it again without that character."
                    ),
                    code="invisible_character",
                ),
            )


class DeleteAccountForm(forms.Form):
    """Confirm the deletion with the password (if the account has one) and a checkbox."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account and my personal data will be deleted for good."),
        error_messages={"required": _("Please confirm that you want to delete your account.")},
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():
            del self.fields["password"]

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."), code="wrong_password")
        return password


class AddPasskeyForm(AddWebAuthnForm):
    """allauth's "add key" form, worded for citizens: a passkey is the Smartphone-Bürger-ID."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("Name of the device")
        self.fields["name"].help_text = _("So that you can tell your passkeys apart.")
        if "passwordless" in self.fields:
            self.fields["passwordless"].label = _(
                "Use as Smartphone-Bürger-ID: log in with this passkey alone"
            )
            self.fields["passwordless"].help_text = ""
            self.fields["passwordless"].initial = True


class SignupForm(AllauthSignupForm):
    """allauth's sign-up, except that an address another account only claims (typed in, never
    confirmed) does not count as taken: its owner signs up, and confirming it drops the claim
    (``services.drop_unconfirmed_claims``)."""

    def validate_unique_email(self, value: str) -> str:
        from allauth.account.models import EmailAddress

        if (
            not User.objects.filter(email__iexact=value).exists()
            and not EmailAddress.objects.filter(email__iexact=value, verified=True).exists()
        ):
            self.account_already_exists = False
            return value
        return str(super().validate_unique_email(value))


class _StepCheckedCodeMixin:
    """allauth's code check, with TOTP codes checked by ``totp_steps.accept_code`` (a used
    code, or an earlier one, is refused; RFC 6238 § 5.2). Recovery codes as allauth checks them.
    """

    user: Any
    cleaned_data: dict[str, Any]
    authenticator: Authenticator

    def clean_code(self) -> str:
        clear_rate_limit = check_second_factor_limit(self.user)
        code: str = self.cleaned_data["code"]
        main: Authenticator | None = None
        for authenticator in Authenticator.objects.filter(user=self.user).exclude(
            type=Authenticator.Type.WEBAUTHN  # cannot check typed codes
        ):
            if main is None or authenticator.type == Authenticator.Type.TOTP:
                main = authenticator
            if authenticator.type == Authenticator.Type.TOTP:
                accepted = totp_steps.accept_code(authenticator, code)
            else:
                accepted = authenticator.wrap().validate_code(code)
            if accepted:
                authenticator.user = self.user
                self.authenticator = authenticator
                clear_rate_limit()
                return code
        if main is not None:
            self._emit_authentication_failed(main)  # type: ignore[attr-defined]
        raise mfa_forms.get_adapter().validation_error("incorrect_code")


class AuthenticateForm(_StepCheckedCodeMixin, mfa_forms.AuthenticateForm):
    """The second step of the login."""


class ReauthenticateForm(_StepCheckedCodeMixin, mfa_forms.ReauthenticateForm):
    """Confirming a sensitive step (and, for staff, the admin) with the second factor."""
