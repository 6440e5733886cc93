"""Activity names that mean something to a figure, and the one rule that matches them.

Some steps carry meaning beyond their place in the path: an **explanation** of a late case
(giải trình, xin gia hạn, văn bản xin lỗi), a **closing** step that completes a case beside the
catalog's last step (none by default), and a **return** of the work to the department that sent it
(trả lại, chuyển lại: docs/definitions.md, Returns). Each meaning is a list of names users
can configure (:func:`from_config` reads them from ``config.yaml``), and every figure and every
check that asks "is this an explanation step?" asks :func:`matches` with that list, so the rule
exists once.

The rule: both sides NFC-normalised, trimmed and case-folded, an activity matches a name when it
equals it or starts with it followed by a character that is not a letter or digit ("Giải trình
lý do chậm" and "Giải trình: quá hạn" match "Giải trình"; "Giải trìnhX" does not).

>>> matches(["Giải trình lý do chậm", "Giải trìnhX", "GIẢI TRÌNH", None], EXPLANATIONS)
[True, False, True, False]
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CLOSINGS",
    "EXPLANATIONS",
    "NAME_LISTS",
    "RETURNS",
    "from_config",
    "matches",
    "normal_name",
]

# Explanation steps of a late case (docs/definitions.md, Deadlines): the defaults, which the
# sample's generator also writes.
EXPLANATIONS: tuple[str, ...] = (
    "Giải trình",
    "Báo cáo giải trình",
    "Xin gia hạn",
    "Văn bản xin lỗi",
)

# Activities that close a case whatever its procedure (docs/definitions.md, Open cases), beside
# the last step of its approved path in the catalog: none by default.
CLOSINGS: tuple[str, ...] = ()

# Steps of a step log that send the work back to the department it came from
# (docs/definitions.md, Returns): "Trả lại hồ sơ", "Chuyển lại để bổ sung" match. A transfer
# history records its returns itself (its kind of transfer), and these names do not apply to it.
RETURNS: tuple[str, ...] = ("Trả lại", "Chuyển lại")

# The name lists a config file may set (``datasets/config.yaml``), with their defaults.
NAME_LISTS: dict[str, tuple[str, ...]] = {
    "explanation_activities": EXPLANATIONS,
    "closing_activities": CLOSINGS,
    "return_activities": RETURNS,
}


def from_config(config: str | Path | Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """The activity-name lists of a config (a YAML file such as ``datasets/config.yaml``, or its
    dict): each of :data:`NAME_LISTS`, the default where the config does not set it. Other
    settings (the calendar) are left to their readers.

    >>> from_config({"closing_activities": ["Kết thúc hồ sơ"]})["closing_activities"]
    ('Kết thúc hồ sơ',)
    >>> from_config(None)["explanation_activities"] == EXPLANATIONS
    True
    >>> from_config({"return_activities": ["Trả về"]})["return_activities"]
    ('Trả về',)
    """
    data = read_config(config)
    found = {}
    for key, default in NAME_LISTS.items():
        names = data.get(key, default)
        names = [] if names is None else names
        if isinstance(names, str) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"config {key!r}: expected a list of activity names, found {names!r}")
        found[key] = tuple(names)
    return found


def read_config(config: str | Path | Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A config's settings: a YAML file such as ``datasets/config.yaml`` read, a dict as it is,
    None as no setting; a missing file or a file that is no mapping is an error.

    >>> read_config(None), read_config({"units": []})
    ({}, {'units': []})
    """
    data: Any = config
    if isinstance(config, str | Path):
        import yaml

        path = Path(config)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {str(path)!r}")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ValueError(f"a config is a mapping of settings, found {data!r}")
    return data


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
        return any(named(name, w) for w in wanted)

    return [one(activity) for activity in activities]


def named(text: str, name: str) -> bool:
    """The module's rule on names already normal (:func:`normal_name`): ``text`` is ``name``,
    or starts with it followed by a character that is not a letter or digit.

    >>> named("giải trình: quá hạn", "giải trình"), named("giải trìnhx", "giải trình")
    (True, False)
    """
    return text == name or (text.startswith(name) and not text[len(name)].isalnum())
