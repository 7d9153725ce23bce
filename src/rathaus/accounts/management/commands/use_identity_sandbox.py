"""``manage.py use_identity_sandbox``: the demo's local citizen-account logins (not production).

Configures the BundID-style SAML test IdP (tools/idp, default http://127.0.0.1:8200) and the
OpenID Connect test provider (tools/oidc, default http://127.0.0.1:8300) for the first
municipality of the demo; ``scripts/run-demo`` starts both.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.accounts.models import IdentityProvider
from rathaus.core.models import Municipality

SAML_SLUG = "bundid-test"
OIDC_SLUG = "servicekonto-test"
OIDC_CLIENT_ID = "rathaus-demo"
OIDC_CLIENT_SECRET = "rathaus-demo-secret"  # noqa: S105 (the local test provider only)


class Command(BaseCommand):
    help = "Configure the local test identity providers (SAML and OIDC) for the demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--saml-url", default="http://127.0.0.1:8200")
        parser.add_argument("--oidc-url", default="http://127.0.0.1:8300")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.RATHAUS_ENV == "production":
            raise CommandError("The test identity providers accept anyone: not in production.")
        municipality = (
            Municipality.objects.filter(slug="wuppertal").first() or Municipality.objects.first()
        )
        if municipality is None:
            raise CommandError("No municipality yet: run load_demo first.")
        levels = ["low", "substantial", "high"]
        IdentityProvider.objects.update_or_create(
            slug=SAML_SLUG,
            defaults={
                "municipality": municipality,
                "name": "BundID (Test-IdP)",
                "protocol": IdentityProvider.Protocol.SAML,
                "metadata_url": options["saml_url"].rstrip("/") + "/metadata",
                "allowed_levels": levels,
                "enabled": True,
            },
        )
        IdentityProvider.objects.update_or_create(
            slug=OIDC_SLUG,
            defaults={
                "municipality": municipality,
                "name": "Servicekonto (OIDC-Test)",
                "protocol": IdentityProvider.Protocol.OIDC,
                "issuer": options["oidc_url"].rstrip("/"),
                "client_id": OIDC_CLIENT_ID,
                "client_secret": OIDC_CLIENT_SECRET,
                "allowed_levels": levels,
                "enabled": True,
            },
        )
        self.stdout.write(f"test identity providers configured for {municipality}")
