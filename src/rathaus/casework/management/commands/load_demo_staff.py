"""``manage.py load_demo_staff``: demo clerks, team leads and a planner (never in production)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from rathaus.casework.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo_staff


class Command(BaseCommand):
    help = "Create demo staff accounts with a known password and TOTP secret (demo only)."

    def handle(self, *args: Any, **options: Any) -> None:
        staff = load_demo_staff()
        self.stdout.write(
            f"Demo staff (password {DEMO_PASSWORD}, TOTP secret {DEMO_TOTP_SECRET}; "
            "code e.g. with `oathtool --totp -b SECRET`):"
        )
        for member in staff:
            where = f", {member.municipality}" if member.municipality else ""
            self.stdout.write(f"  {member.email} ({member.role}{where})")
