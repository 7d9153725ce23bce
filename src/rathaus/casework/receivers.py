"""Receivers of other modules' signals, connected in ``CaseworkConfig.ready``."""

from __future__ import annotations

from typing import Any

from rathaus.casework.services import file_reply


def on_reply_received(*, message: Any, original: Any, **kwargs: Any) -> None:
    """``mailbox.signals.reply_received``: the citizen's reply goes onto the case it answers."""
    file_reply(message=message, original=original)
