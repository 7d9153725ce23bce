"""Login through a citizen account (BundID by SAML, or an OIDC broker): start, answer, finish.

A login is a :class:`LoginAttempt` row from the request until the citizen is logged in. The
protocol answer is checked (``saml.read_response``, ``oidc.exchange_code``) and kept on the
attempt; the citizen's browser then finishes it, which needs the browser key from the session
that started it (no one can push their login into another person's browser). A citizen account
is linked to a local account only when the citizen, logged in to that account, confirms it —
never by the e-mail address alone.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal

from allauth.account.internal.flows.login import record_authentication
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from rathaus.accounts import asserted_values, oidc, trust
from rathaus.accounts.external_identity import ExternalIdentity, FederationError
from rathaus.accounts.middleware import has_second_factor
from rathaus.accounts.models import (
    FederatedIdentity,
    IdentityProvider,
    LoginAttempt,
    Profile,
    User,
)
from rathaus.accounts.roles import is_staff_member
from rathaus.accounts.selectors import CONFIRMED_FIELDS_KEY, IDENTITY_FIELDS, UNUSABLE_FIELDS_KEY
from rathaus.core import audit

logger = logging.getLogger(__name__)

BROWSER_SESSION_KEY = "rathaus_federation_browser"
PROVIDER_SESSION_KEY = "rathaus_federation_provider"
ATTEMPT_LIFETIME = datetime.timedelta(minutes=15)
#: Finished attempts are kept this long: their assertion IDs guard against replays, far longer
#: than any assertion is valid (minutes).
ATTEMPT_RETENTION = datetime.timedelta(days=1)
BACKEND = "django.contrib.auth.backends.ModelBackend"
#: The ``method`` of allauth's authentication record for a citizen-account login.
CITIZEN_ACCOUNT_METHOD = "citizen_account"
PROFILE_FIELDS = (
    "given_names",
    "family_name",
    "birth_date",
    "street",
    "house_number",
    "postal_code",
    "place",
)


class FinishRefused(Exception):
    """The answer was fine but this browser or account may not use it; the text is for people."""


class AccountRefused(FinishRefused):
    """This account may not be entered (or linked) this way; the text is shown (403)."""


class StaffAccountRefused(AccountRefused):
    """A staff account never logs in (or links) with a citizen account: that would skip the
    second factor the admin and the back office demand (DESIGN.md)."""


class SecondFactorRequired(AccountRefused):
    """A citizen-account login at level "low" (user name and password at the provider) is one
    factor: it does not enter an account that protects itself with a second factor."""


class SecondCitizenAccountRefused(AccountRefused):
    """The account is linked with another citizen account of the same provider (issuer): a
    second person's pseudonym must not be added, or that person would log in to this account
    and their login would overwrite its profile."""


class RecentAuthenticationRequired(FinishRefused):
    """Linking needs a recent authentication with the account's own means."""


#: The lowest level of a citizen-account login that enters an account with a second factor:
#: ELSTER certificate and online ID card are two factors themselves (possession and PIN).
TWO_FACTOR_LEVEL = trust.Level.SUBSTANTIAL


def _refuse_staff(user: User) -> None:
    if is_staff_member(user):
        raise StaffAccountRefused(
            _(
                "Staff accounts sign in with their password and second factor, not with a "
                "citizen account. Please use a separate account for your own applications."
            )
        )


def _browser_hash(request: HttpRequest) -> str:
    key = request.session.get(BROWSER_SESSION_KEY)
    if not key:
        key = secrets.token_urlsafe(32)
        request.session[BROWSER_SESSION_KEY] = key
    return hashlib.sha256(str(key).encode()).hexdigest()


def started_here(request: HttpRequest, attempt: LoginAttempt) -> bool:
    """Whether this browser's session started ``attempt`` (holds the key it was started with)."""
    key = request.session.get(BROWSER_SESSION_KEY)
    if not key:
        return False
    mine = hashlib.sha256(str(key).encode()).hexdigest()
    return secrets.compare_digest(attempt.browser_key, mine)


