"""Leistungen: service definitions and who is responsible for them in which municipality.

The service texts are data (``catalog/services/<slug>/service.toml``), loaded into these tables
on every ``migrate``; responsibilities are data the municipalities' administrators maintain.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from rathaus.catalog.definitions import (
    MAX_AMOUNT,
    DefinitionError,
    document_items,
    fee_items_problem,
    legal_basis_items,
)
from rathaus.core.models import Authority, Municipality

logger = logging.getLogger(__name__)

leika_validator = RegexValidator(
    r"^\d{14}$", _("The FIM Leistungsschlüssel (LeiKa key) has exactly 14 digits.")
)


def _localized(obj: Any, field: str) -> str:
    """The English text when the page is in English and one exists, the German one otherwise."""
    if (translation.get_language() or "de").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return str(english)
    return str(getattr(obj, f"{field}_de"))


class TrustLevel(models.TextChoices):
    """Vertrauensniveau of the identification a service needs (§ 3 Abs. 4 OZG, eIDAS)."""

    LOW = "low", _("low (user account)")
    SUBSTANTIAL = "substantial", _("substantial (e.g. ELSTER certificate)")
    HIGH = "high", _("high (online ID card, eID)")


class FeeKind(models.TextChoices):
    FREE = "free", _("free of charge")
    FIXED = "fixed", _("fixed fee")
    BY_CRITERIA = "criteria", _("fee depends on criteria")
    MUNICIPAL = "municipal", _("fee set by the municipality")
    SEE_NOTICE = "notice", _("fee stated in the notice")


class LifeSituation(models.Model):
    """Lebenslage: the situation in life through which citizens look for services."""

    slug = models.SlugField(_("slug"), unique=True)
    name_de = models.CharField(_("name (German)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("life situation")
        verbose_name_plural = _("life situations")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name_de

    @property
    def name(self) -> str:
        return _localized(self, "name")


class Service(models.Model):
    """A Leistung as citizens see it in the catalog."""

    slug = models.SlugField(_("slug"), unique=True, max_length=80)
    leika_key = models.CharField(
        _("FIM Leistungsschlüssel"),
        max_length=14,
        blank=True,
        validators=[leika_validator],
        help_text=_("14 digits; empty where no verified key is known."),
    )
    name_de = models.CharField(_("name (German)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    summary_de = models.TextField(_("summary (German)"))
    summary_en = models.TextField(_("summary (English)"))
    description_de = models.TextField(_("description (German)"))
    description_en = models.TextField(_("description (English)"))
    plain_language_de = models.TextField(_("plain language summary (Leichte Sprache)"))
    legal_basis = models.JSONField(
        _("legal basis"),
        default=list,
        blank=True,
        help_text=_('List of {"title": …, "url": …}.'),
    )
    documents = models.JSONField(
        _("required documents and evidence"),
        default=list,
        blank=True,
        help_text=_('List of {"de": …, "en": …}.'),
    )
    fee_kind = models.CharField(_("kind of fee"), max_length=12, choices=FeeKind.choices)
    fees = models.JSONField(
        _("fees"),
        default=list,
        blank=True,
        help_text=_(
            'List of {"label_de", "label_en", "amount" (EUR as text), optional '
            '"min_age", "max_age"}.'
        ),
    )
    fee_note_de = models.TextField(_("note on fees (German)"), blank=True)
    fee_note_en = models.TextField(_("note on fees (English)"), blank=True)
    trust_level = models.CharField(
        _("required trust level"), max_length=12, choices=TrustLevel.choices
    )
    processing_time_de = models.CharField(_("processing time (German)"), max_length=200)
    processing_time_en = models.CharField(_("processing time (English)"), max_length=200)
    online = models.BooleanField(
        _("can be applied for online here"),
        default=False,
    )
    authority_kind = models.CharField(
        _("kind of responsible authority"),
        max_length=32,
        choices=Authority.Kind.choices,
        blank=True,
        help_text=_("Empty when an authority outside the municipalities handles it."),
    )
    external_provider_de = models.CharField(
        _("external provider (German)"), max_length=200, blank=True
    )
    external_provider_en = models.CharField(
        _("external provider (English)"), max_length=200, blank=True
    )
    external_url = models.URLField(_("external application URL"), blank=True)
    file_plan_key = models.CharField(
        _("file plan key"),
        max_length=40,
        blank=True,
        help_text=_(
            "Entry of the authority's file plan (Aktenplan) under which the files of this "
            "service's cases are kept, e.g. 11.30.01."
        ),
    )
    keywords = models.TextField(
        _("search keywords"),
        blank=True,
        help_text=_("Synonyms citizens search for."),
    )
    life_situations = models.ManyToManyField(
        LifeSituation,
        related_name="services",
        verbose_name=_("life situations"),
        blank=True,
    )
    search_name = models.TextField(_("normalised name"), editable=False, default="")
    search_text = models.TextField(_("normalised search text"), editable=False, default="")
    source_file = models.CharField(_("definition file"), max_length=200, editable=False, blank=True)
    source_hash = models.CharField(_("definition hash"), max_length=64, editable=False, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Inactive because its folder was removed (the loader reactivates it when the folder comes
    # back); a service an administrator switched off has False here and stays off.
    deactivated_by_sync = models.BooleanField(
        _("deactivated because its definition folder was removed"), default=False, editable=False
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name_de"]

    def __str__(self) -> str:
        return self.name_de

    def clean(self) -> None:
        # Fees, documents and the legal basis edited in the admin follow the rules of the
        # definition files: an amount that cannot be quoted or collected, a document without
        # its German name or a link that is not https:// would otherwise fail (or be linked) on
        # a citizen's request.
        errors: dict[str, Any] = {}
        problem = fee_items_problem(self.fee_kind, self.fees)
        if problem is not None:
            errors["fees"] = _("These fees cannot be used: %(problem)s") % {"problem": problem}
        try:
            self.documents = document_items([] if self.documents is None else self.documents)
        except DefinitionError as exc:
            errors["documents"] = _("These documents cannot be used: %(problem)s") % {
                "problem": f"{exc.field_name}: {exc.message}"
            }
        try:
            self.legal_basis = legal_basis_items(
                [] if self.legal_basis is None else self.legal_basis
            )
        except DefinitionError as exc:
            errors["legal_basis"] = _("This legal basis cannot be used: %(problem)s") % {
                "problem": f"{exc.field_name}: {exc.message}"
            }
        if errors:
            raise ValidationError(errors)

    @property
    def name(self) -> str:
        return _localized(self, "name")

    @property
    def summary(self) -> str:
        return _localized(self, "summary")

    @property
    def description(self) -> str:
        return _localized(self, "description")

    @property
    def processing_time(self) -> str:
        return _localized(self, "processing_time")

    @property
    def fee_note(self) -> str:
        return _localized(self, "fee_note")

    @property
    def external_provider(self) -> str:
        return _localized(self, "external_provider")

    @property
    def is_external(self) -> bool:
        return not self.authority_kind

    def _valid_items(self, field: str, check: Any) -> list[dict[str, str]]:
        """The items of ``documents`` or ``legal_basis`` that follow the rules of the definition
        files; one stored otherwise (typed in the admin before it checked them) is left out and
        logged, so that it cannot break the page or the API."""
        items = getattr(self, field)
        if not isinstance(items, list):
            items = [items]
        valid = []
        for position, item in enumerate(items):
            try:
                valid.extend(check([item]))
            except DefinitionError as exc:
                logger.warning(
                    "catalog: service %s: %s[%d] left out: %s",
                    self.slug,
                    field,
                    position,
                    exc.message,
                )
        return valid

    @property
    def document_list(self) -> list[str]:
        english = (translation.get_language() or "de").startswith("en")
        return [
            d["en"] if english else d["de"] for d in self._valid_items("documents", document_items)
        ]

    @property
    def legal_basis_list(self) -> list[dict[str, str]]:
        """``legal_basis`` as shown: each with a title, and an https:// address or none."""
        return self._valid_items("legal_basis", legal_basis_items)

    @property
    def fee_list(self) -> list[dict[str, Any]]:
        english = (translation.get_language() or "de").startswith("en")
        return [
            {
                "label": f.get("label_en") if english and f.get("label_en") else f["label_de"],
                "amount": Decimal(f["amount"]),
                "min_age": f.get("min_age"),
                "max_age": f.get("max_age"),
            }
            for f in self.fees
        ]

    def fee_for_age(self, age: int) -> Decimal | None:
        """The nationally fixed fee for a person of this age, if the fee depends on age only."""
        for fee in self.fee_list:
            if (fee["min_age"] is None or age >= fee["min_age"]) and (
                fee["max_age"] is None or age <= fee["max_age"]
            ):
                return fee["amount"]
        return None


