"""Signals for the modules above payments (applications, casework); sent after commit.

``payment_confirmed`` is sent exactly once per payable: on the first transition of one of its
transactions to PAYED. Receivers get ``transaction``, ``payable_type`` and ``payable_id``.
``payment_duplicate`` is sent when a second transaction of an already paid payable is confirmed
(a refund is due); ``payment_failed`` when an attempt ends FAILED, CANCELED or ABANDONED (given
up while still open at the provider). A payment confirmed for a payable deleted unpaid
(``services.close_payable``) sends none of them: it is kept for a refund.
"""

from django.dispatch import Signal

payment_confirmed = Signal()
payment_duplicate = Signal()
payment_failed = Signal()
