"""The wall screen's pieces as HTML (pure functions, no Streamlit): its dark stylesheet, the big number cards
and the scrolling tickers. `views/wall.py` puts them on the page; every text is escaped here."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from dashboards.figures import FONT, WALL_BACKGROUND, WALL_TEXT

UP, DOWN, FLAT = "#22c55e", "#ef4444", "#94a3b8"
SECONDS_PER_TICKER_ITEM = 4  # the tickers scroll at about one item per this many seconds

STYLE = f"""
<style>
/* The wall screen: no sidebar, no header, no menu, no running-man; dark; large type. */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
[data-testid="stHeader"], header, [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stMainMenu"], footer {{ display: none !important; }}
html, body, .stApp, [data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
  background: {WALL_BACKGROUND} !important; color: {WALL_TEXT} !important;
}}
[data-testid="stMainBlockContainer"], .block-container {{
  padding: 1.2rem 2.2rem 1rem 2.2rem !important; max-width: 100% !important;
}}
.stApp p, .stApp span, .stApp div, .stApp h1, .stApp h2, .stApp h3 {{ font-family: {FONT}; }}
.stApp h1, .stApp h2, .stApp h3, .stApp p {{ color: {WALL_TEXT}; }}
.wall-head {{ display: flex; justify-content: space-between; align-items: baseline; }}
.wall-title {{ font-size: clamp(1.8rem, 2.4vw, 3.4rem); font-weight: 700; letter-spacing: .04em; }}
.wall-asof {{ font-size: 1.5rem; color: #94a3b8; }}
.wall-card {{ background: #111a2e; border: 1px solid #1e293b; border-radius: 14px; padding: 1rem 1.6rem; }}
.wall-label {{ font-size: 1.7rem; color: #94a3b8; }}
.wall-value {{ font-size: clamp(2.6rem, 4.4vw, 7rem); font-weight: 700; line-height: 1.15; font-variant-numeric: tabular-nums; }}
.wall-cmp {{ font-size: 1.5rem; color: #cbd5e1; margin-top: .2rem; font-variant-numeric: tabular-nums; }}
.wall-cmp b {{ font-weight: 700; margin: 0 .5rem; }}
.wall-ticker {{ overflow: hidden; white-space: nowrap; background: #111a2e; border-radius: 10px;
  border: 1px solid #1e293b; padding: .55rem 0; margin-top: .6rem; }}
.wall-ticker-label {{ display: inline-block; font-size: 1.5rem; font-weight: 700; padding: 0 1rem;
  position: relative; z-index: 1; background: #111a2e; }}
.wall-ticker-window {{ display: inline-block; overflow: hidden; vertical-align: bottom; width: calc(100% - 12rem); }}
.wall-ticker-track {{ display: inline-block; font-size: 1.5rem; padding-left: 100%;
  animation: wall-scroll linear infinite; }}
.wall-ticker-item {{ margin-right: 3rem; }}
.wall-empty {{ font-size: 1.5rem; color: #64748b; padding-left: 1rem; }}
@keyframes wall-scroll {{ from {{ transform: translateX(0); }} to {{ transform: translateX(-100%); }} }}
</style>
"""


@dataclass(frozen=True)
class Versus:
    """One comparison under a big number: label ('较昨日同时'), the change ('+12.3%'), the base shown."""

    label: str
    change: str | None
    base: str


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
        f'<div class="wall-value" data-testid="{html.escape(test_id)}">{html.escape(value)}</div>{rows}</div>'
    )


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
