"""The leadership report: what a department head reads in ten minutes, in a browser or printed.

:func:`report` analyses a log and writes ``report.html`` (one self-contained file: inline CSS,
pictures as data, a Content-Security-Policy that forbids every outside request), ``report.pdf``
from the same HTML (A4, print CSS, WeasyPrint), the tables as XLSX (the reader's words) and CSV
(stable column names), the model of the largest procedure (BPMN, PNML) and ``summary.json``, the
headline figures under stable keys. :func:`build_report` computes the pages without writing;
:func:`render_html` turns them into the page. The module is plural because the package's verb
``pm.report`` would hide it. Every name from the log is escaped by Jinja2's autoescape; no
template evaluates log content.

>>> import procmine as pm
>>> built = pm.reports.build_report(pm.datasets.example_log(), pm.datasets.example_catalog(),
...                                 lang="en")
>>> built.summary["cases"], built.summary["pingpong_cases"], built.summary["on_time_rate"]
(3, 1, 0.3333333333333333)
>>> [page.key for page in built.pages][:3]
['headline', 'on_time', 'monthly_list']
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procmine import engines, vocabulary
from procmine.analysis import (
    Analysis,
    Simplification,
    analyze,
    figure_frames,
    simplify,
    write_analysis,
    write_simplification,
    write_workbook,
    xlsx_frame,
    zoned_text,
)
from procmine.bottleneck import bottleneck_cases
from procmine.calendar import WorkCalendar
from procmine.charts import drivers_chart, on_time_chart, targets_chart
from procmine.clusters import procedure_clusters
from procmine.deadlines import (
    case_status,
    has_deadlines,
    made_with,
    on_time,
    on_time_rate,
    per_case_table,
    slow_units,
)
from procmine.discovery import discover_map
from procmine.dossiers import open_by_department, open_cases
from procmine.drivers import delay_drivers
from procmine.formats import LANGUAGES, format_date, format_number, format_percent
from procmine.handoffs import has_departments, ping_pong
from procmine.labels import label, readable
from procmine.portfolios import STATUS_OPTIMAL
from procmine.report_words import WORDS
from procmine.scope import filter_log

__all__ = [
    "REPORT_STAGES",
    "Page",
    "Picture",
    "Report",
    "Table",
    "build_report",
    "check_options",
    "completion_months",
    "headline_figures",
    "render_html",
    "report",
    "write_pdf",
    "write_report",
]

REPORT_STAGES = {
    "figures": "Reading the log and computing the figures",
    "deadlines": "Checking deadlines month by month",
    "models": "Learning what makes dossiers late and grouping the procedures",
    "simplification": "Costing the procedures and choosing the portfolio",
    "pages": "Drawing the charts, the network and the maps",
    "writing": "Writing the report (HTML, PDF, tables, models)",
}
TOP = 10  # rows of a ranking shown on a page
LATE_ROWS = 50  # rows of the list of late cases without an explanation
PROCEDURE_MAPS = 3  # the largest procedures (by cases) whose process map the report draws


@dataclass
class Table:
    """A table of a page: its title, the figure as computed, and a note under it."""

    title: str
    frame: pd.DataFrame
    note: str = ""

    def shown(self, lang: str) -> pd.DataFrame:
        """The table as the reader sees it (:func:`procmine.labels.readable`)."""
        return readable(self.frame, lang)


@dataclass
class Picture:
    """A picture of a page, as SVG text, shown as an image (so it can run no script)."""

    title: str
    svg: str

    @property
    def source(self) -> str:
        """The picture as a ``data:`` address, for an ``<img>`` of a self-contained page."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


@dataclass
class Page:
    """One page of the report: the question it answers, what it shows, what a reader must know."""

    key: str
    title: str
    lead: str
    blocks: list[Table | Picture] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """The report built by :func:`build_report`: its pages, the headline figures
    (``summary``, written as ``summary.json``), the figures' tables by file name, and the model
    of the largest procedure."""

    lang: str
    title: str
    subtitle: str
    summary: dict[str, Any]
    pages: list[Page]
    tables: dict[str, pd.DataFrame]
    analysis: Analysis | None = None
    simplification: Simplification | None = None
    files: list[Path] = field(default_factory=list)


# ------------------------------------------------------------------------------ figures
def _pingpong_by_case(events: pd.DataFrame, catalog, engine: Any) -> pd.DataFrame | None:
    """Ping-pong per case and pair (None when the log has no department at all)."""
    return ping_pong(events, catalog, by="case", engine=engine) if has_departments(events) else None


def _per_case(events, catalog, asked: dict, explanations: Any) -> pd.DataFrame | None:
    """The per-case deadline table (:func:`procmine.deadlines.per_case_table`), computed once:
    the report's deadline figures all select from it (None without deadlines)."""
    if not has_deadlines(events, catalog):
        return None
    return per_case_table(events, catalog, explanation_activities=explanations, **asked)


