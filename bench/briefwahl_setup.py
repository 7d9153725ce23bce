"""Prepares the postal-vote rush: N citizens, each logged in with a complete Briefwahl draft.

Writes one line per citizen to the file given: ``session_key csrf_secret application_uuid``.
Run by bench/briefwahl_submit.py with the benchmark's environment.
"""

from __future__ import annotations

import datetime
import secrets
import sys
import time

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from rathaus.accounts.models import User  # noqa: E402
from rathaus.accounts.roles import STAFF_SESSION_KEY  # noqa: E402
from rathaus.applications.models import Application  # noqa: E402
from rathaus.catalog.form_schemas import form_schema  # noqa: E402
from rathaus.catalog.models import Service  # noqa: E402
from rathaus.core.models import Municipality  # noqa: E402
from rathaus.registers.models import Election  # noqa: E402

ANSWERS = {
    "applies_for": "self",
    "name": {"given_names": "Erika", "family_name": "Mustermann"},
    "birth_date": "1985-03-27",
    "address": {
        "street": "Neumarkt",
        "house_number": "10",
        "postal_code": "42103",
        "place": "Wuppertal",
    },
    "delivery_to": "home",
}


def _answers(number: int) -> dict[str, object]:
    """One voter per citizen: a polling card is counted per voter (§ 28 Abs. 10 BWahlO), so the
    drafts differ in the birth date."""
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=number)
    return {**ANSWERS, "birth_date": born.isoformat()}


def main(count: int, out: str) -> None:
    wuppertal = Municipality.objects.get(ags="05124000")
    service = Service.objects.get(slug="briefwahl")
    _schema, digest = form_schema(service)
    day = timezone.localdate() + datetime.timedelta(days=30)
    election = Election.objects.create(
        municipality=wuppertal,
        name="Benchmark-Wahl",
        election_day=day + datetime.timedelta(days=6 - day.weekday()),  # a Sunday
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, user_id bigint, "
            "payload text, created timestamptz)"
        )
    password = User().password  # unusable; sessions are created directly
    users = User.objects.bulk_create(
        [User(email=f"waehler{i}@bench.example", password=password) for i in range(count)],
        batch_size=2000,
    )
    expires = timezone.now() + datetime.timedelta(days=30)
    with transaction.atomic():
        applications = Application.objects.bulk_create(
            [
                Application(
                    applicant=user,
                    service=service,
                    municipality=wuppertal,
                    answers=_answers(number),
                    context={"election_id": election.pk},
                    current_step="",
                    schema_hash=digest,
                    expires_at=expires,
                )
                for number, user in enumerate(users)
            ],
            batch_size=2000,
        )
    lines = []
    sessions = []
    store = SessionStore()
    session_expiry = timezone.now() + datetime.timedelta(hours=8)
    logged_in_at = int(time.time())
    for user, application in zip(users, applications, strict=True):
        key = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
        data = store.encode(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
                "rathaus_trust_level": "low",
                # what the login stores (rathaus.accounts.roles.on_user_logged_in)
                STAFF_SESSION_KEY: [user.pk, False, logged_in_at],
            }
        )
        sessions.append(Session(session_key=key, session_data=data, expire_date=session_expiry))
        lines.append(f"{key} {secrets.token_hex(16)} {application.public_id}")
    Session.objects.bulk_create(sessions, batch_size=2000)
    with open(out, "w") as handle:  # noqa: PTH123
        handle.write("\n".join(lines) + "\n")
    print(f"prepared {count} citizens with complete postal-vote drafts")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
