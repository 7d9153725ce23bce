"""Notice templates and case-handling settings of a service, read from its definition folder.

Both are data beside the service definition (``catalog/services/<slug>/``):

- ``notices/<key>.toml``: one notice template (title, outcome, legal basis, body text with
  placeholders such as ``{{ applicant_name }}``, Rechtsbehelfsbelehrung, optional ``four_eyes``
  and ``document_type``);
- ``casework.toml`` (optional): ``processing_days`` (due date after receipt), ``four_eyes``
  (a second clerk approves every notice), ``unit`` (code of the org unit that handles it),
  ``subject_field`` (the answer naming the person the case is about; default ``name``) and
  ``[validity]`` (what a grant is valid for: ``years`` from the day chosen in the answer
  ``start_field``, never from before the day of issue; ``{{ valid_from }}``, ``{{ valid_until }}``).

Every file is validated completely when it is read; an error names the service and the template
(``manage.py check`` reports them, see ``casework.checks``).
"""

from __future__ import annotations

import calendar
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import Template, VariableNode
from django.template.defaulttags import ForNode
from django.utils import translation
from django.utils.translation import gettext as _

from rathaus.casework.errors import NoticeTemplateError
from rathaus.catalog.definitions import SERVICES_DIR

NOTICES_DIR = "notices"
WORKFLOW_FILE = "casework.toml"
OUTCOMES = ("granted", "partly_granted", "refused")
DOCUMENT_TYPES = ("notice", "residence-certificate", "permit", "certificate")
#: Documents that only certify; every other one (and any refusal) is a Verwaltungsakt.
CERTIFICATE_TYPES = ("residence-certificate", "certificate")
_KEY = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLACEHOLDER = re.compile(r"{{.*?}}|{%.*?%}|\[Bitte [^\]]*\]")
COURTS_FILE = Path(__file__).resolve().parent / "courts.toml"
#: Placeholders kept in a draft and filled when the notice is issued: the date of the decision
#: is the day of issue, not the day of drafting (a certificate states the register on that day),
#: and a grant is valid from its issue at the earliest (:func:`validity_period`).
ISSUE_PLACEHOLDERS = ("decided_on", "valid_from", "valid_until")
_ISSUE_PLACEHOLDER = re.compile(r"{{\s*(" + "|".join(ISSUE_PLACEHOLDERS) + r")\s*}}")
#: The issue placeholders that only a service with a ``[validity]`` in ``casework.toml`` has.
VALIDITY_PLACEHOLDERS = ("valid_from", "valid_until")

#: The values every notice template may use; ``particulars`` holds the submitted answers.
PLACEHOLDERS = (
    "applicant_name",
    "case_number",
    "file_reference",
    "decided_on",
    "service_name",
    "authority_name",
    "municipality_name",
    "residence_municipality_name",
    "opened_on",
    "court",
    "particulars",
    "valid_from",
    "valid_until",
)
_TEMPLATE_KEYS = {
    "title_de",
    "title_en",
    "outcome",
    "document_type",
    "legal_basis",
    "body",
    "remedy",
    "four_eyes",
}
_WORKFLOW_KEYS = {
    "processing_days",
    "four_eyes",
    "unit",
    "announcement",
    "subject_field",
    "validity",
}
_VALIDITY_KEYS = {"start_field", "years"}
#: The answer that names the person a case is about, unless ``casework.toml`` names another.
DEFAULT_SUBJECT_FIELD = "name"
#: What ``mailbox.Message.legal_basis`` holds.
ANNOUNCEMENT_KEY_LENGTH = 40


class _Missing(str):
    """``string_if_invalid`` that raises: a notice is never issued with a gap in its text."""

    def __mod__(self, name: object) -> str:
        raise _MissingPlaceholder(str(name))


class _MissingPlaceholder(Exception):
    pass


@cache
def _engine() -> Engine:
    # Plain text: escaping happens when the text is put into the PDF.
    return Engine(
        string_if_invalid=_Missing("%s"),
        autoescape=False,
        builtins=["django.templatetags.l10n"],
    )


