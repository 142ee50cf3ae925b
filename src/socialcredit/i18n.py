"""Chinese and English: gettext catalogues, the reader's language, and messages worded late.

Why: the schemes are Chinese and so are most of the people they rate (issue 18.2), so every
page, command-line message and API error exists in Simplified Chinese (``zh_CN``) and English
(``en``). English is the source language: each text is written in English in the code or the
template, marked for translation, extracted by Babel into ``locale/<lang>/LC_MESSAGES/
socialcredit.po``, and compiled into the ``.mo`` file beside it. The ``.mo`` files are checked
in, so a plain ``pip install -e .`` (or a wheel) works without a build step; a test compiles
each ``.po`` again and fails when a ``.mo`` is stale, when a marked text has no translation, or
when a catalogue holds a text no longer in the code (``scripts/i18n.py`` updates and compiles
them).

The language is per request or per command, in a context variable (:func:`using`), so threads
and tasks serving different readers never see each other's. A refusal is raised before anyone
knows who will read it, so its message is a :class:`Text`: a ``str`` holding the English
wording (what logs, tests and ``str()`` see), which also remembers its template and values so an
adapter words it again in the reader's language (:func:`translate`).

The core: it imports no adapter, and adapters (portal, API, command line) choose the language.

>>> t = N_("your key may not {what}", what="decide objections")
>>> t
'your key may not decide objections'
>>> translate(t, "zh_CN")
'您的密钥无权decide objections'
"""

from __future__ import annotations

import gettext as _gettext
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Protocol, runtime_checkable

from babel import dates, numbers
from babel.support import Translations

__all__ = [
    "DEFAULT",
    "LOCALES",
    "Lines",
    "N_",
    "Text",
    "current",
    "fill",
    "format_date",
    "format_datetime",
    "gettext",
    "ngettext",
    "negotiate",
    "normalize",
    "reword",
    "translate",
    "using",
    "word",
    "Worded",
]

DOMAIN = "socialcredit"
LOCALES = ("zh_CN", "en")
DEFAULT = "en"  # the source language, and the command line's and the API's default
TAGS = {"zh_CN": "zh-CN", "en": "en"}  # as HTML's lang attribute and HTTP write them
NAMES = {"zh_CN": "中文", "en": "English"}  # each language in its own words, for the switch

_current: ContextVar[str] = ContextVar("socialcredit_locale", default=DEFAULT)


