"""Sample logs with planted truth: a district People's Committee (UBND huyện) and its procedures.

:func:`generate` builds a realistic event log of internal procedures, its approved-procedure
catalog, and a ground-truth dict of what was planted and of the exact counts that follow from the
definitions (docs/definitions.md). The committed sample (``datasets/``, 2,000 cases, seed 7)
is its output, written by :func:`write_sample` the way agencies export (Vietnamese headers,
UTF-8 with BOM, dd/mm/yyyy timestamps, gzip).

What is planted (see ``datasets/README.md``):

- a **bottleneck step**, :data:`BOTTLENECK_ACTIVITY`, in the high-volume land procedure, and a
  **bottleneck department**, :data:`BOTTLENECK_DEPARTMENT`, that holds cases longest in total;
- **excess ping-pong** on the pairs of :data:`PINGPONG_PAIRS`: extra round trips (the next
  department returns the dossier, "Trả lại hồ sơ"/"Chuyển lại để bổ sung", and it comes back,
  "Bổ sung, hoàn thiện hồ sơ") on top of consultations A → B → A that the catalog prescribes;
- **deviations** of every type of CONTRACTS.md: skipped, repeated (rework), swapped steps, steps
  done by the wrong department, activities not in the procedure;
- a few events **without a department**, and **late cases**, some with an explanation step
  (named by :data:`procmine.vocabulary.EXPLANATIONS`);
- one **simplification opportunity** of each measure type of ``pm.simplification_candidates``
  (:data:`OPPORTUNITIES`; ``end_pingpong`` wherever a planted pair hands over), recorded in the
  truth's ``planted.opportunities``; ordinary procedures give no rule a reason to fire.

The **counts** of the truth come from :func:`reference_counts`, a deliberately separate, plainly
written per-case implementation of the definitions (the oracle the analyses are tested
against). It loops over cases in Python, so it runs only for small logs (``truth=None``
computes it up to 100,000 cases).

:func:`example_log` and :func:`example_catalog` are three dossiers small enough to read in
full: the docstrings' examples run on them.

One module per concern: ``examples``, ``district`` (departments, grades, officials, the
procedures as approved and their catalog), ``generator`` (:func:`generate`), ``oracle``
(:func:`reference_counts`) and ``files`` (the agency export, :func:`write_sample`, and the
committed sample in the repository's ``datasets/`` directory, :data:`DATASETS_DIR`: it ships
with the source tree, not with an installed wheel) and ``transfers`` (a log written as a transfer
history, one row per transfer of a dossier between departments: :func:`as_transfers`,
:func:`write_transfers`, :func:`write_transfer_sample`).
"""

from procmine.datasets.district import (
    BOTTLENECK_ACTIVITY,
    BOTTLENECK_DEPARTMENT,
    DEPARTMENTS,
    OPPORTUNITIES,
    PINGPONG_PAIRS,
    sample_catalog,
)
from procmine.datasets.examples import example_catalog, example_log
from procmine.datasets.files import (
    DATASETS_DIR,
    SAMPLE_FILES,
    export_like_agency,
    load_sample,
    load_sample_catalog,
    load_sample_truth,
    sample_path,
    write_sample,
)
from procmine.datasets.generator import Generated, generate
from procmine.datasets.oracle import reference_counts
from procmine.datasets.transfers import (
    TRANSFER_ACTIONS,
    TRANSFER_COLUMNS,
    as_transfers,
    write_transfer_sample,
    write_transfers,
)

__all__ = [
    "BOTTLENECK_ACTIVITY",
    "BOTTLENECK_DEPARTMENT",
    "DATASETS_DIR",
    "DEPARTMENTS",
    "OPPORTUNITIES",
    "PINGPONG_PAIRS",
    "SAMPLE_FILES",
    "TRANSFER_ACTIONS",
    "TRANSFER_COLUMNS",
    "Generated",
    "as_transfers",
    "example_catalog",
    "example_log",
    "export_like_agency",
    "generate",
    "load_sample",
    "load_sample_catalog",
    "load_sample_truth",
    "reference_counts",
    "sample_catalog",
    "sample_path",
    "write_sample",
    "write_transfer_sample",
    "write_transfers",
]
