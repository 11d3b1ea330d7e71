"""The wall screen's pieces as HTML (pure functions, no Streamlit): its dark stylesheet, the big number cards,
the bar panels (today's shop split, the 7-day trend, the per-shop margin) and the scrolling tickers.
`views/wall.py` puts them on the page; every text is escaped here.

The board is sized for a TV, in viewport units: every height is a share of the screen's height (`vh`) so the
board fills it at any resolution with no scrollbar, and every type size is a multiple of `--u`, one hundredth
of the screen's height (or of its width's 16:9 share on a narrower screen), so text is as large at 3 m on a 4K
screen as on a 1080p one. The bars are drawn as HTML rather than Plotly: Plotly's type is sized in fixed pixels
by the server, which does not know the screen.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from dashboards.figures.common import FONT, WALL_BACKGROUND, WALL_TEXT

UP, DOWN, FLAT = "#22c55e", "#ef4444", "#94a3b8"
BAR = "#3b82f6"
SECONDS_PER_TICKER_ITEM = 4  # the tickers scroll at about one item per this many seconds

# Heights in vh: the page's padding, the head, the cards' row, the tickers and the gaps between them; the
# panels' row takes the rest of the screen.
PAD_TOP, PAD_BOTTOM, GAP = 1.6, 1.4, 1.2
HEAD, CARDS, TICKER = 5.4, 31.0, 5.6
PANELS = 100 - PAD_TOP - PAD_BOTTOM - HEAD - CARDS - 2 * TICKER - 4 * GAP - 0.6  # 0.6: rounding slack

STYLE = f"""
<style>
/* The wall screen: no sidebar, no header, no menu, no running-man; dark; sized by the viewport. */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
[data-testid="stHeader"], header, [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stMainMenu"], footer {{ display: none !important; }}
html, body, .stApp, [data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
  background: {WALL_BACKGROUND} !important; color: {WALL_TEXT} !important;
}}
html, body {{ overflow: hidden !important; }}
.stApp {{ --u: min(1vh, 0.5625vw); }}
[data-testid="stMainBlockContainer"], .block-container {{
  padding: {PAD_TOP}vh 1.6vw {PAD_BOTTOM}vh 1.6vw !important; max-width: 100% !important;
}}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {{ gap: {GAP}vh !important; }}
[data-testid="stMainBlockContainer"] [data-testid="stHorizontalBlock"] {{ gap: 1.2vw !important;
  flex-wrap: nowrap !important; }}  /* Streamlit's column widths assume its own gap: they would wrap on a 4K screen */
[data-testid="stMainBlockContainer"] [data-testid="stColumn"] {{ min-width: 0 !important; }}
.stApp p, .stApp span, .stApp div, .stApp h1, .stApp h2, .stApp h3 {{ font-family: {FONT}; }}
.stApp h1, .stApp h2, .stApp h3, .stApp p {{ color: {WALL_TEXT}; }}
.wall-head {{ display: flex; justify-content: space-between; align-items: baseline; height: {HEAD}vh;
  overflow: hidden; white-space: nowrap; gap: 2vw; }}