class Responsibility(models.Model):
    """Zuständigkeit: which authority handles a service for the residents of a municipality.

    The authority may belong to another municipality ("Einer für Alle").
    """

    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        related_name="responsibilities",
        verbose_name=_("service"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="responsibilities",
        verbose_name=_("for residents of"),
    )
    authority = models.ForeignKey(
        Authority,
        on_delete=models.PROTECT,
        related_name="responsibilities",
        verbose_name=_("responsible authority"),
    )
    local_fee = models.DecimalField(
        _("fee (EUR)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        # The rules of the fees in the definition files: an amount that cannot be quoted or
        # collected would otherwise fail on a citizen's request.
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(MAX_AMOUNT)],
        help_text=_("The amount of a municipal fee as set by the handling authority's statute."),
    )
    local_fee_note_de = models.CharField(_("note on the fee (German)"), max_length=300, blank=True)
    local_fee_note_en = models.CharField(_("note on the fee (English)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        ordering = ["service__name_de", "municipality__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "municipality"], name="responsibility_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(local_fee__isnull=True)
                | models.Q(local_fee__gte=0, local_fee__lte=MAX_AMOUNT),
                name="responsibility_local_fee_collectable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} - {self.municipality}: {self.authority}"

    @property
    def is_shared(self) -> bool:
        """True when another municipality's authority handles it ("Einer für Alle")."""
        return self.authority.municipality_id != self.municipality_id

    @property
    def local_fee_note(self) -> str:
        return _localized(self, "local_fee_note")


class FormVersion(models.Model):
    """A service's form file as an application was validated against it at submission.

    § 9a OZG: the declaration is frozen; after a deployment changes the form, a submitted
    application is still shown with the labels, steps and conditions the citizen confirmed.
    """

    digest = models.CharField(_("SHA-256 of the form file"), max_length=64, primary_key=True)
    slug = models.SlugField(_("service"), max_length=80)
    text = models.TextField(_("form file"))
    created_at = models.DateTimeField(_("stored"), auto_now_add=True)

    class Meta:
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")

    def __str__(self) -> str:
        return f"{self.slug} {self.digest[:12]}"
