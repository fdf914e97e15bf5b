"""The display rules the end-to-end suite applies to every sent text catch what they should
(tests/persian_output.py): a check that never fires would pass any bot."""

from __future__ import annotations

import pytest

from bot.localapi import Call
from tests.persian_output import Shown, latin_digits, ltr_lines, offences, untranslated

RLM, LRI, FSI, PDI = "\u200f", "\u2066", "\u2068", "\u2069"


def _rules(text: str, entities: tuple[dict[str, object], ...] = ()) -> set[str]:
    shown = Shown("here", text, entities)
    return {o.rule for o in (*latin_digits(shown), *ltr_lines(shown), *untranslated(shown))}


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("شکایت ۱۲۳ ثبت شد", set()),
        ("شکایت 123 ثبت شد", {"Latin digit"}),
        ("/ask کد پرسش — پرسش از شهروند", {"left-to-right line"}),
        (f"پرسش از شهروند: {LRI}/ask{PDI} کد پرسش", set()),
        ("• it_cyber — فناوری اطلاعات", {"left-to-right line"}),
        (f"{RLM}• it_cyber — فناوری اطلاعات", set()),
        # 🆕 is a letter-like symbol: bidi class L.
        (f"🆕 شکایت {LRI}۱۲۳۴۵-۶۷۸۹۰{PDI}", {"left-to-right line"}),
        (f"{RLM}🆕 شکایت {LRI}۱۲۳۴۵-۶۷۸۹۰{PDI}", set()),
        # A line of nothing but an isolate has no direction of its own.
        (f"{LRI}۰۹۱۲ ۱۲۳ ۴۵۶۷{PDI}", {"left-to-right line"}),
        (f"{FSI}Ali{PDI}، پرسش خود را بنویسید", set()),
        ("Ali، پرسش خود را بنویسید", {"left-to-right line"}),
        ("نقشه: https://www.openstreetmap.org/?mlat=35.7#map=17", set()),
        ("صفحهٔ instagram.com/shop123 و @shop_22", set()),
        ("برای گزارش /report1 را بفرستید", set()),
        ("Released back to the queue.", {"untranslated", "left-to-right line"}),
        ("Done.", {"untranslated", "left-to-right line"}),
        ("سلام User", set()),
    ],
)
def test_rules(text: str, rules: set[str]) -> None:
    assert _rules(text) == rules


def test_code_spans_may_hold_latin_digits() -> None:
    text = "فایل r0.pdf رسید"
    assert _rules(text) == {"Latin digit"}
    code = {"type": "code", "offset": text.index("r0"), "length": 6}
    assert _rules(text, (code,)) == set()


def test_every_kind_of_sent_text_is_read() -> None:
    """Texts, captions, edits, album captions, alerts, buttons and the command menu."""
    calls = [
        Call("sendMessage", {"chat_id": 1, "text": "<b>گام 1</b>", "parse_mode": "HTML"}),
        Call("editMessageText", {"chat_id": 1, "text": "گام 2"}),
        Call("sendPhoto", {"chat_id": 1, "caption": "گام 3"}),
        Call("sendMediaGroup", {"chat_id": 1, "media": [{"type": "photo", "caption": "گام 4"}]}),
        Call("answerCallbackQuery", {"callback_query_id": "q", "text": "گام 5"}),
        Call(
            "sendMessage",
            {
                "chat_id": 1,
                "text": "بله",
                "reply_markup": {"inline_keyboard": [[{"text": "گام 6", "callback_data": "x"}]]},
            },
        ),
        Call("setMyCommands", {"commands": [{"command": "start", "description": "گام 7"}]}),
    ]
    lines = {o.line for o in offences(calls) if o.rule == "Latin digit"}
    assert lines == {f"گام {n}" for n in range(1, 8)}
