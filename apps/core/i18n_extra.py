"""Strings Django 5.2 shows that its own zh_Hans catalog lacks (it has only older wordings).

Listing them here lets makemessages put them in our catalog, so the Chinese staff app
never shows them in English.
"""

from django.utils.translation import ngettext_lazy

DJANGO_MISSING = [
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
]