def safe_next(request: HttpRequest, url: str) -> str:
    """``url`` if it leads to this site and fits the attempt's column; "" otherwise."""
    max_length = LoginAttempt._meta.get_field("next_url").max_length
    if (
        url
        and len(url) <= max_length  # type: ignore[operator]
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return ""


def _storable_email(email: str) -> bool:
    """A valid address that fits the column (254 characters, RFC 5321)."""
    try:
        validate_email(email)
    except ValidationError:
        return False
    return len(email) <= User._meta.get_field("email").max_length  # type: ignore[operator]


def email_taken(email: str) -> bool:
    """Whether an account uses ``email`` as its login or as a confirmed further address.

    An unconfirmed further address does not count: anyone can type any address into their own
    account, and that must not keep the address's owner out (their login confirms it, which
    drops the other claims: ``services.drop_unconfirmed_claims``)."""
    from allauth.account.models import EmailAddress

    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email, verified=True).exists()
    )


def providers_for(*, level: str, municipality_slug: str = "") -> list[IdentityProvider]:
    """Enabled providers that can assert ``level``; the municipality's own first."""
    providers = [
        p
        for p in IdentityProvider.objects.filter(enabled=True).select_related("municipality")
        if allows(p, level)
    ]
    own = [p for p in providers if p.municipality.slug == municipality_slug]
    return own or providers


def allows(provider: IdentityProvider, level: str) -> bool:
    """Whether the provider may assert ``level`` or a higher one."""
    allowed = [str(v) for v in provider.allowed_levels or trust.ORDER if v in trust.ORDER]
    return any(trust.suffices(required=level, reached=a) for a in allowed)


def start_login(
    *, request: HttpRequest, provider: IdentityProvider, level: str, next_url: str
) -> str:
    """Open an attempt and return where to send the browser (the provider's login page)."""
    if level not in trust.ORDER or not allows(provider, level):
        raise FederationError(f"provider {provider.slug} does not offer level {level!r}")
    user = request.user if request.user.is_authenticated else None
    attempt = LoginAttempt(
        id=uuid.uuid4(),
        provider=provider,
        required_level=level,
        next_url=safe_next(request, next_url),
        user=user if isinstance(user, User) else None,
        browser_key=_browser_hash(request),
    )
    if provider.protocol == IdentityProvider.Protocol.SAML:
        from rathaus.accounts import saml  # pysaml2 loads its XML schemas on import: ~2 s of CPU

        attempt.request_id, url = saml.authn_request(
            provider, level=level, relay_state=str(attempt.id)
        )
    else:
        state, nonce, verifier = oidc.new_secrets()
        url = oidc.authorization_url(
            provider, level=level, state=state, nonce=nonce, code_verifier=verifier
        )
        attempt.request_id, attempt.nonce, attempt.code_verifier = state, nonce, verifier
    attempt.save()
    LoginAttempt.objects.filter(created_at__lt=timezone.now() - ATTEMPT_RETENTION).delete()
    logger.info(
        "federated login started",
        extra={"provider": provider.slug, "attempt": str(attempt.id), "trust_level": level},
    )
    return url


def _open_attempt(attempt: LoginAttempt | None, provider: IdentityProvider) -> LoginAttempt:
    """Lock the attempt; refuse it when unknown, already answered (replay) or too old."""
    if attempt is None:
        raise FederationError("unsolicited response: no login was started for it")
    locked = LoginAttempt.objects.select_for_update().get(pk=attempt.pk)
    if locked.provider_id != provider.pk:
        raise FederationError("response for another provider's login")
    if locked.status != LoginAttempt.Status.STARTED:
        raise FederationError(f"replayed response: the login is already {locked.status}")
    if locked.created_at < timezone.now() - ATTEMPT_LIFETIME:
        raise FederationError("response for an expired login")
    return locked


