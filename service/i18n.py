"""Languages: Bahasa Indonesia first, English second (Flask-Babel).

The service writes its messages in English as msgids, marked with ``_l`` (lazy: put into words in
the reader's language when the answer is written, not when the error is raised) or ``_`` (now).
The catalogs are ``service/translations/<lang>/LC_MESSAGES/messages.po``, compiled to ``.mo`` at
install (``make install``: ``pybabel compile``). Which language a request reads is chosen at the
edge (``blueprints/language.py``); the CLI and the job runner use the program's default
(``LANGUAGE``).

A lazy message stays lazy through marshmallow's ``.format()`` of its placeholders and through
``str.join``-like composition done with ``lazy()``, so one error can be read in either language
until the answer is written (``render``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import Babel, force_locale, get_locale, gettext, ngettext, pgettext
from flask_babel.speaklater import LazyString

LANGUAGES = ("id", "en")
DEFAULT = "id"

babel = Babel()
_ = gettext

__all__ = ["LANGUAGES", "DEFAULT", "babel", "_", "_l", "N_", "Lazy", "lazy", "render", "ngettext", "pgettext",
           "force_locale", "get_locale", "language"]


class Lazy(LazyString):
    """A message put into words when it is read (``str()``), in the language being read then."""

    def format(self, *args: Any, **kwargs: Any) -> Lazy:
        """``str.format`` that stays lazy (marshmallow fills its messages' placeholders with it)."""
        return Lazy(lambda: str(self).format(*args, **kwargs))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __copy__(self) -> Lazy:  # immutable: marshmallow deep-copies its fields' messages
        return self

    def __deepcopy__(self, memo: dict) -> Lazy:
        return self


def _l(string: str, **variables: Any) -> Lazy:
    """``string`` (an English msgid, with ``%(name)s`` placeholders filled from ``variables``),
    translated when read. A variable may itself be lazy: it is read in the same language."""
    return Lazy(gettext, string, **variables)


def N_(string: str) -> str:
    """Marks ``string`` for extraction only: it is translated later by ``_(string)``."""
    return string


def lazy(func: Callable[[], str]) -> Lazy:
    """A message composed of others (joined, prefixed), composed when read."""
    return Lazy(func)


def render(value: Any) -> Any:
    """``value`` with every lazy message in it put into words now (dicts, lists, tuples walked)."""
    if isinstance(value, LazyString):
        return str(value)
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v) for v in value]
    return value


def language() -> str:
    """The language being read now ("id" or "en")."""
    return str(get_locale() or DEFAULT)
