"""The whole analysis of a log in one call: what the demo prints and the report will show.

:func:`analyze` runs the figures a reform analyst looks at first — the worst ping-pong pairs, the
bottlenecks by step, department and handoff, the late cases lacking an explanation, the
deviations from the approved procedures, the department handoff network and the map and model
of the largest procedure — on one events table (the clock read once), and returns them in an
:class:`Analysis`. :func:`write_analysis` writes them as CSV, with the pictures and the model.
The command line (``procmine demo``) and the report are thin layers over these two functions.

>>> import procmine as pm
>>> found = pm.analyze(pm.datasets.example_log(), pm.datasets.example_catalog())
>>> columns = ["department_a", "department_b", "bounces", "excess_bounces", "working_hours_lost"]
>>> found.ping_pong[columns]
    department_a department_b  bounces  excess_bounces  working_hours_lost
0  Phòng Tư pháp    Văn phòng        5               2                28.0
>>> found.late_without_explanation["case_id"].tolist(), found.largest_procedure
(['HS2'], 'Cấp phép')
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from procmine import engines, vocabulary
from procmine.bottleneck import bottlenecks
from procmine.candidates import simplification_candidates, with_lateness_drivers
from procmine.conformance import DEVIATION_TYPES, conformance, deviation_summary
from procmine.cost import read_costs
from procmine.deadlines import has_deadlines, late_without_explanation
from procmine.discovery import ProcessMap, ProcessModel, discover_map, discover_model, save_model
from procmine.handoffs import handoff_network, has_departments, ping_pong
from procmine.plan import write_plan
from procmine.portfolios import Portfolio, portfolio

__all__ = [
    "BOTTLENECK_KEYS",
    "SIMPLIFY_STAGES",
    "STAGES",
    "Analysis",
    "Simplification",
    "analyze",
    "figure_frames",
    "flat_frame",
    "simplify",
    "write_analysis",
    "write_simplification",
    "write_workbook",
    "xlsx_frame",
]

BOTTLENECK_KEYS = ("activity", "department", "handoff")
# The columns of late_without_explanation, for the empty table of a log without deadlines.
LATE_COLUMNS = ["case_id", "procedure", "completed", "overrun_working_days",
                "department_held_overrun"]  # fmt: skip
# The stages of analyze, in order, with what a progress display says of each.
STAGES = {
    "clock": "Reading the working clock",
    "ping_pong": "Counting handoffs and ping-pong between departments",
    "bottlenecks": "Ranking bottlenecks by step, department and handoff",
    "deadlines": "Checking deadlines and explanations",
    "conformance": "Checking every case against its approved procedure (alignments)",
    "network": "Building the department handoff network",
    "model": "Discovering the map and the model of the largest procedure",
}


@dataclass
class Analysis:
    """The figures of :func:`analyze`, each a DataFrame (or graph, map, model) as the verb of
    the same name returns it."""

    ping_pong: pd.DataFrame
    bottlenecks: dict[str, pd.DataFrame]
    late_without_explanation: pd.DataFrame
    conformance: pd.DataFrame
    network: nx.DiGraph
    largest_procedure: str
    map: ProcessMap
    model: ProcessModel
    load_report: dict[str, Any] = field(default_factory=dict)


def analyze(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    progress: Callable[[str], None] | None = None,
    names: Mapping[str, Iterable[str]] | None = None,
    at: Any = None,
    per_case: pd.DataFrame | None = None,
) -> Analysis:
    """The first figures of a log against its catalog, on one events table.

    ``names`` are the activity-name lists of a config (:func:`procmine.vocabulary.from_config`:
    ``explanation_activities``, ``closing_activities``, ``return_activities``; default: their
    defaults). Without
    deadlines (no catalog and no deadline column) the late cases are an empty table. ``at`` is
    the moment of the analysis (default: the log's last timestamp; see
    :func:`procmine.deadlines.case_status`). ``per_case`` (the log's
    :func:`procmine.deadlines.per_case_table` with these names and ``at``), when the caller
    has it, is not computed again.

    ``progress`` is called with each stage's key of :data:`STAGES` as the stage begins (the
    command line shows :data:`STAGES`' words for it). ``conformance`` is the deviation summary
    by procedure, the most deviations first (empty without a catalog: deviations are counted
    against approved procedures); the map and the model are those of the procedure with the
    most events. Without a catalog the reference of ping-pong is each procedure's most frequent
    department sequence; without departments the ping-pong table and the network are empty and
    the bottlenecks are by activity only. A transfer history has no steps: no conformance (an
    empty table) and no bottlenecks by activity; its map and model are of the transfer actions.
    """

    def stage(name: str) -> None:
        if progress is not None:
            progress(name)

    names = vocabulary.from_config(names)
    stage("clock")
    events, _ = engines.clocked(log, calendar, return_activities=names["return_activities"])
    departments = has_departments(events)  # else no handoff: the figures that need one are empty
    stage("ping_pong")
    pairs = ping_pong(events, catalog, engine=engine) if departments else _no_pairs()
    stage("bottlenecks")
    transfers = engines.is_transfer_history(events)  # transfers, not steps
    keys = BOTTLENECK_KEYS if departments else ("activity",)
    keys = tuple(key for key in keys if not (transfers and key == "activity"))
    ranked = {by: bottlenecks(events, by=by, engine=engine) for by in keys}
    stage("deadlines")
    late = late_without_explanation(
        events, catalog, engine=engine, explanation_activities=names["explanation_activities"],
        closing_activities=names["closing_activities"], at=at, per_case=per_case,
    ) if has_deadlines(events, catalog) else pd.DataFrame(columns=LATE_COLUMNS)  # fmt: skip
    stage("conformance")
    if catalog is None or transfers:  # deviations: of steps from approved procedures only
        columns = ["procedure", *DEVIATION_TYPES, "total", "cases", "cases_checked"]
        summary = pd.DataFrame({c: pd.Series(dtype="int64") for c in columns}).assign(
            procedure=pd.Series(dtype="string"), mean_fitness=pd.Series(dtype="float64")
        )
    else:
        summary = deviation_summary(conformance(events, catalog, engine=engine), by="procedure")
    stage("network")
    network = handoff_network(events, engine=engine) if departments else nx.DiGraph()
    stage("model")
    counts = events["procedure"].value_counts()  # per code: no text per event
    # The most events; ties go to the first name in code point order.
    largest = min(str(name) for name in counts[counts == counts.max()].index)
    return Analysis(
        ping_pong=pairs,
        bottlenecks=ranked,
        late_without_explanation=late,
        conformance=summary.sort_values("total", ascending=False, kind="stable"),
        network=network,
        largest_procedure=largest,
        map=discover_map(events, procedure=largest, engine=engine),
        model=discover_model(events, procedure=largest, noise=0.2, engine=engine),
        load_report=log.attrs.get("procmine_load_report", {}),
    )


def _no_pairs() -> pd.DataFrame:
    """The ping-pong table of a log without departments: no pair."""
    columns = ["department_a", "department_b", "handoffs", "bounces", "excess_bounces",
               "returns", "pingpong_cases", "working_hours_lost", "cases"]  # fmt: skip
    return pd.DataFrame(columns=columns)


# The figures' files, by the name the demo and the report write them under.
def figure_frames(analysis: Analysis) -> dict[str, pd.DataFrame]:
    """The figures of an analysis as the tables written beside the report, by file name."""
    return {
        "ping_pong_pairs": analysis.ping_pong,
        **{f"bottlenecks_by_{by}": frame for by, frame in analysis.bottlenecks.items()},
        "late_without_explanation": analysis.late_without_explanation,
        "conformance_by_procedure": analysis.conformance,
    }


def write_analysis(analysis: Analysis, out: str | Path) -> list[Path]:
    """Write an analysis into folder ``out``: each figure as CSV (:func:`figure_frames`), and
    under ``maps/`` the frequency and performance maps and the BPMN model of the largest
    procedure and the department handoff network, ping-pong pairs in red. Returns the paths.
    """
    import procmine as pm  # the pictures' verbs, wherever their module keeps them

    out = Path(out)
    maps = out / "maps"
    maps.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in figure_frames(analysis).items():
        zoned_text(frame).to_csv(out / f"{name}.csv", index=False)
        written.append(out / f"{name}.csv")
    title = analysis.largest_procedure
    written += [
        pm.draw_map(analysis.map, view="frequency", path=maps / "frequency_map.svg", title=title),
        pm.draw_map(
            analysis.map, view="performance", path=maps / "performance_map.svg", title=title
        ),
        pm.draw_map(
            analysis.map, view="performance", path=maps / "performance_map.png", title=title
        ),
        pm.draw_model(analysis.model, maps / "model_bpmn.png", kind="bpmn"),
        *save_model(analysis.model, maps, name="model").values(),
    ]
    network_title = "Chuyển hồ sơ giữa các phòng ban và các cặp đùn đẩy"
    for suffix in ("svg", "png") if analysis.network.number_of_nodes() else ():
        written.append(
            pm.draw_network(
                analysis.network,
                analysis.ping_pong,
                path=maps / f"network.{suffix}",
                title=network_title,
            )
        )
    return [Path(path) for path in written]


# ------------------------------------------------------------------ simplification (issue 16)
SIMPLIFY_STAGES = {
    "candidates": "Costing the procedures, finding simplification candidates, replaying each",
    "portfolio": "Choosing the measures that meet the targets",
}


@dataclass
class Simplification:
    """What :func:`simplify` finds: the compliance cost by procedure, the ranked candidates
    (each replayed alone) and the portfolio chosen among them against the targets."""

    cost: pd.DataFrame
    candidates: pd.DataFrame
    portfolio: Portfolio


def simplify(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    costs: Any = None,
    *,
    targets: dict[str, float] | None = None,
    calendar: Any = None,
    progress: Callable[[str], None] | None = None,
    replayed: Callable[[int, int], None] | None = None,
    drivers: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    deadlines: pd.DataFrame | None = None,
    bounces: pd.DataFrame | None = None,
    per_case: pd.DataFrame | None = None,
) -> Simplification:
    """From a log and its catalog to the portfolio: cost, candidates, portfolio, in one call
    (what ``procmine simplify`` and the demo run). ``costs`` is a :class:`procmine.cost.Costs`
    or a path to a ``costs.yaml`` (default ``datasets/costs.yaml``); ``progress`` is called
    with each stage's key of :data:`SIMPLIFY_STAGES` as it begins, ``replayed`` with the
    candidates replayed so far and their total (the long part). ``drivers``
    (:func:`procmine.drivers.delay_drivers`) adds the drivers of lateness each measure touches
    to its evidence (:func:`procmine.candidates.with_lateness_drivers`). ``events`` (the log's
    events table), ``deadlines`` (``pm.on_time``) and ``bounces`` (``pm.bounce_table``), when
    the caller has them, are not computed again, nor is ``per_case`` (the per-case table
    ``pm.on_time`` reads, :func:`procmine.deadlines.per_case_table` with its default options)
    (:func:`procmine.candidates.simplification_candidates`).

    >>> import procmine as pm
    >>> found = pm.analysis.simplify(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> found.cost[["procedure", "cases", "in_catalog"]].values.tolist()
    [['Cấp phép', 3, True]]
    >>> found.portfolio.summary["target"].tolist()
    ['simplified_share', 'cost_cut', 'reviewed_share']
    """
    costs = costs if costs is not None and not isinstance(costs, str | Path) else read_costs(costs)
    if progress is not None:
        progress("candidates")
    given = {"events": events, "deadlines": deadlines, "bounces": bounces, "per_case": per_case}
    candidates = simplification_candidates(
        log, catalog, costs, calendar=calendar, progress=replayed, **given
    )
    if drivers is not None:  # the drivers of lateness a measure touches join its evidence
        candidates = with_lateness_drivers(candidates, drivers)
    if progress is not None:
        progress("portfolio")
    # The candidates were measured against the compliance cost; it is not computed again.
    cost = candidates.attrs["cost"]
    return Simplification(cost, candidates, portfolio(candidates, targets, costs))


def write_simplification(found: Simplification, out: str | Path, lang: str = "vi") -> list[Path]:
    """Write a simplification into folder ``out``: the compliance cost by procedure, the
    candidates and the portfolio's measures and summary as CSV and XLSX (lists and mappings as
    text), and the simplification plan (``plan.docx`` with its table as XLSX and CSV). Returns
    the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frames = {
        "compliance_cost": found.cost,
        "candidates": found.candidates,
        "portfolio_measures": found.portfolio.measures,
        "portfolio_summary": found.portfolio.summary,
        "portfolio_sensitivity": found.portfolio.sensitivity,
    }
    written: list[Path] = []
    for name, frame in frames.items():
        zoned_text(flat_frame(frame)).to_csv(out / f"{name}.csv", index=False, encoding="utf-8-sig")
        write_workbook({"Sheet1": xlsx_frame(frame)}, out / f"{name}.xlsx")
        written += [out / f"{name}.csv", out / f"{name}.xlsx"]
    return written + write_plan(found.portfolio, out / "plan.docx", lang=lang)


