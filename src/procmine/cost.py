"""What a procedure costs the agency: compliance cost (chi phí tuân thủ), prescribed and observed.

docs/definitions.md (Compliance cost) and docs/cost.md: after the standard cost model of Circular
02/2017/TT-VPCP, one run of a procedure costs the officials' working time it takes × their hourly
cost, plus fees and other direct costs; a year costs that × the runs a year. Waiting is not
counted. The **prescribed** cost is one run of the approved path; the **observed** cost is what
the cases did: every event (a complete event, or one without a lifecycle; side copies excluded)
costs its step again, so a bounce, a redo or a step not in the procedure costs its time again.

- :func:`read_costs` reads the model's settings (``datasets/costs.yaml`` by default, every
  number with its source) into a :class:`Costs`; an invalid file raises :class:`CostsError`.
- :func:`step_costs`: the working minutes, grade and cost of each step of each procedure.
- :func:`compliance_cost`: the figure, by procedure, step, case or department: one SQL text
  (DuckDB dialect, transpiled by SQLGlot for Spark) over the events table and the step costs.

Each takes a log, its events table, or one kept on Spark (:class:`procmine.engines.SparkEvents`:
the SQL reads it there; the small step-cost and procedure tables are uploaded, and only results
come back).

>>> import procmine as pm
>>> catalog = pm.datasets.example_catalog().assign(
...     standard_minutes=[15, 60, 30], grade=["Văn thư", "Chuyên viên", "Phó Chủ tịch"])
>>> costs = read_costs().replace(base_salary_vnd_per_month=1_760_000)  # 10,000 VND/h a point
>>> found = compliance_cost(pm.datasets.example_log(), catalog, costs)
>>> found[["procedure", "cases", "prescribed_cost", "observed_cost", "extra_share"]].round(4)
  procedure  cases  prescribed_cost  observed_cost  extra_share
0  Cấp phép      3          53650.0        69250.0       0.2908

(One run: Tiếp nhận 15 min × 21,000 VND/h (Văn thư, 2.10) + Thẩm định 60 min × 23,400 (Chuyên
viên, 2.34) + Phê duyệt 30 min × 50,000 (Phó Chủ tịch, 4.40 + 0.60) = 5,250 + 23,400 + 25,000.
HS1 runs it; HS2 does Thẩm định twice and "Trả lại hồ sơ" (not in the catalog: the default 30 min
× 23,400 = 11,700), 88,750; HS3 adds "Giải trình lý do chậm", 65,350; the mean is 69,250.)
"""

from __future__ import annotations

import dataclasses
import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from procmine import engines, schema
from procmine.bottleneck import sojourned
from procmine.catalog import approved_paths, with_catalog_procedure
from procmine.engines import Cte, with_ctes

__all__ = [
    "MEASURE_TYPES",
    "RISKS",
    "TARGETS",
    "Costs",
    "CostsError",
    "StepCostTable",
    "compliance_cost",
    "compliance_cost_sql",
    "figure_sqls",
    "read_costs",
    "seen_steps",
    "step_costs",
]

# The measure types of the simplification candidates and the thresholds each one's rule reads
# (docs/cost.md, Measures); every type also has effort_person_days and risk.
MEASURE_TYPES: dict[str, tuple[str, ...]] = {
    "end_pingpong": ("min_excess_bounces", "min_case_share"),
    "remove_check": ("max_return_share",),
    "merge_steps": ("min_same_official_share", "smaller_share"),
    "parallel": (),
    "delegate_signing": ("min_time_share",),
    "cut_waiting": ("min_ratio",),
    "shorten_deadline": ("max_p90_share",),
    "drop_extra_step": ("min_case_share",),
}
RISKS = ("low", "medium", "high")
TARGETS = ("simplified_share", "cost_cut", "reviewed_share")

_REQUIRED_KEYS = (
    "base_salary_vnd_per_month", "working_hours_per_month", "grades", "default_grade",
    "default_step_minutes", "targets", "measures", "leadership_grades", "delegate_to_grade",
    "check_activities", "return_activities",
)  # fmt: skip
_OPTIONAL_KEYS = ("step_minutes", "direct_costs", "runs_per_year")
_GIVEN = "the costs given"  # how an error names costs that come from no file
_SECONDS_A_YEAR = 365.25 * 86400  # a Julian year: leap years averaged
By = Literal["procedure", "step", "case", "department"]
_BY = ("procedure", "step", "case", "department")
EVENT_COLUMNS = engines.FIGURE_COLUMNS  # what these figures read of an events table


class CostsError(ValueError):
    """The cost settings are invalid; the message names the key, the file and the fix."""


