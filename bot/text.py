"""Persian text helpers: one input normaliser, digits, money, phone numbers, direction marks,
and cutting HTML into messages Telegram accepts.

Everything here is a pure function so that handlers, storage and reports all agree on what a
citizen "typed", whatever keyboard (Persian, Arabic, Latin) or client they used.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from fractions import Fraction
from typing import Final

from bot.i18n import N_, _

# ---------------------------------------------------------------------------------------------
# Character tables
# ---------------------------------------------------------------------------------------------

ZWNJ: Final = "\u200c"
LRM: Final = "\u200e"
RLM: Final = "\u200f"
LRI: Final = "\u2066"
FSI: Final = "\u2068"
PDI: Final = "\u2069"
ELLIPSIS: Final = "…"

PERSIAN_DIGITS: Final = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS: Final = "٠١٢٣٤٥٦٧٨٩"
ASCII_DIGITS: Final = "0123456789"

#: Persian thousands separator (ARABIC THOUSANDS SEPARATOR) and decimal separator.
THOUSANDS_SEPARATOR: Final = "\u066c"
DECIMAL_SEPARATOR: Final = "\u066b"
#: CLDR's Persian minus: an LRM keeps the sign on the left of the digits in right-to-left lines.
MINUS_SIGN: Final = LRM + "\u2212"

_TO_ASCII_DIGITS: Final = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, ASCII_DIGITS * 2)
_TO_PERSIAN_DIGITS: Final = str.maketrans(ASCII_DIGITS + ARABIC_INDIC_DIGITS, PERSIAN_DIGITS * 2)

#: Bidi embedding/override/isolate controls and marks; none belongs in stored input, and
#: an RLO in a complaint could make a shop name or an amount display reversed to staff.
_BIDI_CONTROLS: Final = (
    "\u061c"  # ARABIC LETTER MARK
    "\u200e\u200f"  # LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)
#: Invisible characters that only hide differences between otherwise equal strings.
#: ZWNJ (U+200C) is deliberately absent: Persian spelling needs it (می‌خواهم).
_INVISIBLES: Final = (
    "\u00ad"  # SOFT HYPHEN
    "\u180e"  # MONGOLIAN VOWEL SEPARATOR
    "\u200b"  # ZERO WIDTH SPACE
    "\u200d"  # ZERO WIDTH JOINER
    "\u2060\u2061\u2062\u2063\u2064"  # WORD JOINER, invisible math operators
    "\u206a\u206b\u206c\u206d\u206e\u206f"  # deprecated format characters
    "\ufeff"  # BOM / ZERO WIDTH NO-BREAK SPACE
    "\ufff9\ufffa\ufffb"  # interlinear annotation controls (can hide text)
    "\U000e0001"  # LANGUAGE TAG (deprecated; emoji flag tag characters are kept)
    "\u0640"  # TATWEEL (kashida): pure elongation, ســـلام == سلام
)
#: Characters that end a line. CR-LF is folded first; everything else becomes "\n".
_LINE_BREAKS: Final = "\r\x85\u2028\u2029"
#: Horizontal whitespace NFKC leaves alone (the rest, e.g. NBSP, NFKC already turns into " ").
_SPACES: Final = "\t\x0b\x0c\u1680"

_C0_C1: Final = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {cp: None for cp in _C0_C1}
    table.update({ord(c): None for c in _BIDI_CONTROLS + _INVISIBLES})
    table.update({cp: None for cp in range(0xD800, 0xE000)})  # lone surrogates cannot be sent
    table.update({ord(c): "\n" for c in _LINE_BREAKS + "\n"})
    table.update({ord(c): " " for c in _SPACES})
    # Arabic-keyboard letters that are the same Persian letter: ي ى → ی, ك → ک.
    # TEH MARBUTA (ة) is kept: it is a real, distinct letter in Arabic loanwords and names
    # (e.g. «دائرة المعارف»), not a keyboard artefact, and rewriting it would change spelling.
    table.update({ord("ي"): "ی", ord("ى"): "ی", ord("ك"): "ک"})
    table.update({ord(a): d for a, d in zip(PERSIAN_DIGITS, ASCII_DIGITS, strict=True)})
    table.update({ord(a): d for a, d in zip(ARABIC_INDIC_DIGITS, ASCII_DIGITS, strict=True)})
    return table


_NORMALIZE_TABLE: Final = _build_table()
# A run of spaces and ZWNJs that contains at least one space: ZWNJ next to a space is noise.
_SPACE_RUN: Final = re.compile(r"[ \u200c]* [ \u200c]*")
_ZWNJ_RUN: Final = re.compile(r"\u200c{2,}")
_MANY_NEWLINES: Final = re.compile(r"\n{3,}")


def normalize(text: str) -> str:
    """Return the canonical form of user input, so equal-looking strings compare equal.

    Steps: NFKC (folds Arabic presentation forms, full-width digits, NBSP, ﷼ → ریال);
    ي/ى → ی and ك → ک (ة is kept, see above); Persian and Arabic-Indic digits → ASCII;
    tatweel, bidi controls, zero-width characters, lone surrogates and C0/C1 controls are
    dropped (ZWNJ and newline survive; CR, CR-LF, NEL, U+2028/9 become newline; tab, VT, FF
    become a space); NFKC again because dropping characters can leave composable pairs; then per
    line: runs of spaces collapse to one, ZWNJ touching a space or a line end is dropped, runs of
    ZWNJ collapse to one, each line is stripped; 3+ newlines become 2 and the whole is stripped.
    The result is a fixed point: ``normalize(normalize(x)) == normalize(x)``.

    Short texts (labels, button taps: each typed text is compared with a dozen labels) are
    remembered; long ones are not worth keeping.
    """
    if len(text) <= _REMEMBERED_LENGTH:
        return _normalize_short(text)
    return _normalize(text)


_REMEMBERED_LENGTH = 64


@functools.lru_cache(maxsize=2048)
def _normalize_short(text: str) -> str:
    return _normalize(text)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n"))
    text = unicodedata.normalize("NFKC", text.translate(_NORMALIZE_TABLE))
    lines = []
    for line in text.split("\n"):
        line = _SPACE_RUN.sub(" ", line)
        line = _ZWNJ_RUN.sub(ZWNJ, line)
        lines.append(line.strip(" " + ZWNJ))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip("\n")


def word_key(words: str) -> str:
    """The form in which typed keywords are compared: normalised, case-folded, without spaces,
    ZWNJ, underscores and the ezafe («هفتهٔ گذشته» = «هفته‌ی گذشته» = «هفته گذشته»)."""
    key = normalize(words).casefold().replace("ۀ", "ه").replace("\u0654", "")
    key = key.replace("ه\u200cی ", "ه ").replace("ه\u200cی", "ه") if "ه\u200cی" in key else key
    return key.replace(ZWNJ, "").replace(" ", "").replace("_", "")


#: /find needs this many characters of a search key: a trigram index cannot serve fewer.
SEARCH_MIN_LENGTH: Final = 3
# Arabic short vowels, tanwin, shadda, sukun, hamza above/below and the superscript alef: the
# same word is written with or without them («مُهر» = «مهر»).
_HARAKAT: Final = re.compile("[\u064b-\u065f\u0670]")
_SEARCH_GAPS: Final = re.compile("[\\s\u200c]+")


def search_key(text: str) -> str:
    """The form in which /find compares text, stored (`cases.search_text`) and typed alike:
    normalised, case-folded, without harakat, «ۀ» as «ه», and without spaces, ZWNJ and line
    breaks, so «زنجیره‌ای»، «زنجیره ای» and «زنجیرهای» are one word to the search."""
    key = normalize(text).casefold().replace("ۀ", "ه")
    return _SEARCH_GAPS.sub("", _HARAKAT.sub("", key))


def search_text(*fields: str) -> str:
    """What a case is searched under: the key of each field, one per line. A query's key has
    no line break, so a match never runs from one field into the next."""
    return "\n".join(search_key(field) for field in fields)


def length(text: str) -> int:
    """Length for min/max checks, as Telegram counts it (UTF-16 units), after :func:`normalize`.

    Measuring the normalised form stops padding with spaces, tatweel or invisible marks from
    passing a minimum-length rule; counting UTF-16 units (an emoji counts twice) keeps every
    accepted answer within what Telegram will show back in one message.
    """
    return utf16_len(normalize(text))


# ---------------------------------------------------------------------------------------------
# Digits and numbers
# ---------------------------------------------------------------------------------------------


def to_persian_digits(s: str | int) -> str:
    """Show ASCII and Arabic-Indic digits as Persian digits (۰-۹); other characters unchanged."""
    return str(s).translate(_TO_PERSIAN_DIGITS)


def to_ascii_digits(s: str | int) -> str:
    """Turn Persian and Arabic-Indic digits into ASCII 0-9; other characters unchanged."""
    return str(s).translate(_TO_ASCII_DIGITS)


_DROP_BIDI: Final = str.maketrans("", "", _BIDI_CONTROLS)


def typed_digits(s: str) -> str:
    """A number typed or pasted (an id copied from a message): Persian and Arabic-Indic digits
    become ASCII and the direction marks around a shown id are dropped; nothing else changes,
    so «²» or a stray letter still makes it invalid for the strict parsers of `bot.domain.ids`."""
    return to_ascii_digits(s.translate(_DROP_BIDI))


def format_number(n: int) -> str:
    """Format an integer with Persian digits and «٬» between thousands: 2500000 → «۲٬۵۰۰٬۰۰۰».

    Negative numbers get CLDR's Persian minus (LRM + U+2212) so the sign stays on the left of
    the digits inside a right-to-left line.
    """
    grouped = f"{abs(n):,}".replace(",", THOUSANDS_SEPARATOR)
    return (MINUS_SIGN if n < 0 else "") + to_persian_digits(grouped)


def count_in_words(n: int) -> str:
    """A count as running Persian copy writes it: one to ten in words («یک روز», «دو روز»),
    larger counts in Persian digits («۱۴ روز»)."""
    if 1 <= n <= len(_ONES):
        return _ONES[n - 1]
    return _TEENS[0] if n == 10 else format_number(n)


#: The currency words shown after an amount (catalog ids; what citizens type is `_UNIT_WORDS`).
RIAL_WORD: Final = N_("rials")
TOMAN_WORD: Final = N_("tomans")
RIALS_PER_TOMAN: Final = 10


def format_rials(rials: int) -> str:
    """Format an amount in rials: 2500000 → «۲٬۵۰۰٬۰۰۰ ریال»."""
    return f"{format_number(rials)} {_(RIAL_WORD)}"


def format_toman(rials: int) -> str:
    """Format an amount given in rials as tomans: 2500000 → «۲۵۰٬۰۰۰ تومان».

    Amounts are stored in rials (the legal unit), so a rial amount not divisible by ten is
    shown exactly with one Persian decimal digit (25 → «۲٫۵ تومان») instead of being rounded:
    a price in a complaint must not silently change.
    """
    tomans, rest = divmod(abs(rials), RIALS_PER_TOMAN)
    text = format_number(tomans)
    if rest:
        text += DECIMAL_SEPARATOR + to_persian_digits(rest)
    sign = MINUS_SIGN if rials < 0 else ""
    return f"{sign}{text} {_(TOMAN_WORD)}"


# ---------------------------------------------------------------------------------------------
# Amounts typed by citizens
# ---------------------------------------------------------------------------------------------

#: What a bare number means. In Iranian shops prices are spoken and written in tomans, so
#: «۲۵۰ هزار» means 250,000 tomans = 2,500,000 rials. Value: rials per unit of a bare number.
DEFAULT_UNIT_RIALS: Final = RIALS_PER_TOMAN
#: Upper bound (inclusive) for a plausible price: ten trillion rials.
MAX_AMOUNT_RIALS: Final = 10**13

_UNIT_WORDS: Final = {
    "تومان": RIALS_PER_TOMAN,
    "تومن": RIALS_PER_TOMAN,
    "toman": RIALS_PER_TOMAN,
    "tomans": RIALS_PER_TOMAN,
    "ریال": 1,  # also what NFKC makes of the rial sign ﷼
    "rial": 1,
    "rials": 1,
}
#: «ملیون»/«ملیارد» are very common spellings of «میلیون»/«میلیارد».
_MULTIPLIER_WORDS: Final = {
    "هزار": 10**3,
    "میلیون": 10**6,
    "ملیون": 10**6,
    "میلیارد": 10**9,
    "ملیارد": 10**9,
}
_AND: Final = "و"
_HALF: Final = "نیم"
# Number words below a thousand, in the order of their values, and common spoken spellings.
_ONES: Final = ("یک", "دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه")
_TEENS: Final = (
    "ده", "یازده", "دوازده", "سیزده", "چهارده", "پانزده", "شانزده", "هفده", "هجده", "نوزده"
)  # fmt: skip
_TENS: Final = ("بیست", "سی", "چهل", "پنجاه", "شصت", "هفتاد", "هشتاد", "نود")
_HUNDREDS: Final = (
    "صد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد"
)  # fmt: skip
_SPOKEN: Final = {
    "یه": "یک", "شیش": "شش", "پونزده": "پانزده", "شونزده": "شانزده", "هیجده": "هجده",
    "پونصد": "پانصد", "یکصد": "صد",
}  # fmt: skip


def _number_words() -> dict[str, tuple[Fraction, int, int]]:
    """Each word's (value, highest place, lowest place): hundreds fill place 3, tens 2, ones 1,
    a teen both 2 and 1, «نیم» (a half) place 0. Joined by «و», each part must sit below the
    one before it: «صد و بیست و پنج», «یک و نیم», never «بیست و یازده»."""
    words: dict[str, tuple[Fraction, int, int]] = {_HALF: (Fraction(1, 2), 0, 0)}
    for names, first, step, high, low in (
        (_ONES, 1, 1, 1, 1),
        (_TEENS, 10, 1, 2, 1),
        (_TENS, 20, 10, 2, 2),
        (_HUNDREDS, 100, 100, 3, 3),
    ):
        for i, name in enumerate(names):
            words[name] = (Fraction(first + i * step), high, low)
    words.update({spoken: words[written] for spoken, written in _SPOKEN.items()})
    return words


_NUMBER_WORDS: Final = _number_words()
_THOUSANDS_SEPARATORS: Final = "٬،,.' ’"
_DECIMAL_MARKS: Final = ".٫/"
# Longest plausible price text; longer input is rejected before any number is built
# (also keeps int() away from its 4300-digit limit).
_MAX_AMOUNT_TEXT: Final = 80

# Known words are tried first (longest first) so glued input like «۲۵۰هزارتومان» still splits.
_KNOWN_WORDS: Final = sorted(
    [*_UNIT_WORDS, *_MULTIPLIER_WORDS, *_NUMBER_WORDS, _AND], key=len, reverse=True
)
_AMOUNT_TOKEN: Final = re.compile(
    r"(?P<num>[0-9](?:[0-9٬،,.'’ /٫]*[0-9])?)"
    rf"|(?P<word>{'|'.join(_KNOWN_WORDS)}|[^\W\d_]+)"
    r"|(?P<gap>[ \u200c]+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_PLAIN_INT: Final = re.compile(r"[1-9][0-9]*", re.ASCII)
_GROUPED_INT: Final = re.compile(
    r"[1-9][0-9]{0,2}(?:(?P<sep>[٬،,.'’ ])[0-9]{3})(?:(?P=sep)[0-9]{3})*"
)
_FRACTION: Final = re.compile(r"[0-9]+", re.ASCII)


def _parse_int(token: str, separators: str) -> int | None:
    """Parse ``123`` or ``1٬234٬567`` (one consistent separator, whole groups of three)."""
    if _PLAIN_INT.fullmatch(token):
        return int(token)
    m = _GROUPED_INT.fullmatch(token)
    if m and m["sep"] in separators:
        return int(re.sub(r"[^0-9]", "", token))
    return None


def _parse_number(token: str, with_multiplier: bool) -> Fraction | None:
    """Parse one number token; decimals («۲٫۵», «2.5», «۲/۵») only before a multiplier word."""
    if not with_multiplier:
        return _to_fraction(_parse_int(token, _THOUSANDS_SEPARATORS))
    marks = [i for i, c in enumerate(token) if c in _DECIMAL_MARKS]
    if not marks:
        return _to_fraction(_parse_int(token, _THOUSANDS_SEPARATORS.replace(".", "")))
    if len(marks) > 1:
        return None
    whole_text, frac_text = token[: marks[0]], token[marks[0] + 1 :]
    whole = 0 if whole_text == "0" else _parse_int(whole_text, "٬،,'’")
    if whole is None or not _FRACTION.fullmatch(frac_text):
        return None
    return whole + Fraction(int(frac_text), 10 ** len(frac_text))


def _to_fraction(value: int | None) -> Fraction | None:
    return None if value is None else Fraction(value)


def _amount_tokens(text: str) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    for m in _AMOUNT_TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "other":
            return None
        if kind != "gap":
            tokens.append((str(kind), m.group()))
    return tokens


def _take_unit(tokens: list[tuple[str, str]], index: int) -> int | None:
    kind, value = tokens[index]
    return _UNIT_WORDS.get(value) if kind == "word" else None


def parse_amount(text: str) -> int | None:
    """Read a price typed by a citizen and return it in RIALS, or None if it is not a price.

    Accepts Persian, Arabic-Indic or ASCII digits; thousands separators («٬ ، , . ' ’» or a
    space) only between whole groups of three; numbers below a thousand in words («صد»,
    «دویست و پنجاه», «یک و نیم»); an optional unit word before or after the number («تومان»,
    «تومن», «ریال», "toman", "rial", ﷼); multiplier words after a number («هزار», «میلیون»,
    «میلیارد»), with a decimal part or a half only then («۲٫۵ میلیون», «2.5», «۲/۵», «یک و نیم
    میلیون», «۲ میلیون و نیم»); and compounds joined by «و» with falling multipliers («۲ میلیون
    و پانصد هزار تومان»; a bare last part only after «هزار»: «دو هزار و پانصد»). A number
    without a unit is in tomans (:data:`DEFAULT_UNIT_RIALS`), but words alone without a
    multiplier need a unit (a citizen answering «نه», no, has not paid nine tomans). Rejects
    zero, signs, leading zeros (so a pasted phone number is not a price), fractions of a rial,
    amounts above :data:`MAX_AMOUNT_RIALS` and any other word or character. Never raises.
    """
    if not isinstance(text, str):
        return None
    text = normalize(text).casefold()
    if not text or len(text) > _MAX_AMOUNT_TEXT or "\n" in text:
        return None
    tokens = _amount_tokens(text)
    if not tokens:
        return None

    unit: int | None = None
    if _take_unit(tokens, 0) is not None:
        unit = _take_unit(tokens, 0)
        tokens = tokens[1:]
    elif _take_unit(tokens, -1) is not None:
        unit = _take_unit(tokens, -1)
        tokens = tokens[:-1]

    parsed = _parse_terms(tokens)
    if parsed is None:
        return None
    total, bare_words = parsed
    if bare_words and unit is None:
        return None
    rials = total * (unit if unit is not None else DEFAULT_UNIT_RIALS)
    if rials.denominator != 1 or not 0 < rials <= MAX_AMOUNT_RIALS:
        return None
    return int(rials)


_Tokens = list[tuple[str, str]]


def _word(tokens: _Tokens, i: int) -> str | None:
    """The word at `i`, or None past the end or at a number."""
    return tokens[i][1] if i < len(tokens) and tokens[i][0] == "word" else None


def _read_words(tokens: _Tokens, i: int) -> tuple[Fraction, int] | None:
    """A number below a thousand in words from `i` («صد و بیست و پنج»), and where it ends."""
    if _word(tokens, i) not in _NUMBER_WORDS:
        return None
    value, _high, low = _NUMBER_WORDS[tokens[i][1]]
    i += 1
    while _word(tokens, i) == _AND and _word(tokens, i + 1) in _NUMBER_WORDS:
        part, high, next_low = _NUMBER_WORDS[tokens[i + 1][1]]
        if high >= low:
            break
        value, low, i = value + part, next_low, i + 2
    return value, i


def _read_number(tokens: _Tokens, i: int) -> tuple[Fraction, bool, int] | None:
    """One number from `i`, in digits («۲٫۵», «۲۵۰٬۰۰۰», «۱ و نیم») or in words: its value,
    whether it was written in words, and where it ends. A decimal point is read as one only
    before a multiplier word, where «۱.۵۰۰» is one and a half rather than fifteen hundred."""
    if i < len(tokens) and tokens[i][0] == "num":
        end = i + 1
        half = _word(tokens, end) == _AND and _word(tokens, end + 1) == _HALF
        if half:
            end += 2
        number = _parse_number(tokens[i][1], _word(tokens, end) in _MULTIPLIER_WORDS)
        if number is None or (half and number.denominator != 1):
            return None
        return number + (Fraction(1, 2) if half else 0), False, end
    words = _read_words(tokens, i)
    return None if words is None else (words[0], True, words[1])


def _parse_terms(tokens: _Tokens) -> tuple[Fraction, bool] | None:
    """Parse ``NUMBER [MULT] ("و" NUMBER MULT)* ["و" NUMBER | "و" "نیم"]`` with strictly
    falling multipliers; also say whether it was a lone number in words with no multiplier."""
    terms: list[tuple[Fraction, bool, int | None]] = []
    half_tail = False
    i = 0
    while True:
        read = _read_number(tokens, i)
        if read is None:
            return None
        value, in_words, i = read
        multiplier = None
        if _word(tokens, i) in _MULTIPLIER_WORDS:
            multiplier = _MULTIPLIER_WORDS[tokens[i][1]]
            i += 1
        terms.append((value, in_words, multiplier))
        if i == len(tokens):
            break
        if _word(tokens, i) != _AND:
            return None
        i += 1
        if multiplier is not None and i == len(tokens) - 1 and _word(tokens, i) == _HALF:
            half_tail = True  # «دو میلیون و نیم»: two and a half million
            break

    if len(terms) == 1:
        value, in_words, multiplier = terms[0]
        if half_tail:
            if value.denominator != 1:
                return None
            value += Fraction(1, 2)
        if multiplier is None and value.denominator != 1:
            return None  # decimals and halves only before a multiplier
        return value * (multiplier or 1), in_words and multiplier is None
    if half_tail:
        return None

    # Compound: parts are whole numbers, those after the first below 1000, and every part
    # needs a multiplier, except a last one after «هزار» («دو هزار و پانصد»): after «میلیون»
    # a bare tail is ambiguous (in speech «۲ میلیون و ۵۰۰» means 2.5 million).
    total = Fraction(0)
    previous: int | None = None
    for position, (value, _in_words, multiplier) in enumerate(terms):
        if value.denominator != 1 or (position > 0 and value >= 1000):
            return None
        if multiplier is None:
            if position < len(terms) - 1 or previous != 10**3:
                return None
            multiplier = 1
        elif previous is not None and multiplier >= previous:
            return None
        total += value * multiplier
        previous = multiplier
    return total, False


# ---------------------------------------------------------------------------------------------
# Phone numbers and tracking codes
# ---------------------------------------------------------------------------------------------

_PHONE_JUNK: Final = re.compile(r"[\s\u200c()\[\]{}\-‐‑‒–—−]")
# persian.md's pattern, plus the common «+98 (0)912…» form with the trunk zero kept.
_IRAN_MOBILE: Final = re.compile(r"(?:\+98|0098|98)?0?(9[0-9]{9})", re.ASCII)
_INTERNATIONAL: Final = re.compile(r"(?:\+|00)([1-9][0-9]{7,14})", re.ASCII)


def normalize_phone(text: str) -> str | None:
    """Canonical phone number for storage: Iranian mobiles as ``+989XXXXXXXXX``.

    Accepts Persian/Arabic-Indic digits, spaces, dashes, brackets and bidi marks, and the
    ``+98``, ``0098``, ``98`` (Telegram contacts often omit "+") and ``0`` prefixes. Other
    international numbers need "+" or "00" and 8-15 digits and come back as ``+<digits>``.
    A "+98" number that is not a mobile is rejected (a mistyped mobile is far likelier than
    a landline), and so are bare local numbers. Never raises.
    """
    if not isinstance(text, str):
        return None
    compact = _PHONE_JUNK.sub("", normalize(text))
    if len(compact) > 20:
        return None
    if m := _IRAN_MOBILE.fullmatch(compact):
        return "+98" + m[1]
    m = _INTERNATIONAL.fullmatch(compact)
    if m and not m[1].startswith("98"):
        return "+" + m[1]
    return None


def format_phone(phone: str) -> str:
    """A stored phone number as staff read it: an Iranian mobile in the national form with
    Persian digits, «۰۹۱۲ ۱۲۳ ۴۵۶۷», other numbers «+۴۴…»; isolated left-to-right, or a
    right-to-left line would reverse the groups and move the «+» to the other end."""
    if m := re.fullmatch(r"\+98(9[0-9]{2})([0-9]{3})([0-9]{4})", phone, re.ASCII):
        return ltr(to_persian_digits(f"0{m[1]} {m[2]} {m[3]}"))
    return ltr(to_persian_digits(phone))


TRACKING_CODE_LENGTH: Final = 10
_TRACKING_INPUT: Final = re.compile(r"[0-9](?:[ \u200c\-_.‐‑‒–—−]*[0-9])*", re.ASCII)


def parse_tracking_input(text: str) -> str | None:
    """Read a tracking code as a citizen may type or paste it: «۱۲۳۴۵-۶۷۸۹۰», "12345 67890".

    Digits of any of the three scripts, with spaces, dashes, underscores or dots between them
    (bidi marks from a pasted, formatted code are ignored). Returns the 10 ASCII digits or
    None; the check digit is the business of :mod:`bot.domain.tracking`. Never raises.
    """
    if not isinstance(text, str):
        return None
    text = normalize(text)
    if len(text) > 4 * TRACKING_CODE_LENGTH or not _TRACKING_INPUT.fullmatch(text):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    return digits if len(digits) == TRACKING_CODE_LENGTH else None


# ---------------------------------------------------------------------------------------------
# Display helpers
# ---------------------------------------------------------------------------------------------


def ltr(s: str) -> str:
    """Isolate a left-to-right fragment (code, phone, Latin name) inside a Persian line.

    LRI…PDI keeps the fragment's own order (so "+98…" keeps its "+" in front) without
    affecting the surrounding text, unlike the RLO/LRO overrides, which must never be used.
    """
    return f"{LRI}{s}{PDI}"


def fsi(s: str) -> str:
    """Isolate text whose direction is its own (a person's or a group's name): FSI…PDI lays a
    Latin name out left-to-right without turning a Persian line that starts with it."""
    return f"{FSI}{s}{PDI}"


def rtl_line(s: str) -> str:
    """Start a line with RLM so a line beginning with digits or Latin still reads right-to-left."""
    return RLM + s


def rtl_lines(s: str) -> str:
    """Start every line of a block (a citizen's description, an officer's answer) with RLM:
    a line of it that begins in Latin or with digits still reads right-to-left."""
    return "\n".join(RLM + line for line in s.split("\n"))


def format_id(n: int) -> str:
    """A Telegram user or chat id in Persian digits, isolated so that a group's minus sign
    stays on the left: «-۱۰۰۲…». Staff may copy it back into a command: commands read it
    after `normalize`, which drops the marks and the Persian digits."""
    return ltr(to_persian_digits(n))


#: Endings that make «name.ir» a web address rather than a file name such as «r0.pdf».
_TLDS: Final = ("com", "ir", "org", "net", "info", "io", "me", "co", "shop", "store", "site")
# Parts of typed text that are addresses, not prose: URLs, bare domains with a path, e-mail
# addresses and @handles keep their Latin digits (a shop's page is «instagram.com/shop123»).
_ADDRESS_LIKE: Final = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
    r"|(?<![\w.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:" + "|".join(_TLDS) + r")\b(?:/\S*)?"
    r"|(?<!\w)@[A-Za-z0-9_]{3,}",
    re.ASCII,
)


def shown(typed: str) -> str:
    """Text someone typed (a citizen's description, a staff member's answer), as stored
    (normalised, so with ASCII digits), for showing back: digits in Persian as in the rest of
    the message; URLs, e-mail addresses and @handles as they are, isolated left-to-right.
    Plain text in, plain text out: escape it afterwards for HTML."""
    out: list[str] = []
    last = 0
    for m in _ADDRESS_LIKE.finditer(typed):
        out.append(to_persian_digits(typed[last : m.start()]))
        out.append(ltr(m.group()))
        last = m.end()
    out.append(to_persian_digits(typed[last:]))
    return "".join(out)


def excerpt(text: str, limit: int) -> str:
    """One-line preview of at most ``limit`` code points, cut between words, ending with «…».

    Whitespace (newlines included) is collapsed because previews live in lists and buttons.
    A single word longer than the limit is cut mid-word rather than dropped.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    room = flat[: limit - 1]
    cut = room.rfind(" ") if flat[limit - 1] != " " else limit - 1
    if cut > 0:
        room = room[:cut]
    room = room.rstrip(" " + ZWNJ + "،,.;:؛-")
    return room + ELLIPSIS


