"""Too many person-list rows through the portal's step page: the Wohnsitzanmeldung takes at most
ten people. An eleventh row is refused beside the list with every row shown again, "remove" works
from that page, and ten rows then continue."""

from __future__ import annotations

import datetime

from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.core.models import Municipality
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    _forget_form_versions,
    citizen,
    demo,
    wuppertal,
)
from tests.applications.wohnsitz import ADULT, people

GIVEN = [f"Erika{chr(ord('a') + n)}" for n in range(11)]  # Erikaa … Erikak
TOO_MANY = "Hier können höchstens 10 Einträge angegeben werden. Entfernen Sie die übrigen."


def _people_step(client: Client, citizen: User) -> str:  # noqa: F811
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    assert client.post("/antraege/neu/wohnsitz-anmelden/", {"gemeinde": "wuppertal"}).status_code
    base = f"/antraege/{Application.objects.get().public_id}/schritt"
    moved_in = timezone.localdate() - datetime.timedelta(days=2)
    move = {
        "move_in_date__day": str(moved_in.day),
        "move_in_date__month": str(moved_in.month),
        "move_in_date__year": str(moved_in.year),
        "new_address__street": "Friedrich-Engels-Allee",
        "new_address__house_number": "12",
        "new_address__postal_code": "42283",
        "new_address__place": "Wuppertal",
        "residence_kind": "main",
    }
    step = client.post(f"{base}/move/", move)
    assert step.status_code == 302, step.content.decode()[:2000]
    step = client.post(step["Location"], {"previous_kept": "no"})
    assert step["Location"].endswith("/schritt/people/")
    return str(step["Location"])


def test_eleven_people_are_refused_with_all_shown_and_removing_one_continues(
    client: Client,
    citizen: User,  # noqa: F811
    wuppertal: Municipality,  # noqa: F811
) -> None:
    url = _people_step(client, citizen)
    eleven = people(*({**ADULT, "name__given_names": name} for name in GIVEN))

    refused = client.post(url, eleven)
    assert refused.status_code == 400  # not cut to ten without a word, and no 500
    page = refused.content.decode()
    assert page.count(TOO_MANY) == 2  # in the summary and beside the list
    assert all(f'value="{name}"' in page for name in GIVEN)
    assert 'name="persons__rows" value="11"' in page
    assert 'href="#field-persons-11-name-given_names"' in page
    assert 'value="remove:persons:11"' in page and 'value="add:persons"' not in page

    removed = client.post(url, {**eleven, "_rows": "remove:persons:11"})
    assert removed.status_code == 200
    page = removed.content.decode()
    assert TOO_MANY not in page and 'name="persons__rows" value="10"' in page
    assert all(f'value="{name}"' in page for name in GIVEN[:10])
    assert f'value="{GIVEN[10]}"' not in page

    ten = people(*({**ADULT, "name__given_names": name} for name in GIVEN[:10]))
    onward = client.post(url, ten)
    assert onward.status_code == 302 and onward["Location"].endswith("/schritt/landlord/")
    persons = Application.objects.get().answers["persons"]
    assert [person["name"]["given_names"] for person in persons] == GIVEN[:10]
