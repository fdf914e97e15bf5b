"""Tests for bot.text: normalisation, digits, money, phone numbers, tracking input, display."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import text as t
from bot.text import (
    excerpt,
    format_number,
    format_rials,
    format_toman,
    length,
    ltr,
    normalize,
    normalize_phone,
    parse_amount,
    parse_tracking_input,
    rtl_line,
    to_ascii_digits,
    to_persian_digits,
)

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200d\ufeff\u2060\u00ad"
ZWNJ = "\u200c"

# Characters that stress the normaliser: Persian/Arabic letters and digits, presentation forms,
# combining marks, every kind of invisible and control character, line breaks, emoji.
TRICKY = (
    "سلامکتابیيىكةۀآئـ"
    "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩0123456789"
    "ﻙﺏﻻﷲ﷼ﮎﯾ"
    "\u064b\u0654\u0301\u0316e"
    + BIDI_CONTROLS
    + ZERO_WIDTH
    + ZWNJ
    + "\x00\x07\x1b\x1c\x7f\x85\x9f\t\x0b\x0c\r\n\u2028\u2029 \u00a0\u3000\u1680\u180e"
    + "\ud800\U0001f600\U0001f1ee\U0001f1f7\U000e0067"
    + "abcAB-_.,٬،٫/'"
)
tricky_text = st.text(alphabet=TRICKY, max_size=60)
any_text = st.text(max_size=200)
# Up to 10,000 characters without making hypothesis generate them one by one.
long_text = st.text(alphabet=TRICKY, min_size=1, max_size=50).map(lambda s: s * (10_000 // len(s)))


# ---------------------------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("مصطفى", "مصطفی"),  # alef maksura
        ("كتاب", "کتاب"),  # Arabic kaf
        ("ﻛﺘﺎﺏ", "کتاب"),  # presentation forms, folded by NFKC, then kaf mapped
        ("قيمة", "قیمة"),  # teh marbuta is kept on purpose
        ("ســـلام", "سلام"),  # tatweel
        ("۱۲۳٤٥6", "123456"),  # Persian, Arabic-Indic, ASCII digits
        ("１２", "12"),  # full-width digits via NFKC
        ("۱۰۰ ﷼", "100 ریال"),  # the rial sign
        ("می\u200cخواهم", "می\u200cخواهم"),  # ZWNJ kept inside a word
        ("می\u200c\u200c\u200cخواهم", "می\u200cخواهم"),  # ZWNJ runs collapse
        ("کتاب\u200c ها", "کتاب ها"),  # ZWNJ touching a space goes
        ("\u200cکتاب\u200c", "کتاب"),  # and at the ends
        ("الف \u200c \u200c ب", "الف ب"),
        ("a\u200bb\u200dc\ufeffd\u2060e\u00adf", "abcdef"),  # zero-width characters
        ("\u202eکد\u202c \u2067۱۲\u2069\u200f\u200e\u061c", "کد 12"),  # bidi controls
        ("a\x00b\x07c\x1bd\x7fe\x9ff", "abcdef"),  # C0/C1 controls
        ("a \t\u00a0 b", "a b"),  # spaces and tabs collapse
        ("a\r\nb\rc", "a\nb\nc"),  # CR-LF and CR are newlines
        ("a\u2028b\u2029c\x85d", "a\nb\nc\nd"),
        ("a\n\nb", "a\n\nb"),  # one blank line kept
        ("a\n\n\n\n\nb", "a\n\nb"),  # more collapse to one blank line
        ("a \n \n \n b", "a\n\nb"),  # whitespace-only lines count as blank
        ("  a  \n   b  ", "a\nb"),  # each line stripped
        ("\n\n a \n\n", "a"),
        ("", ""),
        (" \t\n\u200f\u200b ", ""),
        ("e\u200b\u0301", "\u00e9"),  # a removal that enables composition is recomposed
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_keeps_emoji_and_punctuation() -> None:
    assert normalize("گران‌فروشی! 😡 (نان)") == "گران‌فروشی! 😡 (نان)"


@settings(max_examples=200)
@given(st.one_of(tricky_text, any_text))
def test_normalize_is_idempotent(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once


@settings(max_examples=30, deadline=None)
@given(long_text)
def test_normalize_is_idempotent_on_long_text(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once
    assert len(once) <= len(s) * 20  # NFKC can expand (e.g. ﷺ), but boundedly


@settings(max_examples=200)
@given(st.one_of(tricky_text, any_text))
def test_normalize_output_invariants(s: str) -> None:
    out = normalize(s)
    assert unicodedata.normalize("NFKC", out) == out
    assert out == out.strip(" \n")
    assert not out.startswith(ZWNJ) and not out.endswith(ZWNJ)
    assert "  " not in out and "\n\n\n" not in out
    assert ZWNJ * 2 not in out
    assert not re.search(r"[ \n]\u200c|\u200c[ \n]", out)
    assert not re.search(r" \n|\n ", out)
    for ch in out:
        assert ch not in BIDI_CONTROLS + ZERO_WIDTH + "\u0640"
        assert ch not in "يىك"
        assert ch not in t.PERSIAN_DIGITS + t.ARABIC_INDIC_DIGITS
        assert not (ch.isspace() and ch not in " \n")
        assert unicodedata.category(ch) not in ("Cc", "Cs") or ch == "\n"


def test_normalize_handles_a_10000_char_string() -> None:
    s = ("ی\u200f\u200c \u200c ك۱\t" * 1500)[:10_000]
    out = normalize(s)
    assert normalize(out) == out
    assert out.startswith("ی ک1 ی")


@given(st.one_of(tricky_text, any_text))
def test_length_is_length_of_normalized(s: str) -> None:
    assert length(s) == len(normalize(s).encode("utf-16-le")) // 2


def test_length_ignores_padding_and_invisibles() -> None:
    assert length("  ســـلام\u200f\u200b  ") == 4
    assert length("می\u200cخواهم") == 8  # ZWNJ is a code point and is kept
    assert length("😀" * 3) == 6  # as Telegram counts: astral characters count twice


# ---------------------------------------------------------------------------------------------
# digits and numbers
# ---------------------------------------------------------------------------------------------


def test_digit_conversion() -> None:
    assert to_persian_digits("0912 345") == "۰۹۱۲ ۳۴۵"
    assert to_persian_digits("٠١٢٣٤٥٦٧٨٩") == "۰۱۲۳۴۵۶۷۸۹"
    assert to_persian_digits(-1405) == "-۱۴۰۵"
    assert to_ascii_digits("۱۴۰۵/٠٩/07") == "1405/09/07"
    assert to_ascii_digits(12) == "12"


@given(st.text(max_size=50))
def test_digit_conversion_round_trips_on_persian_and_ascii(s: str) -> None:
    assert to_ascii_digits(to_persian_digits(s)) == to_ascii_digits(s)
    assert to_persian_digits(to_ascii_digits(s)) == to_persian_digits(s)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "۰"),
        (7, "۷"),
        (999, "۹۹۹"),
        (1000, "۱٬۰۰۰"),
        (2_500_000, "۲٬۵۰۰٬۰۰۰"),
        (-2_500_000, "\u200e\u2212۲٬۵۰۰٬۰۰۰"),
    ],
)
def test_format_number(n: int, expected: str) -> None:
    assert format_number(n) == expected


@given(st.integers(min_value=0, max_value=10**18))
def test_format_number_matches_babel(n: int) -> None:
    babel = format_decimal(n, locale="fa", numbering_system="default")
    assert format_number(n) == to_persian_digits(babel)


def test_format_money() -> None:
    assert format_rials(2_500_000) == "۲٬۵۰۰٬۰۰۰ ریال"
    assert format_toman(2_500_000) == "۲۵۰٬۰۰۰ تومان"
    assert format_toman(25) == "۲٫۵ تومان"  # exact, not rounded
    assert format_toman(5) == "۰٫۵ تومان"
    assert format_toman(0) == "۰ تومان"
    assert format_toman(-25) == "\u200e\u2212۲٫۵ تومان"


# ---------------------------------------------------------------------------------------------
# parse_amount
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "rials"),
    [
        ("۲۵۰۰۰۰", 2_500_000),  # no unit: toman
        ("250000", 2_500_000),
        ("٢٥٠٠٠٠", 2_500_000),
        ("۲۵۰٬۰۰۰", 2_500_000),
        ("۲۵۰،۰۰۰", 2_500_000),
        ("250,000", 2_500_000),
        ("250.000", 2_500_000),
        ("250 000", 2_500_000),
        ("250'000", 2_500_000),
        ("2,500,000 ریال", 2_500_000),
        ("ریال 2500000", 2_500_000),
        ("۲۵۰ هزار تومان", 2_500_000),
        ("۲۵۰ هزار تومن", 2_500_000),
        ("۲۵۰ هزار", 2_500_000),
        ("۲۵۰هزارتومان", 2_500_000),  # glued words
        ("۲۵۰\u200cهزار\u200cتومان", 2_500_000),
        ("تومان ۲۵۰۰۰۰", 2_500_000),
        ("۲ میلیون تومان", 20_000_000),
        ("۲ ملیون", 20_000_000),
        ("۲.۵ میلیون", 25_000_000),
        ("۲٫۵ میلیون", 25_000_000),
        ("۲/۵ میلیون", 25_000_000),
        ("0.5 میلیون", 5_000_000),
        ("۱ میلیارد ریال", 1_000_000_000),
        ("۲ میلیون و ۵۰۰ هزار تومان", 25_000_000),
        ("1 میلیارد و 200 میلیون و 50 هزار", 12_000_500_000),
        ("250000 toman", 2_500_000),
        ("250000 Toman", 2_500_000),
        ("2500000 RIAL", 2_500_000),
        ("rial 25", 25),
        ("1 ریال", 1),
        ("1 ﷼", 1),
        ("\u200f۲۵۰\u200e هزار  تومان ", 2_500_000),
        ("1", 10),
        ("1 میلیون", 10_000_000),
        ("1.2345 هزار", 12_345),  # 1234.5 toman is a whole number of rials
        ("1000000000000 ریال", 10**12),
        ("10000000000000 ریال", 10**13),  # the maximum, inclusive
        ("1000 میلیارد تومان", 10**13),
        # Written in words, or words and digits mixed.
        ("یک میلیون تومان", 10_000_000),
        ("صد هزار", 1_000_000),
        ("صدهزار تومان", 1_000_000),
        ("صد\u200cهزار تومان", 1_000_000),
        ("نیم میلیون", 5_000_000),
        ("یک و نیم میلیون", 15_000_000),
        ("۱ و نیم میلیون", 15_000_000),
        ("دو میلیون و نیم", 25_000_000),
        ("دویست و پنجاه هزار تومان", 2_500_000),
        ("سیصد و بیست و پنج هزار", 3_250_000),
        ("دو میلیون و پانصد هزار", 25_000_000),
        ("۲ میلیون و پانصد هزار تومان", 25_000_000),
        ("دو هزار و پانصد تومان", 25_000),  # a bare last part after «هزار» is plain
        ("۲ هزار و ۵۰۰", 25_000),
        ("پانصد تومان", 5_000),
        ("نه تومان", 90),
        ("یه میلیون", 10_000_000),  # spoken spellings
        ("پونصد هزار", 5_000_000),
        ("یکصد هزار ریال", 100_000),
        ("٢ مليون", 20_000_000),  # Arabic digits and ي
        ("نهصد و نود و نه میلیارد ریال", 999 * 10**9),
        ("یک میلیارد و دویست میلیون تومان", 12_000_000_000),
    ],
)
def test_parse_amount_accepts(typed: str, rials: int) -> None:
    assert parse_amount(typed) == rials


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "0",
        "۰ تومان",
        "0 هزار",
        "-250",
        "−250",
        "+250",
        "250-",
        "تومان",
        "هزار",
        "هزار تومان",
        "۲۵۰ هزار تومان ریال",
        "تومان ۲۵۰ تومان",
        "۲۵۰ تومان هزار",  # multiplier after the unit
        "۲۵۰ دلار",
        "قیمت ۲۵۰ هزار",
        "۲۵۰ هزار تومان بود",
        "حدود ۲۵۰ هزار",
        "250k",
        "abc",
        "2.5",  # decimal without a multiplier
        "۲٫۵",
        "2/5",
        "12.50",
        "2,5 میلیون",  # comma is not a decimal mark
        "1.2.3 میلیون",
        "۱۲,۳۴",  # not whole groups of three
        "1,0000",
        "1,000.000",  # mixed separators
        ",250",
        "250,",
        "0250",  # leading zero (a phone number pasted here is not a price)
        "۰۹۱۲۱۲۳۴۵۶۷",
        "1.23 ریال",  # no multiplier, no decimals
        "1.23456 هزار ریال",  # fraction of a rial
        "0.00001 هزار",
        "10000000000001 ریال",  # above the maximum
        "2000 میلیارد تومان",
        "9" * 5000,  # longer than int() would even parse
        "۲ میلیون و ۵۰۰",  # ambiguous bare tail
        "۵۰۰ هزار و ۲ میلیون",  # rising multipliers
        "۲ میلیون و ۱۵۰۰ هزار",
        "۲ میلیون و و ۵۰۰ هزار",
        "و ۲ میلیون",
        "۲.۵ میلیون و ۵۰۰ هزار",
        "250\n000",
        "25😀0",
        # Words: only numbers, in order, and a unit when nothing else says it is money.
        "نه",  # "no", not nine tomans
        "یک",
        "صد",
        "صد و پنجاه",
        "حدود یک میلیون",
        "یک میلیون تومان ناقابل",
        "بیست و یازده هزار",  # a teen after a ten
        "پنج و بیست هزار",  # rising places
        "صد صد هزار",
        "دوده هزار",  # «دو» «ده» with no «و»
        "یک میلیون و دویست",  # ambiguous bare tail, as with digits
        "دو و نیم",  # a half only before a multiplier
        "دو و نیم تومان",
        "نیم و یک میلیون",
        "۲.۵ و نیم میلیون",
        "دو میلیون و پانصد هزار و نیم",
        "یک میلیون و نیم و پانصد هزار",
        "هزار و پانصد",
        "و نیم میلیون",
    ],
)
def test_parse_amount_rejects(typed: str) -> None:
    assert parse_amount(typed) is None


@settings(max_examples=300)
@given(
    st.one_of(
        any_text,
        tricky_text,
        st.text(alphabet="0123456789۰۹٫٬،,./' هزارتومنیلد وصکدسچپجبشفنه\u200c", max_size=30),
    )
)
def test_parse_amount_never_raises(s: str) -> None:
    result = parse_amount(s)
    assert result is None or (isinstance(result, int) and 0 < result <= t.MAX_AMOUNT_RIALS)


@settings(max_examples=20, deadline=None)
@given(long_text)
def test_parse_amount_rejects_long_text(s: str) -> None:
    assert parse_amount(s) is None


@given(st.integers(min_value=1, max_value=10**12))
def test_parse_amount_reads_back_formatted_tomans(tomans: int) -> None:
    rials = tomans * 10
    assert parse_amount(format_toman(rials)) == rials
    assert parse_amount(format_number(tomans)) == rials  # bare number is tomans


@given(st.integers(min_value=1, max_value=10**13))
def test_parse_amount_reads_back_formatted_rials(rials: int) -> None:
    assert parse_amount(format_rials(rials)) == rials


_ONES = ["", "یک", "دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه"]
_TEENS = ["ده", "یازده", "دوازده", "سیزده", "چهارده", "پانزده", "شانزده", "هفده", "هجده", "نوزده"]
_TENS = ["", "", "بیست", "سی", "چهل", "پنجاه", "شصت", "هفتاد", "هشتاد", "نود"]
_HUNDREDS = ["", "صد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد"]
_MULTIPLIERS = {"هزار": 10**3, "میلیون": 10**6, "میلیارد": 10**9}


def spell(n: int) -> str:
    """1-999 as Persian words, written independently of the parser: «سیصد و بیست و پنج»."""
    hundreds, rest = divmod(n, 100)
    parts = [_HUNDREDS[hundreds]] if hundreds else []
    if 10 <= rest < 20:
        parts.append(_TEENS[rest - 10])
    else:
        tens, ones = divmod(rest, 10)
        parts += [w for w in (_TENS[tens], _ONES[ones]) if w]
    return " و ".join(parts)


below_1000 = st.integers(min_value=1, max_value=999)
multiplier = st.sampled_from(sorted(_MULTIPLIERS))


def arabic_digits(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


digit_script = st.sampled_from([str, to_persian_digits, arabic_digits])


@settings(max_examples=200)
@given(below_1000, multiplier, digit_script)
def test_parse_amount_reads_words_as_digits(
    n: int, word: str, script: Callable[[int], str]
) -> None:
    rials = n * _MULTIPLIERS[word] * 10
    assert parse_amount(f"{spell(n)} {word}") == rials
    assert parse_amount(f"{spell(n)} {word} تومان") == rials
    assert parse_amount(f"{script(n)} {word}") == rials
    # Glued to the multiplier, as many type it: «صدهزار», «دویست‌وپنجاه‌هزار».
    assert parse_amount(f"{spell(n)}{word}") == rials
    assert parse_amount(f"{spell(n)}\u200c{word}") == rials


@settings(max_examples=200)
@given(below_1000)
def test_parse_amount_needs_a_unit_for_bare_words(n: int) -> None:
    assert parse_amount(spell(n)) is None
    assert parse_amount(f"{spell(n)} تومان") == n * 10
    assert parse_amount(f"{spell(n)} ریال") == n


@settings(max_examples=200)
@given(below_1000, below_1000, st.booleans(), st.booleans())
def test_parse_amount_reads_compounds(a: int, b: int, a_words: bool, b_words: bool) -> None:
    first = spell(a) if a_words else to_persian_digits(a)
    second = spell(b) if b_words else str(b)
    expected = (a * 10**6 + b * 10**3) * 10
    assert parse_amount(f"{first} میلیون و {second} هزار تومان") == expected
    assert parse_amount(f"{first} میلیون و {second} هزار و ۵۰۰") == expected + 5_000
    # A bare tail after «میلیون» is ambiguous whatever it is written in.
    assert parse_amount(f"{first} میلیون و {second}") is None


@settings(max_examples=100)
@given(below_1000, st.sampled_from(["هزار", "میلیون"]))
def test_parse_amount_reads_a_half(n: int, word: str) -> None:
    rials = (2 * n + 1) * _MULTIPLIERS[word] * 10 // 2
    assert parse_amount(f"{spell(n)} و نیم {word}") == rials
    assert parse_amount(f"{n} و نیم {word}") == rials
    assert parse_amount(f"{spell(n)} {word} و نیم") == rials
    assert parse_amount(f"{to_persian_digits(n)}٫۵ {word}") == rials


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "یک"),
        (2, "دو"),
        (7, "هفت"),
        (9, "نه"),
        (10, "ده"),
        (11, "۱۱"),
        (30, "۳۰"),
        (1500, "۱٬۵۰۰"),
    ],
)
def test_count_in_words(n: int, words: str) -> None:
    assert t.count_in_words(n) == words


def test_default_unit_is_toman() -> None:
    assert t.DEFAULT_UNIT_RIALS == t.RIALS_PER_TOMAN == 10


# ---------------------------------------------------------------------------------------------
# normalize_phone
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("09121234567", "+989121234567"),
        ("۰۹۱۲۱۲۳۴۵۶۷", "+989121234567"),
        ("٠٩١٢١٢٣٤٥٦٧", "+989121234567"),
        ("9121234567", "+989121234567"),
        ("989121234567", "+989121234567"),  # Telegram contact without "+"
        ("+989121234567", "+989121234567"),
        ("00989121234567", "+989121234567"),
        ("+98 (0) 912 123 4567", "+989121234567"),
        ("+98 912-123-4567", "+989121234567"),
        ("۰۹۱۲ ۱۲۳ ۴۵ ۶۷", "+989121234567"),
        ("\u200e+98\u00a0912\u2011123\u20114567\u200f", "+989121234567"),
        ("[0912] 123 4567", "+989121234567"),
        ("+44 7911 123456", "+447911123456"),
        ("0044 7911 123456", "+447911123456"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+12345678", "+12345678"),  # 8 digits: shortest accepted
        ("+123456789012345", "+123456789012345"),  # 15 digits: longest accepted
    ],
)
def test_normalize_phone_accepts(typed: str, expected: str) -> None:
    assert normalize_phone(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "0912123456",  # one digit short
        "091212345678",  # one digit long
        "08121234567",  # not a mobile
        "02188887777",  # bare landline
        "+982188887777",  # +98 but not a mobile
        "+98912123",
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "+0123456789",
        "447911123456",  # foreign without "+"
        "0912abc4567",
        "0912.123.4567",
        "+98 912 123 4567 ext 2",
        "۰۹۱۲۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹۰",
        "++989121234567",
        "²9121234567",
        "tel:+989121234567",
    ],
)
def test_normalize_phone_rejects(typed: str) -> None:
    assert normalize_phone(typed) is None


@settings(max_examples=300)
@given(st.one_of(any_text, tricky_text, st.text(alphabet="+0123456789۰۹ -()", max_size=25)))
def test_normalize_phone_never_raises_and_is_canonical(s: str) -> None:
    out = normalize_phone(s)
    if out is not None:
        assert re.fullmatch(r"\+[1-9][0-9]{7,14}", out, re.ASCII)
        assert normalize_phone(out) == out


@given(st.integers(9 * 10**9, 10**10 - 1).map(str), st.sampled_from(["", "0", "98", "+98", "0098"]))
def test_normalize_phone_all_iranian_prefixes(number: str, prefix: str) -> None:
    assert normalize_phone(to_persian_digits(prefix + number)) == "+98" + number


# ---------------------------------------------------------------------------------------------
# parse_tracking_input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "1234567890",
        "۱۲۳۴۵۶۷۸۹۰",
        "١٢٣٤٥٦٧٨٩٠",
        "12345-67890",
        "۱۲۳۴۵-۶۷۸۹۰",
        "\u2066۱۲۳۴۵-۶۷۸۹۰\u2069",  # pasted back from format_code
        " 12345 67890 ",
        "123_456_7890",
        "123.456.7890",
        "1 2 3 4 5 6 7 8 9 0",
        "\u200f12345\u200e–67890",
    ],
)
def test_parse_tracking_input_accepts(typed: str) -> None:
    assert parse_tracking_input(typed) == "1234567890"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "123456789",
        "12345678901",
        "-1234567890",
        "1234567890-",
        "12345/67890",
        "12345a67890",
        "کد 1234567890",
        "#1234567890",
        "12345\n67890",
    ],
)
def test_parse_tracking_input_rejects(typed: str) -> None:
    assert parse_tracking_input(typed) is None


@settings(max_examples=300)
@given(st.one_of(any_text, tricky_text, st.text(alphabet="0123456789۰۹- _.", max_size=30)))
def test_parse_tracking_input_never_raises(s: str) -> None:
    out = parse_tracking_input(s)
    assert out is None or re.fullmatch(r"[0-9]{10}", out, re.ASCII)


# ---------------------------------------------------------------------------------------------
# display helpers
# ---------------------------------------------------------------------------------------------


def test_direction_helpers() -> None:
    assert ltr("+989121234567") == "\u2066+989121234567\u2069"
    assert rtl_line("123 شکایت") == "\u200f123 شکایت"
    assert normalize(ltr("۱۲")) == "12"  # the marks never leak into stored input


@pytest.mark.parametrize(
    ("source", "limit", "expected"),
    [
        ("سلام دنیا", 20, "سلام دنیا"),
        ("سلام دنیا", 9, "سلام دنیا"),
        ("سلام دنیای زیبا", 12, "سلام دنیای…"),
        ("سلام دنیای زیبا", 11, "سلام دنیای…"),  # the word ends exactly at the cut
        ("سلام دنیای زیبا", 10, "سلام…"),
        ("سلام، دنیای زیبا", 11, "سلام…"),  # trailing punctuation dropped before «…»
        ("خیلی‌خیلی‌طولانی", 6, "خیلی…"),  # one long word: hard cut, no dangling ZWNJ
        ("aaaaaaaaaa", 4, "aaa…"),
        ("a\n\nb   c", 10, "a b c"),
        ("abc", 1, "…"),
        ("", 5, ""),
    ],
)
def test_excerpt(source: str, limit: int, expected: str) -> None:
    assert excerpt(source, limit) == expected


def test_excerpt_rejects_nonpositive_limit() -> None:
    with pytest.raises(ValueError):
        excerpt("abc", 0)


@given(st.one_of(any_text, tricky_text), st.integers(min_value=1, max_value=80))
def test_excerpt_properties(s: str, limit: int) -> None:
    out = excerpt(s, limit)
    flat = " ".join(s.split())
    assert len(out) <= limit
    if len(flat) <= limit:
        assert out == flat
    else:
        assert out.endswith("…")
        assert flat.startswith(out[:-1])


# -- showing numbers, ids and typed text in a right-to-left line ------------------------------


def test_format_phone_national_form_in_persian_digits_isolated() -> None:
    assert t.format_phone("+989121234567") == "\u2066۰۹۱۲ ۱۲۳ ۴۵۶۷\u2069"
    assert t.format_phone("+441234567890") == "\u2066+۴۴۱۲۳۴۵۶۷۸۹۰\u2069"


def test_format_id_keeps_the_minus_on_the_left() -> None:
    assert t.format_id(-1002000000002) == "\u2066-۱۰۰۲۰۰۰۰۰۰۰۰۲\u2069"
    assert t.format_id(9101) == "\u2066۹۱۰۱\u2069"


def test_typed_digits_reads_what_the_bot_showed_and_nothing_more() -> None:
    assert t.typed_digits(t.format_id(-1002000000002)) == "-1002000000002"
    assert t.typed_digits("۹۱۰۱") == "9101"
    assert t.typed_digits("²³") == "²³"  # NFKC would make it 23: a forged id stays forged


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("پلاک 12، 180 هزار", "پلاک ۱۲، ۱۸۰ هزار"),
        ("صفحهٔ instagram.com/shop123", "صفحهٔ \u2066instagram.com/shop123\u2069"),
        ("https://shop.ir/p/42 را ببینید", "\u2066https://shop.ir/p/42\u2069 را ببینید"),
        ("@shop_22 و a1@mail.com", "\u2066@shop_22\u2069 و \u2066a1@mail.com\u2069"),
        ("فایل r0.pdf", "فایل r۰.pdf"),  # a file name is not a web address
    ],
)
def test_shown_writes_digits_in_persian_but_keeps_addresses(typed: str, shown: str) -> None:
    assert t.shown(typed) == shown


def test_rtl_lines_and_isolates() -> None:
    assert t.rtl_lines("a\nب") == "\u200fa\n\u200fب"
    assert t.fsi("Ali") == "\u2068Ali\u2069"
