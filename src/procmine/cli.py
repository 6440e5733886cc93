"""The ``procmine`` command: a thin layer over the library (no analysis lives here).

Each command parses its arguments, calls the functions a notebook would call, and prints their
DataFrames as rich tables.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from procmine.analysis import Analysis, Simplification

app = typer.Typer(
    add_completion=False,
    # Markdown: a docstring's paragraphs reflow to the terminal (in "rich" mode every line break
    # of the source stays).
    rich_markup_mode="markdown",
    no_args_is_help=True,
    help="procmine — process mining for internal administrative procedures (TTHC nội bộ).",
)
# Piped or in CI the terminal width is unknown; tables of Vietnamese names need more than 80.
console = Console(width=None if Console().is_terminal else 140)


def _version(value: bool) -> None:
    if value:
        from procmine import __version__

        console.print(
            f"procmine {__version__} — AGPL-3.0-or-later. Builds on pm4py (AGPL-3.0, "
            "https://processintelligence.solutions/pm4py)."
        )
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """procmine — process mining for internal administrative procedures (TTHC nội bộ)."""


def print_frame(frame: pd.DataFrame, title: str, *, limit: int | None = 10) -> None:
    """Print a DataFrame as a rich table, numbers right-aligned and rounded for reading."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    shown = frame if limit is None else frame.head(limit)
    for row in shown.itertuples(index=False):
        table.add_row(*(_cell(value) for value in row))
    console.print(table)
    if limit is not None and len(frame) > limit:
        console.print(f"[dim]… {len(frame) - limit} more rows[/dim]")


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_load_report(report: dict) -> None:
    """The load report as two tables: the counts by reason, then the header mapping."""
    counts = pd.DataFrame(
        [("rows read", report["rows_read"]), ("rows kept", report["rows_kept"])]
        + [(f"quarantined: {reason}", n) for reason, n in report["quarantined_by_reason"].items()],
        columns=["", "rows"],
    )
    print_frame(counts, f"Load report — {report.get('source', '')}", limit=None)
    details = {
        key: report[key]
        for key in ("encoding", "delimiter", "date_format", "missing_department")
        if report.get(key) is not None
    }
    if details:
        console.print("  ".join(f"[bold]{k}[/bold]: {v}" for k, v in details.items()))
    mapping = pd.DataFrame(list(report["mapping"].items()), columns=["export header", "column"])
    print_frame(mapping, "Header mapping", limit=None)
    if report.get("transfer_history"):
        roles = pd.DataFrame(list(report["transfer_headers"].items()),
                             columns=["role", "export header"])  # fmt: skip
        print_frame(roles, "A transfer history (chain of custody): its columns", limit=None)
        kinds = dict(report["transfers_by_kind"])
        kinds["out of chain (kept, flagged)"] = report["out_of_chain"]
        frame = pd.DataFrame({"kind": list(kinds), "events": list(kinds.values())})
        print_frame(frame, "Transfers by kind (holder: who holds a dossier)", limit=None)
    renamed = report.get("units_renamed")
    if renamed is not None and len(renamed):
        print_frame(renamed, "Units renamed or merged (config units:)", limit=None)
    quarantine = report.get("quarantine")
    if quarantine is not None and len(quarantine):
        first = ["source_row", "reason"]
        rest = [c for c in quarantine.columns if c not in first]
        print_frame(quarantine[first + rest], "Quarantined rows (the first ones)", limit=5)


# Options every command that reads a log can take (validate does; others may, the same way):
# `timezone: TimezoneOption = None, country: CountryOption = None, mapping: MappingOption = None`
# in its signature, then `read_log(source, **log_options(timezone, country, mapping))`.
TimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        metavar="ZONE",
        help="IANA time zone of the log (e.g. Europe/Amsterdam). Default: the zone its stamps "
        "carry or their UTC offsets imply, else Asia/Ho_Chi_Minh.",
    ),
]
CountryOption = Annotated[
    str | None,
    typer.Option(
        "--country",
        metavar="CODE",
        help="Country whose public holidays the working clock skips (ISO code, e.g. NL). "
        "Default: VN for a Vietnamese log, none for another.",
    ),
]
MappingOption = Annotated[
    list[str] | None,
    typer.Option(
        "--mapping",
        metavar="COLUMN=ROLE",
        help="An export column and the canonical column it is, e.g. org:role=org:group "
        "(roles: case:concept:name, concept:name, time:timestamp, org:group, org:resource, "
        "case:procedure, lifecycle:transition, case:deadline). Repeatable.",
    ),
]
REPORT = Path("report")  # where analyze writes by default
SOURCE_HELP = (
    "Export file (CSV/XLSX/XES/Parquet), a folder of month-partitioned Parquet, or a SQL URL."
)
MonthsOption = Annotated[
    str | None,
    typer.Option(
        "--months",
        metavar="FIRST..LAST",
        help="Only these month folders of a dataset partitioned by month (pm.write_log): "
        "2024-03, 2024-01..2024-06, 2024-01.. or ..2024-06. Cases are cut at the period's ends.",
    ),
]