def _replay_key(issuer: str, assertion_id: str) -> str:
    """The key that refuses a replayed SAML assertion: issuer and assertion ID, or their
    SHA-256 when that is longer than the column (an IdP may send IDs of any length)."""
    key = f"{issuer}#{assertion_id}"
    limit = LoginAttempt._meta.get_field("assertion_id").max_length or 200
    if len(key) <= limit:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _accept(attempt: LoginAttempt, identity: ExternalIdentity, *, assertion_id: str | None) -> None:
    provider = attempt.provider
    if not trust.suffices(required=attempt.required_level, reached=identity.level):
        raise FederationError(
            f"login reached {identity.level}, below the requested {attempt.required_level}"
        )
    allowed = [str(v) for v in provider.allowed_levels or trust.ORDER]
    if identity.level not in allowed:
        raise FederationError(f"provider may not assert level {identity.level}")
    # longer than the link's columns hold, or with a NUL or a lone surrogate (PostgreSQL
    # would refuse the row and the attempt's JSON: a 500); an identifier is never cleaned
    for name, value, limit in (
        ("issuer", identity.issuer, FederatedIdentity._meta.get_field("issuer").max_length),
        ("subject", identity.subject, FederatedIdentity._meta.get_field("subject").max_length),
    ):
        if limit is not None and len(value) > limit:
            raise FederationError(f"{name} longer than {limit} characters")
        if not asserted_values.storable_identifier(value):
            raise FederationError(f"{name} with a control character or a lone surrogate")
    if assertion_id and LoginAttempt.objects.filter(assertion_id=assertion_id).exists():
        raise FederationError("replayed assertion")
    identity = _cleaned(identity, provider)
    attempt.status = LoginAttempt.Status.ANSWERED
    attempt.assertion_id = assertion_id
    attempt.result = identity.as_json()
    attempt.save(update_fields=["status", "assertion_id", "result"])


def _cleaned(identity: ExternalIdentity, provider: IdentityProvider) -> ExternalIdentity:
    """``identity`` with its attributes cleaned (``asserted_values``); those that cannot be used
    are dropped and named in ``unusable``, with a warning that names them (not their values).
    The login itself goes on: who the citizen is rests on the subject alone."""
    attributes: dict[str, str] = {}
    unusable = list(identity.unusable)
    for name, value in identity.attributes.items():
        cleaned = asserted_values.clean_attribute(name, value)
        if cleaned is None:
            unusable.append(name)
        else:
            attributes[name] = cleaned
    if len(unusable) > len(identity.unusable):
        logger.warning(
            "federated login: unusable attributes dropped",
            extra={"provider": provider.slug, "fields": sorted(set(unusable))},
        )
    return dataclasses.replace(identity, attributes=attributes, unusable=sorted(set(unusable)))


def _refused(
    attempt: LoginAttempt | None,
    provider: IdentityProvider,
    exc: FederationError,
    *,
    close: bool,
) -> None:
    """Log the refusal; with ``close`` the attempt ends (only for the browser that started it)."""
    logger.warning(
        "federated login refused",
        extra={
            "provider": provider.slug,
            "attempt": str(attempt.pk) if attempt else "",
            "reason": exc.reason,
        },
    )
    if close and attempt is not None:
        LoginAttempt.objects.filter(pk=attempt.pk, status=LoginAttempt.Status.STARTED).update(
            status=LoginAttempt.Status.FAILED
        )


def _attempt_by_id(value: str) -> LoginAttempt | None:
    try:
        return LoginAttempt.objects.filter(pk=uuid.UUID(value)).first()
    except ValueError:
        return None


