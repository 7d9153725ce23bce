"""Generates the back-office data set: a million cases, with citizens, applications, files, history.

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

STAFF_PASSWORD = "Bench-Sachbearbeitung-2026!"  # noqa: S105 (throwaway benchmark data)
CITIZEN_PASSWORD = "Bench-Buerger-2026!"  # noqa: S105
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
STUCK_SHARE = 0.02  # never finished: overdue "Altfälle"
WITHDRAWN_SHARE = 0.025
DRAFT_SHARE = 0.03


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
        sys.exit(
            f"casework dataset: services missing (run load_demo): {', '.join(sorted(missing))}"
        )
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
            retention=(
                None if permanent else years,
                entry.retention_trigger,
                entry.disposal_action,
            ),
            processing_days=notice_templates.workflow_for(service.slug).processing_days,
        )
    return services, targets, units


def _day_weights(
    first: datetime.date, today: datetime.date
) -> tuple[list[datetime.date], list[float]]:
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
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        self.rows[table] += len(rows)
        self.seconds[table] += time.perf_counter() - started


USER_COLUMNS = (
    "id",
    "password",
    "last_login",
    "is_superuser",
    "first_name",
    "last_name",
    "is_staff",
    "is_active",
    "date_joined",
    "email",
)
PROFILE_COLUMNS = (
    "user_id",
    "given_names",
    "family_name",
    "birth_date",
    "street",
    "house_number",
    "postal_code",
    "place",
    "phone",
    "preferred_language",
    "updated_at",
)
STREETS = (
    "Hauptstraße",
    "Bahnhofstraße",
    "Gartenstraße",
    "Schulstraße",
    "Kirchstraße",
    "Lindenstraße",
    "Bergstraße",
    "Friedrich-Ebert-Straße",
    "Am Wall",
    "Neumarkt",
    "Hofaue",
    "Kölner Straße",
    "Wittensteinstraße",
    "Weinsbergstraße",
    "Alleestraße",
    "Hastener Straße",
    "Schwanenstraße",
    "Konrad-Adenauer-Straße",
    "Uellendahler Straße",
    "Kölner Straße",
    "Am Stadtpark",
)
PLACES = {
    "05124000": ("Wuppertal", "42"),
    "05122000": ("Solingen", "42"),
    "05120000": ("Remscheid", "42"),
}


def generate(*, cases: int, seed: int, today: datetime.date) -> dict[str, Any]:
    started = time.perf_counter()
    rng = random.Random(seed)
    names = NameGenerator(random.Random(seed + 1))
    tz = timezone.get_current_timezone()
    services, targets, units = _load_reference_data()
    municipalities = {m.ags: m for m in Municipality.objects.filter(ags__in=INHABITANTS)}
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
    now = timezone.now()
    # Today's cases only up to now (a few minutes to hours ago).
    skeleton = [
        (min(at, now - datetime.timedelta(minutes=rng.randrange(1, 600))), slug, muni)
        for at, slug, muni in skeleton
    ]
    skeleton.sort(key=lambda item: item[0])

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
                (
                    next_user,
                    staff_hash,
                    None,
                    False,
                    person.given_names,
                    person.family_name,
                    False,
                    True,
                    now,
                    email,
                )
            )
            staff_members.append((next_user, unit.id, "team_lead" if n == 0 else "clerk"))
            staff_emails.append((next_user, email))
            if n == 0:
                unit.lead = next_user
            else:
                unit.clerks.append(next_user)
            next_user += 1
    dropped = _drop_indexes(conn, BULK_TABLES)
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
            (
                next_user,
                person.given_names,
                person.family_name,
                datetime.date(birth_year, rng.randrange(1, 13), rng.randrange(1, 29)),
                rng.choice(STREETS),
                str(rng.randrange(1, 180)),
                f"{prefix}{rng.randrange(100, 999)}",
                place,
                "",
                "de",
                joined,
            )
        )
        citizens_by_muni[muni.pk].append(Citizen(next_user, person, muni.pk, email))
        next_user += 1
    # Names never contain tabs, backslashes or line breaks: rows go to COPY as text lines.
    with conn.cursor() as cur:
        with cur.copy(f"COPY accounts_user ({', '.join(USER_COLUMNS)}) FROM STDIN") as copy:
            copy.write(
                "".join(
                    f"{r[0]}\t{r[1]}\t\\N\tf\t\t\tf\tt\t{r[8].isoformat()}\t{r[9]}\n"
                    for r in citizen_rows
                )
            )
        with cur.copy(f"COPY accounts_profile ({', '.join(PROFILE_COLUMNS)}) FROM STDIN") as copy:
            copy.write("".join("\t".join(map(str, r)) + "\n" for r in profile_rows))
    del citizen_rows, profile_rows
    # A tenth of the citizens apply often (vehicles, parking, children); some never apply.
    frequent = {pk: people[: max(1, len(people) // 10)] for pk, people in citizens_by_muni.items()}
    print(
        f"  staff and {citizen_count:,} citizens: {time.perf_counter() - started:.0f} s", flush=True
    )

    # --- the cases: Python decides, PostgreSQL expands -------------------------------------------
    # One wide row per case goes into a scratch table; files, cases, applications and the status
    # history are then built from it with INSERT … SELECT on the server.
    conn.execute(SKELETON_DDL)
    drawn = dict(conn.execute("SELECT name, value FROM core_sequence").fetchall())
    case_serial: dict[tuple[int, int], int] = {}
    file_serial: dict[tuple[int, str], int] = {}
    application_serial: dict[int, int] = {}
    scopes: dict[tuple[int, int], str] = {}
    retention_cache: dict[tuple[datetime.date, str, int | None], tuple[str, str]] = {}
    statuses: Counter[str] = Counter()
    service_ids = {slug: service_by_slug[slug].pk for slug in slugs}
    outcome_cum = _cumulative([w for _o, w in OUTCOMES])
    outcome_list = [o for o, _w in OUTCOMES]
    day = datetime.timedelta(days=1)
    hour = datetime.timedelta(hours=1)
    lines: list[str] = []
    random_bits = rng.getrandbits
    uniform = rng.uniform
    rand = rng.random
    case_id = _max_id(conn, "casework_case") + 1
    first_case = case_id
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY bench_skeleton ({SKELETON_COLUMNS}) FROM STDIN") as copy,
    ):
        for index, (opened_at, slug, muni) in enumerate(skeleton):
            target = targets[slug][muni.pk]
            people = frequent[muni.pk] if rand() < 0.3 else citizens_by_muni[muni.pk]
            citizen = people[int(rand() * len(people))]
            year = opened_at.year
            unit = target.routed_unit
            if unit is None and target.units:
                unit = target.units[int(rand() * len(target.units))]
            age_days = (now - opened_at).total_seconds() / 86400
            days_needed = target.processing_days * rng.lognormvariate(0, 0.7)
            stuck = rand() < STUCK_SHARE
            withdrawn = not stuck and rand() < WITHDRAWN_SHARE and age_days > 1
            decided_at = closed_at = None
            outcome = ""
            if withdrawn:
                status = "withdrawn"
                closed_at = opened_at + day * uniform(0.5, min(age_days, 20))
            elif stuck or age_days < days_needed:
                progress = rand() if stuck else age_days / days_needed
                if progress < 0.25:
                    status = "received"
                elif progress < 0.8 or rand() < 0.6:
                    status = "in_review"
                else:
                    status = "waiting_for_citizen"
            else:
                decided_at = opened_at + day * days_needed
                outcome = _pick(rng, outcome_list, outcome_cum)
                # Closed once the notice is final (a month for objections, then the clerk).
                close_after = 30 + rng.expovariate(0.1)
                if age_days - days_needed > close_after:
                    status = "closed"
                    closed_at = decided_at + day * close_after
                else:
                    status = "decided"
            if status == "received" and len(target.units) > 1 and rand() < 0.1:
                unit = None  # not yet routed: a team lead assigns it
            if unit is None or not unit.clerks or (status == "received" and rand() < 0.5):
                assigned = None
            else:
                assigned = unit.clerks[(citizen.id + index) % len(unit.clerks)]
            lead = unit.lead if unit is not None else None
            statuses[status] += 1
            review_at = opened_at + hour * uniform(2, 72)
            if decided_at is not None and review_at > decided_at:
                review_at = opened_at + (decided_at - opened_at) / 2

            key = (target.authority_id, year)
            serial = case_serial.get(key)
            serial = (
                serial if serial is not None else drawn.get(f"case-number-{key[0]}-{year}", 0)
            ) + 1
            case_serial[key] = serial
            number = f"{year}-{serial:06d}"
            scope_key = (target.plan_entry_id, year)
            scope = scopes.get(scope_key)
            if scope is None:
                scope = scopes[scope_key] = file_plan.counter_scope(
                    target.formats, plan=target.plan_key, year=year
                )
            fkey = (target.authority_id, scope)
            fserial = file_serial.get(fkey)
            if fserial is None:
                fserial = drawn.get(f"records.file:{fkey[0]}:{scope}", 0)
            fserial += 1
            file_serial[fkey] = fserial
            reference = file_plan.format_reference(
                target.formats[1] if unit is not None else target.formats[0],
                plan=target.plan_key,
                unit=unit.code if unit is not None else "",
                serial=fserial,
                year=year,
            )
            aserial = application_serial.get(year)
            if aserial is None:
                aserial = drawn.get(f"application-reference-{year}", 0)
            aserial += 1
            application_serial[year] = aserial
            years, trigger, disposal = target.retention
            if closed_at is not None:
                closed_on = closed_at.date()
                rkey = (closed_on, trigger, years)
                dates = retention_cache.get(rkey)
                if dates is None:
                    starts, due = retention_dates(closed_on=closed_on, trigger=trigger, years=years)
                    dates = retention_cache[rkey] = (str(starts), str(due) if due else N)
                closed = f"{closed_at.isoformat()}\t{closed_on}\t{dates[0]}\t{dates[1]}"
            else:
                closed = f"{N}\t{N}\t{N}\t{N}"
            due_on = opened_at.date() + day * target.processing_days
            open_ = status in ("received", "in_review", "waiting_for_citizen")
            reminded = str(today - day * int(rand() * 7)) if open_ and due_on < today else N
            lines.append(
                f"{case_id}\t{_hex_uuid(random_bits(128))}\t{_hex_uuid(random_bits(128))}\t"
                f"{random_bits(128):032x}\t{target.authority_id}\t"
                f"{unit.id if unit is not None else N}\t{service_ids[slug]}\t{citizen.id}\t"
                f"{muni.pk}\t{status}\t{outcome}\t{assigned or N}\t{lead or N}\t{due_on}\t"
                f"{opened_at.isoformat()}\t{review_at.isoformat()}\t"
                f"{decided_at.isoformat() if decided_at else N}\t{closed}\t{reminded}\t{number}\t"
                f"A-{year}-{aserial:06d}\t{fserial}\t{year}\t{reference}\t{target.plan_entry_id}\t"
                f"{years if years is not None else N}\t{trigger}\t{disposal}\t"
                f"{'f' if rand() < 0.03 else 't'}\t{int(rand() * 85) + 3}\n"
            )
            case_id += 1
            if len(lines) >= CHUNK:
                copy.write("".join(lines))
                lines.clear()
                print(f"  {index + 1:,} cases: {time.perf_counter() - started:.0f} s", flush=True)
        copy.write("".join(lines))
    print(f"  skeleton written: {time.perf_counter() - started:.0f} s", flush=True)

    timings: dict[str, float] = {}
    for label, sql in EXPAND_SQL:
        step = time.perf_counter()
        conn.execute(sql)
        timings[label] = time.perf_counter() - step
        print(f"  {label}: {timings[label]:.0f} s", flush=True)

    # Drafts: started, not yet sent (shown in "Meine Anträge").
    draft_rows = []
    for _ in range(round(len(skeleton) * DRAFT_SHARE)):
        muni = _pick(rng, muni_list, muni_cum)
        slug = _pick(rng, slugs, slug_cum)
        if muni.pk not in targets[slug]:
            continue
        citizen = citizens_by_muni[muni.pk][int(rand() * len(citizens_by_muni[muni.pk]))]
        saved = now - datetime.timedelta(minutes=int(rand() * 60 * 24 * 28))
        draft_rows.append(
            (
                case_id + len(draft_rows),
                _hex_uuid(random_bits(128)),
                citizen.id,
                service_ids[slug],
                muni.pk,
                "draft",
                json.dumps({"person": {"family_name": citizen.person.family_name}}),
                "{}",
                "person",
                "",
                saved,
                saved,
                saved + datetime.timedelta(days=30),
                "",
                "",
                True,
                "",
            )
        )
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY applications_application (id, public_id, applicant_id, service_id, "
            "municipality_id, "
            "status, answers, context, current_step, schema_hash, created_at, updated_at, "
            "expires_at, receipt, receipt_sha256, electronic_delivery, start_key) FROM STDIN"
        ) as copy,
    ):
        for row in draft_rows:
            copy.write_row(row)
    step = time.perf_counter()
    _recreate_indexes(conn, dropped)
    timings["indexes and foreign keys rebuilt"] = time.perf_counter() - step
    print(
        f"  indexes and constraints: {timings['indexes and foreign keys rebuilt']:.0f} s",
        flush=True,
    )
    conn.execute("DROP TABLE bench_skeleton")
    _set_counters(conn, case_serial, file_serial, application_serial)
    conn.commit()
    loaded = time.perf_counter() - started
    print(f"  loaded in {loaded:.0f} s; vacuum and analyse …", flush=True)
    conn.autocommit = True
    vacuum_started = time.perf_counter()
    for table in BULK_TABLES:
        conn.execute(f"VACUUM (ANALYZE) {table}")
    events = conn.execute(
        "SELECT count(*) FROM casework_caseevent WHERE case_id >= %s", (first_case,)
    ).fetchone()
    conn.close()
    return {
        "cases": len(skeleton),
        "citizens": citizen_count,
        "staff": len(staff_rows),
        "events": int(events[0]) if events else 0,
        "drafts": len(draft_rows),
        "statuses": dict(statuses),
        "steps_seconds": {k: round(v, 1) for k, v in timings.items()},
        "load_seconds": round(loaded, 1),
        "vacuum_seconds": round(time.perf_counter() - vacuum_started, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


N = "\\N"  # NULL in COPY's text format


def _hex_uuid(bits: int) -> str:
    """A random (version 4) UUID as 32 hex digits, which PostgreSQL's uuid type accepts."""
    return f"{(bits & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48):032x}"


