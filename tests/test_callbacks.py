"""The callback codecs: every button round-trips within Telegram's 64 bytes, and anything
malformed or forged parses to None (never an exception, never an id out of its column)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import callbacks as cb
from bot.domain import ids
from bot.domain import pending as p
from bot.domain.complaint import CHOICE_STEPS, EDIT_GROUPS_OF, DraftKind
from bot.domain.lifecycle import Action, Outcome
from bot.domain.periods import Period, PeriodKind

BIG = ids.INT32_MAX
row_ids = st.integers(1, BIG)
NOT_PRESSED = (Action.SUBMIT, Action.CITIZEN_ANSWER, Action.CLOSE, Action.LINK)
PRESSED = [a for a in Action if a not in NOT_PRESSED]


def _all_presses() -> list[object]:
    period = Period(PeriodKind.MONTH, date(2026, 11, 22))
    return [
        *(
            cb.Choose(step, "a_code_of_thirty_two_characters_", kind)
            for step in CHOICE_STEPS
            for kind in DraftKind
        ),
        *(cb.ProvincePage(ids.MAX_PAGE, kind) for kind in DraftKind),
        *(cb.CancelFiling(kind) for kind in DraftKind),
        *(cb.Confirm(kind) for kind in DraftKind),
        *(cb.EditMenu(kind) for kind in DraftKind),
        *(cb.BackToReview(kind) for kind in DraftKind),
        *(cb.EditPart(g, kind) for kind in DraftKind for g in EDIT_GROUPS_OF[kind]),
        cb.UrgentMenu(),
        cb.UrgentTo(BIG),
        cb.UrgentTo(None),
        cb.OpenCase("1234567897"),
        cb.CasesPage(ids.MAX_PAGE),
        cb.Rate(BIG, 5),
        cb.AskReopen(BIG),
        cb.AnswerQuestion(BIG),
        *(
            cb.Route(BIG, target)
            for target in (
                p.Answer(BIG),
                p.Comment(BIG),
                p.ReopenReason(BIG),
                p.TrackingCode(),
                cb.ToDraft(),
                cb.ToCall(),
            )
        ),
        *(cb.CardAction(action, BIG) for action in PRESSED),
        *(cb.CardShow(show, BIG) for show in cb.Show),
        cb.ReferTo(BIG, BIG),
        *(cb.ResolveAs(BIG, outcome) for outcome in Outcome),
        *(cb.Drilldown(view, period) for view in cb.DrillView),
    ]


PARSERS = (cb.parse_filing, cb.parse_cases, cb.parse_card, cb.parse_report)


def test_every_press_round_trips_within_64_bytes() -> None:
    for press in _all_presses():
        data = press.encode()  # type: ignore[attr-defined]  # every codec has encode()
        assert len(data.encode()) <= cb.MAX_BYTES, data
        parsed = [parse(data) for parse in PARSERS]
        assert [x for x in parsed if x is not None] == [press], data


def test_cards_posted_by_earlier_versions_still_parse() -> None:
    assert cb.parse_card("s:urgent:5") == cb.CardAction(Action.MARK_URGENT, 5)
    assert cb.parse_card("s:accept:5") == cb.CardAction(Action.ACCEPT_REFERRAL, 5)
    assert cb.parse_card("s:return:5") == cb.CardAction(Action.RETURN_REFERRAL, 5)


def test_forged_values_parse_to_none() -> None:
    forged = [
        "s:claim:²",
        "s:claim:2147483648",
        "s:claim:0",
        "s:claim:-1",
        "s:submit:5",
        "s:close:5",
        "s:citizen_answer:5",
        "s:ro:5:bogus",
        "s:ru:5:٣",
        "c:rate:99999999999999999999:5",
        "c:rate:5:6",
        "c:rate:5:0",
        "c:reo:²",
        "c:l:²",
        "c:l:10000",
        "c:o:12345",
        "c:o:۱۲۳۴۵۶۷۸۹۰",
        "c:to:1:x:5",
        "c:to:1:a",
        "c:to:0:t",
        "c:to:1:t:extra",
        "f:violation:OVERPRICING",
        "f:violation:" + "a" * 33,
        "f:review:x",
        "f:eg:nothing",
        "f:pp:-1",
        "r:prov:d:99991231",
        "r:prov:d:2026112٧",
        "r:evil:d:20261127",
        "s:claim:" + "1" * 60,
        "",
        ":",
        "s",
    ]
    for data in forged:
        assert all(parse(data) is None for parse in PARSERS), data


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_never_raises(data: str) -> None:
    for parse in PARSERS:
        parse(data)


@settings(max_examples=100, deadline=None)
@given(row_ids, row_ids, st.sampled_from(list(Outcome)))
def test_ids_round_trip_at_any_size(case_id: int, other: int, outcome: Outcome) -> None:
    assert cb.parse_card(cb.ReferTo(case_id, other).encode()) == cb.ReferTo(case_id, other)
    assert cb.parse_card(cb.ResolveAs(case_id, outcome).encode()) == cb.ResolveAs(case_id, outcome)
    route = cb.Route(case_id, p.Comment(other))
    assert cb.parse_cases(route.encode()) == route


def test_id_parsers_take_ascii_digits_within_the_column_only() -> None:
    assert ids.row_id("2147483647") == BIG and ids.row_id("2147483648") is None
    assert ids.row_id("٥") is None and ids.row_id("²") is None and ids.row_id("0") is None
    assert ids.user_id("4503599627370496") == 2**52 and ids.user_id(str(2**52 + 1)) is None
    assert ids.chat_id("-1001234567890") == -1001234567890 and ids.chat_id("-") is None
    assert ids.chat_id("--5") is None and ids.chat_id("+5") is None
    assert ids.page("0") == 0 and ids.page("10000") is None
    assert ids.in_range("5", 1, 5) == 5 and ids.in_range("0", 1, 5) is None


def test_pending_inputs_round_trip_and_unknown_values_are_nothing() -> None:
    for value in (p.TrackingCode(), p.Answer(BIG), p.Comment(1), p.ReopenReason(7), p.Filing()):
        assert p.parse(value.encode()) == value
        assert len(value.encode()) <= 32  # users.pending_input is String(32)
    for stored in (None, "", "answer:", "answer:²", "comment:0", "nothing:5", "track:5"):
        assert p.parse(stored) is None
