"""WSGI entry point; production serves it with granian (`granian --interface wsgi …`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
application = get_wsgi_application()