def receive_saml(
    *, provider: IdentityProvider, saml_response: str, relay_state: str
) -> LoginAttempt:
    """The assertion consumer service: check the response to an open attempt, keep the result.

    The answer arrives as a cross-site POST without our session cookie, so the ACS cannot tell
    whose browser sent it, and the RelayState is the attempt's ID: a refused answer leaves the
    attempt open (it expires), or anyone who learnt the ID could end the citizen's login.
    Only an answer the IdP signed for this very request moves the attempt on.
    """
    attempt = _attempt_by_id(relay_state)
    try:
        if not saml_response:
            raise FederationError("no SAMLResponse")
        with transaction.atomic():
            locked = _open_attempt(attempt, provider)
            from rathaus.accounts import saml

            identity, assertion_id = saml.read_response(
                provider,
                saml_response=saml_response,
                request_id=locked.request_id,
                started_at=locked.created_at,
            )
            _accept(locked, identity, assertion_id=_replay_key(identity.issuer, assertion_id))
    except IntegrityError as exc:
        error = FederationError(f"replayed assertion ({exc})")
        _refused(attempt, provider, error, close=False)
        raise error from exc
    except FederationError as exc:
        _refused(attempt, provider, exc, close=False)
        raise
    return locked


def receive_oidc(
    *, request: HttpRequest, provider: IdentityProvider, state: str, code: str, error: str
) -> LoginAttempt:
    """The redirect endpoint: redeem the code for an open attempt, check the ID token.

    The redirect is a top-level GET that carries our (Lax) session cookie: only the browser that
    started the login may finish or fail it. The ``state`` alone (it travels in addresses) is
    not enough, and a code is never redeemed for another browser (login CSRF).
    """
    attempt = (
        LoginAttempt.objects.filter(request_id=state, provider=provider).first() if state else None
    )
    if (
        attempt is not None
        and attempt.status == LoginAttempt.Status.STARTED
        and not started_here(request, attempt)
    ):
        foreign = FederationError("callback in another browser than the one that started it")
        _refused(attempt, provider, foreign, close=False)
        raise foreign
    try:
        if error:
            raise FederationError(f"provider answered error {error!r}")
        if not code:
            raise FederationError("no authorization code")
        with transaction.atomic():
            locked = _open_attempt(attempt, provider)
            identity = oidc.exchange_code(
                provider,
                code=code,
                code_verifier=locked.code_verifier,
                nonce=locked.nonce,
                started_at=locked.created_at,
            )
            _accept(locked, identity, assertion_id=None)
    except FederationError as exc:
        _refused(attempt, provider, exc, close=True)
        raise
    return locked


def close_attempt(attempt: LoginAttempt) -> None:
    """End an answered attempt unused (its answer is dropped); the citizen logs in again."""
    LoginAttempt.objects.filter(pk=attempt.pk, status=LoginAttempt.Status.ANSWERED).update(
        status=LoginAttempt.Status.FAILED, result={}
    )


def answered_attempt(request: HttpRequest, attempt_id: uuid.UUID) -> LoginAttempt:
    """The answered attempt this browser started; FinishRefused otherwise."""
    attempt = (
        LoginAttempt.objects.select_related("provider", "provider__municipality")
        .filter(pk=attempt_id, status=LoginAttempt.Status.ANSWERED)
        .first()
    )
    if attempt is None or not started_here(request, attempt):
        raise FinishRefused("unknown attempt or another browser")
    if attempt.created_at < timezone.now() - ATTEMPT_LIFETIME:
        raise FinishRefused("attempt expired")
    return attempt


@dataclass(frozen=True)
class Outcome:
    kind: Literal["logged_in", "confirm_link", "existing_account", "need_email", "other_user"]
    identity: ExternalIdentity
    user: User | None = None


def finish(request: HttpRequest, attempt: LoginAttempt) -> Outcome:
    """Log in the linked account, or say what the citizen must decide first."""
    identity = ExternalIdentity.from_json(attempt.result)
    link = (
        FederatedIdentity.objects.select_related("user")
        .filter(issuer=identity.issuer, subject=identity.subject)
        .first()
    )
    current = request.user if request.user.is_authenticated else None
    if link is not None:
        if current is not None and current.pk != link.user_id:
            return Outcome("other_user", identity)
        if not link.user.is_active:
            raise FinishRefused("the linked account is deactivated")
        _refuse_staff(link.user)
        _refuse_one_factor(attempt, link.user, identity)
        log_in(request, attempt=attempt, user=link.user, link=link)
        return Outcome("logged_in", identity, link.user)
    if isinstance(current, User):
        _refuse_second_link(attempt, current, identity)
        return Outcome("confirm_link", identity, current)
    email = identity.attributes.get("email", "")
    if not _storable_email(email):
        email = ""  # the citizen is asked for one
    if email and email_taken(email):
        return Outcome("existing_account", identity)
    if not email:
        return Outcome("need_email", identity)
    user = create_account(request, attempt=attempt, email=email)
    return Outcome("logged_in", identity, user)