# Excel holds at most 32,767 characters in a cell; a longer text (a list of case ids) is cut there
# with a note, and the CSV beside the workbook keeps it whole.
XLSX_CELL = 32_767
CUT_NOTE = " … (cut: Excel's cell limit; the CSV file has it whole)"


def xlsx_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The flat frame (:func:`flat_frame`) with every text within Excel's cell limit, cut with a
    note that says so (never silently), and date-times without their zone (Excel has none).

    >>> xlsx_frame(pd.DataFrame({"ids": [["a"] * 20_000]}))["ids"].str.len().item() <= XLSX_CELL
    True
    """
    flat = flat_frame(frame)
    for column in flat.columns:
        if isinstance(flat[column].dtype, pd.DatetimeTZDtype):
            flat[column] = flat[column].dt.tz_localize(None)
        elif not pd.api.types.is_numeric_dtype(flat[column]):
            values = flat[column].astype(object)
            long = values.map(lambda v: isinstance(v, str) and len(v) > XLSX_CELL).astype(bool)
            if long.any():
                cut = values[long].str.slice(0, XLSX_CELL - len(CUT_NOTE)) + CUT_NOTE
                flat[column] = values.where(~long, cut)
    return flat


# The date-time format of pandas' DataFrame.to_excel.
XLSX_DATETIME = "YYYY-MM-DD HH:MM:SS"


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write frames as the sheets of one workbook, cell for cell what ``DataFrame.to_excel(...,
    index=False)`` writes with openpyxl (the header bold, missing values empty, infinities as
    ``inf``, date-times as Excel dates shown as :data:`XLSX_DATETIME`; zoned ones are refused;
    numbers to 16 significant digits, as both libraries write them), by XlsxWriter, a column at
    a time: pandas makes and styles an openpyxl cell per value, several times slower at a
    hundred thousand rows. Text is written as text, never as a formula or a link.

    >>> import tempfile, openpyxl
    >>> frame = pd.DataFrame({"a": [1.5, float("nan")], "b": pd.array([True, None])})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_workbook({"x": frame}, Path(folder) / "t.xlsx")
    ...     list(openpyxl.load_workbook(path)["x"].values)
    [('a', 'b'), (1.5, True), (None, None)]
    """
    import xlsxwriter

    path = Path(path)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True}
    with xlsxwriter.Workbook(str(path), options) as book:
        header = book.add_format(
            {"bold": True, "border": 1, "align": "center", "valign": "top"}
        )  # pandas' header style
        formats = {
            "stamp": book.add_format({"num_format": XLSX_DATETIME}),
            "blank": book.add_format(),
        }
        for name, frame in sheets.items():
            sheet = book.add_worksheet(name)
            for j, column in enumerate(frame.columns):
                sheet.write(0, j, _excel_values(pd.Series([column]))[0], header)
                for i, value in enumerate(_excel_values(frame.iloc[:, j]), start=1):
                    _write_cell(sheet, i, j, value, formats)
    return path


