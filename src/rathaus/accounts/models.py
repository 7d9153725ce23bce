"""Citizens and staff: one user model, identified by e-mail address, and the citizen profile."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in: a citizen, or staff of an authority (``is_staff``)."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


# FIM "Anschrift Inland" (Baukasten-Datenfeldgruppe): Straße ≤ 55 Zeichen, Hausnummer,
# Postleitzahl (5 Ziffern), Ort.
postal_code_validator = RegexValidator(
    r"^\d{5}$", _("A German postal code has exactly five digits, e.g. 42103.")
)
house_number_validator = RegexValidator(
    r"^\d{1,4}\s?[a-zA-Z]?(?:\s?[-/]\s?\d{1,4}\s?[a-zA-Z]?)?$",
    _("Enter a house number such as 12, 12a or 12-14."),
)
phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()/\-]{4,28}[0-9]$",
    _("Enter a phone number with digits only, e.g. +49 202 123456."),
)


class Profile(models.Model):
    """What a citizen tells us once so that application forms can be prefilled."""

    class Language(models.TextChoices):
        GERMAN = "de", _("German")
        ENGLISH = "en", _("English")

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    given_names = models.CharField(_("given names"), max_length=120, blank=True)
    family_name = models.CharField(_("family name"), max_length=120, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    street = models.CharField(_("street"), max_length=55, blank=True)
    house_number = models.CharField(
        _("house number"), max_length=12, blank=True, validators=[house_number_validator]
    )
    postal_code = models.CharField(
        _("postal code"), max_length=5, blank=True, validators=[postal_code_validator]
    )
    place = models.CharField(_("place"), max_length=50, blank=True)
    phone = models.CharField(
        _("phone (optional)"), max_length=30, blank=True, validators=[phone_validator]
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.GERMAN
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("citizen profile")
        verbose_name_plural = _("citizen profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(postal_code="") | models.Q(postal_code__regex=r"^[0-9]{5}$"),
                name="profile_postal_code_five_digits",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or str(self.user)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_names, self.family_name) if part)

    @property
    def has_address(self) -> bool:
        return bool(self.street and self.house_number and self.postal_code and self.place)