SKELETON_FIELDS = (
    ("case_id", "bigint"),
    ("case_uuid", "uuid"),
    ("app_uuid", "uuid"),
    ("idem", "text"),
    ("authority_id", "bigint"),
    ("unit_id", "bigint"),
    ("service_id", "bigint"),
    ("citizen_id", "bigint"),
    ("muni_id", "bigint"),
    ("status", "text"),
    ("outcome", "text"),
    ("assigned_id", "bigint"),
    ("lead_id", "bigint"),
    ("due_on", "date"),
    ("opened_at", "timestamptz"),
    ("review_at", "timestamptz"),
    ("decided_at", "timestamptz"),
    ("closed_at", "timestamptz"),
    ("closed_on", "date"),
    ("retention_starts_on", "date"),
    ("disposal_due_on", "date"),
    ("reminded_on", "date"),
    ("number", "text"),
    ("app_reference", "text"),
    ("serial", "integer"),
    ("year", "smallint"),
    ("reference", "text"),
    ("plan_entry_id", "bigint"),
    ("retention_years", "smallint"),
    ("retention_trigger", "text"),
    ("disposal_action", "text"),
    ("electronic", "boolean"),
    ("draft_minutes", "integer"),
)
SKELETON_COLUMNS = ", ".join(name for name, _type in SKELETON_FIELDS)
SKELETON_DDL = (
    "CREATE UNLOGGED TABLE bench_skeleton ("
    + ", ".join(f"{name} {kind}" for name, kind in SKELETON_FIELDS)
    + ")"
)
BULK_TABLES = (
    "accounts_user",
    "accounts_profile",
    "records_file",
    "casework_case",
    "applications_application",
    "casework_caseevent",
)
_PERSON = (
    "jsonb_build_object('person', jsonb_build_object('given_names', p.given_names, "
    "'family_name', p.family_name, 'birth_date', p.birth_date), 'address', "
    "jsonb_build_object('street', p.street, 'house_number', p.house_number, "
    "'postal_code', p.postal_code, 'place', p.place))"
)
EXPAND_SQL = (
    (
        "files",
        "INSERT INTO records_file (id, authority_id, plan_entry_id, org_unit_id, serial, year, "
        "reference, title, opened_at, opened_by_id, closed_at, closed_on, retention_years, "
        "retention_trigger, disposal_action, retention_starts_on, disposal_due_on, "
        "xdomea_id, disposal_outcome) "
        "SELECT s.case_id, s.authority_id, s.plan_entry_id, s.unit_id, s.serial, s.year, "
        "s.reference, left(v.name_de || ': ' || p.given_names || ' ' || p.family_name, 300), "
        "s.opened_at, s.citizen_id, s.closed_at, s.closed_on, s.retention_years, "
        "s.retention_trigger, s.disposal_action, s.retention_starts_on, s.disposal_due_on, "
        "gen_random_uuid(), '' "
        "FROM bench_skeleton s JOIN accounts_profile p ON p.user_id = s.citizen_id "
        "JOIN catalog_service v ON v.id = s.service_id",
    ),
    (
        "cases",
        "INSERT INTO casework_case (id, public_id, authority_id, org_unit_id, service_id, "  # noqa: S608 (constant SQL)
        "applicant_id, applicant_name, title, number, status, outcome, assigned_to_id, due_on, "
        "opened_at, decided_at, closed_at, reminded_on, file_id, electronic_delivery, "
        "particulars, updated_at) "
        f"SELECT s.case_id, s.case_uuid, s.authority_id, s.unit_id, s.service_id, s.citizen_id, "
        "left(p.given_names || ' ' || p.family_name, 200), left(v.name_de, 300), s.number, "
        "s.status, s.outcome, s.assigned_id, s.due_on, s.opened_at, s.decided_at, s.closed_at, "
        f"s.reminded_on, s.case_id, s.electronic, {_PERSON}, "
        "coalesce(s.closed_at, s.decided_at, s.review_at) "
        "FROM bench_skeleton s JOIN accounts_profile p ON p.user_id = s.citizen_id "
        "JOIN catalog_service v ON v.id = s.service_id",
    ),
    (
        "applications",
        "INSERT INTO applications_application (id, public_id, applicant_id, service_id, "  # noqa: S608
        "municipality_id, authority_id, status, answers, context, current_step, schema_hash, "
        "created_at, updated_at, expires_at, reference, submitted_at, submitted_data, "
        "declaration_confirmed_at, idempotency_key, receipt, receipt_sha256, case_id, "
        "electronic_delivery, start_key) "
        "SELECT s.case_id, s.app_uuid, s.citizen_id, s.service_id, s.muni_id, s.authority_id, "
        "CASE WHEN s.status = 'withdrawn' THEN 'withdrawn' ELSE 'submitted' END, "
        f"{_PERSON}, '{{}}', '', '', s.opened_at - s.draft_minutes * interval '1 minute', "
        "coalesce(s.closed_at, s.opened_at), NULL, s.app_reference, s.opened_at, "
        f"{_PERSON}, s.opened_at, s.idem, '', '', s.case_id, s.electronic, '' "
        "FROM bench_skeleton s JOIN accounts_profile p ON p.user_id = s.citizen_id",
    ),
    (
        "status history",
        "INSERT INTO casework_caseevent (case_id, kind, from_status, to_status, actor_id, "
        "actor_label, at, note, citizen_visible, data) "
        "SELECT s.case_id, e.kind, e.from_status, e.to_status, e.actor_id, e.actor_label, e.at, "
        "'', true, '{}' FROM bench_skeleton s "
        "JOIN accounts_user c ON c.id = s.citizen_id "
        "LEFT JOIN accounts_user w ON w.id = coalesce(s.assigned_id, s.lead_id) "
        "CROSS JOIN LATERAL (VALUES "
        "(1, 'opened', '', 'received', s.citizen_id, c.email, s.opened_at, true), "
        "(2, 'status_changed', 'received', 'in_review', w.id, coalesce(w.email, ''), s.review_at, "
        "s.status NOT IN ('received', 'withdrawn')), "
        "(3, 'documents_requested', 'in_review', 'waiting_for_citizen', w.id, "
        "coalesce(w.email, ''), s.review_at + interval '20 hours', "
        "s.status = 'waiting_for_citizen'), "
        "(4, 'notice_issued', 'in_review', 'decided', w.id, coalesce(w.email, ''), s.decided_at, "
        "s.status IN ('decided', 'closed')), "
        "(5, 'status_changed', 'decided', 'closed', w.id, coalesce(w.email, ''), s.closed_at, "
        "s.status = 'closed'), "
        "(6, 'status_changed', 'received', 'withdrawn', s.citizen_id, c.email, s.closed_at, "
        "s.status = 'withdrawn')"
        ") AS e(n, kind, from_status, to_status, actor_id, actor_label, at, present) "
        "WHERE e.present",
    ),
)


