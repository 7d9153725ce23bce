"""The admin's form for an election: moving the election day moves the default deadline.

The model applies the same rule on every other path (``Election.keep_deadline_in_step``); the
form applies it first so that the admin is told beside the field and keeps what was typed."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms

from rathaus.registers.models import Election, default_deadline_or_none, moved_day_message


class ElectionAdminForm(forms.ModelForm[Election]):
    """An election in the admin. When the election day is moved, a deadline that was the old
    day's default (§ 27 Abs. 4 Satz 1 BWahlO: 18:00 on the second day before) moves with it; a
    deadline set by hand is not guessed at: it must be entered again in the same save."""

    #: The deadline the form moved with the election day (for the admin's message), else None.
    moved_deadline: datetime.datetime | None = None

    class Meta:
        model = Election
        fields = [
            "municipality",
            "name",
            "election_day",
            "postal_vote_from",
            "postal_vote_deadline",
            "vote_key",
            "minimum_age",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.pk is None or "election_day" not in self.changed_data:
            return cleaned
        old_day = self.initial.get("election_day")
        new_day = cleaned.get("election_day")
        if not isinstance(old_day, datetime.date) or not isinstance(new_day, datetime.date):
            return cleaned  # the field's own error is shown
        if "postal_vote_deadline" in self.changed_data:
            return cleaned  # changed together with the day: taken as typed
        stored = self.initial.get("postal_vote_deadline")
        new_default = default_deadline_or_none(new_day)
        if stored is None or stored == default_deadline_or_none(old_day):
            # None (a day the model refuses): its clean names the election day
            cleaned["postal_vote_deadline"] = self.moved_deadline = new_default
            return cleaned
        self.add_error("postal_vote_deadline", moved_day_message(stored, new_default))
        return cleaned
