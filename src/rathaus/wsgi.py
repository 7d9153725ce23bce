"""WSGI entry point, served by granian in production (``granian --interface wsgi rathaus.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
application = get_wsgi_application()
