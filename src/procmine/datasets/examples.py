"""A log small enough to read in full, for the docstring examples and for trying a verb.

Three dossiers of one procedure, "Cấp phép" (approved path: Tiếp nhận in Văn phòng → Thẩm định in
Phòng Tư pháp → Phê duyệt in Văn phòng; 2 working days), in the week of Monday 6 May 2024:

- **HS1** follows the path and is done on Tuesday: on time;
- **HS2** is returned by Văn phòng to Phòng Tư pháp and sent back again (departments Văn phòng,
  Phòng Tư pháp, Văn phòng, Phòng Tư pháp, Văn phòng: three bounces where the path prescribes
  one) and is done on Thursday: late, without an explanation;
- **HS3** waits in Phòng Tư pháp, which files an explanation ("Giải trình lý do chậm") before it
  is done on Friday: late, explained.

>>> example_log().groupby("case:concept:name").size().tolist()
[3, 5, 4]
"""

from __future__ import annotations

import pandas as pd

from procmine import schema

__all__ = ["example_catalog", "example_log"]

VP, TP = "Văn phòng", "Phòng Tư pháp"
PROCEDURE = "Cấp phép"
_EVENTS = [  # case, activity, department, official, time
    ("HS1", "Tiếp nhận", VP, "An", "2024-05-06 08:00"),
    ("HS1", "Thẩm định", TP, "Bình", "2024-05-06 10:00"),
    ("HS1", "Phê duyệt", VP, "Chi", "2024-05-07 09:00"),
    ("HS2", "Tiếp nhận", VP, "An", "2024-05-06 08:30"),
    ("HS2", "Thẩm định", TP, "Bình", "2024-05-06 14:00"),
    ("HS2", "Trả lại hồ sơ", VP, "Chi", "2024-05-07 08:00"),
    ("HS2", "Thẩm định", TP, "Bình", "2024-05-07 10:00"),
    ("HS2", "Phê duyệt", VP, "Chi", "2024-05-09 16:00"),
    ("HS3", "Tiếp nhận", VP, "An", "2024-05-07 08:00"),
    ("HS3", "Thẩm định", TP, "Dũng", "2024-05-08 08:00"),
    ("HS3", "Giải trình lý do chậm", TP, "Dũng", "2024-05-10 08:00"),
    ("HS3", "Phê duyệt", VP, "Chi", "2024-05-10 10:00"),
]


def example_log() -> pd.DataFrame:
    """The three dossiers as a canonical log (pm4py's column names, stamps in Vietnam's time).

    >>> example_log().columns.tolist()[:3]
    ['case:concept:name', 'concept:name', 'org:group']
    """
    log = pd.DataFrame(
        _EVENTS,
        columns=[schema.CASE, schema.ACTIVITY, schema.DEPARTMENT, schema.RESOURCE, "time"],
    )
    log[schema.TIMESTAMP] = pd.to_datetime(log.pop("time")).dt.tz_localize(schema.DEFAULT_TIMEZONE)
    log[schema.PROCEDURE] = PROCEDURE
    return log


def example_catalog() -> pd.DataFrame:
    """The approved path of "Cấp phép", as :func:`procmine.read_catalog` returns a catalog.

    >>> example_catalog()[["step", "activity", "department"]]
       step   activity     department
    0     1  Tiếp nhận      Văn phòng
    1     2  Thẩm định  Phòng Tư pháp
    2     3  Phê duyệt      Văn phòng
    """
    return pd.DataFrame(
        {
            "procedure": [PROCEDURE] * 3,
            "step": [1, 2, 3],
            "activity": ["Tiếp nhận", "Thẩm định", "Phê duyệt"],
            "department": [VP, TP, VP],
            "deadline_working_days": [2.0] * 3,
        }
    )
