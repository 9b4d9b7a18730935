"""Two saved runs side by side on what each was asked: their primary rows, not every cell (issue 17).

Every row of ``compare_runs`` (thousands: each slice, metric and k of each model and arm) is exploratory; a reader
comparing two runs wants the answers to the questions the runs declared. Rows are matched on model, arm, slice and
metric@k; a row only one run has stays, with the other side empty and ``in`` saying which run has it, so two runs
that share no model still show both answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recaug.evaluate.design import parse_primary
from recaug.evaluate.significance import AA_CONTROL, BASELINE, KEYS, complete, significance_table
from recaug.reporting.runs import Run, comparison_attrs, load_run

SIDE_COLUMNS = ["baseline", "delta", "ci_low", "ci_high", "mde", "n_seeds", "verdict"]


def primary_rows(run: Run) -> pd.DataFrame:
    """A run's primary rows of its real arms with the baseline's mean beside them. Runs saved before primary rows
    existed fall back to their config's primary metric@k on slice ``all`` (their saved verdicts unchanged)."""
    significance = run.significance
    if (significance is None or significance.empty) and run.results is not None and len(run.results):
        significance = significance_table(run)  # saved without its table: derive it under the run's own question
    if significance is None or significance.empty:
        return pd.DataFrame(columns=[*KEYS, *SIDE_COLUMNS])
    table = complete(significance)
    table = table[table["variant"] != AA_CONTROL]
    if table["primary"].any():
        table = table[table["primary"]]
    else:
        keys = set(parse_primary(run.config.primary))
        wanted = [(m, int(k)) in keys for m, k in zip(table["metric"], table["k"], strict=True)]
        table = table[np.array(wanted, dtype=bool) & (table["slice"] == "all")]
    results = run.results
    base = (
        results[results["variant"] == BASELINE]
        .groupby(["model", "slice", "metric", "k"], as_index=False)["value"]
        .mean()
        .rename(columns={"value": "baseline"})
    )
    table = table.merge(base, on=["model", "slice", "metric", "k"], how="left")
    return table[[*KEYS, *SIDE_COLUMNS]]


def primary_side_by_side(a: str, b: str, root: str | None = None) -> pd.DataFrame:
    """The primary rows of runs ``a`` and ``b``: keys, ``in`` (both / A only / B only), then each run's baseline,
    Δ, interval, detectable change, seeds (whole numbers, empty where a run lacks the row) and verdict (suffixes
    ``_a`` / ``_b``). ``attrs`` as ``compare_runs``, its ``warnings`` included."""
    run_a, run_b = load_run(a, root), load_run(b, root)
    merged = primary_rows(run_a).merge(primary_rows(run_b), on=KEYS, how="outer", suffixes=("_a", "_b"), indicator="in")
    merged["in"] = merged["in"].map({"both": "both", "left_only": "A only", "right_only": "B only"}).astype(str)
    ordered = [*KEYS, "in", *(f"{c}_{side}" for side in ("a", "b") for c in SIDE_COLUMNS)]
    merged = merged[ordered].sort_values(KEYS, kind="stable").reset_index(drop=True)
    for side in ("a", "b"):  # a count stays whole where the outer merge left the other run's rows empty
        merged[f"n_seeds_{side}"] = pd.to_numeric(merged[f"n_seeds_{side}"], errors="coerce").round().astype("Int64")
    merged.attrs.update(comparison_attrs(run_a, run_b))
    return merged
