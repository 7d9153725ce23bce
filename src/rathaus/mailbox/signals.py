"""Signals of the mailbox for the modules above it.

``reply_received(sender=Message, message=<the reply>, original=<the message replied to>)`` is
sent inside the transaction that stores a citizen's reply, so a receiver that files the reply on
the case (casework) commits or fails together with it. Receivers schedule their own side effects
with ``transaction.on_commit``.
"""

from django.dispatch import Signal

reply_received = Signal()
