"""REST API v1."""

app_name = "api"
urlpatterns: list = []  # type: ignore[type-arg]