def _drop_indexes(conn: psycopg.Connection[Any], tables: tuple[str, ...]) -> list[str]:
    """Drop secondary indexes, unique and foreign-key constraints of ``tables`` for the bulk load.

    Returns the statements that recreate them (exactly as they were, names included); building
    an index once over all rows is many times faster than keeping it up to date row by row.
    """
    constraints = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
        "FROM pg_constraint c WHERE c.contype IN ('u', 'f') "
        "AND c.conrelid::regclass::text = ANY(%s)",
        (list(tables),),
    ).fetchall()
    # Foreign keys first (they may depend on unique indexes), unique constraints after.
    constraints.sort(key=lambda row: row[3] != "f")
    indexes = conn.execute(
        "SELECT i.schemaname, i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname) ",
        (list(tables),),
    ).fetchall()
    recreate: list[str] = []
    for table, name, definition, _kind in constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        recreate.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for schema, name, definition in indexes:
        conn.execute(f'DROP INDEX "{schema}"."{name}"')
        recreate.insert(0, definition)
    # Unique constraints and plain indexes before the foreign keys that need them.
    recreate.sort(key=lambda sql: "FOREIGN KEY" in sql)
    return recreate


def _recreate_indexes(conn: psycopg.Connection[Any], statements: list[str]) -> None:
    conn.execute("SET maintenance_work_mem = '512MB'")
    for sql in statements:
        conn.execute(sql)


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
            'INSERT INTO account_emailaddress (user_id, email, verified, "primary") '
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
            "ON CONFLICT (name) DO UPDATE "
            "SET value = greatest(core_sequence.value, EXCLUDED.value)",
            values,
        )
        for table in (
            "accounts_user",
            "accounts_profile",
            "records_file",
            "casework_case",
            "applications_application",
            "casework_caseevent",
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
