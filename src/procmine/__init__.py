"""procmine — process mining for the reform of internal administrative procedures.

The verbs analysts call live here, flat, in the manner of pm4py's simplified interface::

    >>> import procmine as pm
    >>> log = pm.datasets.load_sample()
    >>> pairs = pm.ping_pong(log, pm.datasets.load_sample_catalog())
    >>> ranking = pm.bottlenecks(log, by="department")

Each verb is a plain function over pandas DataFrames; the modules behind them follow the flow
(docs/CONTRACTS.md): ``log`` → ``calendar`` → ``catalog`` → ``sequences`` → ``engines`` →
``handoffs`` / ``bottleneck`` / ``deadlines`` / ``discovery`` / ``conformance`` → ``drawing`` →
``analysis`` → ``cli``.

procmine is free software under the GNU AGPL v3 or later, like pm4py on which it builds.
"""

from procmine import (
    analysis,
    bottleneck,
    catalog,
    conformance,
    datasets,
    deadlines,
    discovery,
    drawing,
    engines,
    handoffs,
    schema,
    sequences,
    vocabulary,
)
from procmine.analysis import analyze, write_analysis
from procmine.bottleneck import bottleneck_cases, bottlenecks, sojourns
from procmine.calendar import CalendarError, CalendarMismatchError, WorkCalendar, as_calendar
from procmine.catalog import CatalogError, read_catalog, validate_catalog, write_catalog
from procmine.conformance import conformance_to_model, deviation_summary
from procmine.deadlines import (
    late_without_explanation,
    on_time,
    on_time_rate,
    slow_units,
    step_allotments,
)
from procmine.discovery import discover_map, discover_model, save_model, variants
from procmine.drawing import DrawingTimeoutError, draw_map, draw_model, draw_network
from procmine.engines import event_table, query
from procmine.handoffs import (
    bounce_table,
    department_runs,
    handoff_network,
    handoff_table,
    network_frames,
    network_summary,
    ping_pong,
    reference_sequences,
)
from procmine.log import LogReadError, load_report, read_log
from procmine.schema import MissingColumnError

check_conformance = conformance.conformance

__version__ = "0.1.0"

__all__ = [
    "CalendarError",
    "CalendarMismatchError",
    "CatalogError",
    "DrawingTimeoutError",
    "LogReadError",
    "MissingColumnError",
    "WorkCalendar",
    "__version__",
    "analysis",
    "analyze",
    "as_calendar",
    "bottleneck",
    "bottleneck_cases",
    "bottlenecks",
    "bounce_table",
    "catalog",
    "check_conformance",
    "conformance",
    "conformance_to_model",
    "datasets",
    "deadlines",
    "department_runs",
    "deviation_summary",
    "discover_map",
    "discover_model",
    "discovery",
    "draw_map",
    "draw_model",
    "draw_network",
    "drawing",
    "engines",
    "event_table",
    "handoff_network",
    "handoff_table",
    "handoffs",
    "late_without_explanation",
    "load_report",
    "network_frames",
    "network_summary",
    "on_time",
    "on_time_rate",
    "ping_pong",
    "query",
    "read_catalog",
    "read_log",
    "reference_sequences",
    "save_model",
    "schema",
    "sequences",
    "slow_units",
    "sojourns",
    "step_allotments",
    "validate_catalog",
    "variants",
    "vocabulary",
    "write_analysis",
    "write_catalog",
]
