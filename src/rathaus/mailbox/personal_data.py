"""The mailbox's part of the data export (Art. 15, 20 GDPR): messages, files, retrievals (with
the IP address and browser logged for each)."""

from __future__ import annotations

from typing import Any

from rathaus.mailbox.models import Message, RetrievalLog


def personal_data_export(user: Any) -> list[dict[str, Any]]:
    messages = Message.objects.filter(owner=user).prefetch_related("attachments")
    retrievals: dict[int, list[dict[str, Any]]] = {}
    for entry in RetrievalLog.objects.filter(message__owner=user).order_by("at", "id"):
        retrievals.setdefault(entry.message_id, []).append(
            {
                "action": entry.action,
                "at": entry.at,
                "sha256": entry.sha256,
                "ip_address": entry.ip_address,
                "user_agent": entry.user_agent,
            }
        )
    return [
        {
            "id": str(message.public_id),
            "kind": message.kind,
            "subject": message.subject,
            "body": message.body,
            "from_citizen": message.from_citizen,
            "case_number": message.case_number,
            "provided_at": message.provided_at,
            "first_retrieved_at": message.first_retrieved_at,
            "announced_on": message.announced_on,
            "read_at": message.read_at,
            "archived_at": message.archived_at,
            "attachments": [
                {"name": a.name, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
                for a in message.attachments.all()
            ],
            "retrievals": retrievals.get(message.pk, []),
        }
        for message in messages
    ]