def _write_cell(sheet: Any, row: int, column: int, value: Any, formats: dict) -> None:
    """One value of :func:`_excel_values` into an XlsxWriter sheet (empty text: an empty cell,
    as openpyxl writes it)."""
    if isinstance(value, str):
        if value:
            sheet.write_string(row, column, value)
        else:
            sheet.write_blank(row, column, None, formats["blank"])
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, int | float | decimal.Decimal):
        sheet.write_number(row, column, value)
    else:  # a date or date-time (naive)
        sheet.write_datetime(row, column, value, formats["stamp"])


def _excel_values(values: pd.Series) -> list[Any]:
    """A column's values as pandas' Excel writer passes them to openpyxl (its ``_format_value``
    and ``_value_with_fmt``): missing → ``""``, ±infinity → ``"inf"``/``"-inf"``, numpy scalars
    → Python numbers and booleans, date-times as they are, anything else → ``str``."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        raise ValueError("Excel does not support datetimes with timezones.")
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return values.tolist()  # numpy ints and booleans: Python ones, none missing
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        numbers = values.to_numpy()
        found = np.array(numbers.tolist(), dtype=object)
        found[np.isnan(numbers)] = ""
        found[np.isposinf(numbers)] = "inf"
        found[np.isneginf(numbers)] = "-inf"
        return found.tolist()
    return [_excel_value(value) for value in values.astype(object).tolist()]


def _excel_value(value: Any) -> Any:
    """One value as pandas' Excel writer passes it to openpyxl (see :func:`_excel_values`)."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return "inf" if value == np.inf else "-inf" if value == -np.inf else float(value)
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, datetime.datetime | datetime.date):
        if getattr(value, "tzinfo", None) is not None:
            raise ValueError("Excel does not support datetimes with timezones.")
        return value
    if isinstance(value, datetime.timedelta):
        return value.total_seconds() / 86400
    return str(value)


