"""Generates the back-office data set: a million cases with citizens, applications, files and history.

Usage (with the benchmark environment, see bench/casework_queries.py, on a migrated PostgreSQL
database that holds the demo tenancy from ``manage.py load_demo`` and no cases yet)::

    python bench/casework_dataset.py [--cases 1000000] [--seed 4] [--today 2026-11-22]

What it writes (COPY through psycopg, one transaction, deterministic for a seed and a day):

- citizens (users with profiles), about one for every 2.5 cases; a tenth of them are frequent
  applicants (parking permits, vehicles, children) with many applications, some have none;
- staff: per org unit a team lead and clerks in proportion to the unit's case load, with a
  verified e-mail address and the benchmark password ``STAFF_PASSWORD``;
- per case: the submitted application (answers, reference number), the case (number per authority
  and year, due date from the service's processing time, routed to the org unit the way
  ``casework.services.route`` does), its file in the E-Akte with an Aktenzeichen from the
  authority's file plan (serials per plan entry and year, like ``records.services.open_file``),
  closed files with their retention dates, and the status history (``CaseEvent``, about three
  and a half per case);
- some open drafts (applications not yet submitted);
- the counters in ``core.Sequence`` so that cases, files and applications opened afterwards
  continue the numbering.

Cases are spread over six years with growing online use, fewer on weekends and a postal-vote
rush before each election; 20 services with realistic weights; three municipalities by size.
Statuses follow from each case's age and processing time, so most cases are closed, recent ones
are open, and a few per cent are stuck and overdue (the "Altfälle" every office has).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import random
import sys
import time
import uuid
from bisect import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django

sys.path.insert(0, str(Path(__file__).resolve().parent))
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from german_names import NameGenerator, Person, mail_local_part  # noqa: E402

from rathaus.casework import notice_templates  # noqa: E402
from rathaus.casework.services import route  # noqa: E402
from rathaus.catalog.models import Responsibility, Service  # noqa: E402
from rathaus.core.models import Authority, Municipality, OrgUnit  # noqa: E402
from rathaus.records import file_plan  # noqa: E402
from rathaus.records.models import FilePlan, PlanEntry  # noqa: E402
from rathaus.records.services import retention_dates  # noqa: E402

STAFF_PASSWORD = "Bench-Sachbearbeitung-2026!"
CITIZEN_PASSWORD = "Bench-Buerger-2026!"
YEARS = 6
CHUNK = 50_000

# Share of all cases per service (sums to 1; the postal vote comes in rushes before elections).
SERVICE_WEIGHTS = {
    "wohnsitz-anmelden": 0.15,
    "wohnsitz-ummelden": 0.08,
    "wohnsitz-abmelden": 0.03,
    "meldebescheinigung": 0.10,
    "fahrzeug-zulassen": 0.10,
    "personalausweis": 0.08,
    "briefwahl": 0.11,
    "bewohnerparkausweis": 0.05,
    "gewerbe-anmelden": 0.04,
    "fuehrerschein": 0.04,
    "geburtsurkunde": 0.04,
    "abfallentsorgung": 0.04,
    "elterngeld": 0.03,
    "wohngeld": 0.03,
    "kindergeld": 0.02,
    "bafoeg": 0.015,
    "eheschliessung-anmelden": 0.015,
    "fahrzeugregisterauskunft": 0.01,
    "einbuergerung": 0.01,
    "ehrenamtskarte": 0.005,
}
# Municipalities by number of inhabitants (ags -> inhabitants).
INHABITANTS = {"05124000": 355_000, "05122000": 160_000, "05120000": 111_000}
# Federal, state and local elections: postal votes are applied for in the six weeks before.
ELECTION_DAYS = (
    datetime.date(2021, 9, 26),
    datetime.date(2022, 5, 15),
    datetime.date(2024, 6, 9),
    datetime.date(2025, 2, 23),
    datetime.date(2025, 9, 14),
)
OUTCOMES = (("granted", 0.86), ("partly_granted", 0.04), ("refused", 0.10))
STUCK_SHARE = 0.008  # never finished: overdue "Altfälle"
WITHDRAWN_SHARE = 0.025
DRAFT_SHARE = 0.03
STAFF_EMAILS: dict[int, str] = {}


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, items: list[Any], cum: list[float]) -> Any:
    return items[bisect(cum, rng.random() * cum[-1])]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class Unit:
    id: int
    code: str
    authority_id: int
    clerks: list[int] = field(default_factory=list)
    lead: int | None = None


@dataclass
class Target:
    """Where a service's cases go for one municipality: authority, unit routing, file plan."""

    authority_id: int
    routed_unit: Unit | None
    units: list[Unit]
    plan_key: str
    plan_entry_id: int
    formats: tuple[str, str]
    retention: tuple[int | None, str, str]  # years, trigger, disposal action
    processing_days: int


