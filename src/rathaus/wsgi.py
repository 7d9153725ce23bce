"""WSGI entry point; production serves it with granian (`granian --interface wsgi …`).

Django is wrapped in the Content-Type guard: it builds the request, and decodes the query string
with a declared ``charset``, before any middleware could answer a broken one with a 400.
The client's address behind the reverse proxy is not taken here but by the first middleware,
``rathaus.core.trusted_proxies`` (``TRUSTED_PROXIES``), so that ``runserver`` and the test client
see it the same way; granian itself has no option for forwarded headers.
"""

import os

from django.core.wsgi import get_wsgi_application

from rathaus.core.content_type_guard import guard_content_type

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
application = guard_content_type(get_wsgi_application())
