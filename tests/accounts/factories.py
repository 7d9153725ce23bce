"""Users with a confirmed e-mail address, citizens and staff."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from rathaus.accounts.models import Profile, User

PASSWORD = "Rathaus-Test-2026!"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"buerger{n}@example.org")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"sachbearbeitung{n}@stadt.example.org")
    is_staff = True


class ProfileFactory(factory.django.DjangoModelFactory[Profile]):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)
    given_names = "Erika"
    family_name = "Mustermann"
    street = "Neumarkt"
    house_number = "10"
    postal_code = "42103"
    place = "Wuppertal"
