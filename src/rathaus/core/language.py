"""The German/English switch: Django's ``set_language`` without a CSRF token.

Switching the display language changes nothing but a cookie, so forging it harms no one; without
a token the public pages carry no per-visitor data and can be cached whole
(:mod:`rathaus.core.page_cache`).
"""

from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language as django_set_language

set_language = csrf_exempt(django_set_language)
