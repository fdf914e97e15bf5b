"""Persian is the product: every user-facing string goes through `_()` and the `locales/` catalog.

Message ids are English; `locales/fa/LC_MESSAGES/messages.po` holds the Persian. The catalog is
compiled in memory from the `.po` file when first used, so a stale `.mo` can never be served.
An installed wheel carries a copy of `locales/` inside the package (`bot/locales/`, see
setup.py); a checkout or an editable install reads the repository's. Without the Persian catalog
the bot would show English message ids to citizens, so a missing one is an error, not a fallback.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

_PACKAGED = Path(__file__).resolve().parents[1] / "locales"  # in a wheel: bot/locales
LOCALES_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[2] / "locales"
DEFAULT_LOCALE = "fa"
DOMAIN = "messages"


class _CatalogTranslations(gettext.NullTranslations):
    """gettext translations backed by a Babel catalog read straight from the `.po` source."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.gettext(msgid1 if n == 1 else msgid2)


@cache
def translations(locale: str = DEFAULT_LOCALE) -> gettext.NullTranslations:
    """Load and compile the catalog for `locale` once per process."""
    po_path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        if locale == DEFAULT_LOCALE:
            raise FileNotFoundError(f"the {locale} catalog is missing: {po_path}")
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    messages = {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }
    return _CatalogTranslations(messages)


def _(message: str) -> str:
    """Translate `message` into the product language (Persian)."""
    return translations().gettext(message)


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it yet (constants, enums)."""
    return message
