"""Sessions in the database that end ``SESSION_COOKIE_AGE`` after the login at the latest.

Django's database sessions expire ``SESSION_COOKIE_AGE`` after their last save, and a logged-in
session is saved at least every few minutes while in use (accounts.roles remembers the staff
answer in it): left alone, such a session would never end. The privacy notice (Art. 13 GDPR)
and docs/operations.md promise that it does, so the login time is kept in the session
(:func:`on_user_logged_in`) and both the row's ``expire_date`` and the cookie's ``Max-Age`` are
never later than that time plus ``SESSION_COOKIE_AGE``. An idle session still ends
``SESSION_COOKIE_AGE`` after its last save, and a session that lasts only while the browser is
open (allauth's "remember me" left unticked) keeps its cookie without ``Max-Age``.

A session key is only ever Django's own alphabet (lowercase letters and digits): anything else a
cookie carries, e.g. a NUL that PostgreSQL cannot compare, counts as no session instead of
reaching the database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from django_tasks import task

#: Session entry with the time of the login, in seconds since the epoch.
LOGIN_AT_KEY = "rathaus_login_at"
_KEY_CHARACTERS = frozenset(VALID_KEY_CHARS)
#: The length of ``django_session.session_key``.
_MAX_KEY_LENGTH = 40


def _now_seconds() -> int:
    return int(timezone.now().timestamp())


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key and 8 <= len(key) <= _MAX_KEY_LENGTH and _KEY_CHARACTERS.issuperset(key))

    def load(self) -> dict[str, Any]:
        return self._with_login_time(super().load())

    async def aload(self) -> dict[str, Any]:
        return self._with_login_time(await super().aload())

    def _with_login_time(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get(SESSION_KEY) is not None and not isinstance(data.get(LOGIN_AT_KEY), int):
            # logged in before login times were kept: the lifetime counts from now
            data[LOGIN_AT_KEY] = _now_seconds()
            self.modified = True
        return data

    def login_deadline(self) -> datetime | None:
        """When this session's login ends, or None for a session nobody is logged in to."""
        return self._deadline(self.get(LOGIN_AT_KEY), self.get(SESSION_KEY))

    async def alogin_deadline(self) -> datetime | None:
        return self._deadline(await self.aget(LOGIN_AT_KEY), await self.aget(SESSION_KEY))

    def _deadline(self, login_at: object, user_id: object) -> datetime | None:
        if not isinstance(login_at, int) or user_id is None:
            return None
        return datetime.fromtimestamp(login_at, tz=UTC) + timedelta(
            seconds=self.get_session_cookie_age()
        )

    def get_expiry_date(self, **kwargs: Any) -> datetime:
        return _earlier(super().get_expiry_date(**kwargs), self.login_deadline())

    async def aget_expiry_date(self, **kwargs: Any) -> datetime:
        return _earlier(await super().aget_expiry_date(**kwargs), await self.alogin_deadline())

    def get_expiry_age(self, **kwargs: Any) -> int:
        return _shorter(super().get_expiry_age(**kwargs), self.login_deadline(), **kwargs)

    async def aget_expiry_age(self, **kwargs: Any) -> int:
        age = await super().aget_expiry_age(**kwargs)
        return _shorter(age, await self.alogin_deadline(), **kwargs)


def _earlier(expiry: datetime, deadline: datetime | None) -> datetime:
    return expiry if deadline is None else min(expiry, deadline)


def _shorter(age: int, deadline: datetime | None, **kwargs: Any) -> int:
    if deadline is None:
        return age
    modification = kwargs.get("modification") or timezone.now()
    return max(0, min(age, int((deadline - modification).total_seconds())))


def on_user_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Receiver of ``user_logged_in``: the session's lifetime counts from this login (a
    re-authentication within the session is no login and leaves it as it is)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[LOGIN_AT_KEY] = _now_seconds()


@task()
def delete_ended_sessions() -> int:
    """Periodic: delete the sessions that have ended from the database (the privacy notice
    promises that they are deleted); ``manage.py clearsessions`` does the same."""
    model = SessionStore.get_model_class()
    deleted, _by_model = model.objects.filter(expire_date__lte=timezone.now()).delete()
    return deleted