def months_option(months: str | None) -> str | tuple[str | None, str | None] | None:
    """``read_log``'s ``months`` for ``--months``: one month, or FIRST..LAST with either end
    left open.

    >>> months_option("2024-01..2024-06"), months_option("..2024-06"), months_option("2024-03")
    (('2024-01', '2024-06'), (None, '2024-06'), '2024-03')
    """
    if months is None or ".." not in months:
        return months
    first, _, last = months.partition("..")
    return first.strip() or None, last.strip() or None


def log_options(
    timezone: str | None = None, country: str | None = None, mapping: list[str] | None = None
) -> dict[str, Any]:
    """The keyword arguments of ``read_log`` the shared options name (``--timezone``,
    ``--country``, ``--mapping COLUMN=ROLE``, repeatable); a ``--mapping`` without ``=`` is a
    usage error.

    >>> log_options("Europe/Amsterdam", None, ["org:role=org:group"])
    {'timezone': 'Europe/Amsterdam', 'country': None, 'mapping': {'org:role': 'org:group'}}
    """
    pairs: dict[str, str] = {}
    for item in mapping or ():
        column, equals, role = item.rpartition("=")
        if not equals or not column.strip() or not role.strip():
            raise typer.BadParameter(
                f"expected COLUMN=ROLE (e.g. org:role=org:group), found {item!r}.",
                param_hint="--mapping",
            )
        pairs[column.strip()] = role.strip()
    return {"timezone": timezone, "country": country, "mapping": pairs or None}


def config_log_options(config: Path | str | None) -> dict[str, Any]:
    """The keyword arguments of ``read_log`` a config names: its ``units:`` (renamed or merged
    departments) and ``transfer_actions:`` (action words of a transfer history)."""
    from procmine.log.transfers import read_transfer_actions

    if config is None:
        return {}
    return {"units": config, "transfer_actions": read_transfer_actions(config)}


def _print_clock_and_department(report: dict) -> None:
    """The clock the log is measured on, the department column chosen, and the warnings."""
    console.print(f"[bold]clock[/bold]: {escape(str(report.get('clock')))}")
    console.print(f"[bold]calendar[/bold]: {escape(repr(report.get('calendar')))}")
    department = report.get("department_column")
    others = report.get("department_alternatives") or []
    shown = repr(department) if department else "none"
    if others:
        shown += f" (also found: {', '.join(map(repr, others))})"
    console.print(f"[bold]department column[/bold]: {escape(shown)}")
    for value_counts in (report.get("missing_values_by_value") or {}).items():
        column, counts = value_counts
        listed = ", ".join(f"{value!r} × {n:,}" for value, n in counts.items())
        console.print(f"[bold]placeholders made null in {escape(column)}[/bold]: {escape(listed)}")
    for warning in report.get("warnings") or []:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


@app.command()
def validate(
    source: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    table: Annotated[str | None, typer.Option(help="Table name, for a SQL URL.")] = None,
    months: MonthsOption = None,
    timezone: TimezoneOption = None,
    country: CountryOption = None,
    mapping: MappingOption = None,
) -> None:
    """Load an export and print what was read, kept and quarantined, and why; the clock it is
    measured on and the column that became the department.

    Exits non-zero only when the file cannot be used (missing required columns, unreadable).
    """
    from procmine.log import load_report, read_log

    options = log_options(timezone, country, mapping)
    try:
        log = read_log(source, table=table, months=months_option(months), **options)
    except (KeyError, ValueError, OSError) as error:
        console.print(f"[red]Cannot use {escape(source)}:[/red] {escape(str(error))}")
        raise typer.Exit(code=2) from error
    report = load_report(log)
    print_load_report(report)
    _print_clock_and_department(report)
    if len(log) == 0:
        console.print("[red]No usable rows.[/red]")
        raise typer.Exit(code=1)


