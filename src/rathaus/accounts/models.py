"""Citizens and staff: one user model, identified by e-mail address, and the citizen profile."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
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
# Postleitzahl (5 Ziffern), Ort. Digits are ASCII [0-9]: ``\d`` would take any Unicode digit
# (e.g. the full-width U+FF14), which the database's check constraint refuses.
postal_code_validator = RegexValidator(
    r"^[0-9]{5}$", _("A German postal code has exactly five digits, e.g. 42103.")
)
house_number_validator = RegexValidator(
    r"^[0-9]{1,4}\s?[a-zA-Z]?(?:\s?[-/]\s?[0-9]{1,4}\s?[a-zA-Z]?)?$",
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
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[phone_validator])
    #: Empty: the citizen never chose one. Pages then stay in the language they browse in, and
    #: what is written to them follows the language they applied in (receipts, e-mails).
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, blank=True, default=""
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


class IdentityProvider(models.Model):
    """A citizen account a municipality accepts for login: BundID by SAML, or an OIDC broker."""

    class Protocol(models.TextChoices):
        SAML = "saml", _("SAML 2.0 (BundID profile)")
        OIDC = "oidc", _("OpenID Connect")

    municipality = models.ForeignKey(
        "core.Municipality",
        on_delete=models.CASCADE,
        related_name="identity_providers",
        verbose_name=_("municipality"),
    )
    slug = models.SlugField(_("slug"), unique=True, help_text=_("Part of the login addresses."))
    name = models.CharField(_("name shown on the login page"), max_length=120)
    protocol = models.CharField(_("protocol"), max_length=4, choices=Protocol.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    allowed_levels = models.JSONField(
        _("allowed trust levels"),
        default=list,
        help_text=_("Trust levels this provider may assert: low, substantial, high."),
    )
    # SAML
    metadata_url = models.URLField(_("IdP metadata URL"), blank=True)
    metadata_xml = models.TextField(
        _("IdP metadata (XML)"), blank=True, help_text=_("Used when no metadata URL is given.")
    )
    idp_entity_id = models.CharField(
        _("IdP entity ID"),
        max_length=500,
        blank=True,
        help_text=_("Which entity of the metadata to use; empty: the only IdP in it."),
    )
    requested_attributes = models.JSONField(
        _("requested attributes (OIDs)"),
        default=list,
        blank=True,
        help_text=_("Empty: bPK2, name, date of birth, address and e-mail address."),
    )
    # OIDC
    issuer = models.URLField(_("OIDC issuer"), blank=True)
    client_id = models.CharField(_("client ID"), max_length=200, blank=True)
    client_secret = models.CharField(_("client secret"), max_length=500, blank=True)
    acr_values = models.JSONField(
        _("acr values by trust level"),
        default=dict,
        blank=True,
        help_text=_('Empty: {"low": "STORK-QAA-Level-1", "substantial": …-3, "high": …-4}.'),
    )

    class Meta:
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")
        ordering = ["municipality__name", "name"]

    def __str__(self) -> str:
        return self.name


class FederatedIdentity(models.Model):
    """The link between a user and a citizen account: the stable id is bPK2 (SAML) or ``sub``."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="federated_identities", verbose_name=_("user")
    )
    provider = models.ForeignKey(
        IdentityProvider,
        on_delete=models.PROTECT,
        related_name="identities",
        verbose_name=_("identity provider"),
    )
    issuer = models.CharField(_("issuer"), max_length=500)
    subject = models.CharField(_("stable identifier"), max_length=500)
    trust_level = models.CharField(_("last trust level"), max_length=12)
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("last login"), null=True, blank=True)

    class Meta:
        verbose_name = _("linked citizen account")
        verbose_name_plural = _("linked citizen accounts")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="federated_identity_unique"),
            # one citizen account per issuer and account: another person's pseudonym linked
            # into an account would log in to it (federation._refuse_second_link)
            models.UniqueConstraint(
                fields=["user", "issuer"], name="federated_identity_one_per_issuer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} → {self.user}"


class LoginAttempt(models.Model):
    """One login at a provider, from the request until the citizen is logged in.

    Kept in the database (not the session): the SAML response arrives as a cross-site POST that
    carries no Lax session cookie. The browser is bound by ``browser_key`` kept in its session.
    """

    class Status(models.TextChoices):
        STARTED = "started", _("started")
        ANSWERED = "answered", _("answered")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True)
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STARTED)
    required_level = models.CharField(max_length=12)
    next_url = models.CharField(max_length=1000, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE)
    browser_key = models.CharField(max_length=64)
    request_id = models.CharField(max_length=200, unique=True)
    nonce = models.CharField(max_length=100, blank=True)
    code_verifier = models.CharField(max_length=200, blank=True)
    assertion_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.status} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"