def _computed(per_case: pd.DataFrame | None, by_case: pd.DataFrame | None) -> dict[str, Any]:
    """What the models and the simplification need not compute again: the ping-pong by case
    (``pingpong``) and the per-case deadline table (``per_case``) where it was made with
    on_time's default options, which they ask (a report with other explanation or closing
    names, or ``until``, leaves them to compute their own)."""
    shared = per_case is not None and made_with(per_case)
    return {"per_case": per_case if shared else None, "pingpong": by_case}


def _case_figures(events: pd.DataFrame, catalog, by_case: pd.DataFrame | None,
                  asked: dict[str, Any], explanations: Any,
                  per_case: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per case: its procedure, received, completed (null while open), month of
    completion, open, on time and overdue (null without deadlines), working days, events, and
    whether it is a ping-pong case (an excess bounce on some pair). ``per_case``: the log's
    :func:`procmine.deadlines.per_case_table`, when there are deadlines."""
    if has_deadlines(events, catalog):
        cases = on_time(
            events, catalog, explanation_activities=explanations, per_case=per_case, **asked
        )
    else:
        cases = case_status(events, catalog, **asked)
        unknown = pd.array([pd.NA] * len(cases), dtype="boolean")
        cases = cases.assign(on_time=unknown, overdue=unknown)
    notes = dict(cases.attrs)  # where the closing steps came from, the moment
    # Cases are found by position (one hash of the ids), events counted by case number: no
    # grouping or matching of id text per event.
    ids = pd.Index(cases["case_id"])
    numbered = engines.case_ids(events)
    counts = np.bincount(events["case_no"].to_numpy(), minlength=len(numbered))
    counted = np.zeros(len(cases), dtype=np.int64)
    where = ids.get_indexer(numbered["case_id"])
    counted[where[where >= 0]] = counts[numbered["case_no"].to_numpy()[where >= 0]]
    cases["events"] = counted
    if by_case is None:
        cases["pingpong"], cases["working_hours_lost"] = pd.NA, 0.0
    else:
        rows = ids.get_indexer(by_case["case_id"])
        bounced = np.zeros(len(cases), dtype=bool)
        bounced[rows[(by_case["excess_bounces"] > 0).to_numpy() & (rows >= 0)]] = True
        lost = by_case["working_hours_lost"].groupby(rows).sum()  # pandas' sum, as by case id
        cases["pingpong"] = bounced
        # Arrow's doubles, as mapping the Arrow-backed case ids gave them: the headline's sum
        # is Arrow's.
        lost = lost.reindex(range(len(cases)), fill_value=0.0)
        cases["working_hours_lost"] = lost.astype("double[pyarrow]").array
    cases["month"] = completion_months(cases["completed"])
    cases.attrs = notes
    return cases


def completion_months(completed: pd.Series) -> pd.Series:
    """The month (``YYYY-MM``, local time) of each completion, null while open: what
    ``completed.dt.strftime("%Y-%m")`` gives, from the few distinct months rather than formatted
    value by value (seconds at a million cases).

    >>> at = pd.Series(pd.to_datetime(["2024-01-31 23:30", None, "2024-02-01 00:00"]))
    >>> completion_months(at.dt.tz_localize("Asia/Ho_Chi_Minh")).tolist()
    ['2024-01', nan, '2024-02']
    """
    wall = completed.dt.tz_localize(None) if completed.dt.tz is not None else completed
    months = wall.to_numpy("datetime64[M]")
    distinct, which = np.unique(months, return_inverse=True)  # NaT sorts last
    text = np.array([np.nan if np.isnat(m) else str(m) for m in distinct], dtype=object)
    return pd.Series(text[which.reshape(-1)], index=completed.index, dtype="str")


def headline_figures(cases: pd.DataFrame) -> dict[str, Any]:
    """The headline figures of a set of cases (rows of the per-case figures): cases, events,
    procedures, on-time rate and late cases (of the completed cases with a deadline), open and
    overdue cases, median working days (of the completed cases), ping-pong cases and their
    share, working hours lost to ping-pong (docs/definitions.md, The report's headline).

    >>> cases = pd.DataFrame({"case_id": ["a", "b"], "procedure": ["P", "P"], "events": [3, 5],
    ...                       "on_time": pd.array([True, False]), "working_days": [1.0, 3.0],
    ...                       "open": False, "overdue": False,
    ...                       "pingpong": [False, True], "working_hours_lost": [0.0, 6.5]})
    >>> figures = headline_figures(cases)
    >>> figures["on_time_rate"], figures["median_working_days"], figures["pingpong_share"]
    (0.5, 2.0, 0.5)
    """
    judged = cases["on_time"].dropna().astype(bool)
    done = cases.loc[~cases["open"].astype(bool), "working_days"]
    known = cases["pingpong"].notna().all() if len(cases) else True
    pingpong = int(cases["pingpong"].fillna(False).astype(bool).sum()) if known else None
    return {
        "cases": len(cases),
        "events": int(cases["events"].sum()),
        "procedures": int(cases["procedure"].nunique()),
        "on_time_rate": float(judged.mean()) if len(judged) else None,
        "late_cases": int((~judged).sum()),
        "open_cases": int(cases["open"].sum()),
        "overdue_cases": int(cases["overdue"].fillna(False).astype(bool).sum()),
        "median_working_days": float(done.median()) if len(done) else None,
        "pingpong_cases": pingpong,
        "pingpong_share": pingpong / len(cases) if pingpong is not None and len(cases) else None,
        "working_hours_lost": float(cases["working_hours_lost"].sum()),
    }


def _previous_month(month: str) -> str:
    return (pd.Period(month, freq="M") - 1).strftime("%Y-%m")


def _report_month(cases: pd.DataFrame, month: str | None) -> str | None:
    """The report's month: given, else the last month a case was received in (the export's
    period; later stamps are the tail of cases received in it)."""
    if month is None:
        if not len(cases):
            return None
        month = cases["received"].max().strftime("%Y-%m")
    return pd.Period(str(month), freq="M").strftime("%Y-%m")


def _headlines(cases: pd.DataFrame, month: str | None) -> dict[str, dict[str, Any]]:
    """The headline figures of the whole period and, with a month, of the cases completed in it
    (``month``) and in the month before (``previous``): what the first page and summary.json
    show."""
    found = {"whole": headline_figures(cases)}
    if month is not None:
        found["month"] = headline_figures(cases[cases["month"] == month])
        found["previous"] = headline_figures(cases[cases["month"] == _previous_month(month)])
    return found


# ------------------------------------------------------------------------------ pages
def _headline_page(headlines: dict, month: str | None, notes: dict, words: dict,
                   lang: str) -> Page:  # fmt: skip
    whole = headlines["whole"]
    keys = ["cases", "events", "procedures", "on_time_rate", "late_cases", "open_cases",
            "overdue_cases", "median_working_days", "pingpong_cases",
            "working_hours_lost"]  # fmt: skip
    rows = {"figure": [words["figure_" + key] for key in keys]}
    rows[words["whole_period"]] = [_figure_text(key, whole[key], lang) for key in keys]
    page = Page("headline", words["headline_title"], words["headline_lead"])
    unclosed = notes.get("procedures_without_closing_steps") or []
    if notes.get("closing_steps") == "none":
        page.notes.append(words["no_closing"])
    elif unclosed:
        page.notes.append(words["some_unclosed"].format(n=len(unclosed)))
    if month is not None:
        this, before = headlines["month"], headlines["previous"]
        rows[_month_text(month, lang)] = [_figure_text(k, this[k], lang) for k in keys]
        rows[_month_text(_previous_month(month), lang)] = [
            _figure_text(k, before[k], lang) for k in keys
        ]
        rows[words["change"]] = [_change_text(k, this[k], before[k], lang) for k in keys]
        page.notes.append(words["month_rule"])
    page.blocks.append(Table(words["headline_table"], pd.DataFrame(rows)))
    return page


def _figure_text(key: str, value: Any, lang: str) -> str:
    if key.endswith("_rate") or key.endswith("_share"):
        return format_percent(value, lang)
    digits = 1 if key in ("median_working_days", "working_hours_lost") else 0
    return format_number(value, lang, digits)


def _change_text(key: str, now: Any, before: Any, lang: str) -> str:
    if now is None or before is None:
        return format_number(None, lang)
    difference = now - before
    sign = "+" if difference > 0 else ""
    if key.endswith("_rate") or key.endswith("_share"):
        points = format_number(100 * difference, lang, 1)
        return f"{sign}{points} {'điểm %' if lang == 'vi' else 'points'}"
    return sign + _figure_text(key, difference, lang)


def _month_text(month: str, lang: str) -> str:
    period = pd.Period(month, freq="M")
    return f"{period.month:02d}/{period.year}" if lang == "vi" else month


def _on_time_page(events, catalog, asked: dict, words: dict, lang: str) -> Page:
    page = Page("on_time", words["on_time_title"], words["on_time_lead"])
    if not has_deadlines(events, catalog):
        page.notes.append(words["no_deadlines"])
        return page
    by_month = on_time_rate(events, catalog, by="month", **asked)
    by_month = by_month[by_month["judged"] > 0]
    if not len(by_month):
        page.notes.append(words["no_deadlines"])
        return page
    page.blocks.append(Picture(words["on_time_chart"], on_time_chart(by_month, lang)))
    by_unit = on_time_rate(events, catalog, by="department", **asked)
    by_unit = by_unit.sort_values(["on_time_rate", "judged"], ascending=[True, False])
    page.blocks.append(Table(words["on_time_by_unit"], by_unit.reset_index(drop=True)))
    return page


# The monthly list as the national service index shows it: the unit, its cases on hand, and
# the cases done early, on time and late, as counts and shares.
MONTHLY_COLUMNS = ["carried_over", "received", "done", "pending", "pending_overdue",
                   "early_cases", "early_share", "on_time_cases", "on_time_share",
                   "late_cases", "late_share", "late_cases_held"]  # fmt: skip
OFFICIAL_ROWS = 20  # officials listed on the page (all of them in the workbook)


def _monthly_list_page(monthly: dict[str, pd.DataFrame], month, words: dict, lang: str,
                       pseudonyms: Callable[[pd.Series], pd.Series] | None) -> Page:  # fmt: skip
    """The month's list by unit (with the whole agency) and by official, from the lists of every
    month (:func:`_monthly_lists`)."""
    page = Page("monthly_list", words["monthly_title"], words["monthly_lead"])
    if month is None or not monthly:
        page.notes.append(words["no_deadlines"])
        return page

    def of_month(by: str) -> pd.DataFrame:
        listed = monthly[f"monthly_list_{by}"]
        return listed[listed["month"] == month].reset_index(drop=True)

    agency = of_month("agency")
    for by in ("department", "resource"):
        listed = of_month(by)
        if by == "resource":
            if pseudonyms is not None:
                listed = listed.assign(resource=pseudonyms(listed["resource"]))
            flagged = (listed["late_cases"] > 0) | (listed["pending_overdue"] > 0)
            listed = listed[flagged].head(OFFICIAL_ROWS)
        else:
            listed = pd.concat([listed, agency.assign(department=words["agency"])])
        title = words[f"monthly_by_{by}"].format(month=_month_text(month, lang))
        page.blocks.append(Table(title, listed[[by, *MONTHLY_COLUMNS]]))
    page.notes += [words["monthly_rule"], words["monthly_officials"].format(n=OFFICIAL_ROWS)]
    if pseudonyms is not None:
        page.notes.append(words["pseudonymised"])
    return page


def _late_page(found: Analysis, cases: pd.DataFrame, words: dict, lang: str,
               transfers: bool = False) -> Page:  # fmt: skip
    page = Page("late_without_explanation", words["late_title"], words["late_lead"])
    if not cases["on_time"].notna().any():
        page.notes.append(words["no_deadlines"])
        return page
    late = found.late_without_explanation
    page.notes.append(words["late_count"].format(n=format_number(len(late), lang)))
    if transfers:  # explanations are steps, which a transfer history does not record
        page.notes.append(words["no_steps_explanations"])
    page.blocks.append(Table(words["late_table"], late.head(LATE_ROWS)))
    return page


SOON = 2  # working days: an open dossier due within them is at risk


def _open_dossiers_page(events, catalog, asked: dict, minutes_per_day: float, words: dict,
                        lang: str) -> Page:  # fmt: skip
    """The open dossiers past their due date or due within :data:`SOON` working days, where
    they sit and for how long (:func:`procmine.dossiers.open_cases`), and the same by unit."""
    page = Page("open_dossiers", words["open_title"], words["open_lead"])
    closing = asked["closing_activities"]
    held = open_cases(events, catalog, at=asked["at"], closing_activities=closing,
                      engine=asked["engine"], soon=SOON)  # fmt: skip
    if not len(held):
        page.notes.append(words["no_open"])
        return page
    at_risk = held[held["overdue"] | (held["working_days_left"] <= SOON)]
    counts = {"open": format_number(len(held), lang), "risk": format_number(len(at_risk), lang)}
    page.notes.append(words["open_count"].format(soon=SOON, **counts))
    columns = ["case_id", "procedure", "department", "resource", "working_hours_held", "due",
               "working_days_left"]  # fmt: skip
    page.blocks.append(Table(words["open_table"], at_risk[columns].head(LATE_ROWS)))
    by_unit = open_by_department(held, minutes_per_day=minutes_per_day, soon=SOON,
                                 engine=asked["engine"])  # fmt: skip
    page.blocks.append(Table(words["open_by_unit"], by_unit))
    return page


def _example_cases(pairs: pd.DataFrame, by_case: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """Each pair's ping-pong cases that lost the most working hours, ``n`` of them: the evidence
    to open."""
    bounced = by_case[by_case["excess_bounces"] > 0].sort_values(
        ["working_hours_lost", "case_id"], ascending=[False, True])  # fmt: skip
    examples = bounced.groupby(["department_a", "department_b"], observed=True)["case_id"].agg(
        lambda ids: ", ".join(map(str, ids.head(n))))  # fmt: skip
    keys = pd.MultiIndex.from_frame(pairs[["department_a", "department_b"]])
    shown = pairs.drop(columns="cases").assign(example_cases=examples.reindex(keys).to_numpy())
    return shown


def _pingpong_page(found: Analysis, by_case, words: dict, lang: str) -> Page:
    import procmine as pm  # the pictures' verbs, wherever their module keeps them

    page = Page("ping_pong", words["pingpong_title"], words["pingpong_lead"])
    pairs = found.ping_pong
    if by_case is None:
        page.notes.append(words["no_departments"])
        return page
    if pairs.attrs.get("reference") != "catalog":
        page.notes.append(words["reference_most_frequent"])
    network = pm.draw_network(found.network, pairs, title=words["network_title"], language=lang)
    page.blocks.append(Picture(words["network_title"], network))
    shown = _example_cases(pairs.head(TOP), by_case)
    page.blocks.append(Table(words["pingpong_table"], shown))
    return page


def _bottleneck_page(found: Analysis, events, engine, words: dict, lang: str) -> Page:
    page = Page("bottlenecks", words["bottleneck_title"], words["bottleneck_lead"])
    for by, frame in found.bottlenecks.items():
        keys = ["source", "target"] if by == "handoff" else [by]
        shown = frame.head(TOP).drop(columns="events")
        # The three cases behind each row shown that it held longest, the largest first.
        behind = bottleneck_cases(_units_of(events, by, shown), by, top=3, engine=engine)
        examples = behind.groupby(keys, observed=True)["case_id"].agg(
            lambda ids: ", ".join(map(str, ids)))  # fmt: skip
        index = pd.MultiIndex.from_frame(shown[keys]) if len(keys) > 1 else shown[by]
        shown = shown.assign(example_cases=examples.reindex(index).to_numpy())
        page.blocks.append(Table(words[f"bottleneck_by_{by}"], shown))
    page.notes.append(words["bottleneck_examples"])
    return page


def _units_of(events: pd.DataFrame, by: str, shown: pd.DataFrame) -> pd.DataFrame:
    """The events whose working time the ``shown`` rows of a bottleneck ranking hold: those of
    the shown activities or departments, or the handing-off events of the shown handoffs (with
    their sequence links). A unit of :func:`procmine.bottleneck.bottleneck_cases` is one event
    (its ``sojourn``, computed on the whole case when the table was built) or one handoff (read
    from its leaving event's links), so the cases behind the shown rows are those of the whole
    table, found without the rows not shown."""
    if by != "handoff":
        return events[events[by].isin(shown[by]).to_numpy()]
    linked = engines.with_sequence_links(events)
    source, target = linked["department"], linked["next_department"]
    near = (source.isin(shown["source"]) & target.isin(shown["target"])).to_numpy(copy=True)
    near &= linked["handoff_position"].to_numpy() >= 0
    pairs = pd.MultiIndex.from_frame(shown[["source", "target"]].astype(object))
    hit = pd.MultiIndex.from_arrays([source[near].astype(object), target[near].astype(object)])
    near[np.flatnonzero(near)] = hit.isin(pairs)
    return linked[near]


def _why_late_page(drivers: pd.DataFrame, events, catalog, engine, words: dict,
                   lang: str, computed: dict[str, Any] | None = None) -> Page:  # fmt: skip
    """What makes dossiers late (``drivers``, :func:`procmine.drivers.delay_drivers`: those
    whose interval clears zero) and the procedures that behave alike (:mod:`procmine.clusters`;
    ``computed``: the tables of :func:`_computed`)."""
    page = Page("why_late", words["why_late_title"], words["why_late_lead"])
    if drivers.attrs.get("message"):
        page.notes.append(str(drivers.attrs["message"]))
    shown = drivers[drivers["low"] > 0].head(TOP)
    if len(shown):
        page.blocks.append(Picture(words["drivers_chart"], drivers_chart(shown, lang)))
        number = [
            shown[c].map(lambda v: format_number(v, lang, 3)) for c in ("importance", "low", "high")
        ]
        interval = [f"{v} ({lo}–{hi})" for v, lo, hi in zip(*number, strict=True)]
        table = pd.DataFrame({"driver": shown["driver"], "importance_text": interval,
                              "text": shown["text"]})  # fmt: skip
        page.blocks.append(Table(words["drivers_table"], table))
        page.notes.append(words["drivers_method"])
    grouped = procedure_clusters(events, catalog, engine=engine, **(computed or {}))
    if grouped.message:
        page.notes.append(str(grouped.message))
    else:
        columns = ["cluster", "members", "cases", "pingpong_share", "rework_share",
                   "on_time_rate", "median_working_days"]  # fmt: skip
        table = grouped.clusters[[c for c in columns if c in grouped.clusters.columns]].assign(
            suggestion=grouped.clusters["suggestion" if lang == "vi" else "suggestion_en"]
        )
        page.blocks.append(Table(words["clusters_table"], table))
    return page


def _procedures_page(found: Analysis, cases: pd.DataFrame, cost: pd.DataFrame | None,
                     events, engine, words: dict, lang: str, transfers: bool) -> Page:  # fmt: skip
    import procmine as pm

    page = Page("procedures", words["procedures_title"], words["procedures_lead"])
    completed_days = cases["working_days"].where(~cases["open"].astype(bool))
    per = (
        cases.assign(completed_days=completed_days)
        .groupby("procedure")
        .agg(
            cases=("case_id", "size"),
            on_time_rate=("on_time", lambda s: s.dropna().astype(float).mean()),
            median_working_days=("completed_days", "median"),
        )
    )
    conformance = found.conformance.set_index("procedure")[["total", "mean_fitness"]]
    table = per if transfers else per.join(conformance, how="left")
    if cost is not None:
        table = table.join(cost.set_index("procedure")[["observed_yearly", "extra_share"]])
    table = table.sort_values("cases", ascending=False).reset_index()
    page.blocks.append(Table(words["procedures_table"], table))
    if transfers:  # a transfer history records who held a dossier, not its steps
        page.notes.append(words["no_steps_maps"])
        return page
    for procedure in table["procedure"].head(PROCEDURE_MAPS):
        pmap = (found.map if procedure == found.largest_procedure
                else discover_map(events, procedure=procedure, engine=engine))  # fmt: skip
        picture = pm.draw_map(pmap, view="performance", title=procedure, language=lang)
        page.blocks.append(Picture(words["map_title"].format(procedure=procedure), picture))
    page.notes.append(words["maps_note"].format(n=PROCEDURE_MAPS))
    return page


def _portfolio_page(found: Simplification | None, words: dict, lang: str,
                    transfers: bool = False) -> Page:  # fmt: skip
    page = Page("portfolio", words["portfolio_title"], words["portfolio_lead"])
    if found is None:
        page.notes.append(words["no_steps_portfolio" if transfers else "no_catalog_portfolio"])
        return page
    chosen = found.portfolio
    page.blocks.append(Picture(words["portfolio_chart"], targets_chart(chosen.summary, lang)))
    names = chosen.summary["target"].map(lambda target: words.get("target_" + target, target))
    lower = chosen.sensitivity.set_index("target")["achieved"]
    summary = chosen.summary.assign(target_name=names, if_lower=chosen.summary["target"].map(lower))
    columns = ["target_name", "achieved", "required", "met", "if_lower"]
    page.blocks.append(Table(words["portfolio_summary"], summary[columns]))
    columns = ["procedure", "title", "measure_saving_yearly", "working_days_saved",
               "effort_person_days", "evidence_text"]  # fmt: skip
    measures = chosen.measures[[c for c in columns if c in chosen.measures.columns]]
    page.blocks.append(Table(words["portfolio_measures"], measures))
    reached = chosen.status == STATUS_OPTIMAL
    page.notes.append(words["status_optimal" if reached else "status_unreachable"])
    if lang == "en":  # the portfolio's own notes are written in English
        page.notes += [str(note) for note in chosen.notes]
    return page


def _calendar_text(calendar: WorkCalendar, words: dict) -> str:
    """The working calendar in the reader's words: office hours, weekend, holidays."""
    hours = ", ".join(f"{start}–{end}" for start, end in calendar.office_hours)
    weekend = ", ".join(words["weekdays"][day] for day in calendar.weekend)
    holidays = (words["holidays_of"].format(country=calendar.country) if calendar.country
                else words["no_holidays"])  # fmt: skip
    return words["calendar_text"].format(hours=hours, minutes=calendar.minutes_per_day,
                                         weekend=weekend, holidays=holidays)  # fmt: skip


def _form_text(loaded: dict, words: dict, lang: str) -> str:
    """The form of the log in the reader's words: steps, or a transfer history and its kinds."""
    if not loaded.get("transfer_history"):
        return words["form_steps"]
    kinds = loaded.get("transfers_by_kind", {})
    return words["form_transfers"].format(
        main=format_number(kinds.get("main", 0), lang),
        returns=format_number(kinds.get("return", 0), lang),
        side=format_number(kinds.get("side copy", 0), lang),
        closing=format_number(kinds.get("closing", 0), lang),
        out_of_chain=format_number(loaded.get("out_of_chain", 0), lang),
    )


def _methods_page(calendar: Any, catalog, found: Analysis, words: dict, lang: str) -> Page:
    page = Page("methods", words["methods_title"], words["methods_lead"])
    loaded = found.load_report or {}
    facts = {
        words["method_reference"]: words["reference_catalog"] if catalog is not None
        else words["reference_most_frequent"],
        words["method_department"]: str(loaded.get("department_column", "org:group")),
        words["method_form"]: _form_text(loaded, words, lang),
        words["method_timezone"]: str(calendar.timezone),
        words["method_calendar"]: _calendar_text(calendar, words),
        words["method_rows"]: words["rows_text"].format(
            read=format_number(loaded.get("rows_read"), lang),
            kept=format_number(loaded.get("rows_kept"), lang),
            quarantined=format_number(loaded.get("rows_quarantined"), lang)),
    }  # fmt: skip
    frame = pd.DataFrame({"figure": list(facts), "value": list(facts.values())})
    page.blocks.append(Table(words["methods_facts"], frame))
    definitions = pd.DataFrame(words["definitions"], columns=["figure", "value"])
    page.blocks.append(Table(words["methods_definitions"], definitions))
    return page


# ------------------------------------------------------------------------------ the report
def build_report(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    costs: Any = None,
    config: str | Path | dict | None = None,
    lang: str = "vi",
    month: str | None = None,
    since: Any = None,
    until: Any = None,
    procedures: Any = None,
    departments: Any = None,
    pseudonymise_officials: bool = False,
    calendar: Any = None,
    engine: Any = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Compute the report's pages and headline figures without writing anything (see
    :func:`report`)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; got {lang!r}.")
    words, stage = WORDS[lang], progress or (lambda name: None)
    configured, names = _config(config)
    calendar = calendar if calendar is not None else configured
    stage("figures")
    if any(v is not None for v in (since, until, procedures, departments)):
        closing = names["closing_activities"]
        log = filter_log(log, since, until, procedures, departments, catalog=catalog,
                         closing_activities=closing, calendar=calendar)  # fmt: skip
    events, calendar = engines.clocked(log, calendar, return_activities=names["return_activities"])
    asked = {"engine": engine, "at": until, "closing_activities": names["closing_activities"]}
    explanations = names["explanation_activities"]
    per_case = _per_case(events, catalog, asked, explanations)
    found = analyze(events, catalog, engine=engine, names=names, at=until, per_case=per_case)
    found.load_report = log.attrs.get("procmine_load_report", {})
    stage("deadlines")
    by_case = _pingpong_by_case(events, catalog, engine)
    cases = _case_figures(events, catalog, by_case, asked, explanations, per_case)
    month, deadline_asked = _report_month(cases, month), asked | {"per_case": per_case}
    headlines, monthly = _headlines(cases, month), _monthly_lists(events, catalog, deadline_asked)
    stage("models")
    computed = _computed(per_case, by_case)
    drivers = delay_drivers(events, catalog, engine=engine, lang=lang, **computed)
    why_late = _why_late_page(drivers, events, catalog, engine, words, lang, computed)
    stage("simplification")
    transfers = engines.is_transfer_history(events)  # no steps: no cost, no candidates
    simplified = None
    if catalog is not None and not transfers:  # the drivers join Vietnamese evidence only
        given = {"events": events, "drivers": drivers if lang == "vi" else None}
        given["per_case"] = computed["per_case"]
        simplified = simplify(log, catalog, costs, calendar=calendar, **given)
    stage("pages")
    pseudonyms = _pseudonyms if pseudonymise_officials else None
    pages = [
        _headline_page(headlines, month, cases.attrs, words, lang),
        _on_time_page(events, catalog, deadline_asked, words, lang),
        _monthly_list_page(monthly, month, words, lang, pseudonyms),
        _late_page(found, cases, words, lang, transfers),
        _open_dossiers_page(events, catalog, asked, calendar.minutes_per_day, words, lang),
        _pingpong_page(found, by_case, words, lang),
        _bottleneck_page(found, events, engine, words, lang),
        why_late,
        _procedures_page(
            found,
            cases,
            simplified.cost if simplified else None,
            events,
            engine,
            words,
            lang,
            transfers,
        ),
        _portfolio_page(simplified, words, lang, transfers),
        _methods_page(calendar, catalog, found, words, lang),
    ]
    summary = _summary(headlines, month, found, simplified, calendar, catalog)
    span = (format_date(events["ts"].min(), lang), format_date(events["ts"].max(), lang))
    subtitle = words["subtitle"].format(start=span[0], end=span[1])
    tables = _tables(found, cases, simplified, monthly)
    return Report(lang, words["title"], subtitle, summary, pages, tables, found, simplified)


def _monthly_lists(events, catalog, asked: dict) -> dict[str, pd.DataFrame]:
    """The monthly list of every month, by unit and by official, for the workbook."""
    if not has_deadlines(events, catalog):
        return {}
    return {f"monthly_list_{by}": slow_units(events, catalog, by=by, **asked)
            for by in ("agency", "department", "resource")}  # fmt: skip


def check_options(log: pd.DataFrame, catalog: pd.DataFrame | None = None, *,
                  config: Any = None, lang: str = "vi", month: str | None = None,
                  **scope: Any) -> None:  # fmt: skip
    """Raise a ``ValueError`` naming what is wrong with a report's options before any figure is
    computed: the language, the month, the config, the period and scope (unknown names).

    >>> import procmine as pm
    >>> check_options(pm.datasets.example_log(), month="2024-13")
    Traceback (most recent call last):
    ...
    ValueError: month must be a month such as 2024-11; got '2024-13'.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; got {lang!r}.")
    if month is not None:
        try:
            pd.Period(str(month), freq="M")
        except (ValueError, TypeError) as error:
            raise ValueError(f"month must be a month such as 2024-11; got {month!r}.") from error
    calendar, names = _config(config)
    if any(value is not None for value in scope.values()):
        filter_log(log, catalog=catalog, calendar=calendar,
                   closing_activities=names["closing_activities"], **scope)  # fmt: skip


def _config(config: str | Path | dict | None) -> tuple[Any, dict[str, tuple[str, ...]]]:
    """The calendar of a config (None when it sets none) and its activity-name lists."""
    data = vocabulary.read_config(config)
    calendar = WorkCalendar.from_config(data["calendar"]) if "calendar" in data else None
    return calendar, vocabulary.from_config(data)


def _pseudonyms(names: pd.Series) -> pd.Series:
    """Stable codes for officials' names (the same name, the same code, in every report)."""
    import hashlib

    def code(name: Any) -> Any:
        if name is None or pd.isna(name):
            return name
        return "CB-" + hashlib.sha256(str(name).encode()).hexdigest()[:6].upper()

    return names.map(code)


def _summary(headlines, month, found: Analysis, simplified, calendar, catalog) -> dict[str, Any]:
    """The headline figures under stable keys (``summary.json``)."""
    summary = dict(headlines["whole"])
    summary["departments"] = int(found.network.number_of_nodes())
    summary["late_without_explanation"] = len(found.late_without_explanation)
    summary["reference"] = "catalog" if catalog is not None else "most frequent sequence"
    summary["timezone"] = str(calendar.timezone)
    summary["month"] = month
    if month is not None:
        summary["month_figures"] = headlines["month"]
        summary["previous_month_figures"] = headlines["previous"]
    if simplified is not None:
        rows = simplified.portfolio.summary.set_index("target")
        summary["observed_yearly_cost"] = float(simplified.cost["observed_yearly"].sum())
        summary["portfolio"] = {
            "status": simplified.portfolio.status,
            "measures": len(simplified.portfolio.measures),
            **{f"{t}_achieved": float(rows.loc[t, "achieved"]) for t in rows.index},
            **{f"{t}_met": bool(rows.loc[t, "met"]) for t in rows.index},
        }
    return summary


def _tables(found: Analysis, cases: pd.DataFrame, simplified,
            monthly: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:  # fmt: skip
    """The figures in the report's workbook, by sheet name."""
    tables = dict(figure_frames(found))
    tables["cases"] = cases
    tables.update(monthly)
    if simplified is not None:
        tables["compliance_cost"] = simplified.cost
        tables["portfolio_measures"] = simplified.portfolio.measures
        # "target" names a department in the handoffs' tables; here it is a target's key.
        summary = simplified.portfolio.summary.rename(columns={"target": "target_key"})
        tables["portfolio_summary"] = summary
    return tables


def render_html(built: Report) -> str:
    """The report as one self-contained HTML page (inline CSS, pictures as data, no script)."""
    from importlib import resources

    import jinja2

    folder = resources.files("procmine") / "templates"
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (folder / name).read_text(encoding="utf-8")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("report.html.j2")
    css = (folder / "report.css").read_text(encoding="utf-8")
    return template.render(report=built, words=WORDS[built.lang], css=css,
                           Table=Table, Picture=Picture)  # fmt: skip


def write_report(built: Report, out: str | Path, *, pdf: bool = True) -> list[Path]:
    """Write a built report into folder ``out``: ``report.html``, ``report.pdf`` (unless
    ``pdf=False``), ``summary.json``, ``tables.xlsx`` (a sheet per table, the reader's words),
    the figures as CSV with the maps and models (:func:`procmine.analysis.write_analysis`), the
    simplification plan and its tables under ``simplification/``
    (:func:`procmine.analysis.write_simplification`) and ``cases.csv`` (the figures per case
    behind the headline). Returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = write_analysis(built.analysis, out) if built.analysis is not None else []
    if built.simplification is not None:
        written += write_simplification(built.simplification, out / "simplification",
                                        lang=built.lang)  # fmt: skip
    cases = zoned_text(built.tables["cases"])
    cases.to_csv(out / "cases.csv", index=False, encoding="utf-8-sig")
    text = json.dumps(built.summary, ensure_ascii=False, indent=2, default=str)
    (out / "summary.json").write_text(text + "\n", encoding="utf-8")
    sheets = {
        name[:31]: xlsx_frame(frame).rename(columns=lambda c: label(str(c), built.lang))
        for name, frame in built.tables.items()
        if name != "cases"  # one row per case: cases.csv holds it (a sheet would be slow)
    }
    write_workbook(sheets, out / "tables.xlsx")
    html = render_html(built)
    (out / "report.html").write_text(html, encoding="utf-8")
    written += [out / name for name in ("cases.csv", "summary.json", "tables.xlsx", "report.html")]
    if pdf:
        written.append(write_pdf(html, out / "report.pdf"))
    return written


def write_pdf(html: str, path: str | Path) -> Path:
    """The report's HTML printed to an A4 PDF by WeasyPrint (its print CSS)."""
    import weasyprint

    path = Path(path)
    weasyprint.HTML(string=html).write_pdf(path)
    return path


def report(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    costs: Any = None,
    config: str | Path | dict | None = None,
    lang: str = "vi",
    out: str | Path = "report",
    pdf: bool = True,
    **options: Any,
) -> Report:
    """Analyse a log and write the leadership report into folder ``out``: ``report.html``,
    ``report.pdf`` (unless ``pdf=False``), ``summary.json``, ``tables.xlsx``, the figures as CSV
    with the maps and model, and (with a catalog) the simplification plan. Returns the
    :class:`Report` with the paths written in ``files``.

    ``costs``: a ``costs.yaml`` (default ``datasets/costs.yaml``); ``config``: a ``config.yaml``
    (its working calendar, explanation and closing activities); ``lang``: ``"vi"`` or ``"en"``.
    Keyword ``options`` of :func:`build_report`: ``month`` (``"2024-11"``: the month the
    headline compares with the month before and the monthly list shows; default the last month
    a case was received in), the period and scope ``since``, ``until``, ``procedures``,
    ``departments`` (:func:`procmine.scope.filter_log`; the figures are as of ``until``),
    ``pseudonymise_officials``, ``calendar``, ``engine`` and ``progress`` (called with each
    stage's key of :data:`REPORT_STAGES` as it begins).

    >>> import tempfile
    >>> import procmine as pm
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     built = pm.report(pm.datasets.example_log(), pm.datasets.example_catalog(),
    ...                       out=folder, pdf=False)
    ...     sorted(path.name for path in built.files if path.suffix in (".html", ".json"))
    ['report.html', 'summary.json']
    """
    built = build_report(log, catalog, costs=costs, config=config, lang=lang, **options)
    if options.get("progress") is not None:
        options["progress"]("writing")
    built.files = write_report(built, out, pdf=pdf)
    return built
