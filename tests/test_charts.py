"""The digest chart: a small PNG whose Persian text is really shaped, not just present.

Shaping is checked on the glyphs the Agg renderer actually draws: in a shaped word each joining
letter is drawn with its contextual glyph (initial / medial / final form) and the glyphs run
right to left. With shaping off (matplotlib ≤ 3.10, or a reshaper fighting the native shaper)
the drawn glyphs would be the letters' isolated cmap glyphs in logical order, and these tests
fail.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib import _text_helpers, font_manager
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from matplotlib.ticker import ScalarFormatter

from bot import charts, text
from bot.domain.periods import Period, PeriodKind
from bot.domain.summary import Summary
from bot.views import summary as summary_views

NOW = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
TZ = ZoneInfo("Asia/Tehran")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WORD = "تقلب"  # teh, qaf, lam, beh: all four join, so every glyph has a contextual form
# The shaped word, left to right on the page: BEH FINAL, LAM MEDIAL, QAF MEDIAL, TEH INITIAL.
SHAPED_VISUAL = ("BEH FINAL", "LAM MEDIAL", "QAF MEDIAL", "TEH INITIAL")


def _summary(**kwargs: Any) -> Summary:
    base = Summary(
        start=NOW - timedelta(days=1), end=NOW, now=NOW, sla=timedelta(days=3), new=0,
        claimed=0, referred=0, resolved=0, rejected=0, backlog=0, backlog_by_status=(),
        oldest_open_age=None, median_open_age=None, claim_count=0, claim_median=None,
        claim_p90=None, resolve_median=None, resolve_p90=None, overdue_open=0,
        overdue_resolved=0, overdue=(), by_violation=(), by_province=(), by_unit=(),
        top_businesses=(), workload=(), ratings_count=0, ratings_mean=None,
    )  # fmt: skip
    return replace(base, **kwargs)


BUSY = _summary(
    new=1371,
    by_violation=(("overpricing", 1234), ("fraud", 56), ("health_rules", 70), ("other", 11)),
)


def _presentation_glyphs(font: FT2Font, names: tuple[str, ...]) -> list[int]:
    """Glyph ids the font maps the Arabic presentation-form code points to."""
    return [font.get_char_index(ord(unicodedata.lookup(f"ARABIC LETTER {n} FORM"))) for n in names]


@dataclass
class Drawn:
    text: str
    glyphs: list[tuple[FT2Font, int, float]]  # (font, glyph id, x offset), as drawn


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Drawn]:
    """Record every string the Agg renderer draws and the glyphs it draws it with."""
    record: list[Drawn] = []
    draw_text = RendererAgg.draw_text
    draw_glyphs = RendererAgg._draw_text_glyphs_and_boxes

    def spy_text(self: RendererAgg, gc: Any, x: float, y: float, s: str, *args: Any, **kw: Any):
        record.append(Drawn(s, []))
        return draw_text(self, gc, x, y, s, *args, **kw)

    def spy_glyphs(self: RendererAgg, gc: Any, x: float, y: float, angle: float, glyphs, boxes):
        glyphs = list(glyphs)
        if record:
            record[-1].glyphs += [(g[0], g[2], g[5]) for g in glyphs]
        return draw_glyphs(self, gc, x, y, angle, glyphs, boxes)

    monkeypatch.setattr(RendererAgg, "draw_text", spy_text)
    monkeypatch.setattr(RendererAgg, "_draw_text_glyphs_and_boxes", spy_glyphs)
    return record


def test_png_is_small_and_about_1200_by_800() -> None:
    png = charts.summary_chart(BUSY, "گزارش روزانهٔ ۷ آذر ۱۴۰۵")
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1200, 800)
    assert len(png) <= 200 * 1024


def test_persian_font_really_covers_persian() -> None:
    family = charts.persian_font_family()
    assert family is not None
    path = font_manager.findfont(family, fallback_to_default=False)
    assert charts.covers(path)
    latin_only = font_manager.findfont("cmr10", fallback_to_default=False)
    assert not charts.covers(latin_only)  # the check can say no


def test_chart_draws_the_title_shaped_and_right_to_left(drawn: list[Drawn]) -> None:
    charts.summary_chart(BUSY, WORD)  # the word is also the «fraud» bar's label
    words = [d for d in drawn if d.text == WORD]
    assert words and all(d.glyphs for d in words), "not drawn through the Agg text path"
    for d in words:
        font = d.glyphs[0][0]
        ids_left_to_right = [gid for _f, gid, _x in sorted(d.glyphs, key=lambda g: g[2])]
        assert ids_left_to_right == _presentation_glyphs(font, SHAPED_VISUAL)
        isolated_logical = [font.get_char_index(ord(ch)) for ch in WORD]
        assert ids_left_to_right != isolated_logical
        assert ids_left_to_right != isolated_logical[::-1]  # not merely reversed either


def test_every_persian_label_is_joined_and_digits_are_persian(drawn: list[Drawn]) -> None:
    charts.summary_chart(BUSY, "گزارش روزانهٔ ۷ آذر ۱۴۰۵")
    texts = [d for d in drawn if d.text.strip()]
    assert texts
    for d in texts:
        assert not re.search(r"[0-9]", d.text), d.text  # ticks and bar labels: Persian digits
        if not re.search(r"[\u0628-\u064a\u067e-\u06cc]", d.text):
            continue
        font = d.glyphs[0][0]
        isolated = {font.get_char_index(ord(ch)) for ch in d.text}
        contextual = [gid for _f, gid, _x in d.glyphs if gid not in isolated]
        assert contextual, f"{d.text!r} drawn with isolated letters only"


def test_matplotlib_layout_joins_letters() -> None:
    """The primitive the renderer uses: contextual glyphs, laid out right to left."""
    path = font_manager.findfont(charts.persian_font_family() or "DejaVu Sans")
    font = FT2Font(path)
    font.set_size(12, 72)
    items = list(_text_helpers.layout(WORD, font))
    by_x = sorted(items, key=lambda item: item.x)
    assert [item.glyph_index for item in by_x] == _presentation_glyphs(font, SHAPED_VISUAL)
    assert [item.char for item in by_x] == list(reversed(WORD))  # right to left


def test_no_font_for_persian_still_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "FONT_CANDIDATES", ("cmr10",))
    charts.persian_font_family.cache_clear()
    try:
        assert charts.persian_font_family() is None
        assert charts.summary_chart(BUSY, WORD).startswith(PNG_SIGNATURE)
    finally:
        charts.persian_font_family.cache_clear()


def test_empty_period_chart() -> None:
    png = charts.summary_chart(_summary(), "گزارش روزانهٔ ۷ آذر ۱۴۰۵")
    assert png.startswith(PNG_SIGNATURE) and len(png) <= 200 * 1024


def _texts(fig: Figure) -> list[str]:
    """Every non-empty text the figure holds once drawn: title, tick labels, bar counts, axis
    label (ticks are made at draw time, so the figure is drawn first)."""
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _latin_digits(fig: Figure) -> list[str]:
    return [t for t in _texts(fig) if re.search(r"[0-9]", t)]


SMALL = _summary(new=1, by_violation=(("fraud", 1),))  # ticks at 0, 1, 2: no thousands


@pytest.mark.parametrize("summary", [BUSY, SMALL, _summary()], ids=["busy", "small", "empty"])
@pytest.mark.parametrize("kind", [PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH])
def test_no_latin_digit_in_any_text_of_the_figure(summary: Summary, kind: PeriodKind) -> None:
    title = summary_views.period_title(Period.containing(kind, NOW, TZ), TZ)
    fig = charts.build_figure(summary, title)
    texts = _texts(fig)
    assert title in texts
    assert not _latin_digits(fig), texts
    if summary.by_violation:
        counts = [text.format_number(n) for _code, n in summary.by_violation]
        assert set(counts) <= set(texts)  # each bar's count is on the chart, in Persian digits
        assert "۰" in texts  # the axis' ticks are there, in Persian digits


def test_the_digit_check_can_say_no() -> None:
    fig = charts.build_figure(BUSY, "گزارش")
    fig.axes[0].xaxis.set_major_formatter(ScalarFormatter())  # matplotlib's own: Latin digits
    assert "1200" in _latin_digits(fig)
