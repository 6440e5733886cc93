"""Where cases depart from the procedure as approved, and how well a log fits a model.

Each case is checked against its procedure's approved path — the catalog's activities in step
order, a sequential Petri net — in two complementary ways:

* **fitness** with pm4py (alignments where the size allows, token-based replay otherwise; the
  method used is reported per case), computed once per variant of each procedure (the variants
  counted by the engine, where the events are) and joined back to its cases;
* **typed deviations** (docs/CONTRACTS.md, "Deviation types"), one SQL definition over the
  ``events`` table joined with the catalog, one row per deviation so every count traces back to
  its cases and events.

>>> import procmine as pm
>>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
>>> result = pm.check_conformance(log, catalog)
>>> result.cases[["case_id", "fitness", "deviations", "fits"]].round(3)
  case_id  fitness  deviations   fits
0     HS1    1.000           0   True
1     HS2    0.750           2  False
2     HS3    0.857           1  False

(HS2 has two events beyond the approved path of three steps: alignment fitness 1 − 2 / (5 + 3).)
The log-level figures have the same keys (:data:`FITNESS_KEYS`) whatever the method, here per
procedure and in :func:`conformance_to_model` for the whole log:

>>> {key: round(value, 3) for key, value in result.fitness["Cấp phép"].items()}
{'log_fitness': 0.857, 'average_trace_fitness': 0.869, 'percentage_of_fitting_traces': 33.333}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from procmine import engines
from procmine.catalog import CatalogError, approved_paths, with_catalog_procedure
from procmine.discovery import (
    CASE_SEQUENCES_SQL,
    SEQUENCE_SEPARATOR,
    ProcessModel,
    case_variants,
    procedure_events,
    quiet_pm4py,
    variant_counts,
)
from procmine.engines import with_ctes

__all__ = [
    "ALIGNMENT_LIMIT",
    "DEVIATION_TYPES",
    "FITNESS_KEYS",
    "ConformanceResult",
    "ModelConformance",
    "approved_net",
    "conformance",
    "conformance_to_model",
    "deviation_summary",
    "deviations",
]

DEVIATION_TYPES = (
    "skipped_step",
    "step_not_in_procedure",
    "wrong_department",
    "repeated_step",
    "out_of_order",
)
# "auto" aligns when the distinct variants hold at most this many events in total (the cost of
# A* alignments grows with trace length × model size per variant); beyond it, token replay.
ALIGNMENT_LIMIT = 50_000
# The log-level fitness figures, the same keys whatever the method (pm4py's alignments and token
# replay name the same figures differently: percFitTraces / perc_fit_traces, averageFitness).
FITNESS_KEYS = ("log_fitness", "average_trace_fitness", "percentage_of_fitting_traces")
Method = Literal["auto", "alignments", "token_replay"]

# The deviation types, once. `approved` holds one row per (procedure, activity): its step and
# department. Only cases of procedures in the catalog are checked. Cases are partitioned and
# grouped by their integer case_no; their ids are joined once, at the end.
DEVIATIONS_SQL = with_ctes(
    (
        "checked",
        """
  SELECT e.idx, e.case_no, e.procedure, e.activity, e.department, e.ts,
         a.step, a.department AS expected_department
  FROM events e
  LEFT JOIN approved a ON a.procedure = e.procedure AND a.activity = e.activity
  WHERE e.procedure IN (SELECT procedure FROM approved)""",
    ),
    (
        "occurrences",
        """
  SELECT *, ROW_NUMBER() OVER (PARTITION BY case_no, activity ORDER BY idx) AS occurrence
  FROM checked
  WHERE step IS NOT NULL""",
    ),
    (
        "firsts",
        """
  SELECT *, MAX(step) OVER (PARTITION BY case_no ORDER BY idx
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS highest_before
  FROM occurrences
  WHERE occurrence = 1""",
    ),
    ("cases", "SELECT DISTINCT case_no, procedure FROM checked"),
    (
        "found",
        """
  SELECT case_no, procedure, 'repeated_step' AS type, activity, step, department,
         expected_department, idx, ts
  FROM occurrences WHERE occurrence > 1
  UNION ALL
  SELECT case_no, procedure, 'step_not_in_procedure', activity, step, department,
         expected_department, idx, ts
  FROM checked WHERE step IS NULL
  UNION ALL
  SELECT c.case_no, c.procedure, 'skipped_step', a.activity, a.step, NULL, a.department, NULL,
         NULL
  FROM cases c
  JOIN approved a ON a.procedure = c.procedure
  LEFT JOIN firsts f ON f.case_no = c.case_no AND f.activity = a.activity
  WHERE f.case_no IS NULL
  UNION ALL
  SELECT case_no, procedure, 'wrong_department', activity, step, department,
         expected_department, idx, ts
  FROM checked
  WHERE step IS NOT NULL AND department IS NOT NULL AND expected_department IS NOT NULL
    AND department <> expected_department
  UNION ALL
  SELECT case_no, procedure, 'out_of_order', activity, step, department,
         expected_department, idx, ts
  FROM firsts WHERE step < highest_before""",
    ),
    select="""
SELECT case_id, procedure, type, activity, step, department, expected_department, idx, ts
FROM found JOIN case_ids USING (case_no)""",
)


# Fitness is computed per variant of each procedure, never per case. Each case's variant and
# procedure (its first event's) are computed once and kept where the engine is (engines.kept:
# on Spark, on the executors); from them the variants of each procedure are counted, numbered
# (most frequent first, then by sequence) and, for the per-case table, each case given its
# variant's number. Only the variants and one row per case (its number) come back.
CASE_PATHS_SQL = with_ctes(
    case_variants("ARG_MIN(procedure, idx) AS procedure"),
    select="""
SELECT case_no, case_id, procedure, sequence
FROM per_case JOIN case_ids USING (case_no)""",
)
"""Per case: its ``case_no``, ``case_id``, procedure and variant (read with ``with_case_ids``)."""

_NUMBERED = (
    "numbered",
    """
  SELECT procedure, sequence, COUNT(*) AS cases,
         ROW_NUMBER() OVER (ORDER BY procedure, COUNT(*) DESC, sequence) - 1 AS variant
  FROM case_paths
  GROUP BY procedure, sequence""",
)

PROCEDURE_VARIANTS_SQL = with_ctes(
    _NUMBERED, select="SELECT procedure, variant, sequence, cases FROM numbered ORDER BY variant"
)
"""Per procedure and variant of ``case_paths`` (:data:`CASE_PATHS_SQL`): its number and cases."""

CASE_VARIANTS_SQL = with_ctes(
    _NUMBERED,
    select="""
SELECT p.case_id, p.procedure, n.variant
FROM case_paths AS p
JOIN numbered AS n ON n.procedure = p.procedure AND n.sequence = p.sequence
ORDER BY p.case_no""",
)
"""Per case of ``case_paths``, in log order: its procedure and variant's number."""


@dataclass
class ConformanceResult:
    """Per case (``cases``: case_id, procedure, fitness, method, deviations, fits) and per
    deviation (``deviations``: case_id, procedure, type, activity, step, department,
    expected_department, idx, ts). ``unchecked`` lists procedures of the log the catalog lacks
    (their cases have no fitness). ``fitness``: per procedure checked, the log-level figures of
    its cases, keyed by :data:`FITNESS_KEYS` (as :attr:`ModelConformance.fitness`)."""

    cases: pd.DataFrame
    deviations: pd.DataFrame
    unchecked: list[str] = field(default_factory=list)
    fitness: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class ModelConformance:
    """Fitness of a log against a model: ``cases`` (case_id, fitness, fits), ``fitness`` (the
    log-level figures, keyed by :data:`FITNESS_KEYS` whatever the method: ``log_fitness``,
    ``average_trace_fitness`` and ``percentage_of_fitting_traces`` (0–100), the values of
    ``pm4py.fitness_alignments`` / ``pm4py.fitness_token_based_replay`` under those names) and
    the ``method`` used."""

    cases: pd.DataFrame
    fitness: dict[str, float]
    method: str


def approved_net(activities: list[str] | tuple[str, ...]) -> tuple[Any, Any, Any]:
    """A sequential Petri net (net, im, fm) that fires ``activities`` once each, in order.

    >>> net, im, fm = approved_net(["Tiếp nhận", "Thẩm định", "Ký duyệt"])
    >>> len(net.transitions)
    3
    """
    quiet_pm4py()
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    net = PetriNet("approved path")
    places = [PetriNet.Place(f"p{i}") for i in range(len(activities) + 1)]
    for place in places:
        net.places.add(place)
    for i, activity in enumerate(activities):
        transition = PetriNet.Transition(f"t{i}", str(activity))
        net.transitions.add(transition)
        petri_utils.add_arc_from_to(places[i], transition, net)
        petri_utils.add_arc_from_to(transition, places[i + 1], net)
    return net, Marking({places[0]: 1}), Marking({places[-1]: 1})


def _choose_method(method: Method, counts: pd.DataFrame) -> str:
    if method not in ("auto", "alignments", "token_replay"):
        raise ValueError(f"method must be 'auto', 'alignments' or 'token_replay'; got {method!r}.")
    if method != "auto":
        return method
    size = int(counts["activities"].map(len).sum())
    return "alignments" if size <= ALIGNMENT_LIMIT else "token_replay"


def _fitness_of_variants(
    counts: pd.DataFrame,
    net: Any,
    im: Any,
    fm: Any,
    method: str,
    path: list[str] | None = None,
):
    """pm4py's per-trace result for each variant (one trace per variant) and the log-level
    figures (:data:`FITNESS_KEYS`), weighted by the variants' cases exactly as pm4py's
    evaluators weigh traces. ``path``: the net is :func:`approved_net` of these activities, so
    its alignments have a closed form (:func:`sequence_alignments`)."""
    quiet_pm4py()
    from pm4py.objects.log.obj import Event, EventLog, Trace

    weight = counts["cases"].to_numpy(dtype=float)
    if method == "alignments" and path:
        found = sequence_alignments(counts["activities"], path)
        fitness, fits, log_fitness = _fitness_of_alignments(found, weight)
    else:
        # One trace per variant (not per case): pm4py's cost is per distinct trace anyway.
        traces = EventLog(
            [Trace([Event({"concept:name": a}) for a in acts]) for acts in counts["activities"]]
        )
        replay = _aligned if method == "alignments" else _replayed
        fitness, fits, log_fitness = replay(traces, net, im, fm, weight)
    valid = weight.sum() > 0 if method == "alignments" else log_fitness is not None
    total = weight.sum()
    summary = dict.fromkeys(FITNESS_KEYS, 0.0)
    if valid:
        summary = {
            "log_fitness": float(log_fitness),
            "average_trace_fitness": float((weight * fitness).sum() / total),
            "percentage_of_fitting_traces": float(100.0 * weight[fits].sum() / total),
        }
    per_variant = pd.DataFrame(
        {"sequence": counts["sequence"].to_numpy(), "fitness": fitness, "fits": fits}
    )
    return per_variant, summary


def _aligned(traces: Any, net: Any, im: Any, fm: Any, weight: np.ndarray):
    """Per trace, alignment fitness and whether it fits; and the log's fitness (pm4py's
    alignments, :func:`_fitness_of_alignments`)."""
    from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments

    found = alignments.apply(
        traces, net, im, fm, parameters={"multiprocessing": False, "show_progress_bar": False}
    )
    if any(a is None for a in found):
        raise RuntimeError(
            "The model has no complete run for some traces (alignments found none); "
            "check that its final marking is reachable, or use method='token_replay'."
        )
    figures = {key: np.array([a[key] for a in found], dtype=float) for key in _ALIGNMENT_KEYS}
    return _fitness_of_alignments(figures, weight)


_ALIGNMENT_KEYS = ("fitness", "cost", "bwc")


def _fitness_of_alignments(found: dict[str, np.ndarray], weight: np.ndarray):
    """Per trace, alignment fitness and whether it fits; and the log's fitness, 1 − the
    weighted costs over the weighted costs of the worst alignments (pm4py's evaluator)."""
    fitness = found["fitness"]
    denominator = (weight * found["bwc"]).sum()
    log_fitness = 1.0 - (weight * found["cost"]).sum() / denominator if denominator > 0 else 1.0
    return fitness, fitness == 1.0, log_fitness


# pm4py's standard cost of a log move or a model move on a visible transition (a synchronous
# move costs 0): align_utils.STD_MODEL_LOG_MOVE_COST.
_MOVE_COST = 10_000


def sequence_alignments(traces: pd.Series, path: list[str]) -> dict[str, np.ndarray]:
    """pm4py's alignment figures of each trace (a tuple of activities) on the sequential net of
    ``path`` (:func:`approved_net`), in closed form: on a sequence, an optimal alignment keeps
    a longest common subsequence of trace and path as synchronous moves (L of them) and moves
    the rest alone, so with pm4py's standard costs its cost is 10,000 × (n + m − 2L) for n
    events and m steps, whichever optimal alignment A* returns; the worst (``bwc``) is
    10,000 × (n + m) and the fitness 1 − (n + m − 2L) / (n + m), as pm4py computes them
    (tested equal to pm4py's alignments). The common subsequence is found for all traces at
    once, a position of the longest trace at a time.

    >>> found = sequence_alignments(pd.Series([("a", "b", "c"), ("a", "x", "c", "b")]),
    ...                             ["a", "b", "c"])
    >>> found["fitness"].round(4).tolist(), (found["cost"] / 10_000).tolist()
    ([1.0, 0.5714], [0.0, 3.0])
    """
    lengths = traces.map(len).to_numpy(dtype=np.int64)
    codes = {activity: number for number, activity in enumerate(dict.fromkeys(path))}
    steps = np.array([codes[activity] for activity in path], dtype=np.int64)
    padded = np.full((len(traces), int(lengths.max(initial=0))), -1, dtype=np.int64)
    flat = [codes.get(activity, -1) for trace in traces for activity in trace]
    padded[np.arange(padded.shape[1]) < lengths[:, None]] = flat
    # common[v, j]: the longest common subsequence of trace v's first i events and path[:j].
    common = np.zeros((len(traces), len(path) + 1), dtype=np.int64)
    for i in range(padded.shape[1]):
        event = padded[:, i : i + 1]
        matched = np.where(event == steps, common[:, :-1] + 1, common[:, 1:])
        row = np.maximum.accumulate(np.concatenate([common[:, :1], matched], axis=1), axis=1)
        common = np.where((i < lengths)[:, None], row, common)
    kept = common[:, -1]
    moves = lengths + len(path) - 2 * kept
    worst = lengths + len(path)
    with np.errstate(divide="ignore", invalid="ignore"):
        fitness = np.where(worst > 0, 1 - moves / worst, 0.0)
    return {
        "fitness": fitness.astype(float),
        "cost": (_MOVE_COST * moves).astype(float),
        "bwc": (_MOVE_COST * worst).astype(float),
    }


def _replayed(traces: Any, net: Any, im: Any, fm: Any, weight: np.ndarray):
    """Per trace, token-replay fitness and whether it fits; and the log's fitness from the
    weighted token counts (pm4py's evaluator), None when no token was consumed or produced."""
    from pm4py.algo.conformance.tokenreplay import algorithm as token_replay

    found = token_replay.apply(traces, net, im, fm, parameters={"show_progress_bar": False})
    fitness = np.array([r["trace_fitness"] for r in found], dtype=float)
    fits = np.array([bool(r["trace_is_fit"]) for r in found], dtype=bool)
    tokens = {
        key: (weight * np.array([r[f"{key}_tokens"] for r in found], dtype=float)).sum()
        for key in ("missing", "consumed", "remaining", "produced")
    }
    if not (weight.sum() > 0 and tokens["consumed"] > 0 and tokens["produced"] > 0):
        return fitness, fits, None
    log_fitness = 0.5 * (1 - tokens["missing"] / tokens["consumed"]) + 0.5 * (
        1 - tokens["remaining"] / tokens["produced"]
    )
    return fitness, fits, log_fitness


def _case_sequences(events: pd.DataFrame, engine: Any) -> pd.DataFrame:
    return engines.query(CASE_SEQUENCES_SQL, engine, with_case_ids=True, events=events)


def _case_variants(events: pd.DataFrame, engine: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The variants of each procedure counted on the engine (``procedure``, ``variant``,
    ``sequence``, ``cases``) and each case's (``case_id``, ``procedure``, ``variant``, cases in
    log order), from the cases' variants computed once and kept there."""
    paths = engines.kept(CASE_PATHS_SQL, engine, with_case_ids=True, events=events)
    try:
        counts = engines.query(PROCEDURE_VARIANTS_SQL, engine, case_paths=paths)
        cases = engines.query(CASE_VARIANTS_SQL, engine, case_paths=paths)
    finally:
        engines.release(paths)
    return counts, cases


def _events_for_catalog(log: pd.DataFrame, approved: pd.DataFrame, calendar: Any) -> pd.DataFrame:
    """The events checked against the approved paths, their procedure the catalog's where the
    log has none (:func:`procmine.catalog.with_catalog_procedure`, the rule of every figure)."""
    return with_catalog_procedure(procedure_events(log, None, calendar), approved)


def _required_catalog(catalog: Any) -> pd.DataFrame:
    """The catalog itself, or a :class:`~procmine.catalog.CatalogError` saying what to pass."""
    if isinstance(catalog, pd.DataFrame):
        return catalog
    raise CatalogError(
        "Checking conformance needs the catalog of approved procedures (a table with procedure, "
        "step, activity and department), such as pm.read_catalog('catalog.csv'); got "
        f"{'no catalog (None)' if catalog is None else type(catalog).__name__}. To check the "
        "log against a model instead (one discovered from it, or a BPMN/PNML file), use "
        "pm.conformance_to_model(log, pm.discover_model(log))."
    )


def deviations(
    log: pd.DataFrame, catalog: pd.DataFrame, *, calendar: Any = None, engine: Any = None
) -> pd.DataFrame:
    """The typed deviations of every case from its procedure's approved path, one row each.

    Types (docs/CONTRACTS.md): ``skipped_step``, ``step_not_in_procedure``, ``wrong_department``,
    ``repeated_step``, ``out_of_order``. ``idx`` and ``ts`` locate the event (none for a skipped
    step); ``step``/``expected_department`` come from the catalog.

    >>> import procmine as pm
    >>> found = deviations(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> found[["case_id", "type", "activity", "department"]]
      case_id                   type               activity     department
    0     HS2  step_not_in_procedure          Trả lại hồ sơ      Văn phòng
    1     HS2          repeated_step              Thẩm định  Phòng Tư pháp
    2     HS3  step_not_in_procedure  Giải trình lý do chậm  Phòng Tư pháp
    """
    approved = approved_paths(_required_catalog(catalog))
    events = _events_for_catalog(log, approved, calendar)
    return _deviations(events, approved, engine)


def _deviations(events: pd.DataFrame, approved: pd.DataFrame, engine: Any) -> pd.DataFrame:
    found = engines.query(
        DEVIATIONS_SQL, engine, with_case_ids=True, events=events, approved=approved
    )
    found = found.sort_values(
        ["procedure", "case_id", "idx", "step", "type"], na_position="last", kind="stable"
    ).reset_index(drop=True)
    found["type"] = pd.Categorical(found["type"], categories=list(DEVIATION_TYPES))
    found["step"] = found["step"].astype("Int64")
    found["idx"] = found["idx"].astype("Int64")
    for column in ("case_id", "procedure", "activity", "department", "expected_department"):
        found[column] = found[column].astype("string")
    return found


def conformance(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    method: Method = "auto",
    calendar: Any = None,
    engine: Any = None,
) -> ConformanceResult:
    """Check each case against its procedure's approved path (the catalog's steps in order).

    ``cases``: fitness with pm4py against the sequential net of the approved path (1.0: the case
    ran the approved steps exactly, in order), the ``method`` used ("alignments" while the
    procedure's distinct variants hold at most :data:`ALIGNMENT_LIMIT` events, else
    "token_replay"; or as forced), the number of deviations and ``fits``. ``deviations``: see
    :func:`deviations`. ``fitness``: per procedure, the log-level figures (:data:`FITNESS_KEYS`,
    as in :func:`conformance_to_model`). Without a catalog (``None``) a
    :class:`~procmine.catalog.CatalogError` says what to pass.

    >>> import procmine as pm
    >>> result = conformance(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> result.cases.groupby("procedure")["fitness"].mean().round(3).to_dict()
    {'Cấp phép': 0.869}
    """
    approved = approved_paths(_required_catalog(catalog))
    events = _events_for_catalog(log, approved, calendar)
    found = _deviations(events, approved, engine)
    counts, cases = _case_variants(events, engine)

    scores, fitness = _scored(approved, counts, method)
    cases = cases.merge(scores, on="variant", how="left")
    counted = found.groupby("case_id", observed=True).size()
    checked = cases["procedure"].isin(approved["procedure"])
    deviations = cases["case_id"].map(counted).fillna(0).astype("int64").where(checked)
    cases["deviations"] = deviations.astype("Int64")
    unchecked = sorted(set(engines.distinct(events["procedure"])) - set(approved["procedure"]))
    return ConformanceResult(
        cases=cases[["case_id", "procedure", "fitness", "method", "deviations", "fits"]],
        deviations=found,
        unchecked=unchecked,
        fitness=fitness,
    )


def _scored(
    approved: pd.DataFrame, counted: pd.DataFrame, method: Method
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Per procedure of the catalog with cases, each variant's fitness (``variant``,
    ``fitness``, ``fits``, ``method``) and the log-level figures: one run per procedure (tens),
    each over its variants (``counted``: :data:`PROCEDURE_VARIANTS_SQL`), not its cases."""
    variants = _variants_by_procedure(counted)
    scored, fitness = [], {}
    for procedure, path in approved.groupby("procedure", sort=True):
        counts = variants.get(str(procedure))
        if counts is None:
            continue
        used = _choose_method(method, counts)
        steps = path.sort_values("step")["activity"].tolist()
        net, im, fm = approved_net(steps)
        per_variant, fitness[str(procedure)] = _fitness_of_variants(
            counts, net, im, fm, used, path=steps
        )
        per_variant["variant"] = counts["variant"].to_numpy()
        per_variant["method"] = used
        scored.append(per_variant.drop(columns="sequence"))
    if not scored:
        return pd.DataFrame(columns=["variant", "fitness", "fits", "method"]), {}
    return pd.concat(scored, ignore_index=True), fitness


def _variants_by_procedure(counts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each procedure's variants as :func:`~procmine.discovery.variant_counts` gives them
    (``sequence``, ``activities``, ``cases``; most frequent first, then by sequence) with their
    ``variant`` numbers, from the variants counted on the engine (``counts``:
    :data:`PROCEDURE_VARIANTS_SQL`, in that order)."""
    found = {}
    for procedure, own in counts.groupby("procedure", sort=False):
        found[str(procedure)] = pd.DataFrame(
            {
                "sequence": own["sequence"].to_numpy(),
                "activities": own["sequence"].str.split(SEQUENCE_SEPARATOR, regex=False).map(tuple),
                "cases": own["cases"].astype("int64").to_numpy(),
                "variant": own["variant"].astype("int64").to_numpy(),
            }
        )
    return found


def deviation_summary(
    result: ConformanceResult | pd.DataFrame, by: Literal["procedure", "department"] = "procedure"
) -> pd.DataFrame:
    """Deviations counted per procedure or per department, one column per type, with ``total``
    and ``cases`` (cases with at least one deviation); most deviations first.

    By department, a deviation belongs to the department that did the event, or for a skipped
    step to the department the catalog assigns it. Given a :class:`ConformanceResult` and
    ``by="procedure"``, also ``cases_checked`` and ``mean_fitness``.

    >>> import procmine as pm
    >>> result = conformance(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> deviation_summary(result, by="department")[["department", "total", "cases"]]
          department  total  cases
    0  Phòng Tư pháp      2      2
    1      Văn phòng      1      1
    """
    dev = result.deviations if isinstance(result, ConformanceResult) else result
    if by == "procedure":
        key = dev["procedure"]
    elif by == "department":
        key = dev["department"].fillna(dev["expected_department"])
    else:
        raise ValueError(f"by must be 'procedure' or 'department'; got {by!r}.")
    frame = pd.DataFrame(
        {by: key.astype("string"), "type": dev["type"].astype(str), "case_id": dev["case_id"]}
    )
    table = pd.crosstab(frame[by], frame["type"]).reindex(
        columns=list(DEVIATION_TYPES), fill_value=0
    )
    table.columns.name = None
    table["total"] = table.sum(axis=1)
    table["cases"] = frame.groupby(by)["case_id"].nunique()
    if isinstance(result, ConformanceResult) and by == "procedure":
        checked = result.cases.dropna(subset=["fitness"]).groupby("procedure")
        extra = pd.DataFrame(
            {"cases_checked": checked.size(), "mean_fitness": checked["fitness"].mean()}
        )
        table = table.join(extra, how="outer")
        counts = [*DEVIATION_TYPES, "total", "cases"]
        table[counts] = table[counts].fillna(0).astype("int64")
    table = table.rename_axis(by).reset_index()
    return table.sort_values(["total", by], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def _read_model(model: Any) -> tuple[Any, Any, Any]:
    pm4py = quiet_pm4py()
    if isinstance(model, ProcessModel):
        return model.net, model.im, model.fm
    if isinstance(model, tuple) and len(model) == 3:
        return model
    if isinstance(model, (str, Path)):
        path = Path(model)
        if not path.exists():
            raise FileNotFoundError(f"No model file at {path}.")
        suffix = path.suffix.lower()
        if suffix == ".bpmn":
            return pm4py.convert_to_petri_net(pm4py.read_bpmn(str(path)))
        if suffix == ".pnml":
            return pm4py.read_pnml(str(path))
        raise ValueError(f"A model file must be .bpmn or .pnml; got {path.name!r}.")
    from pm4py.objects.bpmn.obj import BPMN
    from pm4py.objects.process_tree.obj import ProcessTree

    if isinstance(model, (BPMN, ProcessTree)):
        return pm4py.convert_to_petri_net(model)
    raise TypeError(
        "model must be a .bpmn/.pnml path, a ProcessModel, a pm4py BPMN or process tree, or a "
        f"(net, initial marking, final marking) tuple; got {type(model).__name__}."
    )


def conformance_to_model(
    log: pd.DataFrame,
    model: Any,
    procedure: str | None = None,
    *,
    method: Method = "auto",
    calendar: Any = None,
    engine: Any = None,
) -> ModelConformance:
    """Fitness of a log (or one procedure's cases) against a model the user gives: a BPMN or PNML
    file, a :class:`~procmine.discovery.ProcessModel`, a pm4py BPMN/tree, or (net, im, fm).

    The figures are pm4py's (``fitness_alignments`` / ``fitness_token_based_replay``), computed
    per variant and weighted by its cases, under the same keys whatever the method
    (:data:`FITNESS_KEYS`); ``method`` as in :func:`conformance`.

    >>> import procmine as pm
    >>> log = pm.datasets.example_log()
    >>> found = conformance_to_model(log, pm.discover_model(log))
    >>> found.method, found.cases["fits"].all()
    ('alignments', np.True_)
    >>> {key: round(value, 3) for key, value in found.fitness.items()}
    {'log_fitness': 1.0, 'average_trace_fitness': 1.0, 'percentage_of_fitting_traces': 100.0}
    """
    net, im, fm = _read_model(model)
    events = procedure_events(log, procedure, calendar)
    counts = variant_counts(events, engine)
    used = _choose_method(method, counts)
    per_variant, summary = _fitness_of_variants(counts, net, im, fm, used)
    # Cases in log order (CASE_SEQUENCES_SQL's); a left merge keeps it.
    cases = _case_sequences(events, engine).merge(per_variant, on="sequence", how="left")
    return ModelConformance(
        cases=cases[["case_id", "fitness", "fits"]], fitness=summary, method=used
    )