@cache
def catalogue(locale: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``locale`` (a null one for an unknown locale: the English)."""
    root = resources.files("socialcredit").joinpath("locale")
    with resources.as_file(root) as path:
        return Translations.load(str(path), [locale], DOMAIN)


def normalize(tag: str | None) -> str | None:
    """One of :data:`LOCALES` for a language tag (``zh``, ``zh-CN``, ``zh_Hans``, ``en-GB``,
    ``C.UTF-8``...), or None when neither language is meant. Every Chinese tag is answered in
    Simplified Chinese, the only Chinese there is."""
    if not tag:
        return None
    t = tag.strip().split(".")[0].replace("_", "-").lower()
    if t == "zh" or t.startswith("zh-"):
        return "zh_CN"
    if t == "en" or t.startswith("en-"):
        return "en"
    return None


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The locale an ``Accept-Language`` header asks for: its languages by quality (then by
    order), the first one we have; ``default`` when none is (or there is no header)."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")[:32]):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            name, _eq, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, tag))
    for _q, _i, tag in sorted(ranked):
        if tag == "*":
            return default
        found = normalize(tag)
        if found:
            return found
    return default


def current() -> str:
    """The locale of this request or command."""
    return _current.get()


@contextmanager
def using(locale: str) -> Iterator[str]:
    """Word everything in ``locale`` within the block (this thread or task only)."""
    token = _current.set(locale if locale in LOCALES else DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current language."""
    return catalogue(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message in the current language, for ``n``."""
    return catalogue(current()).ngettext(singular, plural, n)


_ = gettext


class Text(str):
    """A message worded in English now and in the reader's language later: its ``str`` value is
    the English text; :meth:`worded` gives it in a locale, its values translated too when
    they are themselves :class:`Text`. Built by :func:`N_`, which also marks the template for
    extraction."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, params: dict[str, Any]) -> Text:
        self = super().__new__(cls, template.format(**params) if params else template)
        self.template = template
        self.params = params
        return self

    def worded(self, locale: str) -> str:
        worded = catalogue(locale).gettext(self.template)
        if not self.params:
            return worded
        return worded.format(**{k: translate(v, locale) for k, v in self.params.items()})

    def __reduce__(self) -> tuple[Any, ...]:  # an exception holding one may be pickled
        return (Text, (self.template, self.params))


class Lines(str):
    """Messages of ours joined, one a line by default (a scheme file's problems; a row's reasons
    joined by "; "): ``str`` the English, worded one by one (:class:`Worded`)."""

    lines: tuple[object, ...]
    sep: str

    def __new__(cls, lines: Iterable[Any], sep: str = "\n") -> Lines:
        held = tuple(lines)
        self = super().__new__(cls, sep.join(str(x) for x in held))
        self.lines, self.sep = held, sep
        return self

    def worded(self, locale: str) -> str:
        return self.sep.join(translate(x, locale) for x in self.lines)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Lines, (list(self.lines), self.sep))


def N_(template: str, **params: Any) -> Text:  # noqa: N802 (gettext's own name for the marker)
    """Mark ``template`` (``str.format`` fields, named) for translation, filled with ``params``."""
    return Text(template, params)


def fill(template: str, **params: Any) -> Text:
    """A marked template kept in a constant (``N_("... {x} ...")`` with no values: the template
    itself), filled with ``params`` where it is used."""
    return Text(str(template), params)


@runtime_checkable
class Worded(Protocol):
    """A value that words itself in a message (a :class:`Text`, a scheme category with its
    English and Chinese titles): :func:`translate` asks it for the reader's locale; its ``str``
    is the English."""

    def worded(self, locale: str) -> str: ...


def word(value: str) -> Text:
    """A machine's value shown in a message (a case's kind or status, a severity: "objection",
    "rejected"), worded by the catalogue where it holds the word (the portal marks them) and
    kept as it is where not. Why not a table here: the words are the ones the pages already
    show, and a refusal raised in the core should read as the page around it."""
    return Text(value, {})


def translate(value: object, locale: str | None = None) -> str:
    """``value`` in ``locale`` (the current one by default): a :class:`Text` worded again, any
    other value as its ``str`` (a name, a code, a number: not ours to translate)."""
    if isinstance(value, Text):
        return value.worded(locale or current())
    if type(value) is str:  # the common case, before the protocol's slower check
        return value
    if isinstance(value, Worded):
        return value.worded(locale or current())
    return str(value)


_FIELD = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")


@cache
def _templates(locale: str) -> tuple[dict[str, str], tuple[tuple[str, str, re.Pattern[str], str], ...]]:
    """The catalogue of ``locale`` turned round, to find the template a stored English text was
    filled from: its plain texts by their English, and its ``{field}`` templates as patterns
    (with their literal head and tail, a cheap test before the pattern), the most specific
    first (the longest literal text), so "birth date {day} is in the future" wins over "{x} is
    in the future". A template with no words of its own ("{field}: {message}") would match
    anything and is left out."""
    held: dict[object, str] = getattr(catalogue(locale), "_catalog", {})
    exact: dict[str, str] = {}
    patterns: list[tuple[int, str, str, re.Pattern[str], str]] = []
    for source, target in held.items():
        if not isinstance(source, str) or not source or not target or "%(" in source or "{{" in source:
            continue
        pieces = _FIELD.split(source)  # literal, name, literal, name, ..., literal
        if len(pieces) == 1:
            exact.setdefault(source, target)
            continue
        literals, names = pieces[0::2], pieces[1::2]
        if not re.search(r"[A-Za-z]{2}", "".join(literals)):
            continue
        seen: set[str] = set()
        rx = re.escape(literals[0])
        for name, literal in zip(names, literals[1:], strict=True):
            rx += f"(?P={name})" if name in seen else f"(?P<{name}>.+?)"
            seen.add(name)
            rx += re.escape(literal)
        worded = _FIELD.sub(r"{\1}", target)  # a captured value is already as the English showed it
        size = sum(map(len, literals))
        patterns.append((size, literals[0], literals[-1], re.compile(rx, re.S), worded))
    patterns.sort(key=lambda p: -p[0])
    return exact, tuple(p[1:] for p in patterns)


_NAMES = frozenset({"field", "name", "option", "code", "item", "record", "list_id", "source", "id", "type"})
"""Placeholders that hold a name of the interface or an id, never a text of ours: ``subject`` in
"{field}: is required" is the field's name, not the word "subject" to translate."""


@lru_cache(maxsize=8192)
def _reworded(text: str, locale: str, depth: int) -> str:
    exact, patterns = _templates(locale)
    if text in exact:
        return exact[text]
    for head, tail, rx, worded in patterns:
        if text.startswith(head) and text.endswith(tail):
            m = rx.fullmatch(text)
            if m is not None:
                values = m.groupdict()
                if depth < 4:  # a value may itself be a text of ours ("invalid {part}: {message}")
                    values = {
                        k: v if k in _NAMES else _reworded(v, locale, depth + 1) for k, v in values.items()
                    }
                return worded.format(**values)
    field, sep, rest = text.partition(": ")  # a refusal's "field: message", the field kept
    if sep and field and " " not in field:
        message = _reworded(rest, locale, depth)
        if message != rest:
            return f"{field}: {message}"
    return text


def reword(value: object, locale: str | None = None) -> str:
    """``value``, a text of ours that was stored as its English (a quarantined row's reasons, a
    list entry's end reason), worded again in ``locale`` (the current one by default): the
    template it was filled from is found in the catalogue and filled again with the values read
    back from it; a :class:`Text` is worded as :func:`translate` words it. Text that matches no
    template (a name, a code, a reason an operator wrote) is given back as it is. Why look up
    the English rather than store a message id with its values: what is stored stays what it
    always was (rows stored before, golden results, the engines' own columns), and no schema
    changes (decision 0059)."""
    loc = locale or current()
    if isinstance(value, Text):
        return value.worded(loc)
    text = str(value)
    if loc == DEFAULT or not text:
        return text
    return _reworded(text, loc, 0)


def format_date(value: Any, locale: str | None = None) -> str:
    """A date as the reader writes it (``2025年6月30日``, ``Jun 30, 2025``)."""
    return str(dates.format_date(value, "medium", locale=locale or current()))


def format_datetime(value: Any, locale: str | None = None) -> str:
    """A timestamp (UTC) as the reader writes it, to the minute."""
    loc = locale or current()
    return f"{dates.format_date(value, 'medium', locale=loc)} {value.strftime('%H:%M')}"


def format_number(value: float | int, locale: str | None = None) -> str:
    """A number with the reader's grouping (``12,345``)."""
    return str(numbers.format_decimal(value, locale=locale or current()))
