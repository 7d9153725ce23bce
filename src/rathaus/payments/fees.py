"""Fee rules: a small typed language that service definitions use to state their fees.

A service definition (TOML in the catalog) carries a ``[fees]`` table; :func:`parse_fee_schedule`
turns it into typed rules and :func:`calculate_fee` applies them to the answers of an application.
Amounts are integer cents, never floats. The format is documented in docs/modules/payments.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _


class FeeRuleError(ValueError):
    """The fee rules of a service definition are malformed (a data error, found at load time)."""


class FeeCalculationError(ValueError):
    """The answers do not allow a fee to be calculated (e.g. a value outside every band)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Collection(StrEnum):
    """When the fee is collected."""

    # The application reaches the authority only once the fee is paid.
    BEFORE_SUBMISSION = "before_submission"
    # The application is submitted at once; the fee is collected with the notice.
    WITH_NOTICE = "with_notice"


# The largest fee that can be quoted and collected: 999.999,99 €, what the catalog's amount
# column (Responsibility.local_fee, 8 digits) holds; the payments' integer cents hold more.
MAX_AMOUNT_CENTS = 99_999_999

Label = str | Mapping[str, str]


def _label_text(label: Label) -> str:
    if isinstance(label, str):
        return label
    language = (get_language() or "de").split("-")[0]
    return label.get(language) or label.get("de") or next(iter(label.values()), "")


@dataclass(frozen=True)
class Condition:
    """``applies_if = {field = "express", equals = true}`` or ``{field = "x", in = [...]}``."""

    field: str
    values: tuple[Any, ...]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        value = answers.get(self.field)
        return any(_same(value, candidate) for candidate in self.values)


def _same(value: Any, candidate: Any) -> bool:
    if isinstance(candidate, bool) or isinstance(value, bool):
        return _as_bool(value) is candidate if isinstance(candidate, bool) else value == candidate
    return str(value) == str(candidate)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "1", "yes", "ja", "on"}:
            return True
        if lowered in {"false", "0", "no", "nein", "off", ""}:
            return False
    if value is None:
        return False
    return None


@dataclass(frozen=True)
class Band:
    """One row of a lookup table: an exact value or an inclusive range, and its amount."""

    amount_cents: int
    equals: Any = None
    minimum: int | None = None
    maximum: int | None = None
    label: Label | None = None  # replaces the rule's label when this band applies

    def matches(self, value: Any) -> bool:
        if self.equals is not None:
            return _same(value, self.equals)
        number = _as_int(value)
        if number is None:
            return False
        if self.minimum is not None and number < self.minimum:
            return False
        return not (self.maximum is not None and number > self.maximum)