@dataclass
class Citizen:
    id: int
    person: Person
    municipality_id: int
    email: str


def _load_reference_data() -> tuple[list[Service], dict[str, dict[int, Target]], dict[int, Unit]]:
    services = list(Service.objects.filter(slug__in=SERVICE_WEIGHTS).order_by("slug"))
    missing = set(SERVICE_WEIGHTS) - {s.slug for s in services}
    if missing:
        sys.exit(f"casework dataset: services missing (run load_demo): {', '.join(sorted(missing))}")
    units = {u.id: Unit(u.id, u.code, u.authority_id) for u in OrgUnit.objects.all()}
    by_authority: dict[int, list[Unit]] = defaultdict(list)
    for unit in units.values():
        by_authority[unit.authority_id].append(unit)
    plans = {p.authority_id: p for p in FilePlan.objects.all()}
    targets: dict[str, dict[int, Target]] = defaultdict(dict)
    for resp in Responsibility.objects.select_related("authority", "service"):
        service = resp.service
        if service.slug not in SERVICE_WEIGHTS:
            continue
        authority: Authority = resp.authority
        plan = plans.get(authority.pk)
        key = getattr(service, "file_plan_key", "") or ""
        entry = (
            PlanEntry.objects.select_related("parent").filter(plan=plan, key=key).first()
            if plan
            else None
        )
        if plan is None or entry is None:
            continue  # this authority keeps no file for the service: no cases for it
        years, permanent = entry.retention()
        routed = route(service=service, authority=authority)
        targets[service.slug][resp.municipality_id] = Target(
            authority_id=authority.pk,
            routed_unit=units[routed.pk] if routed else None,
            units=sorted(by_authority[authority.pk], key=lambda u: u.code),
            plan_key=entry.key,
            plan_entry_id=entry.pk,
            formats=(plan.reference_format, plan.unit_reference_format),
            retention=(None if permanent else years, entry.retention_trigger, entry.disposal_action),
            processing_days=notice_templates.workflow_for(service.slug).processing_days,
        )
    return services, targets, units


def _day_weights(first: datetime.date, today: datetime.date) -> tuple[list[datetime.date], list[float]]:
    """Cases per day: online use grows over the years, weekends are quiet."""
    days = [first + datetime.timedelta(days=i) for i in range((today - first).days + 1)]
    span = max(len(days) - 1, 1)
    weights = []
    for i, day in enumerate(days):
        growth = 0.35 + 0.65 * i / span
        weekday = (1.0, 1.05, 1.0, 1.0, 0.9, 0.35, 0.3)[day.weekday()]
        weights.append(growth * weekday)
    return days, weights


def _postal_vote_days(days: list[datetime.date]) -> tuple[list[datetime.date], list[float]]:
    chosen, weights = [], []
    for day in days:
        for election in ELECTION_DAYS:
            before = (election - day).days
            if 2 <= before <= 42:
                chosen.append(day)
                weights.append(1.0 + (42 - before) / 10)  # more as the day comes nearer
    return chosen, weights


class _Counters(Counter[Any]):
    """A Counter whose missing keys start at ``start(key)`` instead of 0."""

    def __init__(self, start: Any) -> None:
        super().__init__()
        self._start = start

    def __missing__(self, key: Any) -> int:
        return int(self._start(key))