def _refuse_one_factor(attempt: LoginAttempt, user: User, identity: ExternalIdentity) -> None:
    """An account with a second factor is entered only by a two-factor citizen-account login
    (ELSTER, online ID card); otherwise the answer is dropped and the citizen told why."""
    if trust.rank(identity.level) >= trust.rank(TWO_FACTOR_LEVEL) or not has_second_factor(user):
        return
    close_attempt(attempt)
    logger.info("federated login refused: account has a second factor", extra={"user": user.pk})
    raise SecondFactorRequired(
        _(
            "Your account is protected with a second factor. Please log in with your password "
            "and second factor, or with your citizen account using ELSTER or the online ID "
            "card."
        )
    )


def _refuse_second_link(attempt: LoginAttempt, user: User, identity: ExternalIdentity) -> None:
    """One citizen account per issuer and account: an account linked with another pseudonym
    (bPK2, ``sub``) of this issuer is not linked with a second one; the answer is dropped."""
    other = (
        FederatedIdentity.objects.filter(user=user, issuer=identity.issuer)
        .exclude(subject=identity.subject)
        .exists()
    )
    if not other:
        return
    close_attempt(attempt)
    logger.warning(
        "federated login refused: account linked with another citizen account of the issuer",
        extra={"user": user.pk, "provider": attempt.provider.slug},
    )
    raise SecondCitizenAccountRefused(
        _(
            "Your account is already linked with another citizen account of this login "
            "service, so this one cannot be linked as well. If you want to log in as another "
            "person, please log out first."
        )
    )


def link_current_user(request: HttpRequest, attempt: LoginAttempt) -> User:
    """The logged-in citizen confirmed: link the citizen account to this account.

    The confirmation needs a recent authentication with the account's own means (password,
    second factor, or an already linked citizen account), or whoever sits at a logged-in
    browser could attach their own citizen account and log in with it later. This login does
    not count as a recent authentication itself, and the owner is told by e-mail.
    """
    from rathaus.accounts.recent_login import authenticated_recently

    user = request.user
    assert isinstance(user, User)
    _refuse_staff(user)
    if not authenticated_recently(request):
        raise RecentAuthenticationRequired("no recent authentication of the account")
    identity = ExternalIdentity.from_json(attempt.result)
    _refuse_one_factor(attempt, user, identity)
    _refuse_second_link(attempt, user, identity)
    try:
        with transaction.atomic():
            link = _link(user, attempt, identity, action="accounts.citizen_account_linked")
    except IntegrityError:
        link = _linked_meanwhile(identity, user=user)
    else:
        transaction.on_commit(lambda: _tell_owner_about_link(request, user))
    log_in(request, attempt=attempt, user=user, link=link, recent=False)
    return user


def _tell_owner_about_link(request: HttpRequest, user: User) -> None:
    """E-mail the account's confirmed address that a citizen account was linked: the fact and
    the time, nothing about the citizen account."""
    from allauth.account.adapter import get_adapter
    from allauth.core.context import request_context

    from rathaus.accounts.selectors import notification_address

    address = notification_address(user=user)
    if not address:
        return
    with request_context(request):
        get_adapter(request).send_mail(
            "accounts/email/citizen_account_linked", address, {"timestamp": timezone.now()}
        )


def _linked_meanwhile(identity: ExternalIdentity, *, user: User | None = None) -> FederatedIdentity:
    """The link a second click or tab created a moment ago (the unique constraint refused this
    one); refused when it belongs to another account than ``user``."""
    link = (
        FederatedIdentity.objects.select_related("user")
        .filter(issuer=identity.issuer, subject=identity.subject)
        .first()
    )
    if link is None or (user is not None and link.user_id != user.pk):
        raise FinishRefused("the citizen account was linked to another account meanwhile")
    if not link.user.is_active:
        raise FinishRefused("the linked account is deactivated")
    return link