@app.command()
def generate(
    out: Annotated[
        Path,
        typer.Argument(
            help="Folder to write the log, catalog and truth into; with --as transfers, a "
            "folder or the file to write (.csv, .csv.gz, .parquet, .xlsx)."
        ),
    ],
    cases: Annotated[int, typer.Option(help="Number of cases.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same log).")] = 7,
    written_as: Annotated[
        str,
        typer.Option(
            "--as",
            metavar="steps|transfers",
            help="steps: the step log (one row per step); transfers: a transfer history (one "
            "row per transfer of a dossier between departments, with returns, side copies "
            "and open cases planted).",
        ),
    ] = "steps",
    open_share: Annotated[
        float | None,
        typer.Option(
            "--open-share",
            min=0.0,
            max=1.0,
            help="With --as transfers: the share of cases left stuck open (default 0.02), "
            "beside those still in progress at the export's moment, the last receipt.",
        ),
    ] = None,
) -> None:
    """Generate a realistic district log with its catalog and planted ground truth, as a step
    log or (--as transfers) as a transfer history."""
    from procmine.datasets import write_sample, write_transfer_sample

    if written_as not in ("steps", "transfers"):
        raise typer.BadParameter(f"expected steps or transfers, found {written_as!r}.",
                                 param_hint="--as")  # fmt: skip
    if written_as == "steps":
        if open_share is not None:
            raise typer.BadParameter("only with --as transfers.", param_hint="--open-share")
        paths = write_sample(out, n_cases=cases, seed=seed)
    else:
        share = 0.02 if open_share is None else open_share
        try:
            paths = write_transfer_sample(out, n_cases=cases, seed=seed, open_share=share)
        except ValueError as error:
            console.print(f"[red]Cannot write {escape(str(out))}:[/red] {escape(str(error))}")
            raise typer.Exit(code=2) from error
    for path in paths:
        console.print(f"wrote {path}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path(
        "reports/demo"
    ),
    lang: Annotated[
        str, typer.Option(help="Language of the report and the plan: vi or en.")
    ] = "vi",
    pdf: Annotated[bool, typer.Option(help="Also print the report to PDF (WeasyPrint).")] = True,
) -> None:
    """Analyse the bundled sample and write the leadership report with its figures, maps and
    simplification plan; then the same sample exported as a transfer history, and its report
    (under `transfers/`).

    Prints the load report, the worst ping-pong pairs, the bottlenecks, the late cases without
    an explanation, the conformance by procedure and the portfolio of simplification measures
    against the reform targets (20 % of procedures simplified, 20 % of their compliance cost
    cut); writes report.html and report.pdf, summary.json, the tables (CSV, XLSX), the maps and
    model of the largest procedure, the department handoff network and, under
    `simplification/`, the simplification plan (DOCX).
    """
    import procmine as pm

    log = pm.read_log(pm.datasets.sample_path("sample_log.csv.gz"))
    print_load_report(pm.load_report(log))
    built = run_report(log, pm.datasets.load_sample_catalog(), None, out, lang=lang, pdf=pdf)
    print_analysis(built.analysis)
    print_simplification(built.simplification)
    print_summary(built.summary)
    print_written(built.files)
    console.print(f"[green]Report written to {out}/report.html[/green]"
                  + (f" and {out}/report.pdf" if pdf else ""))  # fmt: skip
    # The same district's dossiers as a transfer history (the chain of custody export).
    transfers_out = out / "transfers"
    history = pm.read_log(pm.datasets.sample_path("sample_transfers.csv.gz"))
    console.rule("The sample as a transfer history — nhật ký luân chuyển hồ sơ")
    print_load_report(pm.load_report(history))
    found = run_report(history, pm.datasets.load_sample_catalog(), None, transfers_out,
                       lang=lang, pdf=pdf)  # fmt: skip
    print_summary(found.summary)
    console.print(f"[green]Report of the transfer history written to "
                  f"{transfers_out}/report.html[/green]")  # fmt: skip


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    out: Annotated[Path, typer.Option(help="Folder for the report and its tables.")] = REPORT,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="The approved-procedure catalog (CSV, XLSX, YAML). Without one, each "
            "procedure's most frequent path is its reference."
        ),
    ] = None,
    costs: Annotated[
        Path | None, typer.Option(help="A costs.yaml; default: datasets/costs.yaml.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="A config.yaml: the working calendar, explanation, closing and return "
            "activities, a transfer history's action words, units renamed or merged."
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the report: vi or en.")] = "vi",
    month: Annotated[
        str | None,
        typer.Option(
            help="The month to report, e.g. 2024-11 (compared with the month before); "
            "default: the last month a case was received in."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--from", help="Keep the cases completed from this date (or still open)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--to", help="… up to this date or month (2024-11): the report's moment."),
    ] = None,
    procedure: Annotated[
        list[str] | None, typer.Option(help="Keep this procedure's cases. Repeatable.")
    ] = None,
    department: Annotated[
        list[str] | None,
        typer.Option(help="Keep the cases this department took part in. Repeatable."),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="duckdb (default), spark (a local session) or spark://HOST:7077."),
    ] = None,
    pseudonymise_officials: Annotated[
        bool, typer.Option(help="Replace officials' names by stable codes in the lists.")
    ] = False,
    pdf: Annotated[bool, typer.Option(help="Also print the report to PDF (WeasyPrint).")] = True,
    table: Annotated[str | None, typer.Option(help="Table name, for a SQL URL.")] = None,
    months: MonthsOption = None,
    timezone: TimezoneOption = None,
    country: CountryOption = None,
    mapping: MappingOption = None,
) -> None:
    """Analyse a log and write the leadership report: report.html (one self-contained page),
    report.pdf (A4), summary.json (the headline figures), the tables (XLSX with the reader's
    words, CSV with stable names) and the model of the largest procedure (BPMN, PNML)."""
    import procmine as pm

    scope = {"since": since, "until": until, "procedures": procedure, "departments": department}
    try:
        options = log_options(timezone, country, mapping) | config_log_options(config)
        log = pm.read_log(source, table=table, months=months_option(months), **options)
        approved = pm.read_catalog(catalog) if catalog is not None else None
        chosen_costs = pm.read_costs(costs) if approved is not None else None
        pm.reports.check_options(log, approved, config=config, lang=lang, month=month, **scope)
        engine_session = pm.engines.engine_named(engine)
    except (KeyError, ValueError, OSError) as error:
        console.print(f"[red]Cannot use the input:[/red] {escape(str(error))}")
        raise typer.Exit(code=2) from error
    built = run_report(log, approved, chosen_costs, out, config=config, lang=lang, month=month,
                       pdf=pdf, engine=engine_session,
                       pseudonymise_officials=pseudonymise_officials, **scope)  # fmt: skip
    print_summary(built.summary)
    print_written(built.files)
    console.print(f"[green]Report written to {out}/report.html[/green]")


@app.command("open-cases")
def open_cases(
    source: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="The approved-procedure catalog: its last steps close a case and its "
            "deadlines give the due dates."
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(help="The moment, e.g. 2024-11-30 (default: the log's last stamp)."),
    ] = None,
    soon: Annotated[float, typer.Option(help="Working days left that count as due soon.")] = 2,
    out: Annotated[Path, typer.Option(help="The workbook to write.")] = Path("open_cases.xlsx"),
    table: Annotated[str | None, typer.Option(help="Table name, for a SQL URL.")] = None,
    timezone: TimezoneOption = None,
    country: CountryOption = None,
    mapping: MappingOption = None,
) -> None:
    """The open dossiers at a moment, fewest working days left first: where each sits (the
    department and official holding it, since when), its due date and the working days left
    (negative when overdue); the same by department. Prints both and writes them as XLSX."""
    import procmine as pm

    try:
        log = pm.read_log(source, table=table, **log_options(timezone, country, mapping))
        approved = pm.read_catalog(catalog) if catalog is not None else None
        held = pm.open_cases(log, approved, at=at, soon=soon)
        by_unit = pm.open_cases(log, approved, at=at, soon=soon, by="department")
    except (KeyError, ValueError, OSError) as error:
        console.print(f"[red]Cannot use the input:[/red] {escape(str(error))}")
        raise typer.Exit(code=2) from error
    print_frame(held, f"Open dossiers at {held.attrs.get('at')} — hồ sơ đang giải quyết", limit=30)
    print_frame(by_unit, "By the department holding them — theo đơn vị đang giữ", limit=None)
    sheets = {"open_cases": held, "by_department": by_unit}
    pm.analysis.write_workbook({n: pm.analysis.xlsx_frame(f) for n, f in sheets.items()}, out)
    console.print(f"[green]{len(held):,} open dossiers written to {out}[/green]")


