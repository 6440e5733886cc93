"""Which procedures behave alike, so that one kind of measure fixes several (issue 19, item 2).

Each procedure of the log is described by one row of behaviour, read from the figures procmine
already computes (definitions in ``docs/clusters.md``):

- ``pingpong_share``: the share of its cases with at least one excess bounce
  (:func:`procmine.handoffs.ping_pong` by case: the **ping-pong cases**);
- ``rework_share``: the share of its cases that **repeat a step** — a step whose activity the
  case already did (the redo of the ``remove_check`` and ``end_pingpong`` rules);
- ``on_time_rate``: the share of its completed cases with a deadline done on time
  (:func:`procmine.deadlines.on_time`);
- ``median_working_days``: the median working days from first to last event of its completed
  cases (:func:`procmine.deadlines.case_status`);
- ``steps_per_case``, ``departments_per_case``: the **mean** steps and distinct departments of
  its completed cases;
- ``leadership_wait_share``: the share of its working time (the steps' sojourns) held at
  approved steps of a leadership grade — the steps and the time of the ``delegate_signing``
  rule (:data:`procmine.cost.Costs.leadership_grades`).

The rows are scaled (``StandardScaler``) and grouped with ``KMeans`` (seeded, ``n_init`` fixed);
without ``k`` the number of groups is the one of 2 … min(8, n − 1) with the best silhouette.
Each cluster gets its profile (the means of the raw figures over its procedures) and the
measure types of :data:`procmine.candidates.MEASURE_TYPES` its traits suit, in a sentence.

>>> import procmine as pm
>>> found = procedure_clusters(pm.datasets.load_sample(), pm.datasets.load_sample_catalog())
>>> found.attrs["k"], len(found.procedures), found.clusters["procedures"].tolist()
(2, 25, [19, 6])
>>> found.clusters.loc[1, ["pingpong_share", "leadership_wait_share"]].round(2).tolist()
[0.35, 0.1]
>>> found.clusters.loc[1, "measures"]
('end_pingpong', 'cut_waiting', 'parallel', 'merge_steps', 'drop_extra_step')

(The six procedures of cluster 2 are those where the sample plants excess ping-pong.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from procmine import engines
from procmine.candidates import MEASURE_TYPES, approved_steps, leadership_grade
from procmine.catalog import with_catalog_procedure
from procmine.cost import read_costs
from procmine.deadlines import case_status, has_deadlines, on_time
from procmine.formats import format_number, format_percent
from procmine.handoffs import has_departments, ping_pong

__all__ = [
    "CASE_STEPS_SQL",
    "FEATURES",
    "MIN_PROCEDURES",
    "TRAITS",
    "ProcedureClusters",
    "case_features",
    "figure_sqls",
    "leadership_steps",
    "procedure_clusters",
    "procedure_features",
]

FEATURES = (
    "pingpong_share",
    "rework_share",
    "on_time_rate",
    "median_working_days",
    "steps_per_case",
    "departments_per_case",
    "leadership_wait_share",
)
MIN_PROCEDURES = 3  # fewer procedures than this are not clustered
MAX_K = 8  # the largest k the silhouette search tries
N_INIT = 10  # KMeans restarts, fixed: the same log gives the same clusters
# A cluster's figure is a trait when its mean over the cluster, in standard deviations of the
# procedures (the scaled data), is at least this far above (high) or below (low) their mean.
TRAIT_THRESHOLD = 0.5

# What each trait suits: (figure, direction) → measure types of procmine.candidates.
TRAITS: dict[tuple[str, str], tuple[str, ...]] = {
    ("pingpong_share", "high"): ("end_pingpong",),
    ("rework_share", "high"): ("end_pingpong",),
    ("rework_share", "low"): ("remove_check",),
    ("on_time_rate", "low"): ("cut_waiting", "parallel"),
    ("on_time_rate", "high"): ("shorten_deadline",),
    ("median_working_days", "high"): ("cut_waiting", "parallel"),
    ("steps_per_case", "high"): ("merge_steps", "drop_extra_step"),
    ("departments_per_case", "high"): ("parallel",),
    ("leadership_wait_share", "high"): ("delegate_signing",),
}

# The words of the sentences: per trait (Vietnamese, English), per measure type likewise.
_TRAIT_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    ("pingpong_share", "high"): ("nhiều hồ sơ bị đùn đẩy", "many ping-pong cases"),
    ("rework_share", "high"): ("nhiều hồ sơ phải làm lại bước", "many cases redo a step"),
    ("rework_share", "low"): ("ít hồ sơ phải làm lại bước", "few cases redo a step"),
    ("on_time_rate", "low"): ("tỷ lệ đúng hạn thấp", "a low on-time rate"),
    ("on_time_rate", "high"): ("tỷ lệ đúng hạn cao", "a high on-time rate"),
    ("median_working_days", "high"): ("thời gian giải quyết dài", "long working days"),
    ("steps_per_case", "high"): ("nhiều bước mỗi hồ sơ", "many steps per case"),
    ("departments_per_case", "high"): (
        "nhiều phòng ban tham gia mỗi hồ sơ",
        "many departments per case",
    ),
    ("leadership_wait_share", "high"): (
        "nhiều thời gian chờ lãnh đạo ký",
        "much working time waiting at a leadership signature",
    ),
}
_MEASURE_WORDS: dict[str, tuple[str, str]] = {
    "end_pingpong": ("chấm dứt chuyển qua lại vượt quy trình", "end excess ping-pong"),
    "remove_check": ("bỏ bước kiểm tra ít khi trả lại", "remove a check that seldom sends back"),
    "merge_steps": ("gộp bước", "merge steps"),
    "parallel": ("thực hiện song song", "run steps in parallel"),
    "delegate_signing": ("ủy quyền ký", "delegate the signature"),
    "cut_waiting": ("giảm thời gian chờ tại bước", "cut the waiting at a step"),
    "shorten_deadline": ("rút ngắn thời hạn", "shorten the deadline"),
    "drop_extra_step": ("bỏ bước ngoài quy trình", "drop a step outside the procedure"),
}
_unknown = {kind for kinds in TRAITS.values() for kind in kinds} - set(MEASURE_TYPES)
if _unknown or set(_MEASURE_WORDS) != set(MEASURE_TYPES):  # the one vocabulary of measures
    raise ImportError(f"clusters names measure types candidates lacks: {sorted(_unknown)}")
_SHARES = {"pingpong_share", "rework_share", "on_time_rate", "leadership_wait_share"}

# Per case: its steps (not side copies; complete or no lifecycle), their sojourn since the
# case's previous step (the sojourn of the candidates' rules), whether the case repeats an
# activity, its distinct departments, and the step time held at the ``leadership_steps``.
CASE_STEPS_SQL = engines.with_ctes(
    (
        "steps",
        """
  SELECT case_no, procedure, activity, department,
    wm - LAG(wm) OVER (PARTITION BY case_no ORDER BY idx) AS sojourn
  FROM events
  WHERE NOT side_copy AND (lifecycle IS NULL OR lifecycle = 'complete')""",
    ),
    (
        "repeats",
        """
  SELECT case_no, MAX(times) AS most FROM (
    SELECT case_no, activity, COUNT(*) AS times FROM steps GROUP BY case_no, activity
  ) AS per_activity GROUP BY case_no""",
    ),
    (
        "case_steps",
        """
  SELECT s.case_no, COUNT(*) AS steps, COUNT(DISTINCT s.department) AS departments,
    SUM(COALESCE(s.sojourn, 0.0)) AS step_minutes,
    SUM(CASE WHEN l.activity IS NOT NULL THEN COALESCE(s.sojourn, 0.0) ELSE 0.0 END)
      AS leadership_minutes
  FROM steps AS s
  LEFT JOIN leadership_steps AS l ON l.procedure = s.procedure AND l.activity = s.activity
  GROUP BY s.case_no""",
    ),
    select="""
