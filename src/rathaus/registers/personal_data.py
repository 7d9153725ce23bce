"""The registers' part of the data export (Art. 15, 20 GDPR): the landlord confirmations
(§ 19 BMG) an account gave."""

from __future__ import annotations

from typing import Any

from rathaus.registers.models import LandlordConfirmation


def personal_data_export(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "code": confirmation.code,
            "registration_office": confirmation.authority.name,
            "landlord_name": confirmation.landlord_name,
            "landlord_address": confirmation.landlord_address,
            "owner_name": confirmation.owner_name,
            "street": confirmation.street,
            "house_number": confirmation.house_number,
            "address_supplement": confirmation.address_supplement,
            "postal_code": confirmation.postal_code,
            "place": confirmation.place,
            "move_in_date": confirmation.move_in_date,
            "persons": confirmation.persons,
            "sha256": confirmation.sha256,
            "created_at": confirmation.created_at,
            "revoked_at": confirmation.revoked_at,
        }
        for confirmation in LandlordConfirmation.objects.filter(landlord_id=user.pk)
        .select_related("authority")
        .order_by("created_at", "pk")
    ]