.wall-title {{ font-size: max(1.4rem, calc(var(--u) * 4.2)); font-weight: 700; letter-spacing: .04em; }}
.wall-asof {{ font-size: max(.9rem, calc(var(--u) * 2.3)); color: #94a3b8; font-variant-numeric: tabular-nums; }}
.wall-card, .wall-panel {{ background: #111a2e; border: 1px solid #1e293b; border-radius: calc(var(--u) * 1.4);
  padding: 1.4vh 1.4vw; box-sizing: border-box; overflow: hidden; }}
.wall-card {{ height: {CARDS}vh; display: flex; flex-direction: column; justify-content: center;
  container-type: inline-size; }}
.wall-panel {{ display: flex; flex-direction: column; }}
.wall-cards-row {{ height: {CARDS}vh; }}
.wall-panels-row {{ height: {PANELS:.1f}vh; }}
.wall-label, .wall-panel-title {{ font-size: max(1rem, calc(var(--u) * 2.7)); color: #94a3b8; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }}
.wall-panel-note {{ font-size: max(.8rem, calc(var(--u) * 1.9)); color: #64748b; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; margin-bottom: .8vh; }}
.wall-value {{ font-size: max(2.4rem, calc(var(--u) * 9.5)); font-weight: 700; line-height: 1.15;
  font-variant-numeric: tabular-nums; white-space: nowrap; }}
/* a long number (¥12,345,678.90) shrinks to its card's width: a character is about half an em wide */
@container (min-width: 1px) {{
  .wall-value {{ font-size: max(1.6rem, min(calc(var(--u) * 9.5), calc(200cqw / var(--chars, 8)))); }}
}}
.wall-cmp {{ font-size: max(.95rem, calc(var(--u) * 2.5)); color: #cbd5e1; margin-top: .4vh;
  font-variant-numeric: tabular-nums; white-space: nowrap; }}
.wall-cmp b {{ font-weight: 700; margin: 0 .5em; }}
/* horizontal bars: one row per shop */
.wall-hbars {{ flex: 1; display: flex; flex-direction: column; justify-content: space-around; min-height: 0; }}
.wall-hbar {{ display: grid; grid-template-columns: 26% 1fr auto; align-items: center; gap: .8vw;
  font-size: max(.9rem, calc(var(--u) * 2.4)); font-variant-numeric: tabular-nums; white-space: nowrap; }}
.wall-hbar-name {{ overflow: hidden; text-overflow: ellipsis; }}
.wall-hbar-track {{ height: calc(var(--u) * 2.6); background: #0b1220; border-radius: calc(var(--u) * .5); }}
.wall-hbar-fill {{ height: 100%; border-radius: calc(var(--u) * .5); min-width: 2px; }}
.wall-hbar-value {{ text-align: right; min-width: 6em; }}
.wall-hbar-value small {{ color: #94a3b8; font-size: .85em; margin-left: .5em; }}
/* vertical bars: one column per day */
.wall-vbars {{ flex: 1; display: grid; grid-auto-flow: column; grid-auto-columns: 1fr; gap: .9vw; min-height: 0; }}
.wall-vbar {{ display: flex; flex-direction: column; align-items: stretch; min-height: 0; text-align: center;
  font-variant-numeric: tabular-nums; white-space: nowrap; }}
.wall-vbar-value {{ font-size: max(.8rem, calc(var(--u) * 2.1)); font-weight: 700; }}
.wall-vbar-plot {{ flex: 1; display: flex; flex-direction: column; justify-content: flex-end; min-height: 0;
  margin: .5vh 0; }}
.wall-vbar-fill {{ background: {BAR}; border-radius: calc(var(--u) * .5) calc(var(--u) * .5) 0 0; min-height: 2px; }}
.wall-vbar-day {{ font-size: max(.8rem, calc(var(--u) * 2.1)); color: #cbd5e1; }}
.wall-vbar-orders {{ font-size: max(.8rem, calc(var(--u) * 2.1)); color: #94a3b8; }}
.wall-empty {{ font-size: max(.9rem, calc(var(--u) * 2.4)); color: #64748b; padding-left: 1vw; }}
.wall-ticker {{ overflow: hidden; white-space: nowrap; background: #111a2e; border-radius: calc(var(--u) * 1);
  border: 1px solid #1e293b; height: {TICKER}vh; box-sizing: border-box; display: flex; align-items: center; }}
.wall-ticker-label {{ display: inline-block; font-size: max(.95rem, calc(var(--u) * 2.6)); font-weight: 700;
  padding: 0 1vw; position: relative; z-index: 1; background: #111a2e; flex: none; }}
.wall-ticker-window {{ display: inline-block; overflow: hidden; flex: 1; min-width: 0; }}
.wall-ticker-track {{ display: inline-block; font-size: max(.95rem, calc(var(--u) * 2.6)); padding-left: 100%;
  animation: wall-scroll linear infinite; }}
.wall-ticker-item {{ margin-right: 3vw; }}
@keyframes wall-scroll {{ from {{ transform: translateX(0); }} to {{ transform: translateX(-100%); }} }}
</style>
"""


@dataclass(frozen=True)
class Versus:
    """One comparison under a big number: label ('较昨日同时'), the change ('+12.3%'), the base shown."""

    label: str
    change: str | None
    base: str


@dataclass(frozen=True)
class Bar:
    """One bar of a panel: its label, its value as a number (the bar's length) and as shown, a second text
    shown beside or under it, its colour."""

    label: str
    value: float | None
    shown: str
    note: str = ""
    color: str = BAR


def _color(change: str | None) -> str:
    if not change or change.startswith(("+0.0", "-0.0")):
        return FLAT
    return UP if change.startswith("+") else DOWN


def card(label: str, value: str, versus: Sequence[Versus], test_id: str) -> str:
    """A big number with its comparisons, e.g. today's GMV against the same time yesterday and last week."""
    rows = "".join(
        f'<div class="wall-cmp">{html.escape(v.label)}'
        f'<b style="color:{_color(v.change)}">{html.escape(v.change or "—")}</b>'
        f"{html.escape(v.base)}</div>"
        for v in versus
    )
    return (
        f'<div class="wall-card"><div class="wall-label">{html.escape(label)}</div>'
        f'<div class="wall-value" style="--chars:{len(value)}" data-testid="{html.escape(test_id)}">'
        f"{html.escape(value)}</div>{rows}</div>"
    )


def _panel(title: str, note: str, body: str, test_id: str, row: str) -> str:
    return (
        f'<div class="wall-panel {row}" data-testid="{html.escape(test_id)}">'
        f'<div class="wall-panel-title">{html.escape(title)}</div>'
        f'<div class="wall-panel-note">{html.escape(note)}</div>{body}</div>'
    )


def _share(value: float | None, scale: float) -> float:
    """A bar's length in percent of its track (0 without a value or a scale)."""
    if value is None or value != value or scale <= 0:
        return 0.0
    return max(0.0, min(100.0, abs(value) / scale * 100))


def hbars(
    title: str,
    bars: Sequence[Bar],
    test_id: str,
    note: str = "",
    empty: str = "",
    row: str = "",
    scale: float | None = None,
) -> str:
    """A panel of horizontal bars, one per row (e.g. per shop), lengths relative to `scale` (default the
    largest |value|); a negative value is drawn in red. Each row carries data-label, data-value (the shown
    text) and data-note for tests."""
    if scale is None:
        scale = max((abs(b.value) for b in bars if b.value is not None and b.value == b.value), default=0.0)
    rows = "".join(
        f'<div class="wall-hbar" data-label="{html.escape(b.label)}" data-value="{html.escape(b.shown)}"'
        f' data-note="{html.escape(b.note)}">'
        f'<span class="wall-hbar-name">{html.escape(b.label)}</span>'
        f'<span class="wall-hbar-track"><span class="wall-hbar-fill" style="display:block;'
        f'width:{_share(b.value, scale):.1f}%;background:{DOWN if (b.value or 0) < 0 else b.color}"></span></span>'
        f'<span class="wall-hbar-value">{html.escape(b.shown)}'
        + (f"<small>{html.escape(b.note)}</small>" if b.note else "")
        + "</span></div>"
        for b in bars
    )
    body = (
        f'<div class="wall-hbars">{rows}</div>'
        if bars
        else f'<div class="wall-empty">{html.escape(empty)}</div>'
    )
    return _panel(title, note, body, test_id, row)


def vbars(
    title: str, bars: Sequence[Bar], test_id: str, note: str = "", empty: str = "", row: str = ""
) -> str:
    """A panel of vertical bars, one column per item (e.g. per day, oldest first): the shown value on top, the
    label and the note under the bar; heights relative to the largest value. Each column carries data-label,
    data-value and data-note for tests."""
    scale = max((b.value for b in bars if b.value is not None and b.value == b.value), default=0.0)
    cols = "".join(
        f'<div class="wall-vbar" data-label="{html.escape(b.label)}" data-value="{html.escape(b.shown)}"'
        f' data-note="{html.escape(b.note)}">'
        f'<span class="wall-vbar-value">{html.escape(b.shown)}</span>'
        f'<span class="wall-vbar-plot"><span class="wall-vbar-fill" style="display:block;'
        f'height:{_share(b.value, scale):.1f}%;background:{b.color}"></span></span>'
        f'<span class="wall-vbar-day">{html.escape(b.label)}</span>'
        f'<span class="wall-vbar-orders">{html.escape(b.note)}</span></div>'
        for b in bars
    )
    body = (
        f'<div class="wall-vbars">{cols}</div>'
        if bars
        else f'<div class="wall-empty">{html.escape(empty)}</div>'
    )
    return _panel(title, note, body, test_id, row)


def ticker(label: str, items: Sequence[str], empty: str, color: str) -> str:
    """A labelled line of items scrolling right to left (the same markup while the items are the same, so a
    refresh without news does not restart the scroll)."""
    head = f'<span class="wall-ticker-label" style="color:{color}">{html.escape(label)}</span>'
    if not items:
        return f'<div class="wall-ticker">{head}<span class="wall-empty">{html.escape(empty)}</span></div>'
    body = "".join(f'<span class="wall-ticker-item">{html.escape(item)}</span>' for item in items)
    seconds = max(20, SECONDS_PER_TICKER_ITEM * len(items))
    return (
        f'<div class="wall-ticker">{head}<span class="wall-ticker-window">'
        f'<span class="wall-ticker-track" style="animation-duration:{seconds}s">{body}</span></span></div>'
    )


def head(title: str, as_of: str) -> str:
    """The title line with the snapshot's as-of time."""
    return (
        f'<div class="wall-head"><span class="wall-title">{html.escape(title)}</span>'
        f'<span class="wall-asof">{html.escape(as_of)}</span></div>'
    )
