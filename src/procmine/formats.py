"""Numbers as readers write them: Vietnamese (``1.234.567,5``) or English (``1,234,567.5``).

One definition for every text procmine writes for people — the candidates' evidence, the
simplification plan, and the report to come — so an amount reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["LANGUAGES", "MISSING", "format_date", "format_number", "format_percent", "format_vnd"]

LANGUAGES = ("vi", "en")
MISSING = "—"  # how a missing value is written


def format_number(value: Any, lang: str = "vi", digits: int = 0) -> str:
    """``value`` with ``digits`` decimals, grouped in thousands the way ``lang`` writes numbers
    (Vietnamese: ``1.234,5``; English: ``1,234.5``); a missing value is a dash.

    >>> format_number(1234.5, digits=1), format_number(1234.5, "en", 1), format_number(None)
    ('1.234,5', '1,234.5', '—')
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; got {lang!r}.")
    if value is None or pd.isna(value):
        return MISSING
    text = f"{float(value):,.{digits}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # -0.4 rounds to 0, not to "-0"
    # Vietnamese swaps the separators: the thousands dot, the decimal comma.
    return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text


def format_vnd(value: Any, lang: str = "vi") -> str:
    """An amount in whole Vietnamese đồng, as ``lang`` writes it.

    >>> format_vnd(2_340_000), format_vnd(2_340_000, "en")
    ('2.340.000 đồng', '2,340,000 VND')
    """
    number = format_number(value, lang)
    return number if number == MISSING else f"{number} {'đồng' if lang == 'vi' else 'VND'}"


def format_date(value: Any, lang: str = "vi", time: bool = False) -> str:
    """A date (or date-time with ``time=True``) as ``lang`` writes it: ``dd/mm/yyyy`` in
    Vietnamese, ``yyyy-mm-dd`` in English; a missing value is a dash. The stamp's own wall-clock
    time is written (a log's stamps are in its clock's zone).

    >>> stamp = pd.Timestamp("2024-11-05 14:30", tz="Asia/Ho_Chi_Minh")
    >>> format_date(stamp), format_date(stamp, "en", time=True), format_date(pd.NaT)
    ('05/11/2024', '2024-11-05 14:30', '—')
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; got {lang!r}.")
    if value is None or pd.isna(value):
        return MISSING
    pattern = "%d/%m/%Y" if lang == "vi" else "%Y-%m-%d"
    return pd.Timestamp(value).strftime(pattern + (" %H:%M" if time else ""))


def format_percent(share: Any, lang: str = "vi", digits: int = 1) -> str:
    """A share (0.2 = 20 %) as a percentage with ``digits`` decimals, as ``lang`` writes it.

    >>> format_percent(0.2), format_percent(0.05, "en", 0), format_percent(float("nan"))
    ('20,0%', '5%', '—')
    """
    if share is None or pd.isna(share):
        return format_number(share, lang)
    return f"{format_number(100 * float(share), lang, digits)}%"
