from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "rathaus.catalog"
    label = "catalog"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Services")

    def ready(self) -> None:
        from rathaus.catalog import cache, checks  # noqa: F401  (registers checks)

        cache.connect_signals()
        post_migrate.connect(_load_catalog, sender=self, dispatch_uid="catalog.load")


def _load_catalog(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Load the service definition files after every migrate (idempotent upsert)."""
    from rathaus.catalog.sync import sync_catalog

    if using != "default":
        return
    result = sync_catalog()
    if kwargs.get("verbosity", 1) >= 1 and (result.created or result.updated or result.deactivated):
        print(
            f"  Service catalog: {result.created} created, {result.updated} updated, "
            f"{result.deactivated} deactivated, {result.unchanged} unchanged."
        )
