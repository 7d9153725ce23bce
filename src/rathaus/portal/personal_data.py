"""The portal's part of the data export (Art. 15, 20 GDPR): accessibility feedback sent while
logged in (§ 7 Abs. 1 Nr. 2 BITV 2.0)."""

from __future__ import annotations

from typing import Any

from rathaus.portal.models import AccessibilityFeedback


def personal_data_export(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "created_at": feedback.created_at,
            "name": feedback.name,
            "email": feedback.email,
            "message": feedback.message,
            "page_url": feedback.page_url,
            "language": feedback.language,
            "answered_at": feedback.answered_at,
        }
        for feedback in AccessibilityFeedback.objects.filter(user_id=user.pk).order_by(
            "created_at", "pk"
        )
    ]