#: A whole number as a person types it: an optional minus and at most 18 ASCII digits ("²" is
#: a digit to ``str.isdigit`` but not to ``int``; 18 digits stay far below ``int``'s limit).
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def _as_int(value: Any) -> int | None:
    """``value`` as an integer, or None if it is no plain whole number (never raises)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


@dataclass(frozen=True)
class FeeRule:
    """One line of the fee: ``fixed``, ``table``, ``per_unit`` or ``in_notice``."""

    id: str
    kind: str
    label: Label
    amount_cents: int = 0
    field: str | None = None
    derive: str | None = None
    bands: tuple[Band, ...] = ()
    default_cents: int | None = None
    unit_cents: int = 0
    included_units: int = 0
    max_units: int | None = None
    applies_if: Condition | None = None
    booking_reference: str = ""


@dataclass(frozen=True)
class FeeSchedule:
    """The parsed ``[fees]`` table of one service."""

    rules: tuple[FeeRule, ...]
    collection: Collection = Collection.BEFORE_SUBMISSION
    currency: str = "EUR"
    legal_basis: str = ""

    @property
    def set_in_notice(self) -> bool:
        return any(rule.kind == "in_notice" for rule in self.rules)


@dataclass(frozen=True)
class FeeLine:
    """One line item of a quote; maps to one XBezahldienste ``items`` entry."""

    id: str
    label: str
    quantity: int
    unit_cents: int
    booking_reference: str = ""

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_cents


@dataclass(frozen=True)
class FeeQuote:
    """The fee for one set of answers, shown before the start and on the review page."""

    lines: tuple[FeeLine, ...]
    collection: Collection
    currency: str = "EUR"
    set_in_notice: bool = False
    notice_lines: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def payable_online(self) -> bool:
        """Whether the citizen pays online before the application reaches the authority."""
        return (
            self.collection == Collection.BEFORE_SUBMISSION
            and not self.set_in_notice
            and self.total_cents > 0
        )

    def to_data(self) -> dict[str, Any]:
        """The quote as JSON-ready data, to be kept with what it was quoted for."""
        return {
            "lines": [
                {
                    "id": line.id,
                    "label": line.label,
                    "quantity": line.quantity,
                    "unit_cents": line.unit_cents,
                    "booking_reference": line.booking_reference,
                }
                for line in self.lines
            ],
            "collection": self.collection.value,
            "currency": self.currency,
            "set_in_notice": self.set_in_notice,
            "notice_lines": list(self.notice_lines),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> FeeQuote:
        """The quote :meth:`to_data` kept."""
        return cls(
            lines=tuple(
                FeeLine(
                    id=str(line["id"]),
                    label=str(line["label"]),
                    quantity=int(line["quantity"]),
                    unit_cents=int(line["unit_cents"]),
                    booking_reference=str(line.get("booking_reference", "")),
                )
                for line in data["lines"]
            ),
            collection=Collection(data["collection"]),
            currency=str(data.get("currency", "EUR")),
            set_in_notice=bool(data.get("set_in_notice", False)),
            notice_lines=tuple(str(text) for text in data.get("notice_lines", ())),
        )


_KINDS = {"fixed", "table", "per_unit", "in_notice"}
_DERIVED = {"age"}


def parse_fee_schedule(data: Mapping[str, Any] | None) -> FeeSchedule:
    """Parse the ``[fees]`` table of a service definition; raise :class:`FeeRuleError`."""
    if not data:
        return FeeSchedule(rules=())
    if not isinstance(data, Mapping):
        raise FeeRuleError("fees must be a table")
    try:
        collection = Collection(data.get("collection", Collection.BEFORE_SUBMISSION))
    except ValueError as exc:
        raise FeeRuleError(
            f"fees.collection must be one of {[c.value for c in Collection]}"
        ) from exc
    currency = data.get("currency", "EUR")
    if currency != "EUR":
        raise FeeRuleError("fees.currency must be EUR (XBezahldienste supports EUR only)")
    raw_items = data.get("items", [])
    if not isinstance(raw_items, Sequence) or isinstance(raw_items, str):
        raise FeeRuleError("fees.items must be a list of tables")
    rules = tuple(_parse_rule(item, index) for index, item in enumerate(raw_items))
    ids = [rule.id for rule in rules]
    if len(ids) != len(set(ids)):
        raise FeeRuleError("fees.items: every item needs a unique id")
    if len(rules) > 99:
        raise FeeRuleError("fees.items: at most 99 items (XBezahldienste limit)")
    _check_largest_total(rules, "fees")
    if any(rule.kind == "in_notice" for rule in rules) and collection != Collection.WITH_NOTICE:
        raise FeeRuleError('a fee "set in the notice" needs collection = "with_notice"')
    return FeeSchedule(
        rules=rules,
        collection=collection,
        currency=currency,
        legal_basis=str(data.get("legal_basis", "")),
    )


def _cents(value: Any, where: str) -> int:
    value = _count(value, where, noun="integer number of cents")
    if value > MAX_AMOUNT_CENTS:
        raise FeeRuleError(f"{where} must be at most {format_cents(MAX_AMOUNT_CENTS)}")
    return value


def _count(value: Any, where: str, *, noun: str = "integer") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FeeRuleError(f"{where} must be a non-negative {noun}")
    return value


def _largest_cents(rule: FeeRule) -> int:
    """The most this rule can add to a quote."""
    if rule.kind == "fixed":
        return rule.amount_cents
    if rule.kind == "table":
        return max([band.amount_cents for band in rule.bands] + [rule.default_cents or 0])
    if rule.kind == "per_unit" and rule.max_units is not None:
        return max(0, rule.max_units - rule.included_units) * rule.unit_cents
    return 0  # in_notice; a per-unit rule without max_units is checked when quoted


def _check_largest_total(rules: Sequence[FeeRule], subject: str) -> None:
    """Refuse rules whose fees together can exceed what can be collected. Conditions are not
    evaluated: every rule counts with its largest amount (for age bands: the largest band)."""
    largest = sum(_largest_cents(rule) for rule in rules)
    if largest > MAX_AMOUNT_CENTS:
        raise FeeRuleError(
            f"{subject} can come to {format_cents(largest)}, more than the largest fee that can "
            f"be collected ({format_cents(MAX_AMOUNT_CENTS)})"
        )


def _parse_rule(item: Any, index: int) -> FeeRule:
    where = f"fees.items[{index}]"
    if not isinstance(item, Mapping):
        raise FeeRuleError(f"{where} must be a table")
    rule_id = item.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise FeeRuleError(f"{where}.id is required")
    kind = item.get("kind")
    if kind not in _KINDS:
        raise FeeRuleError(f"{where}.kind must be one of {sorted(_KINDS)}")
    label = item.get("label")
    if not (isinstance(label, str) and label) and not (
        isinstance(label, Mapping) and label and all(isinstance(v, str) for v in label.values())
    ):
        raise FeeRuleError(f"{where}.label is required (text or {{de = …, en = …}})")
    condition = None
    if "applies_if" in item:
        raw = item["applies_if"]
        if not isinstance(raw, Mapping) or not isinstance(raw.get("field"), str):
            raise FeeRuleError(f"{where}.applies_if needs a field")
        if "equals" in raw:
            values: tuple[Any, ...] = (raw["equals"],)
        elif isinstance(raw.get("in"), list) and raw["in"]:
            values = tuple(raw["in"])
        else:
            raise FeeRuleError(f"{where}.applies_if needs equals or in")
        condition = Condition(field=raw["field"], values=values)
    common: dict[str, Any] = {
        "id": rule_id,
        "kind": kind,
        "label": label,
        "applies_if": condition,
        "booking_reference": str(item.get("booking_reference", "")),
    }
    if kind == "fixed":
        return FeeRule(
            **common, amount_cents=_cents(item.get("amount_cents"), f"{where}.amount_cents")
        )
    if kind == "in_notice":
        return FeeRule(**common)
    field_name = item.get("field")
    if not isinstance(field_name, str) or not field_name:
        raise FeeRuleError(f"{where}.field is required for kind {kind}")
    if kind == "per_unit":
        # A stated maximum, so the largest total is known (and checked) when the file is loaded.
        if item.get("max_units") is None:
            raise FeeRuleError(f"{where}.max_units is required for kind per_unit")
        rule = FeeRule(
            **common,
            field=field_name,
            unit_cents=_cents(item.get("unit_cents"), f"{where}.unit_cents"),
            included_units=_count(item.get("included_units", 0), f"{where}.included_units"),
            max_units=_count(item.get("max_units"), f"{where}.max_units"),
        )
        _check_largest_total([rule], where)
        return rule
    derive = item.get("derive")
    if derive is not None and derive not in _DERIVED:
        raise FeeRuleError(f"{where}.derive must be one of {sorted(_DERIVED)}")
    raw_bands = item.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise FeeRuleError(f"{where}.bands must be a non-empty list")
    bands = []
    for band_index, raw_band in enumerate(raw_bands):
        band_where = f"{where}.bands[{band_index}]"
        if not isinstance(raw_band, Mapping):
            raise FeeRuleError(f"{band_where} must be a table")
        amount = _cents(raw_band.get("amount_cents"), f"{band_where}.amount_cents")
        band_label = raw_band.get("label")
        if band_label is not None and not isinstance(band_label, str | Mapping):
            raise FeeRuleError(f"{band_where}.label must be text or {{de = …, en = …}}")
        if "equals" in raw_band:
            bands.append(Band(amount_cents=amount, equals=raw_band["equals"], label=band_label))
            continue
        minimum, maximum = raw_band.get("min"), raw_band.get("max")
        if minimum is None and maximum is None:
            raise FeeRuleError(f"{band_where} needs equals, min or max")
        for bound in (minimum, maximum):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
                raise FeeRuleError(f"{band_where}: min and max must be integers")
        bands.append(Band(amount_cents=amount, minimum=minimum, maximum=maximum, label=band_label))
    default = item.get("default_cents")
    return FeeRule(
        **common,
        field=field_name,
        derive=derive,
        bands=tuple(bands),
        default_cents=None if default is None else _cents(default, f"{where}.default_cents"),
    )


def _age_on(value: Any, on: dt.date) -> int | None:
    try:
        born = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def calculate_fee(
    schedule: FeeSchedule, answers: Mapping[str, Any], *, on: dt.date | None = None
) -> FeeQuote:
    """The fee for these answers; raise :class:`FeeCalculationError` if they do not fit."""
    on = on or timezone.localdate()  # the German calendar day, not the server's
    lines: list[FeeLine] = []
    notice_lines: list[str] = []
    for rule in schedule.rules:
        if rule.applies_if is not None and not rule.applies_if.holds(answers):
            continue
        label = _label_text(rule.label)
        if rule.kind == "fixed":
            lines.append(FeeLine(rule.id, label, 1, rule.amount_cents, rule.booking_reference))
        elif rule.kind == "in_notice":
            notice_lines.append(label)
        elif rule.kind == "per_unit":
            assert rule.field is not None
            count = _as_int(answers.get(rule.field, 0) or 0)
            if count is None or count < 0:
                raise FeeCalculationError(
                    _("Please enter a whole number of at least 0."), field=rule.field
                )
            if rule.max_units is not None and count > rule.max_units:
                raise FeeCalculationError(
                    _("At most %(max)d can be ordered.") % {"max": rule.max_units},
                    field=rule.field,
                )
            charged = max(0, count - rule.included_units)
            if charged * rule.unit_cents > MAX_AMOUNT_CENTS:  # a rule without max_units
                raise FeeCalculationError(
                    _("Please enter a smaller number: the fee would be more than %(max)s.")
                    % {"max": format_cents(MAX_AMOUNT_CENTS)},
                    field=rule.field,
                )
            if charged:
                lines.append(
                    FeeLine(rule.id, label, charged, rule.unit_cents, rule.booking_reference)
                )
        else:  # table
            assert rule.field is not None
            value = answers.get(rule.field)
            if rule.derive == "age":
                value = _age_on(value, on)
            band = next((b for b in rule.bands if b.matches(value)), None)
            amount = band.amount_cents if band is not None else rule.default_cents
            if amount is None:
                raise FeeCalculationError(
                    _("The fee cannot be determined from this answer."), field=rule.field
                )
            if band is not None and band.label:
                label = _label_text(band.label)
            lines.append(FeeLine(rule.id, label, 1, amount, rule.booking_reference))
    quote = FeeQuote(
        lines=tuple(line for line in lines if line.total_cents > 0),
        collection=schedule.collection,
        currency=schedule.currency,
        set_in_notice=bool(notice_lines),
        notice_lines=tuple(notice_lines),
    )
    if quote.total_cents > MAX_AMOUNT_CENTS:
        raise FeeCalculationError(
            _("The fee for these answers would be more than %(max)s and cannot be collected.")
            % {"max": format_cents(MAX_AMOUNT_CENTS)}
        )
    return quote


def euro_text_to_cents(text: str | Decimal) -> int:
    """``"46.00"`` (the catalog's amounts) as integer cents; reject fractions of a cent and
    amounts above :data:`MAX_AMOUNT_CENTS`."""
    try:
        euros = Decimal(str(text))
    except InvalidOperation as exc:
        raise FeeRuleError(f"{text!r} is not an amount in euros") from exc
    # Compared before any arithmetic: "1E+999999999" must not be multiplied out.
    if not euros.is_finite() or euros < 0:
        raise FeeRuleError(f"{text!r} is not an amount with at most two decimals")
    if euros.adjusted() >= 10 or euros * 100 > MAX_AMOUNT_CENTS:
        raise FeeRuleError(
            f"{text!r} is more than the largest fee that can be collected "
            f"({format_cents(MAX_AMOUNT_CENTS)})"
        )
    cents = euros * 100
    if cents != cents.to_integral_value():
        raise FeeRuleError(f"{text!r} is not an amount with at most two decimals")
    return int(cents)


def schedule_from_catalog(
    *,
    fee_kind: str,
    fees: Sequence[Mapping[str, Any]] = (),
    local_fee: str | Decimal | None = None,
    local_label: Label = "",
    age_field: str = "birth_date",
) -> FeeSchedule:
    """The catalog's stored fee (``Service.fee_kind``/``fees``, ``Responsibility.local_fee``) as
    a :class:`FeeSchedule`, so the applications flow can quote and collect it.

    ``free`` → nothing; ``notice`` → set in the notice; ``municipal`` → the handling authority's
    ``local_fee`` (none configured: set in the notice); ``fixed``/``criteria`` → one line per
    item, items with ``min_age``/``max_age`` as one age-band lookup on ``age_field``.
    """
    label_default: Label = {"de": "Gebühr", "en": "Fee"}
    if fee_kind == "free":
        return FeeSchedule(rules=())
    if fee_kind == "notice" or (fee_kind == "municipal" and local_fee is None):
        return FeeSchedule(
            rules=(FeeRule(id="notice", kind="in_notice", label=local_label or label_default),),
            collection=Collection.WITH_NOTICE,
        )
    if fee_kind == "municipal":
        assert local_fee is not None
        return FeeSchedule(
            rules=(
                FeeRule(
                    id="fee",
                    kind="fixed",
                    label=local_label or label_default,
                    amount_cents=euro_text_to_cents(local_fee),
                ),
            )
        )
    if fee_kind not in {"fixed", "criteria"}:
        raise FeeRuleError(f"unknown catalog fee kind {fee_kind!r}")
    rules: list[FeeRule] = []
    bands: list[Band] = []
    for index, item in enumerate(fees):
        label: Label = {"de": str(item["label_de"]), "en": str(item.get("label_en") or "")}
        amount = euro_text_to_cents(item["amount"])
        if item.get("min_age") is None and item.get("max_age") is None:
            rules.append(
                FeeRule(id=f"item-{index + 1}", kind="fixed", label=label, amount_cents=amount)
            )
        else:
            bands.append(
                Band(
                    amount_cents=amount,
                    minimum=item.get("min_age"),
                    maximum=item.get("max_age"),
                    label=label,
                )
            )
    if bands:
        rules.insert(
            0,
            FeeRule(
                id="by-age",
                kind="table",
                label=label_default,
                field=age_field,
                derive="age",
                bands=tuple(bands),
            ),
        )
    _check_largest_total(rules, "the items together")
    return FeeSchedule(rules=tuple(rules))


def format_cents(cents: int) -> str:
    """German money format: ``1.234,50 €``."""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", ".")
    return f"{'-' if cents < 0 else ''}{grouped},{rest:02d} €"