@dataclass(frozen=True)
class NoticeTemplate:
    """One template of a service's notices."""

    service_slug: str
    key: str
    path: Path
    title_de: str
    title_en: str
    outcome: str
    document_type: str
    legal_basis: str
    body: str
    remedy: str
    four_eyes: bool | None

    @property
    def label(self) -> str:
        return f"{self.service_slug}/{self.key}"

    def fill(self, values: dict[str, Any]) -> dict[str, str]:
        """Title, body, legal basis and remedy with the placeholders replaced.

        Raises :class:`NoticeTemplateError` naming the placeholder that has no value.
        """
        return {
            "title": fill_text(self.title_de, values, label=self.label),
            "body": fill_text(self.body, values, label=self.label),
            "legal_basis": fill_text(self.legal_basis, values, label=self.label),
            "remedy": fill_text(self.remedy, values, label=self.label) if self.remedy else "",
        }


@dataclass(frozen=True)
class Validity:
    """How long what a service's notice grants is valid (``[validity]`` in ``casework.toml``):
    ``years`` from the day the applicant chose in the answer ``start_field``."""

    start_field: str
    years: int


@dataclass(frozen=True)
class WorkflowSettings:
    """How the authority handles a service's cases (``casework.toml``)."""

    processing_days: int
    four_eyes: bool
    unit_code: str
    #: Key of the rule by which a notice counts as announced (``MAILBOX_ANNOUNCEMENT_DAYS``):
    #: empty for § 9 OZG, the "default" days.
    announcement: str = ""
    #: The answer (a person's name) naming whom the case is about: the case's applicant name,
    #: ``{{ applicant_name }}``. Not necessarily who applied (a representative, an authorised
    #: person); their name may come earlier in the form.
    subject_field: str = DEFAULT_SUBJECT_FIELD
    #: What a grant is valid for; None: the service's notices name no period of validity.
    validity: Validity | None = None


def _fail(service_slug: str, name: str, message: str) -> NoticeTemplateError:
    return NoticeTemplateError(
        _("Service %(service)s, template %(template)s: %(message)s")
        % {"service": service_slug, "template": name, "message": message}
    )


def _compile(text: str, *, service_slug: str, key: str, field: str) -> Template:
    try:
        template = _engine().from_string(text)
    except TemplateSyntaxError as exc:
        raise _fail(service_slug, key, f"'{field}' is not a valid template: {exc}") from None
    for name in _variables(template):
        if name not in PLACEHOLDERS:
            raise _fail(
                service_slug,
                key,
                f"'{field}' uses the unknown placeholder '{name}' "
                f"(known: {', '.join(PLACEHOLDERS)})",
            )
    return template


def _variables(template: Template) -> set[str]:
    """The first part of every variable the template prints or loops over."""
    names: set[str] = set()
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        var = cast(VariableNode, node).filter_expression.var
        lookup = getattr(var, "var", None)
        if isinstance(lookup, str):
            names.add(lookup.split(".")[0])
    for found in template.nodelist.get_nodes_by_type(ForNode):
        loop = cast(ForNode, found)
        lookup = getattr(getattr(loop.sequence, "var", None), "var", None)
        if isinstance(lookup, str):
            names.add(lookup.split(".")[0])
        names.difference_update(loop.loopvars)
    return names


def fill_text(text: str, values: dict[str, Any], *, label: str) -> str:
    """Render ``text`` with ``values``; a placeholder without a value is refused by name."""
    service_slug, _sep, key = label.partition("/")
    template = _compile(text, service_slug=service_slug, key=key, field="text")
    try:
        # Notices are written in German (§ 23 Abs. 1 VwVfG), whatever the clerk's language:
        # dates and numbers are formatted accordingly.
        with translation.override("de"):
            return template.render(Context(values, autoescape=False)).strip()
    except _MissingPlaceholder as exc:
        raise NoticeTemplateError(
            _("The placeholder “%(name)s” of template %(template)s has no value for this case.")
            % {"name": exc, "template": label}
        ) from None


def needs_remedy(*, document_type: str, outcome: str) -> bool:
    """Whether the notice must carry a Rechtsbehelfsbelehrung (§ 37 Abs. 6 VwVfG, § 58 VwGO):
    every Verwaltungsakt does; only a certificate that grants what was asked for has none."""
    return document_type not in CERTIFICATE_TYPES or outcome != "granted"


def document_type_for(template_type: str, outcome: str) -> str:
    """What a notice drafted from a template of ``template_type`` is once its outcome is
    ``outcome``: a refusal is a plain notice, never a permit or a certificate, and a partial
    grant certifies nothing. GovChain and /pruefen/ show this type."""
    if outcome == "refused" or (outcome != "granted" and template_type in CERTIFICATE_TYPES):
        return "notice"
    return template_type