def run_report(log: pd.DataFrame, catalog: Any, costs: Any, out: Path, **options: Any) -> Any:
    """:func:`procmine.reports.report` with a progress bar naming each stage."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    import procmine as pm

    stages = pm.reports.REPORT_STAGES
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(stage: str) -> None:
            bar.update(task, description=stages[stage])

        return pm.report(log, catalog, costs=costs, out=out, progress=progress, **options)


def print_written(paths: list[Path]) -> None:
    """The files a command wrote, one a line."""
    console.print("Written:")
    for path in paths:
        console.print(f"  {path}")


def print_summary(summary: dict) -> None:
    """The headline figures of a report, under their stable keys."""
    shown = {key: value for key, value in summary.items() if not isinstance(value, dict)}
    print_frame(pd.DataFrame({"figure": list(shown), "value": list(shown.values())}),
                "Headline figures (summary.json)", limit=None)  # fmt: skip


@app.command()
def simplify(
    source: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    catalog: Annotated[
        Path, typer.Option("--catalog", help="The approved-procedure catalog (CSV, XLSX, YAML).")
    ],
    costs: Annotated[
        Path | None,
        typer.Option(
            help="A costs.yaml (salaries, grades, targets, thresholds); default: "
            "datasets/costs.yaml."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the plan and its tables.")] = Path(
        "simplification"
    ),
    lang: Annotated[str, typer.Option(help="Language of the plan: vi or en.")] = "vi",
    table: Annotated[str | None, typer.Option(help="Table name, for a SQL URL.")] = None,
    timezone: TimezoneOption = None,
    country: CountryOption = None,
    mapping: MappingOption = None,
) -> None:
    """Cost the procedures, rank the simplification candidates, choose the portfolio that meets
    the targets and write the simplification plan.

    Writes the compliance cost by procedure, the candidates (each with its evidence and its
    replayed saving), the portfolio's measures, its summary against the targets and its
    sensitivity as CSV and XLSX, and the plan as DOCX (with its table as XLSX and CSV); prints
    the summary against the targets.
    """
    import procmine as pm

    try:
        log = pm.read_log(source, table=table, **log_options(timezone, country, mapping))
        approved = pm.read_catalog(catalog)
        chosen_costs = pm.read_costs(costs)
    except (KeyError, ValueError, OSError) as error:
        console.print(f"[red]Cannot use the input:[/red] {escape(str(error))}")
        raise typer.Exit(code=2) from error
    found = run_simplification(log, approved, chosen_costs)
    print_simplification(found)
    for path in pm.analysis.write_simplification(found, out, lang=lang):
        console.print(f"  {path}")
    console.print(f"[green]Plan written to {out}/[/green]")


def run_simplification(log: pd.DataFrame, catalog: pd.DataFrame, costs: Any) -> Simplification:
    """:func:`procmine.analysis.simplify` with a progress bar: its stages, then the candidates
    replayed one by one on the cases (the long part)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    import procmine as pm

    stages = pm.analysis.SIMPLIFY_STAGES
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(stage: str) -> None:
            bar.update(task, description=stages[stage], completed=0, total=None)

        def replayed(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return pm.analysis.simplify(log, catalog, costs, progress=progress, replayed=replayed)


def print_simplification(found: Simplification) -> None:
    """The portfolio against the targets, its measures and what a reader must know."""
    from procmine.portfolios import readable_summary

    chosen = found.portfolio
    console.print(f"[bold]{escape(chosen.headline())}[/bold]")
    print_frame(
        readable_summary(chosen.summary),
        "The portfolio against the targets — danh mục phương án so với chỉ tiêu",
        limit=None,
    )
    print_frame(
        chosen.measures[[c for c in MEASURE_COLUMNS if c in chosen.measures.columns]],
        "The measures chosen — các phương án đơn giản hóa được chọn",
        limit=15,
    )
    for note in chosen.notes:
        console.print(f"[dim]note:[/dim] {escape(note)}")


def print_analysis(found: Analysis) -> None:
    """The head of each figure of an analysis, with its title in English and Vietnamese."""
    print_frame(
        found.ping_pong[[c for c in PAIR_COLUMNS if c in found.ping_pong.columns]],
        "Worst ping-pong pairs (excess bounces beyond the approved path) — cặp phòng ban đùn đẩy",
    )
    for by, frame in found.bottlenecks.items():
        print_frame(
            frame[[c for c in BOTTLENECK_COLUMNS if c in frame.columns]],
            f"Bottlenecks by {by}: working hours held — điểm nghẽn",
        )
    print_frame(
        found.late_without_explanation,
        "Late cases without an explanation — hồ sơ trễ hạn chưa giải trình",
    )
    print_frame(
        found.conformance,
        "Deviations from the approved procedure — sai lệch so với quy trình được phê duyệt",
    )


PAIR_COLUMNS = [
    "department_a",
    "department_b",
    "handoffs",
    "bounces",
    "excess_bounces",
    "returns",
    "pingpong_cases",
    "working_hours_lost",
]
BOTTLENECK_COLUMNS = [
    "activity",
    "department",
    "source",
    "target",
    "working_hours",
    "share",
    "median_working_hours",
    "p90_working_hours",
    "cases",
]
MEASURE_COLUMNS = [
    "measure_id",
    "procedure",
    "title",
    "measure_saving_yearly",
    "working_days_saved",
    "effort_person_days",
]