# ---------------------------------------------------------------------------------------------
# Cutting long messages
# ---------------------------------------------------------------------------------------------

#: Telegram refuses a message longer than this, counted in UTF-16 code units.
MESSAGE_LIMIT: Final = 4096

# A tag, an entity, or one character: the units a message may be cut between.
_ATOM = re.compile(r"<[^<>]*>|&#?\w+;|.", re.DOTALL)
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)")


def utf16_len(s: str) -> int:
    """Length as Telegram counts it: astral characters (most emoji) count twice."""
    return len(s.encode("utf-16-le")) // 2


def _closers(stack: Sequence[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _opener in reversed(stack))


def _openers(stack: Sequence[tuple[str, str]]) -> str:
    return "".join(opener for _name, opener in stack)


def _apply_tag(stack: list[tuple[str, str]], atom: str) -> None:
    """Track which tags are open, to close them at a cut and reopen them after it."""
    m = _TAG.match(atom)
    if not m or not atom.endswith(">"):
        return
    name = m[2].lower()
    if not m[1]:
        stack.append((name, atom))
        return
    for i in range(len(stack) - 1, -1, -1):
        if stack[i][0] == name:
            del stack[i]
            return


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut HTML text into messages of at most `limit` UTF-16 units.

    Cuts go between lines; a line that alone is too long is cut at a space, and a word that
    alone is too long between characters. A tag or entity is never cut, and tags open at a cut
    are closed before it and reopened after it, so every piece is valid HTML on its own.
    """
    if utf16_len(text) <= limit:
        return [text] if text.strip() else []
    atoms = _ATOM.findall(text)
    chunks: list[str] = []
    stack: list[tuple[str, str]] = []
    i = 0
    while i < len(atoms):
        while i < len(atoms) and atoms[i] == "\n":
            i += 1  # a piece never starts with an empty line
        if i == len(atoms):
            break
        end, skip, stack_at_end = _cut(atoms, i, stack, limit)
        piece = _openers(stack) + "".join(atoms[i:end]) + _closers(stack_at_end)
        if piece.strip():
            chunks.append(piece)
        stack, i = stack_at_end, end + skip
    return chunks


def _cut(
    atoms: list[str], start: int, stack: list[tuple[str, str]], limit: int
) -> tuple[int, int, list[tuple[str, str]]]:
    """Where the piece starting at `start` ends: (end index, atoms to skip, open tags there)."""
    room = limit - utf16_len(_openers(stack))
    state = list(stack)
    used = 0
    best: dict[str, tuple[int, list[tuple[str, str]]]] = {}
    for k in range(start, len(atoms)):
        atom = atoms[k]
        if atom in ("\n", " ") and k > start:
            best["line" if atom == "\n" else "word"] = (k, list(state))
        used += utf16_len(atom)
        _apply_tag(state, atom)
        if used + utf16_len(_closers(state)) > room:
            break
        best["any"] = (k + 1, list(state))
    else:
        return len(atoms), 0, state
    for kind, skip in (("line", 1), ("word", 1), ("any", 0)):
        if kind in best:
            end, at_end = best[kind]
            return end, skip, at_end
    raise ValueError("limit too small for the tags that must be reopened")
