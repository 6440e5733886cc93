"""procmine — process mining for the reform of internal administrative procedures.

The verbs analysts call live here, flat, in the manner of pm4py's simplified interface::

    import procmine as pm
    log = pm.read_log("export.csv")

procmine is free software under the GNU AGPL v3 or later, like pm4py on which it builds.
"""

from procmine import schema
from procmine.calendar import CalendarError, WorkCalendar
from procmine.engines import event_table, query

__version__ = "0.1.0"

__all__ = ["CalendarError", "WorkCalendar", "__version__", "event_table", "query", "schema"]