SELECT case_id, CAST(c.steps AS BIGINT) AS steps, CAST(c.departments AS BIGINT) AS departments,
  CAST(c.step_minutes AS DOUBLE) AS step_minutes,
  CAST(c.leadership_minutes AS DOUBLE) AS leadership_minutes, r.most > 1 AS rework
FROM case_steps AS c JOIN repeats AS r USING (case_no) JOIN case_ids USING (case_no)
ORDER BY case_id""",
)
_READ = ("idx", "case_id", "case_no", "procedure", "activity", "department", "lifecycle", "wm",
         "side_copy", "sojourn")  # fmt: skip


def figure_sqls() -> dict[str, str]:
    """Every SQL text of this module by name.

    >>> sorted(figure_sqls())
    ['case_steps']
    """
    return {"case_steps": CASE_STEPS_SQL}


# ------------------------------------------------------------------------------ the result
@dataclass(frozen=True, eq=False)
class ProcedureClusters:
    """What :func:`procedure_clusters` returns.

    ``procedures``: one row per procedure of the log — procedure, in_catalog, cases,
    completed_cases, the figures of :data:`FEATURES` and ``cluster`` (1, 2, …; null when not
    clustered). ``clusters``: one row per cluster — cluster, procedures (how many), members
    (their names), cases, the means of the figures over its procedures, ``traits`` (e.g.
    ``("pingpong_share", "high")``), ``measures`` (measure types of
    :data:`procmine.candidates.MEASURE_TYPES`, the strongest trait's first) and the sentence
    in Vietnamese (``suggestion``) and English (``suggestion_en``). ``attrs``: see
    :func:`procedure_clusters`.
    """

    procedures: pd.DataFrame
    clusters: pd.DataFrame
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str | None:
        """Why the procedures were not clustered, or None when they were."""
        return self.attrs.get("message")

    def __repr__(self) -> str:
        if self.message:
            return f"ProcedureClusters(not clustered: {self.message})"
        return (
            f"ProcedureClusters(k={self.attrs['k']}, procedures={len(self.procedures)}, "
            f"silhouette={self.attrs['silhouette'][self.attrs['k']]:.3f})"
        )


# ------------------------------------------------------------------------------ the figures
def leadership_steps(catalog: pd.DataFrame | None, costs: Any = None) -> pd.DataFrame:
    """The approved steps of a leadership grade, the signatures the ``delegate_signing`` rule
    looks at: ``procedure``, ``activity``, ``grade`` — a catalog step whose ``grade`` is one of
    ``costs.leadership_grades`` (compared as :func:`procmine.vocabulary.normal_name` compares
    names). Empty without a catalog or its ``grade`` column.

    >>> import procmine as pm
    >>> catalog = pm.datasets.example_catalog().assign(grade=["Văn thư", "Chuyên viên",
    ...                                                       "Phó Chủ tịch"])
    >>> leadership_steps(catalog)
      procedure   activity         grade
    0  Cấp phép  Phê duyệt  Phó Chủ tịch
    """
    empty = pd.DataFrame({name: pd.Series([], dtype=str) for name in ("procedure", "activity")})
    if catalog is None or "grade" not in catalog.columns:
        return empty.assign(grade=pd.Series([], dtype=str))
    costs = read_costs() if costs is None else costs
    steps = approved_steps(catalog)
    found = steps.loc[leadership_grade(steps["grade"], costs), ["procedure", "activity", "grade"]]
    return found.astype(str).reset_index(drop=True)


def case_features(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    costs: Any = None,
    per_case: pd.DataFrame | None = None,
    pingpong: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The behaviour of each case, which :func:`procedure_features` sums up per procedure.

    One row per case, by case_id: procedure, ``open`` and ``working_days``
    (:func:`procmine.deadlines.case_status`), ``on_time`` (:func:`procmine.deadlines.on_time`;
    null without a deadline or while open), ``pingpong`` (an excess bounce:
    :func:`procmine.handoffs.ping_pong` by case), ``rework`` (a step repeats an activity the
    case already did), ``steps``, ``departments`` (distinct departments of its steps),
    ``step_minutes`` (the working time its steps hold: their sojourns since the case's previous
    step) and ``leadership_minutes`` (of it, at :func:`leadership_steps`). ``attrs``:
    ``unavailable`` ({feature: why}) and ``reference`` (the ping-pong reference). Tables the
    caller has are not computed again: ``per_case``, the log's
    :func:`procmine.deadlines.per_case_table` with on_time's default options, and
    ``pingpong``, its ping-pong by case with this catalog.

    >>> import procmine as pm
    >>> cases = case_features(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> cases[["case_id", "working_days", "on_time", "pingpong", "rework", "steps"]]
      case_id  working_days  on_time  pingpong  rework  steps
    0     HS1         1.125     True     False   False      3
    1     HS2         3.750    False      True    True      5
    2     HS3         3.250    False     False   False      4
    """
    costs = read_costs() if costs is None else costs
    events = with_catalog_procedure(engines.event_table(log, calendar), catalog)
    leaders = leadership_steps(catalog, costs)
    unavailable = _unavailable(events, catalog)
    steps = engines.query(
        CASE_STEPS_SQL,
        engine,
        with_case_ids=True,
        events=events[list(_READ)],
        leadership_steps=leaders[["procedure", "activity"]],
    )
    if "on_time_rate" in unavailable:
        status = case_status(events, catalog, engine=engine).assign(on_time=pd.NA)
    else:
        status = on_time(events, catalog, engine=engine, per_case=per_case)
    cases = status[["case_id", "procedure", "open", "working_days", "on_time"]].astype(
        {"case_id": str, "procedure": str, "on_time": "boolean"}
    )
    cases = cases.merge(steps.astype({"case_id": str}), on="case_id", how="left", validate="1:1")
    reference = None
    if "pingpong_share" in unavailable:
        cases["pingpong"] = pd.array([pd.NA] * len(cases), dtype="boolean")
    else:
        pairs = pingpong
        if pairs is None:
            pairs = ping_pong(events, catalog, by="case", engine=engine)
        excess = pairs.loc[pairs["excess_bounces"].to_numpy() > 0, "case_id"].astype(str)
        cases["pingpong"] = pd.array(cases["case_id"].isin(excess), dtype="boolean")
        reference = pairs.attrs.get("reference")
    if "leadership_wait_share" in unavailable:
        cases["leadership_minutes"] = np.nan
    order = ["case_id", "procedure", "open", "working_days", "on_time", "pingpong", "rework",
             "steps", "departments", "step_minutes", "leadership_minutes"]  # fmt: skip
    cases = cases[order].sort_values("case_id", ignore_index=True)
    cases.attrs = {"unavailable": unavailable, "reference": reference}
    return cases


def _unavailable(events: pd.DataFrame, catalog: pd.DataFrame | None) -> dict[str, str]:
    """The figures this log and catalog cannot give, and why."""
    unavailable = {}
    if not has_departments(events):
        reason = "the log has no department column (or no event has a department)"
        unavailable["pingpong_share"] = unavailable["departments_per_case"] = reason
    if not has_deadlines(events, catalog):
        unavailable["on_time_rate"] = "no deadline: neither a catalog nor a deadline column"
    if catalog is None or "grade" not in catalog.columns:
        unavailable["leadership_wait_share"] = (
            "no catalog grades: the leadership steps are the catalog's steps of a leadership grade"
        )
    return unavailable


def procedure_features(cases: pd.DataFrame, catalog: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row of behaviour per procedure from :func:`case_features`: procedure, in_catalog,
    cases, completed_cases and the figures of :data:`FEATURES`, by procedure name.

    Shares of ping-pong and rework are over all the procedure's cases (what has happened
    counts); on-time rate, median working days, steps and departments per case over its
    completed cases (an open case has not finished its steps); the leadership share is the
    procedure's leadership minutes over its step minutes, all cases pooled (as the
    ``delegate_signing`` rule pools them). A figure the log cannot give is null; so is the
    leadership share of a procedure the catalog lacks.

    >>> import procmine as pm
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> table = procedure_features(case_features(log, catalog), catalog)
    >>> table[["procedure", "cases", "pingpong_share", "rework_share", "median_working_days"]]
      procedure  cases  pingpong_share  rework_share  median_working_days
    0  Cấp phép      3        0.333333      0.333333                 3.25
    """
    done = ~cases["open"].astype(bool)
    frame = cases.assign(
        pingpong=cases["pingpong"].astype("Float64").astype(float),
        rework=cases["rework"].astype(float),
        completed=done.astype(int),
        on_time=cases["on_time"].astype("Float64").astype(float).where(done),
        working_days=cases["working_days"].where(done),
        steps=cases["steps"].astype(float).where(done),
        departments=cases["departments"].astype(float).where(done),
    )
    per = frame.groupby("procedure", sort=True).agg(
        cases=("case_id", "size"),
        completed_cases=("completed", "sum"),
        pingpong_share=("pingpong", "mean"),
        rework_share=("rework", "mean"),
        on_time_rate=("on_time", "mean"),
        median_working_days=("working_days", "median"),
        steps_per_case=("steps", "mean"),
        departments_per_case=("departments", "mean"),
        leadership=("leadership_minutes", "sum"),
        minutes=("step_minutes", "sum"),
    )
    unavailable = cases.attrs.get("unavailable", {})
    listed = set() if catalog is None else set(catalog["procedure"].dropna().astype(str))
    per["in_catalog"] = per.index.isin(sorted(listed))
    share = per["leadership"] / per["minutes"].where(per["minutes"] > 0)
    per["leadership_wait_share"] = share.where(per["in_catalog"])
    for feature in unavailable:
        per[feature] = np.nan
    per = per.reset_index().astype({"cases": "int64", "completed_cases": "int64"})
    return per[["procedure", "in_catalog", "cases", "completed_cases", *FEATURES]]


# ------------------------------------------------------------------------------ clustering
def procedure_clusters(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    k: int | None = None,
    calendar: Any = None,
    engine: Any = None,
    seed: int = 0,
    costs: Any = None,
    per_case: pd.DataFrame | None = None,
    pingpong: pd.DataFrame | None = None,
) -> ProcedureClusters:
    """Group the procedures of ``log`` by how they behave, and say what kind of measure suits
    each group (docs/clusters.md).

    One row of figures per procedure (:func:`procedure_features`: ping-pong and rework shares,
    on-time rate, median working days, steps and departments per case, the share of working
    time waiting at a leadership signature); a figure the log cannot give (no departments, no
    deadlines, no catalog grades) is left out, and a procedure's missing figure (e.g. no
    completed case) takes the mean of the others. The figures are standardised
    (``StandardScaler``) and grouped by ``KMeans(k, n_init=10, random_state=seed)``; without
    ``k``, k is the one of 2 … min(8, n − 1) with the highest silhouette (ties: the smaller).
    Clusters are numbered 1, 2, … from the largest (ties: by their first procedure's name).

    A cluster's **trait** is a figure whose cluster mean lies at least half a standard
    deviation of the procedures above (high) or below (low) their mean; :data:`TRAITS` maps
    traits to measure types. With fewer than 3 procedures, or procedures that all behave the
    same, nothing is clustered: ``message`` says why and ``procedures`` still has the figures.

    ``attrs``: k, k_chosen_by (``silhouette`` or ``given``), silhouette ({k: score}), features
    (used), unavailable ({feature: why}), imputed ({feature: [procedures]}), scaling ({feature:
    (mean, standard deviation)}), seed, n_init, trait_threshold, reference (of ping-pong),
    message (None when clustered). ``costs`` gives the leadership grades (default: costs.yaml).
    ``per_case`` and ``pingpong``, when the caller has them: as in :func:`case_features`.
    """
    costs = read_costs() if costs is None else costs
    given = {"per_case": per_case, "pingpong": pingpong}
    cases = case_features(log, catalog, calendar=calendar, engine=engine, costs=costs, **given)
    table = procedure_features(cases, catalog)
    unavailable = cases.attrs["unavailable"]
    used = [f for f in FEATURES if f not in unavailable and table[f].notna().any()]
    attrs: dict[str, Any] = {
        "k": None,
        "k_chosen_by": None,
        "silhouette": {},
        "features": tuple(used),
        "unavailable": dict(unavailable),
        "imputed": {},
        "scaling": {},
        "seed": seed,
        "n_init": N_INIT,
        "trait_threshold": TRAIT_THRESHOLD,
        "reference": cases.attrs["reference"],
        "message": None,
    }
    if len(table) < MIN_PROCEDURES:
        names = ", ".join(table["procedure"]) or "none"
        return _unclustered(
            table,
            attrs,
            f"Clustering needs at least {MIN_PROCEDURES} procedures; the log has {len(table)} "
            f"({names}). Their figures are in .procedures; no cluster was formed.",
        )
    return _clustered(table, attrs, k, seed)


def _unclustered(table: pd.DataFrame, attrs: dict[str, Any], message: str) -> ProcedureClusters:
    """The figures without clusters, and why."""
    procedures = table.assign(cluster=pd.array([pd.NA] * len(table), dtype="Int64"))
    profiles = _profiles(procedures, np.empty((0, 0)), [])
    return ProcedureClusters(procedures, profiles, {**attrs, "message": message})


def _clustered(
    table: pd.DataFrame, attrs: dict[str, Any], k: int | None, seed: int
) -> ProcedureClusters:
    """Scale, choose k, fit and profile (see :func:`procedure_clusters`)."""
    from sklearn.preprocessing import StandardScaler

    used = list(attrs["features"])
    raw = table[used]
    missing = raw.isna()
    attrs["imputed"] = {
        f: table.loc[missing[f].to_numpy(), "procedure"].tolist() for f in used if missing[f].any()
    }
    scaler = StandardScaler().fit(raw.fillna(raw.mean()))
    scaled = scaler.transform(raw.fillna(raw.mean()))
    attrs["scaling"] = {
        f: (float(mean), float(scale))
        for f, mean, scale in zip(used, scaler.mean_, scaler.scale_, strict=True)
    }
    n, distinct = len(table), len(np.unique(np.round(scaled, 12), axis=0))
    if k is not None and not 2 <= k <= n - 1:
        raise ValueError(
            f"k must be from 2 to the number of procedures less one ({n - 1}); got {k}."
        )
    if distinct < 2:
        return _unclustered(
            table, attrs, "All procedures have the same figures: there is nothing to group."
        )
    tried = range(2, min(MAX_K, n - 1, distinct) + 1)
    labels = {c: _kmeans(scaled, c, seed) for c in sorted({*tried, *([k] if k else [])})}
    attrs["silhouette"] = {c: _silhouette(scaled, found) for c, found in labels.items()}
    scores = {c: -np.inf if np.isnan(v) else round(v, 12) for c, v in attrs["silhouette"].items()}
    chosen = k or max(tried, key=lambda c: (scores[c], -c))
    attrs.update(k=chosen, k_chosen_by="given" if k else "silhouette")
    procedures = table.assign(cluster=pd.array(labels[chosen], dtype="Int64"))
    return ProcedureClusters(procedures, _profiles(procedures, scaled, used), attrs)


def _kmeans(scaled: np.ndarray, k: int, seed: int) -> np.ndarray:
    """KMeans labels numbered 1, 2, … from the largest cluster (ties: the first procedure)."""
    from sklearn.cluster import KMeans

    found = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit_predict(scaled)
    sizes = np.bincount(found, minlength=k)
    firsts = np.array([np.flatnonzero(found == label).min(initial=len(found)) for label in
                       range(k)])  # fmt: skip
    order = np.lexsort((firsts, -sizes))  # a loop over clusters, not events
    number = np.empty(k, dtype=np.int64)
    number[order] = np.arange(1, k + 1)
    return number[found]


def _silhouette(scaled: np.ndarray, labels: np.ndarray) -> float:
    """The silhouette of a labelling; NaN when it has a single cluster (KMeans may find fewer
    clusters than asked where procedures coincide)."""
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(silhouette_score(scaled, labels))


# ------------------------------------------------------------------------------ profiles
_PROFILE_COLUMNS = ("cluster", "procedures", "members", "cases", *FEATURES, "traits", "measures",
                    "suggestion", "suggestion_en")  # fmt: skip


def _profiles(procedures: pd.DataFrame, scaled: np.ndarray, used: list[str]) -> pd.DataFrame:
    """One row per cluster: its size, members, the means of the raw figures, its traits, the
    measure types they suit and the sentences."""
    clustered = procedures[procedures["cluster"].notna().to_numpy()]
    if clustered.empty:
        return pd.DataFrame({column: [] for column in _PROFILE_COLUMNS})
    label = clustered["cluster"].to_numpy(dtype=np.int64)
    profile = clustered.groupby("cluster", sort=True).agg(
        procedures=("procedure", "size"),
        members=("procedure", lambda names: tuple(sorted(names))),
        cases=("cases", "sum"),
        **{feature: (feature, "mean") for feature in FEATURES},
    )
    centres = pd.DataFrame(scaled, columns=used).groupby(label).mean()
    overall = procedures[list(FEATURES)].mean()
    traits = [_traits(centres.loc[number]) for number in profile.index]
    profile["traits"] = traits
    profile["measures"] = [_measures(found) for found in traits]
    for lang, column in (("vi", "suggestion"), ("en", "suggestion_en")):
        profile[column] = [
            _sentence(number, row, found, overall, lang)
            for (number, row), found in zip(profile.iterrows(), traits, strict=True)
        ]
    profile = profile.reset_index().astype({"cluster": "int64", "cases": "int64"})
    return profile[list(_PROFILE_COLUMNS)]


def _traits(centre: pd.Series) -> tuple[tuple[str, str], ...]:
    """The (figure, high/low) traits of a cluster from its mean scaled figures, only those
    :data:`TRAITS` names, the strongest first (the largest distance from the procedures' mean;
    ties in the order of :data:`FEATURES`)."""
    found = []
    for feature, value in centre.items():
        direction = (
            "high" if value >= TRAIT_THRESHOLD else "low" if value <= -TRAIT_THRESHOLD else None
        )
        if direction and (feature, direction) in TRAITS:
            found.append(
                (-abs(float(value)), FEATURES.index(str(feature)), (str(feature), direction))
            )
    return tuple(trait for *_, trait in sorted(found))


def _measures(traits: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The measure types the traits suit, each once, in the order of the traits (the strongest
    first) and within a trait in :data:`TRAITS` order."""
    return tuple(dict.fromkeys(kind for trait in traits for kind in TRAITS[trait]))


def _figure(feature: str, value: float, lang: str) -> str:
    """A figure as the sentences write it: a share in whole percent, working days with their
    unit, counts with one decimal."""
    if feature in _SHARES:
        return format_percent(value, lang, 0)
    if feature == "median_working_days":
        return (
            f"{format_number(value, lang, 1)} {'ngày làm việc' if lang == 'vi' else 'working days'}"
        )
    return format_number(value, lang, 1)


def _sentence(
    number: int, row: pd.Series, traits: tuple, overall: Mapping[str, float], lang: str
) -> str:
    """The plain sentence of a cluster: who is in it, its traits against the procedures' mean,
    and the measure types they suit."""
    vi = lang == "vi"
    size = int(row["procedures"])
    head = (
        f"Nhóm {number} ({size} thủ tục)"
        if vi
        else (f"Cluster {number} ({size} procedure{'s' if size > 1 else ''})")
    )
    if not traits:
        return head + (
            ": không có đặc điểm nổi bật so với các thủ tục khác; xem các phương án của từng "
            "thủ tục."
            if vi
            else ": no figure stands out from the other procedures; see each procedure's "
            "candidates."
        )
    against = "so với" if vi else "vs"
    mean = "bình quân" if vi else "on average"
    parts = [
        f"{_TRAIT_WORDS[trait][0 if vi else 1]} ({_figure(trait[0], row[trait[0]], lang)} "
        f"{against} {_figure(trait[0], overall[trait[0]], lang)} {mean})"
        for trait in traits
    ]
    kinds = "; ".join(
        f"{_MEASURE_WORDS[kind][0 if vi else 1]} ({kind})" for kind in _measures(traits)
    )
    suits = "Phù hợp" if vi else "Suits"
    return f"{head}: {', '.join(parts)}. {suits}: {kinds}."
