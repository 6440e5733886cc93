"""Activity names that mean something to a figure, and the one rule that matches them.

Some steps carry meaning beyond their place in the path: an **explanation** of a late case
(giải trình, xin gia hạn, văn bản xin lỗi), and later a return or a closing. Each meaning is a
list of names users can configure, and every figure and every check that asks "is this an
explanation step?" asks :func:`matches` with that list, so the rule exists once.

The rule: both sides NFC-normalised, trimmed and case-folded, an activity matches a name when it
equals it or starts with it followed by a character that is not a letter or digit ("Giải trình
lý do chậm" and "Giải trình: quá hạn" match "Giải trình"; "Giải trìnhX" does not).

>>> matches(["Giải trình lý do chậm", "Giải trìnhX", "GIẢI TRÌNH", None], EXPLANATIONS)
[True, False, True, False]
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = ["EXPLANATIONS", "matches", "normal_name"]

# Explanation steps of a late case (docs/definitions.md, Deadlines): the defaults, which the
# sample's generator also writes.
EXPLANATIONS: tuple[str, ...] = (
    "Giải trình",
    "Báo cáo giải trình",
    "Xin gia hạn",
    "Văn bản xin lỗi",
)


def normal_name(name: str) -> str:
    """An activity name as the rule compares it: NFC, trimmed, case-folded.

    >>> normal_name("  Xin Gia Hạn ")
    'xin gia hạn'
    """
    return unicodedata.normalize("NFC", name).strip().casefold()


def matches(activities: Iterable[object], names: Iterable[str]) -> list[bool]:
    """For each activity, whether it is one of ``names`` by the module's rule (null: never).

    Cheap over a vocabulary (the distinct names of a log), not meant for every event.

    >>> matches(["Xin gia hạn xử lý", "Xin gia"], ["Xin gia hạn"])
    [True, False]
    """
    wanted = [w for w in (normal_name(n) for n in names) if w]

    def one(activity: object) -> bool:
        if not isinstance(activity, str):
            return False
        name = normal_name(activity)
        return any(name == w or (name.startswith(w) and not name[len(w)].isalnum()) for w in wanted)

    return [one(activity) for activity in activities]
