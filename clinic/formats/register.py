"""Validation messages whose German translation in a library's catalogue
says "du" (Django REST framework's "Gib eine gültige E-Mail Adresse an."),
where the project addresses the reader formally (`locale/glossary.toml`).
The project's catalogue is read before the libraries', so the formal
translations of these msgids win. Nothing imports this module: it exists
for makemessages.
"""

from django.utils.translation import gettext_noop

MESSAGES = (
    gettext_noop("Enter a valid email address."),
    gettext_noop("Enter a valid URL."),
    gettext_noop('Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'),
    gettext_noop('Enter a valid "slug" consisting of Unicode letters, numbers, underscores, or hyphens.'),
)