def create_account(request: HttpRequest, *, attempt: LoginAttempt, email: str) -> User:
    """A new account for a citizen who comes with a citizen account only.

    An address the provider does not vouch for (typed by the citizen, or unconfirmed at the
    provider) is sent allauth's confirmation link and stays unconfirmed until it is opened.
    """
    identity = ExternalIdentity.from_json(attempt.result)
    created = True
    try:
        user, link = _new_account(attempt, identity, email)
    except IntegrityError:
        # a second click or tab created it a moment ago (or took the address): that account,
        # if it is the one linked to this citizen account; otherwise the login is refused
        link = _linked_meanwhile(identity)
        user, created = link.user, False
    log_in(request, attempt=attempt, user=user, link=link)
    if created:
        _ask_for_confirmation(request, user)
    return user


def _ask_for_confirmation(request: HttpRequest, user: User) -> None:
    """Send the confirmation link to the new account's address unless it is confirmed."""
    from allauth.account.internal.flows.email_verification import (
        send_verification_email_to_address,
    )
    from allauth.account.models import EmailAddress
    from allauth.core.context import request_context

    address = EmailAddress.objects.filter(user=user, verified=False).first()
    if address is None:
        return

    def send() -> None:
        # allauth's mail reads the request from its context, also when sent after the commit
        with request_context(request):
            send_verification_email_to_address(request, address)

    transaction.on_commit(send)


def _new_account(
    attempt: LoginAttempt, identity: ExternalIdentity, email: str
) -> tuple[User, FederatedIdentity]:
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        user = User.objects.create_user(email=email)
        EmailAddress.objects.create(
            user=user,
            email=email,
            primary=True,
            verified=identity.email_verified and email == identity.attributes.get("email"),
        )
        link = _link(user, attempt, identity, action="accounts.created_by_citizen_account")
        if identity.email_verified and email == identity.attributes.get("email"):
            from rathaus.accounts.services import drop_unconfirmed_claims

            drop_unconfirmed_claims(email=email, owner=user)
    return user, link


def _link(
    user: User, attempt: LoginAttempt, identity: ExternalIdentity, *, action: str
) -> FederatedIdentity:
    """Link the citizen account to ``user`` and audit it (inside the caller's transaction)."""
    link = FederatedIdentity.objects.create(
        user=user,
        provider=attempt.provider,
        issuer=identity.issuer,
        subject=identity.subject,
        trust_level=identity.level,
    )
    audit.record(
        actor=user,
        action=action,
        obj=link,
        after={"provider": attempt.provider.slug, "level": identity.level},
        municipality=attempt.provider.municipality,
    )
    return link