def leftover_placeholder(text: str) -> str | None:
    """The first ``{{ … }}``, ``{% … %}`` or ``[Bitte … ergänzen]`` left in a notice text;
    the placeholders filled at issue (:data:`ISSUE_PLACEHOLDERS`) are not left over."""
    for match in _PLACEHOLDER.finditer(text or ""):
        if not _ISSUE_PLACEHOLDER.fullmatch(match.group(0)):
            return match.group(0)
    return None


def keeping_issue_placeholders(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for a draft: the placeholders filled at issue stay in its text as they are
    (``{{ decided_on }}``), so that the text a second clerk approves is the text issued."""
    return {**values, **{name: f"{{{{ {name} }}}}" for name in ISSUE_PLACEHOLDERS}}


def validity_period(*, chosen_start: date | None, issued_on: date, years: int) -> tuple[date, date]:
    """The first and the last day of a validity of ``years`` years from ``chosen_start``, or
    from the day of issue if that is later (or no day was chosen): the notice grants nothing
    for the days before it exists.

    § 187 Abs. 2, § 188 Abs. 2 BGB: a period that begins with the start of a day ends with the
    day before the one that corresponds to it by its number (01.06.2026 → 31.05.2027); § 188
    Abs. 3 BGB: where the last month lacks that day, with its last day (29.02.2028 →
    28.02.2029).
    """
    start = issued_on if chosen_start is None else max(chosen_start, issued_on)
    year = start.year + years
    try:
        end = start.replace(year=year) - timedelta(days=1)
    except ValueError:  # 29 February, and the last year is a common year
        end = start.replace(year=year, day=calendar.monthrange(year, start.month)[1])
    return start, end


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def issue_values(
    *, decided_on: date, service_slug: str, particulars: Mapping[str, Any] | None
) -> dict[str, str]:
    """The values of the placeholders filled at issue (:data:`ISSUE_PLACEHOLDERS`) for a case of
    ``service_slug`` with the answers ``particulars``, issued on ``decided_on``. The period of
    validity only where the service has one; without a chosen day it starts on issue."""
    values = {"decided_on": decided_on.strftime("%d.%m.%Y")}
    validity = workflow_for(service_slug).validity
    if validity is not None:
        valid_from, valid_until = validity_period(
            chosen_start=_as_date((particulars or {}).get(validity.start_field)),
            issued_on=decided_on,
            years=validity.years,
        )
        values["valid_from"] = valid_from.strftime("%d.%m.%Y")
        values["valid_until"] = valid_until.strftime("%d.%m.%Y")
    return values


def fill_issue_placeholders(
    text: str, *, decided_on: date, service_slug: str, particulars: Mapping[str, Any] | None
) -> str:
    """``text`` with ``{{ decided_on }}`` replaced by the day of issue (the decision's date) and
    ``{{ valid_from }}`` / ``{{ valid_until }}`` by the period of validity from that day
    (:func:`issue_values`). A placeholder the service has no value for is refused by name."""
    values = issue_values(decided_on=decided_on, service_slug=service_slug, particulars=particulars)

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise NoticeTemplateError(
                _(
                    "The placeholder “%(name)s” has no value: the service %(service)s defines "
                    "no period of validity."
                )
                % {"name": name, "service": service_slug}
            )
        return values[name]

    return _ISSUE_PLACEHOLDER.sub(value, text or "")


def services_dir() -> Path:
    return Path(getattr(settings, "CASEWORK_SERVICES_DIR", None) or SERVICES_DIR)


def _read_toml(path: Path, *, service_slug: str, name: str) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(service_slug, name, f"is not valid TOML: {exc}") from None
    except OSError as exc:
        raise _fail(service_slug, name, f"cannot be read: {exc.strerror}") from None


def _text(data: dict[str, Any], key: str, *, service_slug: str, name: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(service_slug, name, f"'{key}' is required and must be non-empty text")
    return value.strip()


def read_template(path: Path, *, service_slug: str) -> NoticeTemplate:
    """Read and validate one notice template file."""
    key = path.stem
    if not _KEY.match(key):
        raise _fail(service_slug, key, "the file name must be lower-case letters and digits")
    data = _read_toml(path, service_slug=service_slug, name=key)
    unknown = sorted(set(data) - _TEMPLATE_KEYS)
    if unknown:
        raise _fail(
            service_slug,
            key,
            f"unknown field '{unknown[0]}' (allowed: {', '.join(sorted(_TEMPLATE_KEYS))})",
        )
    outcome = _text(data, "outcome", service_slug=service_slug, name=key)
    if outcome not in OUTCOMES:
        raise _fail(service_slug, key, f"'outcome' must be one of {', '.join(OUTCOMES)}")
    document_type = data.get("document_type", "notice")
    if document_type not in DOCUMENT_TYPES:
        raise _fail(
            service_slug, key, f"'document_type' must be one of {', '.join(DOCUMENT_TYPES)}"
        )
    four_eyes = data.get("four_eyes")
    if four_eyes is not None and not isinstance(four_eyes, bool):
        raise _fail(service_slug, key, "'four_eyes' must be true or false")
    template = NoticeTemplate(
        service_slug=service_slug,
        key=key,
        path=path,
        title_de=_text(data, "title_de", service_slug=service_slug, name=key),
        title_en=_text(data, "title_en", service_slug=service_slug, name=key),
        outcome=outcome,
        document_type=str(document_type),
        legal_basis=_text(data, "legal_basis", service_slug=service_slug, name=key),
        body=_text(data, "body", service_slug=service_slug, name=key),
        # A notice (Verwaltungsakt) needs its Rechtsbehelfsbelehrung; a certificate has none.
        remedy=_text(data, "remedy", service_slug=service_slug, name=key)
        if needs_remedy(document_type=str(document_type), outcome=outcome) or data.get("remedy")
        else "",
        four_eyes=four_eyes,
    )
    for field in ("title_de", "legal_basis", "body", "remedy"):
        if getattr(template, field):
            _compile(getattr(template, field), service_slug=service_slug, key=key, field=field)
    return template


@cache
def _templates(directory: str, service_slug: str) -> dict[str, NoticeTemplate]:
    folder = Path(directory) / service_slug / NOTICES_DIR
    if not folder.is_dir():
        return {}
    return {
        path.stem: read_template(path, service_slug=service_slug)
        for path in sorted(folder.glob("*.toml"))
    }


def templates_for(service_slug: str) -> dict[str, NoticeTemplate]:
    """The notice templates of a service by key (empty when it has none)."""
    return _templates(str(services_dir()), service_slug)


def template(service_slug: str, key: str) -> NoticeTemplate:
    found = templates_for(service_slug).get(key)
    if found is None:
        raise NoticeTemplateError(_("The service has no notice template “%(key)s”.") % {"key": key})
    return found


@cache
def _workflow(directory: str, service_slug: str) -> WorkflowSettings:
    default_days = int(getattr(settings, "CASEWORK_DEFAULT_PROCESSING_DAYS", 14))
    path = Path(directory) / service_slug / WORKFLOW_FILE
    if not path.is_file():
        return WorkflowSettings(processing_days=default_days, four_eyes=False, unit_code="")
    data = _read_toml(path, service_slug=service_slug, name=WORKFLOW_FILE)
    unknown = sorted(set(data) - _WORKFLOW_KEYS)
    if unknown:
        raise _fail(
            service_slug,
            WORKFLOW_FILE,
            f"unknown field '{unknown[0]}' (allowed: {', '.join(sorted(_WORKFLOW_KEYS))})",
        )
    days = data.get("processing_days", default_days)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
        raise _fail(
            service_slug, WORKFLOW_FILE, "'processing_days' must be a whole number from 1 to 3650"
        )
    four_eyes = data.get("four_eyes", False)
    if not isinstance(four_eyes, bool):
        raise _fail(service_slug, WORKFLOW_FILE, "'four_eyes' must be true or false")
    unit = data.get("unit", "")
    if not isinstance(unit, str):
        raise _fail(service_slug, WORKFLOW_FILE, "'unit' must be an org unit code as text")
    announcement = data.get("announcement", "")
    if not isinstance(announcement, str) or len(announcement.strip()) > ANNOUNCEMENT_KEY_LENGTH:
        raise _fail(
            service_slug,
            WORKFLOW_FILE,
            f"'announcement' must be a key of MAILBOX_ANNOUNCEMENT_DAYS "
            f"(text, at most {ANNOUNCEMENT_KEY_LENGTH} characters)",
        )
    subject_field = data.get("subject_field", DEFAULT_SUBJECT_FIELD)
    if not isinstance(subject_field, str) or not _KEY.match(subject_field):
        raise _fail(
            service_slug,
            WORKFLOW_FILE,
            "'subject_field' must be the id of a form field (lower-case letters, digits, '_')",
        )
    validity = _validity(data.get("validity"), service_slug=service_slug)
    announcement = announcement.strip()
    if announcement and announcement not in settings.MAILBOX_ANNOUNCEMENT_DAYS:
        raise _fail(
            service_slug,
            WORKFLOW_FILE,
            f"'announcement' = {announcement!r} is not a key of MAILBOX_ANNOUNCEMENT_DAYS",
        )
    return WorkflowSettings(
        processing_days=days,
        four_eyes=four_eyes,
        unit_code=unit.strip(),
        announcement=announcement,
        subject_field=subject_field,
        validity=validity,
    )


def _validity(data: Any, *, service_slug: str) -> Validity | None:
    """The ``[validity]`` table of ``casework.toml`` (None when there is none)."""
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != _VALIDITY_KEYS:
        raise _fail(
            service_slug,
            WORKFLOW_FILE,
            "'validity' must be a table with 'start_field' (the id of a date field) and 'years'",
        )
    start_field, years = data["start_field"], data["years"]
    if not isinstance(start_field, str) or not _KEY.match(start_field):
        raise _fail(
            service_slug,
            WORKFLOW_FILE,
            "'validity.start_field' must be the id of a form field "
            "(lower-case letters, digits, '_')",
        )
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 10:
        raise _fail(
            service_slug, WORKFLOW_FILE, "'validity.years' must be a whole number from 1 to 10"
        )
    return Validity(start_field=start_field, years=years)


def workflow_for(service_slug: str) -> WorkflowSettings:
    return _workflow(str(services_dir()), service_slug)


def four_eyes_for_outcome(service_slug: str, outcome: str) -> bool:
    """Whether a notice of the service with ``outcome`` needs a second clerk: the service says
    so for every notice, or one of its templates with that outcome does. A partial grant is a
    partial refusal: it needs a second clerk wherever a refusal does."""
    outcomes = {outcome, "refused"} if outcome == "partly_granted" else {outcome}
    return workflow_for(service_slug).four_eyes or any(
        t.four_eyes for t in templates_for(service_slug).values() if t.outcome in outcomes
    )


@cache
def _courts(path: str) -> dict[str, str]:
    data = _read_toml(Path(path), service_slug="-", name="courts.toml")
    courts: dict[str, str] = {}
    for entry in data.get("court", []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise _fail("-", "courts.toml", "every [[court]] needs a name")
        for ags in entry.get("ags", []):
            courts[str(ags)] = name.strip()
    return courts


def court_for(ags: str) -> str | None:
    """The administrative court for notices to residents of the municipality ``ags`` (None when
    unknown)."""
    path = getattr(settings, "CASEWORK_COURTS_FILE", None) or COURTS_FILE
    return _courts(str(path)).get(ags)


def clear_caches() -> None:
    _templates.cache_clear()
    _workflow.cache_clear()
    _courts.cache_clear()


def check_all() -> list[NoticeTemplateError]:
    """Read every service's templates and settings afresh; returns the errors found."""
    clear_caches()
    errors: list[NoticeTemplateError] = []
    root = services_dir()
    if not root.is_dir():
        return errors
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        found = len(errors)
        for reader in (templates_for, workflow_for):
            try:
                reader(folder.name)
            except NoticeTemplateError as exc:
                errors.append(exc)
        if len(errors) == found:
            errors.extend(_validity_without_rule(folder.name))
    return errors


def _validity_without_rule(service_slug: str) -> list[NoticeTemplateError]:
    """A template naming a period of validity in a service that defines none: it could never
    be issued."""
    if workflow_for(service_slug).validity is not None:
        return []
    errors = []
    for key, found in templates_for(service_slug).items():
        texts = (found.title_de, found.legal_basis, found.body, found.remedy)
        names = set().union(*(_variables(_engine().from_string(text)) for text in texts))
        used = sorted(names & set(VALIDITY_PLACEHOLDERS))
        if used:
            errors.append(
                _fail(
                    service_slug,
                    key,
                    f"uses '{used[0]}', but {WORKFLOW_FILE} has no [validity] (start_field, years)",
                )
            )
    return errors


def template_values(raw: dict[str, Any]) -> dict[str, Any]:
    """Answers as templates use them: ISO dates become dates (``{{ x|date:"d.m.Y" }}``)."""

    def convert(value: Any) -> Any:
        if isinstance(value, str) and _ISO_DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return {k: convert(v) for k, v in raw.items()}