class Copier:
    """COPY rows into one table with the columns named (psycopg's fast path)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.rows: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def copy(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        started = time.perf_counter()
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        self.rows[table] += len(rows)
        self.seconds[table] += time.perf_counter() - started


USER_COLUMNS = (
    "id", "password", "last_login", "is_superuser", "first_name", "last_name", "is_staff",
    "is_active", "date_joined", "email",
)
PROFILE_COLUMNS = (
    "user_id", "given_names", "family_name", "birth_date", "street", "house_number",
    "postal_code", "place", "phone", "preferred_language", "updated_at",
)
FILE_COLUMNS = (
    "id", "authority_id", "plan_entry_id", "org_unit_id", "serial", "year", "reference", "title",
    "opened_at", "opened_by_id", "closed_at", "closed_on", "retention_years", "retention_trigger",
    "disposal_action", "retention_starts_on", "disposal_due_on",
)
CASE_COLUMNS = (
    "id", "public_id", "authority_id", "org_unit_id", "service_id", "applicant_id",
    "applicant_name", "title", "number", "status", "outcome", "assigned_to_id", "due_on",
    "opened_at", "decided_at", "closed_at", "reminded_on", "file_id", "electronic_delivery",
    "particulars", "updated_at",
)
APPLICATION_COLUMNS = (
    "id", "public_id", "applicant_id", "service_id", "municipality_id", "authority_id", "status",
    "answers", "context", "current_step", "schema_hash", "created_at", "updated_at", "expires_at",
    "reference", "submitted_at", "submitted_data", "declaration_confirmed_at", "idempotency_key",
    "receipt", "receipt_sha256", "case_id", "electronic_delivery",
)
EVENT_COLUMNS = (
    "case_id", "kind", "from_status", "to_status", "actor_id", "actor_label", "at", "note",
    "citizen_visible", "data",
)

STREETS = (
    "Hauptstraße Bahnhofstraße Gartenstraße Schulstraße Kirchstraße Lindenstraße Bergstraße "
    "Friedrich-Ebert-Straße Am Wall Neumarkt Hofaue Wittensteinstraße Kölner Straße Weinsbergstraße "
    "Alleestraße Hastener Straße Konrad-Adenauer-Straße Uellendahler Straße Schwanenstraße"
).split(" ")
PLACES = {"05124000": ("Wuppertal", "42"), "05122000": ("Solingen", "42"), "05120000": ("Remscheid", "42")}


def generate(*, cases: int, seed: int, today: datetime.date) -> dict[str, Any]:
    started = time.perf_counter()
    rng = random.Random(seed)
    names = NameGenerator(random.Random(seed + 1))
    tz = timezone.get_current_timezone()
    services, targets, units = _load_reference_data()
    municipalities = {
        m.ags: m for m in Municipality.objects.filter(ags__in=INHABITANTS)
    }
    if len(municipalities) != len(INHABITANTS):
        sys.exit("casework dataset: the demo municipalities are missing (run load_demo).")
    muni_list = [municipalities[ags] for ags in INHABITANTS]
    muni_cum = _cumulative([float(INHABITANTS[m.ags]) for m in muni_list])

    # --- the skeleton: when, which service, where ----------------------------------------------
    first = datetime.date(today.year - YEARS, 1, 1)
    days, day_weights = _day_weights(first, today)
    day_cum = _cumulative(day_weights)
    vote_days, vote_weights = _postal_vote_days(days)
    vote_cum = _cumulative(vote_weights)
    service_by_slug = {s.slug: s for s in services}
    slugs = [s for s in SERVICE_WEIGHTS if targets.get(s)]
    slug_cum = _cumulative([SERVICE_WEIGHTS[s] for s in slugs])
    hour_cum = _cumulative([0.2] * 7 + [1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2.5, 2.5, 2, 1.5, 0.8])

    skeleton: list[tuple[datetime.datetime, str, Any]] = []
    for _ in range(cases):
        slug = _pick(rng, slugs, slug_cum)
        day = _pick(rng, vote_days, vote_cum) if slug == "briefwahl" else _pick(rng, days, day_cum)
        hour = bisect(hour_cum, rng.random() * hour_cum[-1])
        at = datetime.datetime.combine(day, datetime.time(hour), tzinfo=tz) + datetime.timedelta(
            seconds=rng.randrange(3600)
        )
        muni = _pick(rng, muni_list, muni_cum)
        if muni.pk not in targets[slug]:
            muni = next(m for m in muni_list if m.pk in targets[slug])
        skeleton.append((at, slug, muni))
    skeleton.sort(key=lambda item: item[0])
    now = timezone.now()
    skeleton = [item for item in skeleton if item[0] <= now] or skeleton[:1]

    # --- staff: clerks in proportion to each unit's load ---------------------------------------
    load: Counter[int] = Counter()
    for _at, slug, muni in skeleton:
        target = targets[slug][muni.pk]
        for unit in [target.routed_unit] if target.routed_unit else target.units:
            load[unit.id] += 1 if target.routed_unit else 1 / len(target.units)
    staff_hash = make_password(STAFF_PASSWORD)
    citizen_hash = make_password(CITIZEN_PASSWORD)
    conn = psycopg.connect(_dsn())
    copier = Copier(conn)
    next_user = _max_id(conn, "accounts_user") + 1
    staff_rows, staff_members, staff_emails = [], [], []
    for unit in sorted(units.values(), key=lambda u: u.id):
        clerk_count = max(2, round(load[unit.id] / YEARS / 4000))
        for n in range(clerk_count + 1):
            person = names.person(rng.randrange(1960, 2000))
            email = f"{mail_local_part(person)}.{next_user}@verwaltung.bench.example"
            staff_rows.append(
                (next_user, staff_hash, None, False, person.given_names, person.family_name,
                 False, True, now, email)
            )
            staff_members.append((next_user, unit.id, "team_lead" if n == 0 else "clerk"))
            staff_emails.append((next_user, email))
            STAFF_EMAILS[next_user] = email
            if n == 0:
                unit.lead = next_user
            else:
                unit.clerks.append(next_user)
            next_user += 1
    copier.copy("accounts_user", USER_COLUMNS, staff_rows)
    _add_staff_groups_and_emails(conn, staff_members, staff_emails)

    # --- citizens ------------------------------------------------------------------------------
    citizen_count = max(10, round(len(skeleton) / 2.5))
    citizens_by_muni: dict[int, list[Citizen]] = defaultdict(list)
    citizen_rows, profile_rows = [], []
    for _ in range(citizen_count):
        muni = _pick(rng, muni_list, muni_cum)
        birth_year = rng.randrange(today.year - 90, today.year - 17)
        person = names.person(birth_year)
        email = f"{mail_local_part(person)}.{next_user}@buerger.bench.example"
        joined = datetime.datetime.combine(
            first + datetime.timedelta(days=rng.randrange((today - first).days)),
            datetime.time(12),
            tzinfo=tz,
        )
        citizen_rows.append(
            (next_user, citizen_hash, None, False, "", "", False, True, joined, email)
        )
        place, prefix = PLACES[muni.ags]
        profile_rows.append(
            (next_user, person.given_names, person.family_name,
             datetime.date(birth_year, rng.randrange(1, 13), rng.randrange(1, 29)),
             rng.choice(STREETS), str(rng.randrange(1, 180)), f"{prefix}{rng.randrange(100, 999)}",
             place, "", "de", joined)
        )
        citizens_by_muni[muni.pk].append(Citizen(next_user, person, muni.pk, email))
        next_user += 1
    for start in range(0, len(citizen_rows), CHUNK):
        copier.copy("accounts_user", USER_COLUMNS, citizen_rows[start : start + CHUNK])
        copier.copy("accounts_profile", PROFILE_COLUMNS, profile_rows[start : start + CHUNK])
    del citizen_rows, profile_rows
    # A tenth of the citizens apply often (vehicles, parking, children); some never apply.
    frequent = {
        pk: people[: max(1, len(people) // 10)] for pk, people in citizens_by_muni.items()
    }
    print(f"  staff and {citizen_count:,} citizens: {time.perf_counter() - started:.0f} s", flush=True)

    # --- cases, files, applications, events ----------------------------------------------------
    case_id = _max_id(conn, "casework_case") + 1
    file_id = _max_id(conn, "records_file") + 1
    application_id = _max_id(conn, "applications_application") + 1
    # Continue any numbers already drawn (core.sequences), as the services would.
    drawn = dict(conn.execute("SELECT name, value FROM core_sequence").fetchall())
    case_serial: Counter[tuple[int, int]] = _Counters(lambda k: drawn.get(f"case-number-{k[0]}-{k[1]}", 0))
    file_serial: Counter[tuple[int, str]] = _Counters(lambda k: drawn.get(f"records.file:{k[0]}:{k[1]}", 0))
    application_serial: Counter[int] = _Counters(lambda k: drawn.get(f"application-reference-{k}", 0))
    today_start = datetime.datetime.combine(today, datetime.time(0), tzinfo=tz)
    statuses: Counter[str] = Counter()
    events = 0
    service_ids = {slug: service_by_slug[slug].pk for slug in slugs}
    service_names = {slug: service_by_slug[slug].name_de for slug in slugs}
    outcome_cum = _cumulative([w for _o, w in OUTCOMES])
    outcome_list = [o for o, _w in OUTCOMES]
    batch: dict[str, list[tuple[Any, ...]]] = defaultdict(list)

    def flush() -> None:
        copier.copy("records_file", FILE_COLUMNS, batch.pop("file", []))
        copier.copy("casework_case", CASE_COLUMNS, batch.pop("case", []))
        copier.copy("applications_application", APPLICATION_COLUMNS, batch.pop("app", []))
        copier.copy("casework_caseevent", EVENT_COLUMNS, batch.pop("event", []))

    for index, (opened_at, slug, muni) in enumerate(skeleton):
        target = targets[slug][muni.pk]
        people = frequent[muni.pk] if rng.random() < 0.3 else citizens_by_muni[muni.pk]
        citizen = people[rng.randrange(len(people))]
        person = citizen.person
        name = f"{person.given_names} {person.family_name}"
        local = timezone.localtime(opened_at)
        year = local.year
        # Routing: the configured unit; otherwise a team lead routes it (some not yet).
        unit = target.routed_unit
        if unit is None and target.units:
            unit = target.units[rng.randrange(len(target.units))]
        age_days = (now - opened_at).total_seconds() / 86400
        days_needed = target.processing_days * rng.lognormvariate(-0.4, 0.5)
        stuck = rng.random() < STUCK_SHARE
        withdrawn = rng.random() < WITHDRAWN_SHARE and not stuck
        decided_at = closed_at = None
        outcome = ""
        if withdrawn and age_days > 1:
            status = "withdrawn"
            closed_at = opened_at + datetime.timedelta(days=rng.uniform(0.5, min(age_days, 20)))
        elif stuck or age_days < days_needed:
            progress = rng.random() if stuck else age_days / days_needed
            if progress < 0.25:
                status = "received"
            elif progress < 0.8 or rng.random() < 0.6:
                status = "in_review"
            else:
                status = "waiting_for_citizen"
        else:
            decided_at = opened_at + datetime.timedelta(days=days_needed)
            outcome = _pick(rng, outcome_list, outcome_cum)
            # Closed when the notice became final (a month for objections, then the clerk).
            close_after = 30 + rng.expovariate(1 / 10)
            if age_days - days_needed > close_after:
                status = "closed"
                closed_at = decided_at + datetime.timedelta(days=close_after)
            else:
                status = "decided"
        if unit is not None and status == "received" and rng.random() < 0.5 and not stuck:
            assigned = None
        elif unit is not None and unit.clerks:
            assigned = unit.clerks[(citizen.id + index) % len(unit.clerks)]
        else:
            assigned = None
        if unit is None or (status == "received" and len(target.units) > 1 and rng.random() < 0.1):
            unit = None  # not yet routed: the team leads see it
            assigned = None
        statuses[status] += 1

        case_serial[(target.authority_id, year)] += 1
        number = f"{year}-{case_serial[(target.authority_id, year)]:06d}"
        scope = file_plan.counter_scope(target.formats, plan=target.plan_key, year=year)
        file_serial[(target.authority_id, scope)] += 1
        serial = file_serial[(target.authority_id, scope)]
        reference = file_plan.format_reference(
            target.formats[1] if unit is not None else target.formats[0],
            plan=target.plan_key,
            unit=unit.code if unit is not None else "",
            serial=serial,
            year=year,
        )
        file_closed_on = retention_starts = disposal_due = None
        years, trigger, disposal = target.retention
        if closed_at is not None:
            file_closed_on = timezone.localtime(closed_at).date()
            retention_starts, disposal_due = retention_dates(
                closed_on=file_closed_on, trigger=trigger, years=years
            )
        unit_id = unit.id if unit is not None else None
        batch["file"].append(
            (file_id, target.authority_id, target.plan_entry_id, unit_id, serial, year, reference,
             f"{service_names[slug]}: {name}"[:300], opened_at, citizen.id, closed_at,
             file_closed_on, years, trigger, disposal, retention_starts, disposal_due)
        )
        answers = {
            "person": {
                "given_names": person.given_names,
                "family_name": person.family_name,
                "birth_date": f"{person.birth_year}-06-15",
            },
            "address": {"place": PLACES[muni.ags][0]},
        }
        answers_json = json.dumps(answers, ensure_ascii=False)
        due_on = local.date() + datetime.timedelta(days=target.processing_days)
        reminded_on = (
            today - datetime.timedelta(days=rng.randrange(7))
            if status in ("received", "in_review", "waiting_for_citizen") and due_on < today
            else None
        )
        last_change = closed_at or decided_at or opened_at
        electronic = rng.random() > 0.03
        batch["case"].append(
            (case_id, _uuid(rng), target.authority_id, unit_id, service_ids[slug], citizen.id,
             name[:200], service_names[slug][:300], number, status, outcome, assigned, due_on,
             opened_at, decided_at, closed_at, reminded_on, file_id, electronic, answers_json,
             min(last_change, now))
        )
        application_serial[year] += 1
        submitted = opened_at
        batch["app"].append(
            (application_id, _uuid(rng), citizen.id, service_ids[slug], muni.pk,
             target.authority_id, "withdrawn" if status == "withdrawn" else "submitted",
             answers_json, "{}", "", "", submitted - datetime.timedelta(minutes=rng.randrange(3, 90)),
             submitted, None, f"A-{year}-{application_serial[year]:06d}", submitted, answers_json,
             submitted, uuid.UUID(int=rng.getrandbits(128)).hex, "", "", case_id, electronic)
        )
        clerk = assigned or (unit.lead if unit is not None else None)
        events += _history(batch["event"], case_id, status, opened_at, decided_at, closed_at,
                           citizen, clerk, rng)
        case_id += 1
        file_id += 1
        application_id += 1
        if len(batch["case"]) >= CHUNK:
            flush()
            print(f"  {index + 1:,} cases: {time.perf_counter() - started:.0f} s", flush=True)
    flush()

    # Drafts: started, not yet sent (shown in "Meine Anträge").
    drafts = []
    for _ in range(round(len(skeleton) * DRAFT_SHARE)):
        muni = _pick(rng, muni_list, muni_cum)
        citizen = rng.choice(citizens_by_muni[muni.pk])
        slug = _pick(rng, slugs, slug_cum)
        target = targets[slug].get(muni.pk)
        if target is None:
            continue
        saved = today_start - datetime.timedelta(minutes=rng.randrange(60 * 24 * 28))
        drafts.append(
            (application_id, _uuid(rng), citizen.id, service_ids[slug], muni.pk, None, "draft",
             '{"person": {"family_name": %s}}' % json.dumps(citizen.person.family_name), "{}",
             "person", "", saved, saved, saved + datetime.timedelta(days=30), None, None, None,
             None, None, "", "", None, True)
        )
        application_id += 1
    copier.copy("applications_application", APPLICATION_COLUMNS, drafts)

    _set_counters(conn, case_serial, file_serial, application_serial)
    print(f"  copied: {dict((t, round(s, 1)) for t, s in copier.seconds.items())}", flush=True)
    commit_started = time.perf_counter()
    conn.commit()
    print(f"  commit (deferred foreign-key checks): {time.perf_counter() - commit_started:.0f} s")
    loaded = time.perf_counter() - started
    print(f"  loaded in {loaded:.0f} s; vacuum and analyse …", flush=True)
    conn.autocommit = True
    vacuum_started = time.perf_counter()
    for table in (
        "accounts_user", "accounts_profile", "records_file", "casework_case",
        "applications_application", "casework_caseevent",
    ):
        conn.execute(f"VACUUM (ANALYZE) {table}")
    conn.close()
    return {
        "cases": len(skeleton),
        "citizens": citizen_count,
        "staff": len(staff_rows),
        "events": events,
        "drafts": len(drafts),
        "statuses": dict(statuses),
        "rows": dict(copier.rows),
        "load_seconds": loaded,
        "vacuum_seconds": time.perf_counter() - vacuum_started,
        "seconds": time.perf_counter() - started,
    }


def _history(
    rows: list[tuple[Any, ...]],
    case_id: int,
    status: str,
    opened_at: datetime.datetime,
    decided_at: datetime.datetime | None,
    closed_at: datetime.datetime | None,
    citizen: Citizen,
    clerk: int | None,
    rng: random.Random,
) -> int:
    """The status history of one case, as ``casework.services`` writes it."""
    label = STAFF_EMAILS.get(clerk, "") if clerk else ""
    steps: list[tuple[str, str, str, int | None, str, datetime.datetime]] = [
        ("opened", "", "received", citizen.id, citizen.email, opened_at)
    ]

    def step(kind: str, before: str, after: str, at: datetime.datetime) -> None:
        steps.append((kind, before, after, clerk, label, at))

    review_at = opened_at + datetime.timedelta(hours=rng.uniform(2, 72))
    if status == "withdrawn":
        steps.append(("status_changed", "received", "withdrawn", citizen.id, citizen.email,
                      closed_at or review_at))
    elif status != "received":
        step("status_changed", "received", "in_review", review_at)
        if status == "waiting_for_citizen":
            step("documents_requested", "in_review", "waiting_for_citizen",
                 review_at + datetime.timedelta(hours=rng.uniform(1, 48)))
        elif status in ("decided", "closed") and decided_at is not None:
            step("notice_issued", "in_review", "decided", max(decided_at, review_at))
            if status == "closed" and closed_at is not None:
                step("status_changed", "decided", "closed", max(closed_at, review_at))
    for kind, before, after, actor, actor_label, at in steps:
        rows.append(
            (case_id, kind, before, after, actor, actor_label, at, "", kind != "assigned", "{}")
        )
    return len(steps)


def _dsn() -> str:
    return os.environ["DATABASE_URL"]


def _max_id(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def _add_staff_groups_and_emails(
    conn: psycopg.Connection[Any],
    members: list[tuple[int, int, str]],
    emails: list[tuple[int, str]],
) -> None:
    groups = dict(conn.execute("SELECT name, id FROM auth_group").fetchall())
    for role in ("clerk", "team_lead"):
        if role not in groups:
            sys.exit(f"casework dataset: the group {role!r} is missing (migrate first).")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO accounts_user_groups (user_id, group_id) VALUES (%s, %s)",
            [(user, groups[role]) for user, _unit, role in members],
        )
        cur.executemany(
            "INSERT INTO casework_staffmembership (user_id, org_unit_id) VALUES (%s, %s)",
            [(user, unit) for user, unit, _role in members],
        )
        cur.executemany(
            "INSERT INTO account_emailaddress (user_id, email, verified, \"primary\") "
            "VALUES (%s, %s, true, true)",
            emails,
        )


def _set_counters(
    conn: psycopg.Connection[Any],
    case_serial: Counter[tuple[int, int]],
    file_serial: Counter[tuple[int, str]],
    application_serial: Counter[int],
) -> None:
    """Later cases, files and applications continue the numbers (``core.sequences``)."""
    values = [(f"case-number-{a}-{y}", n) for (a, y), n in case_serial.items()]
    values += [(f"records.file:{a}:{scope}", n) for (a, scope), n in file_serial.items()]
    values += [(f"application-reference-{y}", n) for y, n in application_serial.items()]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO core_sequence (name, value) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET value = greatest(core_sequence.value, EXCLUDED.value)",
            values,
        )
        for table in (
            "accounts_user", "accounts_profile", "records_file", "casework_case",
            "applications_application", "casework_caseevent",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=None)
    parser.add_argument("--summary", type=Path, help="write a JSON summary to this file")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        sys.exit("casework dataset: needs PostgreSQL (DATABASE_URL); see scripts/with-postgres.")
    from rathaus.casework.models import Case

    if Case.objects.exists():
        sys.exit("casework dataset: the database already has cases; use a fresh one.")
    summary = generate(cases=args.cases, seed=args.seed, today=args.today or timezone.localdate())
    summary.update(seed=args.seed)
    text = json.dumps(summary, indent=2, default=str)
    print(text)
    if args.summary:
        args.summary.write_text(text)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
