"""PNG charts for the managers' digest.

matplotlib ≥ 3.11 shapes Arabic-script text itself (libraqm + HarfBuzz), so Persian labels are
passed as plain strings: reshaping them by hand would now reverse them. We draw on a bare
`Figure` with the Agg canvas and pass fonts explicitly, so nothing here changes pyplot's
backend or rcParams for the rest of the process (or for tests running alongside).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from functools import cache

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot import text
from bot.domain.catalogue import VIOLATIONS_BY_CODE
from bot.domain.summary import Summary
from bot.i18n import _

log = logging.getLogger(__name__)

# Preferred first; DejaVu Sans ships with matplotlib and has Arabic and Persian glyphs.
FONT_CANDIDATES = ("Vazirmatn", "DejaVu Sans", "Noto Sans Arabic")
# Letters that differ from Arabic, joining letters, Persian digits and the separators we print.
PERSIAN_SAMPLE = "آابپتجچخدرژسشعغفقکگلمنوهی۰۱۲۳۴۵۶۷۸۹٬٫\u200c"
SIZE_INCHES = (12, 8)
DPI = 100
BAR_COLOR = "#2f6f8f"


def covers(path: str, sample: str = PERSIAN_SAMPLE) -> bool:
    """Whether the font file has a glyph for every character of `sample`."""
    font = FT2Font(path)
    return all(font.get_char_index(ord(ch)) for ch in sample)


@cache
def persian_font_family() -> str | None:
    """The first candidate family installed whose font really covers Persian, else None.

    With None the chart is still drawn (in matplotlib's default font) so a digest is never
    lost to a missing font; the labels may then show as boxes, which the log explains.
    """
    for family in FONT_CANDIDATES:
        try:
            path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        if covers(path):
            return family
    log.warning("no installed font covers Persian; chart labels may not render")
    return None


def _font(size: float, weight: str = "normal") -> FontProperties:
    family = persian_font_family()
    families = [family, "DejaVu Sans"] if family else ["sans-serif"]
    return FontProperties(family=families, size=size, weight=weight)


def _violation_label(code: str) -> str:
    choice = VIOLATIONS_BY_CODE.get(code)
    return _(choice.label) if choice else code


def build_figure(summary: Summary, title: str) -> Figure:
    """The chart as a Figure (bars of new complaints by violation type), not yet rendered."""
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout=ConstrainedLayoutEngine(w_pad=0.3, h_pad=0.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    fig.suptitle(title, fontproperties=_font(18, "bold"))
    rows = list(reversed(summary.by_violation))  # barh draws bottom-up: largest on top
    if not rows:
        _empty(ax)
        return fig
    labels = [_violation_label(code) for code, _n in rows]
    counts = [n for _code, n in rows]
    bars = ax.barh(range(len(rows)), counts, color=BAR_COLOR)
    _persian_axes(ax, labels, counts)
    ax.bar_label(
        bars, labels=[text.format_number(n) for n in counts], padding=4, fontproperties=_font(12)
    )
    return fig


def _persian_axes(ax: Axes, labels: Sequence[str], counts: Sequence[int]) -> None:
    """Right-to-left reading: bars grow leftwards from labels on the right; Persian digits."""
    ax.set_yticks(range(len(labels)), labels, fontproperties=_font(13))
    ax.yaxis.tick_right()
    ax.set_xlim(0, max(counts) * 1.15)
    ax.invert_xaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: text.format_number(round(value)))
    )
    # Ticks are rebuilt at draw time, so their font goes through tick_params, not the labels.
    ax.tick_params(axis="x", labelsize=11, labelfontfamily=_font(11).get_family())
    ax.set_xlabel(_("New complaints"), fontproperties=_font(13))
    for side in ("top", "left"):
        ax.spines[side].set_visible(False)


def _empty(ax: Axes) -> None:
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        _("No new complaints."),
        ha="center",
        va="center",
        fontproperties=_font(16),
        transform=ax.transAxes,
    )


def summary_chart(summary: Summary, title: str) -> bytes:
    """PNG bytes (about 1200×800, tens of KB) of new complaints by violation type."""
    fig = build_figure(summary, title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()
