"""WSGI entry point; production serves it with granian (`granian --interface wsgi …`).

Django is wrapped in the Content-Type guard: it builds the request, and decodes the query string
with a declared ``charset``, before any middleware could answer a broken one with a 400.
"""

import os

from django.core.wsgi import get_wsgi_application

from rathaus.core.content_type_guard import guard_content_type

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
application = guard_content_type(get_wsgi_application())