def log_in(
    request: HttpRequest,
    *,
    attempt: LoginAttempt,
    user: User,
    link: FederatedIdentity,
    recent: bool = True,
) -> None:
    """Log ``user`` in with the answered ``attempt``; with ``recent`` the login counts as a
    recent authentication (not for the login that creates a link)."""
    _refuse_staff(user)
    identity = ExternalIdentity.from_json(attempt.result)
    with transaction.atomic():
        locked = LoginAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.status != LoginAttempt.Status.ANSWERED:
            raise FinishRefused("attempt already used")
        locked.status = LoginAttempt.Status.DONE
        # Only the assertion ID stays (replays); the attributes are in the profile now, and a
        # deleted account's attempts go with it (Art. 5 (1) c, Art. 17 GDPR).
        locked.user, locked.result = user, {}
        locked.save(update_fields=["status", "user", "result"])
        link.trust_level = identity.level
        link.last_login_at = timezone.now()
        link.save(update_fields=["trust_level", "last_login_at"])
        update = update_profile(user=user, identity=identity)
        audit.record(
            actor=user,
            action="accounts.federated_login",
            obj=link,
            after={
                "provider": attempt.provider.slug,
                "level": identity.level,
                "profile_fields": update.changed,
                CONFIRMED_FIELDS_KEY: update.confirmed,
                UNUSABLE_FIELDS_KEY: update.unusable,
            },
            municipality=attempt.provider.municipality,
        )
    if update.unusable:
        logger.warning(
            "federated login: values not taken over",
            extra={"provider": attempt.provider.slug, "user": user.pk, "fields": update.unusable},
        )
    login(request, user, backend=BACKEND)
    # A new session key for the new trust level too: login() keeps the key when the same user
    # was logged in already (a step-up), and a key known before the step-up must not carry it.
    request.session.cycle_key()
    # Like allauth's own logins: a fresh login counts as a recent authentication (data export,
    # account deletion, adding a passkey), and the record names how it was made. The login that
    # creates a link is no proof of the account's own means, so it is not recorded.
    if recent:
        record_authentication(
            request, user, method=CITIZEN_ACCOUNT_METHOD, provider=attempt.provider.slug
        )
    request.session[trust.SESSION_KEY] = identity.level
    request.session[PROVIDER_SESSION_KEY] = attempt.provider.slug
    logger.info(
        "federated login",
        extra={
            "provider": attempt.provider.slug,
            "trust_level": identity.level,
            "user": user.pk,
        },
    )


@dataclass(frozen=True)
class ProfileUpdate:
    """What a citizen-account login did to the profile."""

    #: The fields it changed.
    changed: list[str]
    #: The identity fields (``selectors.IDENTITY_FIELDS``) that now hold what a login at
    #: "substantial" or "high" asserted at that level (written now, or equal already).
    confirmed: list[str]
    #: The fields whose value would have been written but could not be used (cleaning,
    #: validation, constraints); the field was left as it was.
    unusable: list[str] = dataclasses.field(default_factory=list)


def update_profile(*, user: User, identity: ExternalIdentity) -> ProfileUpdate:
    """Prefill the profile from the attributes.

    Values asserted at "substantial" or "high" (read from the ID card or the tax office)
    replace what the citizen typed; weaker ones only fill empty fields. Each value is cleaned
    (``asserted_values``); one that cannot be used, fails the field's validation or the
    profile's constraints leaves its field as it was and is named in ``unusable``; the others
    are kept.
    """
    profile, _created = Profile.objects.get_or_create(user=user)
    strong_login = trust.rank(identity.level) >= trust.rank(trust.Level.SUBSTANTIAL)
    changed: list[str] = []
    confirmed: list[str] = []
    unusable: list[str] = []
    for name in PROFILE_FIELDS:
        raw = identity.attributes.get(name)
        refused = name in identity.unusable
        if not raw and not refused:
            continue
        level = identity.attribute_levels.get(name)
        verified = (
            level is not None
            and level in trust.ORDER
            and trust.rank(level) >= trust.rank(trust.Level.SUBSTANTIAL)
        )
        current = getattr(profile, name)
        if current and not verified:
            continue
        value = None if refused else asserted_values.clean_attribute(name, raw)
        if value is None:
            unusable.append(name)
            continue
        field = Profile._meta.get_field(name)
        assert isinstance(field, models.Field)
        try:
            cleaned = field.clean(value, profile)
        except ValidationError:
            unusable.append(name)
            continue
        if cleaned != current:
            setattr(profile, name, cleaned)
            if not _meets_constraints(profile):
                setattr(profile, name, current)
                unusable.append(name)
                continue
            changed.append(name)
        if verified and strong_login and name in IDENTITY_FIELDS:
            confirmed.append(name)
    if changed:
        profile.save()
    return ProfileUpdate(changed=changed, confirmed=confirmed, unusable=unusable)


def _meets_constraints(profile: Profile) -> bool:
    """Whether ``profile`` passes its ``Meta.constraints`` (the database would refuse it)."""
    try:
        profile.validate_constraints()
    except ValidationError:
        return False
    return True
