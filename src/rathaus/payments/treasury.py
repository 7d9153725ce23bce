"""The daily reconciliation export for the municipal treasury (Stadtkasse)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from rathaus.core.models import Municipality
from rathaus.payments.models import PaymentStatus, PaymentTransaction, Refund

COLUMNS = [
    "Buchungstag",
    "Art",
    "Kassenzeichen",
    "Betrag",
    "Waehrung",
    "Verwendungszweck",
    "Vorgang",
    "Bezug",
    "Transaktion",
    "RequestId",
    "AGS",
    "Hinweis",
]


def _amount(cents: int) -> str:
    """German decimal comma, as the treasury's spreadsheet expects."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros},{rest:02d}"


def _text(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def _note(tx: PaymentTransaction) -> str:
    """Why the treasury must pay the money back, if it must."""
    if tx.duplicate:
        return "Doppelzahlung: Erstattung faellig"
    if tx.payable_deleted_at is not None:
        return "Vorgang geloescht: Erstattung faellig"
    return ""


class DayOutOfRange(ValueError):
    """The day's bounds (local midnight to midnight, in UTC for the database) are not
    representable: the first and last days of the calendar (year 1, year 9999)."""


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(settings.TIME_ZONE)
    try:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        for bound in (start, end):
            bound.astimezone(dt.UTC)  # the database compares in UTC
    except OverflowError:
        raise DayOutOfRange(
            f"{day.isoformat()} is outside the dates that can be exported"
        ) from None
    return start, end


def export_reconciliation_csv(day: dt.date, *, municipality: Municipality | None = None) -> str:
    """Payments confirmed and refunds recorded on ``day`` (local time), one row each.

    Semicolon-separated, amounts with a decimal comma; refunds are negative. A confirmed payment
    for an already paid matter, or for a matter deleted unpaid before the payment was confirmed,
    carries the note that a refund is due. Raises
    :class:`DayOutOfRange` for the first and last days of the calendar.
    """
    start, end = _day_bounds(day)
    payments: QuerySet[PaymentTransaction] = PaymentTransaction.objects.filter(
        status=PaymentStatus.PAYED, paid_at__gte=start, paid_at__lt=end
    ).select_related("municipality")
    refunds: QuerySet[Refund] = Refund.objects.filter(
        refunded_at__gte=start, refunded_at__lt=end
    ).select_related("transaction__municipality")
    if municipality is not None:
        payments = payments.filter(municipality=municipality)
        refunds = refunds.filter(transaction__municipality=municipality)

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    zone = ZoneInfo(settings.TIME_ZONE)
    for tx in payments.order_by("paid_at", "pk"):
        assert tx.paid_at is not None
        writer.writerow(
            [
                tx.paid_at.astimezone(zone).date().isoformat(),
                "Zahlung",
                _text(tx.cash_reference),  # from the provider, like the id
                _amount(tx.amount_cents),
                tx.currency,
                _text(tx.purpose),
                _text(tx.case_reference),
                f"{tx.payable_type}:{tx.payable_id}",
                _text(tx.provider_transaction_id),
                tx.request_id,
                tx.municipality.ags,
                _note(tx),
            ]
        )
    for refund in refunds.order_by("refunded_at", "pk"):
        tx = refund.transaction
        writer.writerow(
            [
                refund.refunded_at.astimezone(zone).date().isoformat(),
                "Erstattung",
                _text(tx.cash_reference),  # from the provider, like the id
                _amount(-refund.amount_cents),
                tx.currency,
                _text(tx.purpose),
                _text(tx.case_reference),
                f"{tx.payable_type}:{tx.payable_id}",
                _text(tx.provider_transaction_id),
                tx.request_id,
                tx.municipality.ags,
                _text(refund.reason),
            ]
        )
    return out.getvalue()