def zoned_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its zoned date-times as the text ``to_csv`` writes for them
    (``2024-01-02 08:30:00+07:00``; empty for a missing one), formatted a column at a time: pandas
    formats such a column value by value, seconds for every hundred thousand. A column with
    fractions of a second or an offset in seconds is left to pandas.

    >>> at = pd.Series(pd.to_datetime(["2024-01-02 08:30", None])).dt.tz_localize("Asia/Saigon")
    >>> zoned_text(pd.DataFrame({"at": at}))["at"].tolist()
    ['2024-01-02 08:30:00+07:00', None]
    """
    zoned = [c for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    if not zoned:
        return frame
    frame = frame.copy()
    for column in zoned:
        frame[column] = _zoned_text(frame[column])
    return frame


def _zoned_text(values: pd.Series) -> pd.Series:
    """One zoned date-time column as :func:`zoned_text` writes it (unchanged where pandas must)."""
    wall = values.dt.tz_localize(None).to_numpy("datetime64[ns]")
    utc = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    present = ~np.isnat(wall)
    ticks = wall.view("int64")[present]
    offsets = (wall.view("int64") - utc.view("int64"))[present] // 10**9
    if (ticks % 10**9).any() or (offsets % 60).any():
        return values
    seconds = pa.array(wall.astype("datetime64[s]"), type=pa.timestamp("s"), mask=~present)
    text = pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
    distinct, which = np.unique(offsets // 60, return_inverse=True)  # a zone has a few
    shown = [f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in distinct]
    found = np.full(len(wall), "", dtype=object)
    found[present] = np.array(shown, dtype=object)[which]
    joined = pc.binary_join_element_wise(text, pa.array(found, type=pa.string()), "")
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=values.index, dtype=object)


def flat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its lists, tuples and mappings as text a spreadsheet can hold."""

    def text(value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, default=str)
        if isinstance(value, list | tuple | set | frozenset):
            return "; ".join(map(str, value))
        return value

    flat = frame.copy()
    flat.attrs = {}
    for column in flat.columns:
        if pd.api.types.is_object_dtype(flat[column]):
            flat[column] = flat[column].map(text)
    return flat
