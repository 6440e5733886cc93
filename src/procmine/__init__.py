"""procmine — process mining for the reform of internal administrative procedures.

The verbs analysts call live here, flat, in the manner of pm4py's simplified interface::

    >>> import procmine as pm
    >>> log = pm.datasets.load_sample()
    >>> pairs = pm.ping_pong(log, pm.datasets.load_sample_catalog())
    >>> ranking = pm.bottlenecks(log, by="department")

Each verb is a plain function over pandas DataFrames; the modules behind them follow the flow
(docs/CONTRACTS.md): ``log`` → ``calendar`` → ``catalog`` → ``sequences`` → ``engines`` →
``handoffs`` / ``bottleneck`` / ``deadlines`` / ``discovery`` / ``conformance`` → ``drivers`` →
``cost`` → ``whatif`` → ``candidates`` → ``clusters`` → ``portfolios`` → ``plan`` → ``drawing``
→ ``analysis`` → ``reports`` → ``cli``.

procmine is free software under the GNU AGPL v3 or later, like pm4py on which it builds.
"""

from procmine import (
    analysis,
    bottleneck,
    candidates,
    catalog,
    clusters,
    conformance,
    cost,
    datasets,
    deadlines,
    discovery,
    dossiers,
    drawing,
    drivers,
    engines,
    handoffs,
    plan,
    portfolios,
    reports,
    schema,
    scope,
    sequences,
    vocabulary,
    whatif,
)
from procmine.analysis import analyze, write_analysis
from procmine.bottleneck import bottleneck_cases, bottlenecks, sojourns
from procmine.calendar import CalendarError, CalendarMismatchError, WorkCalendar, as_calendar
from procmine.candidates import simplification_candidates
from procmine.catalog import CatalogError, read_catalog, validate_catalog, write_catalog
from procmine.clusters import ProcedureClusters, procedure_clusters
from procmine.conformance import conformance_to_model, deviation_summary
from procmine.cost import Costs, CostsError, compliance_cost, read_costs, step_costs
from procmine.deadlines import (
    case_status,
    late_without_explanation,
    on_time,
    on_time_rate,
    slow_units,
    step_allotments,
)
from procmine.discovery import discover_map, discover_model, save_model, variants
from procmine.dossiers import open_cases
from procmine.drawing import DrawingTimeoutError, draw_map, draw_model, draw_network
from procmine.drivers import delay_drivers
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
from procmine.log import LogReadError, load_report, read_log, write_log
from procmine.plan import plan_table, write_plan
from procmine.portfolios import Portfolio, PortfolioError, portfolio
from procmine.reports import report
from procmine.schema import MissingColumnError
from procmine.scope import filter_log
from procmine.whatif import MeasureError, apply_measures, what_if

check_conformance = conformance.conformance

__version__ = "0.1.0"

__all__ = [
    "CalendarError",
    "CalendarMismatchError",
    "CatalogError",
    "Costs",
    "CostsError",
    "DrawingTimeoutError",
    "LogReadError",
    "MeasureError",
    "MissingColumnError",
    "Portfolio",
    "PortfolioError",
    "ProcedureClusters",
    "WorkCalendar",
    "__version__",
    "analysis",
    "analyze",
    "apply_measures",
    "as_calendar",
    "bottleneck",
    "bottleneck_cases",
    "bottlenecks",
    "bounce_table",
    "candidates",
    "case_status",
    "catalog",
    "check_conformance",
    "clusters",
    "compliance_cost",
    "conformance",
    "conformance_to_model",
    "cost",
    "datasets",
    "deadlines",
    "delay_drivers",
    "department_runs",
    "deviation_summary",
    "discover_map",
    "discover_model",
    "discovery",
    "dossiers",
    "draw_map",
    "draw_model",
    "draw_network",
    "drawing",
    "drivers",
    "engines",
    "event_table",
    "filter_log",
    "handoff_network",
    "handoff_table",
    "handoffs",
    "late_without_explanation",
    "load_report",
    "network_frames",
    "network_summary",
    "on_time",
    "on_time_rate",
    "open_cases",
    "ping_pong",
    "plan",
    "plan_table",
    "portfolio",
    "portfolios",
    "procedure_clusters",
    "query",
    "read_catalog",
    "read_costs",
    "read_log",
    "reference_sequences",
    "report",
    "reports",
    "save_model",
    "schema",
    "scope",
    "sequences",
    "simplification_candidates",
    "slow_units",
    "sojourns",
    "step_allotments",
    "step_costs",
    "validate_catalog",
    "variants",
    "vocabulary",
    "what_if",
    "whatif",
    "write_analysis",
    "write_catalog",
    "write_log",
    "write_plan",
]
