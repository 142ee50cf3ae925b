"""Keeping the message catalogues in step with the code (``python -m socialcredit.catalogues``).

Why a module and not only a script: the test that fails on an untranslated or stale message
(tests/test_i18n.py) and the command that updates the catalogues must extract the same way, so
they share this. Marked texts are extracted by Babel from the Python sources (``_``, ``N_``,
``gettext``, ``ngettext``) and the portal's templates (``{% trans %}``, ``_()``, trimmed as the
portal's environment trims them), and the command line's help texts (docstrings and ``help=``,
which no extractor of source sees) from the command tree itself, as ``--help`` renders them
(:func:`socialcredit.cli.helpwords.help_texts`, decision 0084); each ``.po`` is brought to that
list (translations kept, gone texts dropped) and compiled to the ``.mo`` the package reads
(:mod:`socialcredit.i18n`).

English is the source: the ``en`` catalogue repeats each text, so that it too is complete and a
text whose English changes shows as untranslated in both.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from socialcredit.i18n import DOMAIN, LOCALES

SRC = Path(__file__).resolve().parent
LOCALE_DIR = SRC / "locale"
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"trimmed": "true", "newstyle_gettext": "true"}}


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every marked text of the package, with where it is used."""
    catalog = Catalog(domain=DOMAIN, project="socialcredit", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        SRC, METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True
    ):
        if not message or (isinstance(message, tuple) and not message[0]):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    from socialcredit.cli.helpwords import help_texts  # an adapter's texts, read from its tree

    for text, filename, lineno in help_texts():
        known = catalog.get(text)
        if known is not None:
            known.locations.append((filename, lineno))
        else:
            catalog.add(text, None, [(filename, lineno)], auto_comments=["--help"])
    return catalog


def read(locale: str) -> Catalog:
    with po_path(locale).open("rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def translated(string: object) -> bool:
    """Whether a catalogue entry's translation is there (every plural form, for a plural)."""
    if isinstance(string, str):
        return bool(string)
    return isinstance(string, tuple | list) and bool(string) and all(string)


def update() -> list[str]:
    """Bring every ``.po`` to the extracted texts and compile it; the untranslated texts left."""
    template = extract()
    missing = []
    for locale in LOCALES:
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read(locale) if path.exists() else Catalog(locale=locale, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        for m in catalog:
            if not m.id:
                continue
            if locale == "en":
                m.string = m.id
            elif not translated(m.string):
                missing.append(f"{locale}: {m.id!r}")
        with path.open("wb") as f:
            write_po(f, catalog, width=100, sort_output=False, include_lineno=False)
        path.with_suffix(".mo").write_bytes(compiled(catalog))
    return missing


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    left = update()
    for line in left:
        print(line, file=sys.stderr)  # noqa: T201
    print(f"{len(left)} untranslated", file=sys.stderr)  # noqa: T201
