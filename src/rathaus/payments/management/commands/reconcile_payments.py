"""``manage.py reconcile_payments``: pull the status of every open payment attempt."""

from typing import Any

from django.core.management.base import BaseCommand

from rathaus.payments.services import reconcile_open_transactions


class Command(BaseCommand):
    help = "Pull the status of every open payment transaction from its provider."

    def handle(self, *args: Any, **options: Any) -> None:
        result = reconcile_open_transactions()
        self.stdout.write(
            f"checked {result.checked}, changed {result.changed}, failed {result.failed}, "
            f"abandoned {result.abandoned}"
        )
        for error in result.errors:
            self.stderr.write(error)
