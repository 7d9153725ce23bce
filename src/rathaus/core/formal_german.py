"""Django's form messages in an authority's formal German, not Django REST framework's.

DRF ships German translations of some of Django's own messages in the familiar form ("Gib eine
gültige E-Mail Adresse an."). An installed app's catalogue takes precedence over Django's own,
so those would reach every form of the portal. Nothing imports this module: ``make messages
APP=core`` reads the msgids below, and ``core``'s German catalogue (``rathaus.core`` is listed
before ``rest_framework`` in ``INSTALLED_APPS``, and the first app listed wins) answers them.
"""

from django.utils.translation import gettext_noop

DJANGO_MESSAGES = (
    gettext_noop("Enter a valid URL."),
    gettext_noop("Enter a valid email address."),
    gettext_noop(
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    ),
    gettext_noop("No file was submitted."),
    gettext_noop("The submitted file is empty."),
)