# ------------------------------------------------------------------------------ settings
@dataclass(frozen=True)
class Costs:
    """The compliance-cost model's settings (``datasets/costs.yaml``; docs/cost.md): an immutable
    value, checked when made — change it with :meth:`replace`, which checks again.

    ``grades`` maps a grade to its pay ``coefficient`` and position ``allowance`` (both
    multiples of the base salary); ``measures`` maps each of :data:`MEASURE_TYPES` to its
    ``effort_person_days``, ``risk`` and thresholds; ``sources`` maps a key to its source.

    >>> costs = read_costs()
    >>> round(costs.hourly_cost("Chuyên viên"), 2)  # 2,340,000 × 2.34 ÷ 176
    31111.36
    >>> costs.targets["cost_cut"], costs.measure("cut_waiting")["min_ratio"]
    (0.2, 3.0)
    """

    base_salary_vnd_per_month: float
    working_hours_per_month: float
    grades: dict[str, dict[str, float]]
    default_grade: str
    default_step_minutes: float
    targets: dict[str, float]
    measures: dict[str, dict[str, Any]]
    leadership_grades: tuple[str, ...]
    delegate_to_grade: str
    check_activities: tuple[str, ...]
    return_activities: tuple[str, ...]
    step_minutes: dict[str, float] = field(default_factory=dict)
    direct_costs: dict[str, float] = field(default_factory=dict)
    runs_per_year: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    path: str = field(default=_GIVEN, compare=False)

    def __post_init__(self) -> None:
        for name, value in _checked(self).items():
            object.__setattr__(self, name, value)  # frozen: the checked, normalised values

    def __hash__(self) -> int:
        return hash(json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False))

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain data (what a costs.yaml holds, without the sources)."""
        return {
            f.name: list(value) if isinstance(value, tuple) else value
            for f in dataclasses.fields(self)
            if f.compare and (value := getattr(self, f.name)) is not None
        }

    def grade_name(self, grade: Any = None) -> str:
        """The name in ``grades`` of ``grade`` (compared on NFC-normalised, case-folded text),
        ``default_grade`` for none; a :class:`CostsError` when ``grades`` lacks it."""
        if grade is None or (isinstance(grade, float) and math.isnan(grade)) or grade is pd.NA:
            return self.default_grade
        wanted = _text(grade).casefold()
        for name in self.grades:
            if name.casefold() == wanted:
                return name
        raise CostsError(
            f"{self.path}: grades has no grade {_text(grade)!r} (grades found: "
            f"{list(self.grades)}). Add it under grades: with its coefficient, allowance and "
            "source, or correct the catalog's grade."
        )

    def hourly_cost(self, grade: Any = None) -> float:
        """VND an hour of an official of ``grade`` (the default grade for none): base salary ×
        (coefficient + allowance) ÷ working hours a month."""
        pay = self.grades[self.grade_name(grade)]
        points = pay["coefficient"] + pay["allowance"]
        return self.base_salary_vnd_per_month * points / self.working_hours_per_month

    def measure(self, kind: str) -> dict[str, Any]:
        """A copy of one measure type's settings: thresholds, ``effort_person_days``, ``risk``."""
        if kind not in self.measures:
            raise CostsError(
                f"{self.path}: measures has no type {kind!r}; the types are {list(MEASURE_TYPES)}."
            )
        return dict(self.measures[kind])

    def replace(self, **changes: Any) -> Costs:
        """A copy with ``changes`` (by field name: ``targets={...}``, ``grades={...}``), checked."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise CostsError(
                f"{self.path}: no setting {unknown} to replace; the settings are "
                f"{[f.name for f in dataclasses.fields(self)]}."
            )
        return dataclasses.replace(self, **changes)


def read_costs(path: str | Path | Mapping[str, Any] | None = None) -> Costs:
    """Read a costs.yaml (docs/cost.md) into :class:`Costs`; None reads the documented default,
    the repository's ``datasets/costs.yaml``. A mapping is read as the file's content.

    A number is written plainly or as ``{value: ..., source: "..."}``; a missing or unknown key,
    a negative coefficient, a target outside 0..1, an unknown measure type or risk raises
    :class:`CostsError` naming the key and the file.

    >>> read_costs().grades["Phó Chủ tịch"]
    {'coefficient': 4.4, 'allowance': 0.6}
    >>> read_costs({"base_salary_vnd_per_month": 2340000})
    Traceback (most recent call last):
    ...
    procmine.cost.CostsError: the costs given: missing key(s) ['working_hours_per_month', ...
    """
    if isinstance(path, Mapping):
        return _costs_from(path, _GIVEN)
    if path is None:
        from procmine.datasets.files import sample_path  # the repository's datasets/ folder

        path = sample_path("costs.yaml")
    where = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CostsError(f"{where}: not valid YAML ({error}).") from None
    return _costs_from(data if data is not None else {}, where)


def _costs_from(data: Any, where: str) -> Costs:
    """:class:`Costs` from a costs.yaml's content: plain values, and the sources beside them."""
    if not isinstance(data, Mapping):
        raise CostsError(
            f"{where}: a costs file is a mapping of keys, found {type(data).__name__}."
        )
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    unknown = [str(key) for key in data if key not in (*_REQUIRED_KEYS, *_OPTIONAL_KEYS)]
    if missing:
        raise CostsError(f"{where}: missing key(s) {missing}. Copy them from datasets/costs.yaml.")
    if unknown:
        raise CostsError(
            f"{where}: unknown key(s) {unknown}; the keys are "
            f"{list(_REQUIRED_KEYS + _OPTIONAL_KEYS)}."
        )
    sources: dict[str, str] = {}
    plain = {key: _sourced(data[key], key, sources) for key in data}
    return Costs(**plain, sources=sources, path=where)


def _sourced(value: Any, key: str, sources: dict[str, str]) -> Any:
    """``value`` without its sources (kept in ``sources`` by key): ``{value, source}`` is its
    value, and a mapping's ``source`` is taken out of it."""
    if not isinstance(value, Mapping):
        return value
    if "source" in value:
        sources[key] = str(value["source"])
    if "value" in value and set(value) <= {"value", "source"}:
        return value["value"]
    return {
        name: _sourced(item, f"{key}.{name}", sources)
        for name, item in value.items()
        if name != "source"
    }


def _checked(costs: Costs) -> dict[str, Any]:
    """Every field of ``costs`` checked and normalised (numbers as float, text NFC, lists as
    tuples); a :class:`CostsError` naming the first bad key and the file."""
    where = costs.path
    grades = _grades(costs.grades, where)
    checked: dict[str, Any] = {
        "base_salary_vnd_per_month": _number(
            costs.base_salary_vnd_per_month, "base_salary_vnd_per_month", where, positive=True
        ),
        "working_hours_per_month": _number(
            costs.working_hours_per_month, "working_hours_per_month", where, positive=True
        ),
        "grades": grades,
        "default_step_minutes": _number(costs.default_step_minutes, "default_step_minutes", where),
        "targets": _targets(costs.targets, where),
        "measures": _measures(costs.measures, where),
        "step_minutes": _numbers(costs.step_minutes, "step_minutes", where),
        "direct_costs": _numbers(costs.direct_costs, "direct_costs", where),
        "runs_per_year": _numbers(costs.runs_per_year, "runs_per_year", where),
        "check_activities": _names(costs.check_activities, "check_activities", where),
        "return_activities": _names(costs.return_activities, "return_activities", where),
        "sources": dict(costs.sources),
    }
    for key in ("default_grade", "delegate_to_grade"):
        checked[key] = _grade(getattr(costs, key), key, grades, where)
    checked["leadership_grades"] = tuple(
        _grade(name, "leadership_grades", grades, where)
        for name in _names(costs.leadership_grades, "leadership_grades", where)
    )
    return checked


def _number(
    value: Any, key: str, where: str, *, positive: bool = False, at_most: float | None = None
) -> float:
    """``value`` as a finite float ≥ 0 (> 0 when ``positive``; ≤ ``at_most`` when given)."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    number = float(value) if ok else math.nan
    if not ok or not math.isfinite(number) or number < 0 or (positive and number == 0):
        bound = "a number > 0" if positive else "a number ≥ 0"
        raise CostsError(f"{where}: {key} must be {bound}, found {value!r}.")
    if at_most is not None and number > at_most:
        raise CostsError(f"{where}: {key} must be at most {at_most:g}, found {value!r}.")
    return number


def _mapping(value: Any, key: str, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise CostsError(f"{where}: {key} must be a mapping of names, found {value!r}.")
    return value


def _text(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value)).strip()


def _numbers(value: Any, key: str, where: str) -> dict[str, float]:
    return {
        _text(name): _number(item, f"{key}.{name}", where)
        for name, item in _mapping(value, key, where).items()
    }


def _names(value: Any, key: str, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Iterable) or isinstance(values, Mapping):
        raise CostsError(f"{where}: {key} must be a list of names, found {value!r}.")
    names = tuple(_text(name) for name in values if name is not None)
    if any(not name for name in names):
        raise CostsError(f"{where}: {key} has an empty name.")
    return names


def _grades(value: Any, where: str) -> dict[str, dict[str, float]]:
    grades = {}
    for name, pay in _mapping(value, "grades", where).items():
        key = f"grades.{name}"
        pay = _mapping(pay, key, where)
        unknown = sorted(set(pay) - {"coefficient", "allowance"})
        if unknown or "coefficient" not in pay:
            raise CostsError(
                f"{where}: {key} must give coefficient (and allowance), found keys {list(pay)}."
            )
        grades[_text(name)] = {
            "coefficient": _number(pay["coefficient"], f"{key}.coefficient", where),
            "allowance": _number(pay.get("allowance", 0.0), f"{key}.allowance", where),
        }
    if not grades:
        raise CostsError(f"{where}: grades is empty; give each grade's coefficient and allowance.")
    return grades


def _grade(value: Any, key: str, grades: Mapping[str, Any], where: str) -> str:
    name = _text(value) if value is not None else ""
    for known in grades:
        if known.casefold() == name.casefold():
            return known
    raise CostsError(f"{where}: {key} names the grade {name!r}, not under grades: {list(grades)}.")


def _targets(value: Any, where: str) -> dict[str, float]:
    targets = _mapping(value, "targets", where)
    wrong = sorted(set(targets) ^ set(TARGETS))
    if wrong:
        raise CostsError(
            f"{where}: targets must give exactly {list(TARGETS)}; missing or unknown: {wrong}."
        )
    return {key: _number(targets[key], f"targets.{key}", where, at_most=1.0) for key in TARGETS}


def _measures(value: Any, where: str) -> dict[str, dict[str, Any]]:
    measures = _mapping(value, "measures", where)
    unknown = sorted(set(measures) - set(MEASURE_TYPES))
    missing = [kind for kind in MEASURE_TYPES if kind not in measures]
    if unknown or missing:
        raise CostsError(
            f"{where}: measures: unknown type(s) {unknown}, missing type(s) {missing}; the types "
            f"are {list(MEASURE_TYPES)}."
        )
    return {kind: _measure(kind, measures[kind], where) for kind in MEASURE_TYPES}


def _measure(kind: str, value: Any, where: str) -> dict[str, Any]:
    key = f"measures.{kind}"
    settings = _mapping(value, key, where)
    wanted = {"effort_person_days", "risk", *MEASURE_TYPES[kind]}
    wrong = sorted(set(settings) ^ wanted)
    if wrong:
        raise CostsError(f"{where}: {key} must give exactly {sorted(wanted)}; wrong: {wrong}.")
    if settings["risk"] not in RISKS:
        raise CostsError(f"{where}: {key}.risk must be one of {list(RISKS)}, found "
                         f"{settings['risk']!r}.")  # fmt: skip
    checked: dict[str, Any] = {
        "effort_person_days": _number(
            settings["effort_person_days"], f"{key}.effort_person_days", where
        ),
        "risk": settings["risk"],
    }
    for name in MEASURE_TYPES[kind]:
        share = name.endswith("_share")  # a share of cases or time: 0..1
        checked[name] = _number(
            settings[name], f"{key}.{name}", where, at_most=1.0 if share else None
        )
    return checked


# ------------------------------------------------------------------------------ SQL
_OCCURRENCE = "NOT {t}side_copy AND ({t}lifecycle IS NULL OR {t}lifecycle = 'complete')"


def seen_steps_sql(split: bool) -> str:
    """The SQL of the steps done in the log: per procedure and activity, its ``occurrences``
    (complete or lifecycle-less events, side copies excluded) and, when ``split`` (the log has
    start events), ``log_minutes``: the median working minutes from a start to its complete
    (the pairing of :func:`procmine.bottleneck.sojourns`)."""
    seen = (
        "seen",
        f"""
  SELECT procedure, activity, COUNT(*) AS occurrences
  FROM events WHERE {_OCCURRENCE.format(t="")}
  GROUP BY procedure, activity""",
    )
    if not split:
        return with_ctes(
            seen,
            select="""
SELECT procedure, activity, occurrences, CAST(NULL AS DOUBLE) AS log_minutes
FROM seen ORDER BY procedure, activity""",
        )
    pairing = tuple(cte for cte in sojourned(split=True) if cte[0] != "sojourned")
    pairs = """
  SELECT n.procedure, n.activity, MEDIAN(n.wm - s.start_wm) AS log_minutes
  FROM numbered AS n
  JOIN starts AS s
    ON s.case_no = n.case_no AND s.activity = n.activity AND s.instance = n.instance
    AND s.start_idx < n.idx
  WHERE n.phase = 'complete' AND NOT n.side_copy
  GROUP BY n.procedure, n.activity"""
    return with_ctes(
        seen,
        *pairing,
        ("pairs", pairs),
        select="""
SELECT s.procedure, s.activity, s.occurrences, p.log_minutes
FROM seen AS s
LEFT JOIN pairs AS p ON p.procedure = s.procedure AND p.activity = s.activity
ORDER BY s.procedure, s.activity""",
    )


def occurrences(department: bool = False) -> tuple[Cte, ...]:
    """CTEs ending in ``costed``: each event that costs (``occurrences``: complete or
    lifecycle-less, not a side copy, with its step's minutes and cost from ``step_costs``), each
    case's work (``case_costs``), the log's span in years (``span``: first to last receipt) and
    per procedure of ``procedures`` its cases, runs a year, prescribed and observed cost."""
    unit = "e.department, " if department else ""
    occurring = f"""
  SELECT e.case_no, e.procedure, e.activity, {unit}s.minutes, s.cost
  FROM events AS e
  LEFT JOIN step_costs AS s ON s.procedure = e.procedure AND s.activity = e.activity
  WHERE {_OCCURRENCE.format(t="e.")}"""
    case_costs = """
  SELECT c.case_no, c.procedure, COALESCE(w.events, 0) AS events,
    COALESCE(w.minutes, 0.0) AS minutes, COALESCE(w.cost, 0.0) AS cost
  FROM cases AS c
  LEFT JOIN (
    SELECT case_no, COUNT(*) AS events, SUM(minutes) AS minutes, SUM(cost) AS cost
    FROM occurrences GROUP BY case_no
  ) AS w ON w.case_no = c.case_no"""
    # A procedure without cases is taken to run its approved path: observed = prescribed.
    costed = """
  SELECT p.procedure, p.in_catalog, p.direct_cost, y.years, COALESCE(o.cases, 0) AS cases,
    COALESCE(p.configured_runs, COALESCE(o.cases, 0) / NULLIF(y.years, 0.0)) AS runs_per_year,
    r.minutes AS prescribed_minutes, r.cost + p.direct_cost AS prescribed_cost,
    COALESCE(o.minutes, r.minutes) AS observed_minutes,
    COALESCE(o.cost, r.cost) + p.direct_cost AS observed_cost
  FROM procedures AS p
  CROSS JOIN span AS y
  LEFT JOIN (
    SELECT procedure, COUNT(*) AS cases, AVG(minutes) AS minutes, AVG(cost) AS cost
    FROM case_costs GROUP BY procedure
  ) AS o ON o.procedure = p.procedure
  LEFT JOIN (
    SELECT procedure, SUM(minutes) AS minutes, SUM(cost) AS cost
    FROM step_costs WHERE step IS NOT NULL GROUP BY procedure
  ) AS r ON r.procedure = p.procedure"""
    return (
        ("occurrences", occurring),
        (
            "cases",
            "SELECT case_no, MIN(procedure) AS procedure, MIN(ts) AS received\n"
            "  FROM events GROUP BY case_no",
        ),
        ("case_costs", case_costs),
        (
            "span",
            f"SELECT (EPOCH(MAX(received)) - EPOCH(MIN(received))) / {_SECONDS_A_YEAR}"
            " AS years FROM cases",
        ),
        ("costed", costed),
    )


_SELECTS = {
    "procedure": """
SELECT procedure, cases, runs_per_year, prescribed_minutes, prescribed_cost, observed_minutes,
  observed_cost, prescribed_cost * runs_per_year AS prescribed_yearly,
  observed_cost * runs_per_year AS observed_yearly,
  observed_cost / NULLIF(prescribed_cost, 0.0) - 1 AS extra_share, in_catalog, years
FROM costed
ORDER BY in_catalog DESC, observed_yearly DESC NULLS LAST, procedure""",
    "case": """
SELECT i.case_id, c.procedure, c.events, c.minutes AS observed_minutes,
  c.cost + p.direct_cost AS observed_cost, y.years
FROM case_costs AS c
JOIN case_ids AS i ON i.case_no = c.case_no
JOIN procedures AS p ON p.procedure = c.procedure
CROSS JOIN span AS y
ORDER BY c.procedure, i.case_id""",
}
_STEP_ROWS = """
  SELECT s.procedure, s.activity, s.step, s.grade, s.minutes, s.minutes_source, s.hourly_cost,
    s.cost, CASE WHEN s.step IS NULL THEN 0 ELSE 1 END AS prescribed_runs, c.runs_per_year,
    c.years,
    CASE WHEN c.cases > 0 THEN COALESCE(n.occurrences, 0) / c.cases
         WHEN s.step IS NULL THEN 0.0 ELSE 1.0 END AS occurrences_per_case
  FROM step_costs AS s
  JOIN costed AS c ON c.procedure = s.procedure
  LEFT JOIN (
    SELECT procedure, activity, COUNT(*) AS occurrences FROM occurrences
    GROUP BY procedure, activity
  ) AS n ON n.procedure = s.procedure AND n.activity = s.activity"""
_STEP_SELECT = """
SELECT procedure, activity, step, grade, minutes, minutes_source, hourly_cost, cost,
  prescribed_runs, occurrences_per_case,
  cost * occurrences_per_case * runs_per_year AS observed_yearly, years
FROM step_rows
ORDER BY procedure, step NULLS LAST, activity"""
# A department's yearly cost in a procedure is its cost per case of it × the procedure's runs.
_DEPARTMENT_ROWS = """
  SELECT w.department, w.minutes, w.cost / c.cases * c.runs_per_year AS yearly, c.years
  FROM (
    SELECT procedure, department, SUM(minutes) AS minutes, SUM(cost) AS cost
    FROM occurrences GROUP BY procedure, department
  ) AS w
  JOIN costed AS c ON c.procedure = w.procedure"""
_DEPARTMENT_SELECT = """
SELECT department, SUM(minutes) AS observed_minutes, SUM(yearly) AS observed_yearly,
  SUM(yearly) / NULLIF(SUM(SUM(yearly)) OVER (), 0.0) AS share, MAX(years) AS years
FROM department_rows
GROUP BY department
ORDER BY observed_yearly DESC NULLS LAST, department NULLS LAST"""


def compliance_cost_sql(by: str) -> str:
    """The SQL of :func:`compliance_cost` for one ``by``; it reads the tables ``events``,
    ``step_costs`` (:func:`step_costs`), ``procedures`` (procedure, in_catalog, direct_cost,
    configured_runs) and, by case, ``case_ids``.

    >>> "GROUP BY department" in compliance_cost_sql("department")
    True
    """
    schema.check_choice("by", by, _BY)
    ctes = occurrences(department=by == "department")
    if by == "step":
        return with_ctes(*ctes, ("step_rows", _STEP_ROWS), select=_STEP_SELECT)
    if by == "department":
        return with_ctes(*ctes, ("department_rows", _DEPARTMENT_ROWS), select=_DEPARTMENT_SELECT)
    return with_ctes(*ctes, select=_SELECTS[by])


def figure_sqls() -> dict[str, str]:
    """Every figure's SQL text of this module, by name (for review and for the Spark check).

    >>> sorted(figure_sqls())[:2]
    ['compliance_cost[case]', 'compliance_cost[department]']
    """
    texts = {f"compliance_cost[{by}]": compliance_cost_sql(by) for by in _BY}
    texts.update({f"seen_steps[{split}]": seen_steps_sql(split) for split in (False, True)})
    return texts


# ------------------------------------------------------------------------------ step costs
def step_costs(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None,
    costs: Costs | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    seen: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What one occurrence of each step costs: one row per procedure and activity seen in the
    log or the catalog.

    Columns: ``procedure``, ``activity``, ``step`` (its number on the approved path, null when
    it is not on it), ``grade``, ``minutes``, ``minutes_source`` (``catalog``: its
    standard_minutes; ``log``: the median working minutes of its start/complete pairs;
    ``default``: costs.step_minutes of the activity, else default_step_minutes),
    ``grade_source`` (``catalog``, or ``default``: costs.default_grade), ``hourly_cost`` (VND)
    and ``cost`` (VND an occurrence = minutes ÷ 60 × hourly_cost). ``log`` may be the events
    table of :func:`procmine.engines.event_table`; ``seen``, its :func:`seen_steps` (as the
    catalog reads it), when the caller has them (pricing one log under several catalogs).

    >>> import procmine as pm
    >>> table = step_costs(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> table[["activity", "step", "minutes", "minutes_source", "grade", "cost"]].round(2)
                    activity  step  minutes minutes_source        grade      cost
    0              Tiếp nhận     1     30.0        default  Chuyên viên  15555.68
    1              Thẩm định     2     30.0        default  Chuyên viên  15555.68
    2              Phê duyệt     3     30.0        default  Chuyên viên  15555.68
    3  Giải trình lý do chậm  <NA>     30.0        default  Chuyên viên  15555.68
    4          Trả lại hồ sơ  <NA>     30.0        default  Chuyên viên  15555.68
    """
    costs = read_costs() if costs is None else costs
    if seen is not None:
        return _step_table(None, catalog, costs, engine, seen)
    events, _ = engines.clocked(log, calendar, EVENT_COLUMNS)
    return _step_table(with_catalog_procedure(events, catalog), catalog, costs, engine)


def seen_steps(
    log: pd.DataFrame, catalog: pd.DataFrame | None, *, engine: Any = None
) -> pd.DataFrame:
    """The steps done in the log (or its events table), as the catalog reads its procedures:
    per procedure and activity, ``occurrences`` and ``log_minutes`` (:func:`seen_steps_sql`),
    what :func:`step_costs` reads of the log.

    >>> import procmine as pm
    >>> seen_steps(pm.datasets.example_log(), None)[["activity", "occurrences"]].head(2)
                    activity  occurrences
    0  Giải trình lý do chậm            1
    1              Phê duyệt            3
    """
    events, _ = engines.clocked(log, None, EVENT_COLUMNS)
    return _seen(with_catalog_procedure(events, catalog), engine)


def _seen(events: pd.DataFrame, engine: Any) -> pd.DataFrame:
    """:func:`seen_steps` of an events table whose procedures the catalog reads."""
    events = engines.complete_events(events)
    # Which SQL, not a figure: read from the distinct lifecycles (a coded column's categories in
    # use; of a table kept on Spark, asked there).
    split = "start" in engines.distinct(events["lifecycle"])
    seen = engines.query(seen_steps_sql(split), engine, events=events[list(_SEEN_COLUMNS)])
    return seen.astype({"procedure": str, "activity": str, "log_minutes": "float64"})


# What the SQL reads of the events (``sojourn`` too, which query would otherwise compute again).
_SEEN_COLUMNS = (
    "idx",
    "case_no",
    "procedure",
    "activity",
    "lifecycle",
    "wm",
    "side_copy",
    "sojourn",
)


def _step_table(
    events: pd.DataFrame | None,
    catalog: pd.DataFrame | None,
    costs: Costs,
    engine: Any,
    seen: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`step_costs` of an events table whose procedures the catalog reads (or of its
    :func:`seen_steps`, given)."""
    seen = _seen(events, engine) if seen is None else seen
    table = _approved_steps(catalog).merge(
        seen[["procedure", "activity", "log_minutes"]], on=["procedure", "activity"], how="outer"
    )
    configured = table["activity"].map(lambda name: costs.step_minutes.get(_text(name)))
    default = configured.astype("float64").fillna(costs.default_step_minutes)
    minutes = table["standard_minutes"].fillna(table["log_minutes"]).fillna(default)
    minutes_source = np.select(
        [table["standard_minutes"].notna(), table["log_minutes"].notna()],
        ["catalog", "log"],
        "default",
    )
    grade = _grade_names(table, costs)
    hourly = grade.map({name: costs.hourly_cost(name) for name in pd.unique(grade)})
    result = pd.DataFrame(
        {
            "procedure": table["procedure"].astype("string"),
            "activity": table["activity"].astype("string"),
            "step": table["step"].astype("Int64"),
            "grade": grade.astype("string"),
            "minutes": minutes.astype("float64"),
            "minutes_source": pd.array(minutes_source, dtype="string"),
            "grade_source": pd.array(
                np.where(table["grade"].notna(), "catalog", "default"), dtype="string"
            ),
            "hourly_cost": hourly.astype("float64"),
            "cost": (minutes / 60.0 * hourly).astype("float64"),
        }
    )
    order = result.sort_values(["procedure", "step", "activity"], na_position="last").index
    return result.loc[order].reset_index(drop=True)


def _approved_steps(catalog: pd.DataFrame | None) -> pd.DataFrame:
    """The approved path (:func:`procmine.catalog.approved_paths`) with each step's
    standard_minutes and grade (null where the catalog has none)."""
    columns = ["procedure", "activity", "step", "standard_minutes", "grade"]
    if catalog is None:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns}).astype(
            {"procedure": str, "activity": str, "standard_minutes": "float64"}
        )
    schema.require_columns(catalog, ("procedure", "step", "activity"), what="the catalog")
    rows = catalog.assign(
        procedure=catalog["procedure"].astype(str),
        activity=catalog["activity"].astype(str),
        standard_minutes=pd.to_numeric(catalog.get("standard_minutes"), errors="coerce")
        if "standard_minutes" in catalog.columns
        else np.nan,
        grade=catalog["grade"] if "grade" in catalog.columns else None,
    )
    path = approved_paths(rows.assign(department=rows.get("department", "")))
    path = path.astype({"procedure": str, "activity": str})
    details = rows.drop_duplicates(["procedure", "activity", "step"])[columns]
    return path[["procedure", "activity", "step"]].merge(
        details, on=["procedure", "activity", "step"], how="left"
    )


def _grade_names(table: pd.DataFrame, costs: Costs) -> pd.Series:
    """Each step's grade as costs names it (the default grade where the catalog gives none); one
    :class:`CostsError` naming every catalog grade that costs lack."""
    given = table["grade"].astype(object).where(table["grade"].notna(), None)
    names: dict[Any, str] = {}
    missing: dict[str, set[str]] = {}
    for grade in pd.unique(given):  # the distinct grades, a handful
        try:
            names[grade] = costs.grade_name(grade)
        except CostsError:
            procedures = table.loc[given == grade, "procedure"]
            missing[_text(grade)] = set(procedures.astype(str))
    if missing:
        listed = "; ".join(f"{grade!r} ({_some(sorted(p))})" for grade, p in missing.items())
        raise CostsError(
            f"{costs.path}: grades lacks the grade(s) the catalog names: {listed}. Add each under "
            f"grades: with its coefficient, allowance and source (grades found: "
            f"{list(costs.grades)}), or correct the catalog."
        )
    return given.map(lambda grade: names[grade]).astype(object)


def _some(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# ------------------------------------------------------------------------------ the figure
class StepCostTable(pd.DataFrame):
    """The step costs a result carries in ``attrs["step_costs"]``: a DataFrame that compares
    equal by content (``==`` gives one bool) and that a deep copy shares.

    Why: pandas deep-copies ``attrs`` into every frame derived from a result and compares the
    attrs of the frames it concatenates; two copies of a plain DataFrame cannot be compared as
    one truth value, so ``pd.concat`` of two results would fail. Frames derived from it are plain
    DataFrames.
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def __deepcopy__(self, memo: Any = None) -> StepCostTable:
        return self  # never changed after it is made

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return isinstance(other, pd.DataFrame) and self.equals(other)

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]


_TYPES: dict[str, dict[str, str]] = {
    "procedure": {
        "procedure": "string", "cases": "int64", "runs_per_year": "float64",
        "prescribed_minutes": "float64", "prescribed_cost": "float64",
        "observed_minutes": "float64", "observed_cost": "float64", "prescribed_yearly": "float64",
        "observed_yearly": "float64", "extra_share": "float64", "in_catalog": "bool",
    },
    "step": {
        "procedure": "string", "activity": "string", "step": "Int64", "grade": "string",
        "minutes": "float64", "minutes_source": "string", "hourly_cost": "float64",
        "cost": "float64", "prescribed_runs": "int64", "occurrences_per_case": "float64",
        "observed_yearly": "float64",
    },
    "case": {
        "case_id": "string", "procedure": "string", "events": "int64",
        "observed_minutes": "float64", "observed_cost": "float64",
    },
    "department": {
        "department": "string", "observed_minutes": "float64", "observed_yearly": "float64",
        "share": "float64",
    },
}  # fmt: skip
_READ_COLUMNS = ("case_no", "procedure", "activity", "lifecycle", "side_copy", "ts", "sojourn")


def compliance_cost(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None,
    costs: Costs | None = None,
    by: By = "procedure",
    *,
    calendar: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """The compliance cost of each procedure, prescribed and observed (docs/definitions.md:
    Compliance cost; docs/cost.md), in VND; ``costs`` None reads ``datasets/costs.yaml``.

    ``by="procedure"``: one row per procedure of the catalog (a row with 0 cases where the log
    has none) and of the log (``in_catalog`` False: listed, never counted in totals): ``cases``,
    ``runs_per_year``, ``prescribed_minutes``/``prescribed_cost`` (one run of the approved path,
    with its direct cost), ``observed_minutes``/``observed_cost`` (mean per case, with the direct
    cost), ``prescribed_yearly``, ``observed_yearly`` (× runs a year) and ``extra_share``
    (observed ÷ prescribed − 1). ``by="step"``: each step of :func:`step_costs` with
    ``prescribed_runs`` (1 on the approved path, else 0), ``occurrences_per_case`` and its
    ``observed_yearly``. ``by="case"``: ``case_id``, ``procedure``, ``events`` (that cost),
    ``observed_minutes``, ``observed_cost``. ``by="department"``: ``observed_minutes`` (all its
    costed minutes in the log), ``observed_yearly`` and ``share``.

    ``result.attrs``: ``"step_costs"`` (the table of :func:`step_costs`), ``"years"`` (the
    log's span, first to last receipt) and ``"defaults"`` (in words: which steps use the
    default minutes or grade, which procedures the catalog lacks, …).

    >>> import procmine as pm
    >>> found = compliance_cost(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> found[["cases", "prescribed_minutes", "observed_minutes", "extra_share"]]
       cases  prescribed_minutes  observed_minutes  extra_share
    0      3                90.0             120.0     0.333333
    >>> print(found.attrs["defaults"][0][:70])
    5 step(s) use the default working time (30 min, default_step_minutes):

    Notes
    -----
    *Occurrences.* An event costs its step when it is a ``complete`` event or has no lifecycle,
    and is not a side copy; a start event costs nothing (its complete does).

    *Runs a year* are the procedure's cases ÷ the years from the log's first receipt (a case's
    first event) to its last, all procedures over that one span (365.25 days a year), unless
    costs.runs_per_year names the procedure. A catalog procedure without cases is taken to run
    its approved path (observed = prescribed), 0 times a year unless configured.

    *Sums.* Per procedure, the steps' observed_yearly add up to its observed_yearly less its
    direct costs × runs; the cases' observed_cost average to its observed_cost; the departments'
    observed_yearly add up to the procedures' (with cases) less their direct costs.
    """
    schema.check_choice("by", by, _BY)
    costs = read_costs() if costs is None else costs
    events, _ = engines.clocked(log, calendar, EVENT_COLUMNS)
    events = engines.complete_events(with_catalog_procedure(events, catalog))
    steps = _step_table(events, catalog, costs, engine)
    procedures = _procedure_table(events, catalog, costs)
    read = [*_READ_COLUMNS, *(["department"] if by == "department" else [])]
    tables = {"events": events[read], "step_costs": steps, "procedures": procedures}
    if by == "case":
        tables["case_ids"] = engines.case_ids(events)
    table = engines.query(compliance_cost_sql(by), engine, **tables)
    years = float(table["years"].max()) if len(table) else math.nan
    result = table.drop(columns="years").astype(_TYPES[by])
    result.attrs["step_costs"] = StepCostTable(steps)
    result.attrs["years"] = years
    result.attrs["defaults"] = _defaults(steps, procedures, costs, events["procedure"])
    return result


def _procedure_table(
    events: pd.DataFrame, catalog: pd.DataFrame | None, costs: Costs
) -> pd.DataFrame:
    """The procedures a figure lists: the catalog's and the log's, with ``in_catalog``, their
    ``direct_cost`` (0 unless configured) and ``configured_runs`` (null unless configured)."""
    listed = [] if catalog is None else pd.unique(catalog["procedure"].dropna().astype(str))
    seen = engines.distinct(events["procedure"])
    names = list(dict.fromkeys([*map(str, listed), *map(str, seen)]))
    in_catalog = set(map(str, listed))
    key = pd.Series(names, dtype=object).map(_text)
    return pd.DataFrame(
        {
            "procedure": pd.array(names, dtype="string"),
            "in_catalog": np.array([name in in_catalog for name in names], dtype=bool),
            "direct_cost": key.map(costs.direct_costs).fillna(0.0).astype("float64").to_numpy(),
            # Nullable: null, not NaN, where not configured (Spark tells NaN from null).
            "configured_runs": pd.array(key.map(costs.runs_per_year), dtype="Float64"),
        }
    )


def _defaults(
    steps: pd.DataFrame, procedures: pd.DataFrame, costs: Costs, procedure: pd.Series
) -> list[str]:
    """What the figure assumed, in words: the steps with default minutes or grade, the steps
    timed from the log, the procedures the catalog lacks or the log has no cases of."""
    notes = []
    named = steps["procedure"] + ": " + steps["activity"]
    by_default = steps["minutes_source"] == "default"
    if by_default.any():
        notes.append(
            f"{int(by_default.sum())} step(s) use the default working time "
            f"({costs.default_step_minutes:g} min, default_step_minutes"
            f"{', or step_minutes of the activity' if costs.step_minutes else ''}): "
            + _some(sorted(named[by_default]))
        )
    from_log = steps["minutes_source"] == "log"
    if from_log.any():
        timed = (named + " (" + steps["minutes"].round(1).astype(str) + " min)")[from_log]
        notes.append(
            f"{int(from_log.sum())} step(s) take their working time from the median of the log's "
            f"start/complete pairs: {_some(sorted(timed))}"
        )
    graded = steps["grade_source"] == "default"
    if graded.any():
        notes.append(
            f"{int(graded.sum())} step(s) use the default grade {costs.default_grade} "
            f"(default_grade): {_some(sorted(named[graded]))}"
        )
    outside = procedures.loc[~procedures["in_catalog"], "procedure"]
    if len(outside):
        notes.append(
            "procedure(s) not in the catalog (listed with in_catalog False, not counted): "
            + _some(sorted(outside.astype(str)))
        )
    seen = set(engines.distinct(procedure))
    idle = [name for name in procedures["procedure"].astype(str) if name not in seen]
    if idle:
        notes.append(
            "catalog procedure(s) without cases in the log (taken to run the approved path, 0 "
            f"runs a year unless runs_per_year names them): {_some(sorted(idle))}"
        )
    return notes
