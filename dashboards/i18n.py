"""A tiny translation helper: `t("gmv")` -> "GMV 成交额" (zh, default) or "GMV" (en).

The texts live in `dashboards/strings/*.toml`, one file per page or shared area (`[key]` with its `zh` and `en`
text), loaded once into `STRINGS` when this module is imported; a key defined in two files stops the import,
naming both files. The current language lives in `st.session_state["lang"]` (set by the sidebar switch in
app.py); pass `lang=` explicitly where there is no Streamlit session (tests, figure builders).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

Lang = Literal["zh", "en"]
DEFAULT_LANG: Lang = "zh"
LANG_KEY = "lang"
LANG_NAMES: dict[Lang, str] = {"zh": "中文", "en": "English"}
STRINGS_DIR = Path(__file__).resolve().parent / "strings"


class StringsError(ValueError):
    """A file of dashboards/strings/ cannot be used: not TOML, a key already defined in another file, or an entry
    without exactly a zh and an en text."""


def load_strings(directory: Path = STRINGS_DIR) -> dict[str, dict[Lang, str]]:
    """Every `<directory>/*.toml`, in file name order, as one dict: key -> {"zh": text, "en": text}."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise StringsError(f"No translation files (*.toml) in {directory}")
    strings: dict[str, dict[Lang, str]] = {}
    defined_in: dict[str, str] = {}
    for file in files:
        try:
            table = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise StringsError(f"{file}: {exc}") from exc
        for key, entry in table.items():
            if key in defined_in:
                raise StringsError(
                    f"Translation key {key!r} is defined twice: in {defined_in[key]} and in {file.name} "
                    f"({directory}); keep one"
                )
            if not (
                isinstance(entry, dict)
                and set(entry) == set(LANG_NAMES)
                and all(isinstance(text, str) for text in entry.values())
            ):
                raise StringsError(f"{file}: [{key}] needs exactly a zh and an en text, found {entry!r}")
            defined_in[key] = file.name
            strings[key] = {lang: entry[lang] for lang in LANG_NAMES}
    return strings


STRINGS: dict[str, dict[Lang, str]] = load_strings()


def current_lang() -> Lang:
    """The session's language, or the default outside a Streamlit session."""
    try:
        import streamlit as st

        lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    except Exception:  # no script run context (plain Python, unit tests)
        return DEFAULT_LANG
    return lang if lang in LANG_NAMES else DEFAULT_LANG


def t(key: str, lang: Lang | None = None, **params: object) -> str:
    """The text for `key` in `lang` (default: the session's), with `{params}` filled in."""
    entry = STRINGS.get(key)
    if entry is None:
        raise KeyError(f"No translation for {key!r}: add it to its page's file in dashboards/strings/")
    text = entry[lang or current_lang()]
    return text.format(**params) if params else text
