"""Languages: Bahasa Indonesia first, English second (Flask-Babel).

The service writes its messages in English as msgids, marked with ``_l`` (lazy: put into words in
the reader's language when the answer is written, not when the error is raised) or ``_`` (now).
The catalogs are ``service/translations/<lang>/LC_MESSAGES/messages.po``, compiled to ``.mo`` at
install (``make install``: ``pybabel compile``). Which language a request reads is chosen at the
edge (``blueprints/language.py``); the CLI and the job runner use the program's default
(``LANGUAGE``)."""
from __future__ import annotations

from flask_babel import Babel, force_locale, get_locale, gettext, lazy_gettext, ngettext

LANGUAGES = ("id", "en")
DEFAULT = "id"

babel = Babel()
_ = gettext
_l = lazy_gettext

__all__ = ["LANGUAGES", "DEFAULT", "babel", "_", "_l", "ngettext", "force_locale", "get_locale", "language"]


def language() -> str:
    """The language being read now ("id" or "en")."""
    return str(get_locale() or DEFAULT)
