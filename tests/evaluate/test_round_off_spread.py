"""A delta that is the same in every seed up to float round-off has no spread: no test, no verdict (walk 13 saw
"worse" at p = 2e-31 for recall@20 that was -1/102 in every seed of a 102-user slice)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recaug.evaluate.significance import seed_tests, significance_from_results
from recaug.evaluate.verdicts import NO_SPREAD


def _steps(hits: list[int], n_users: int = 102) -> pd.DataFrame:
    rows = []
    for seed, hit in enumerate(hits):
        for variant, value in (("baseline", hit / n_users), ("similarity", (hit - 1) / n_users)):
            rows.append(("pop", variant, seed, "all", "recall", 20, value, n_users))
    return pd.DataFrame(rows, columns=["model", "variant", "seed", "slice", "metric", "k", "value", "n_users"])


def test_round_off_is_no_spread() -> None:
    results = _steps([8, 14, 53])
    deltas = results.pivot_table(index="seed", columns="variant", values="value")
    spread = np.ptp(deltas["similarity"] - deltas["baseline"])
    assert 0 < spread < 1e-15  # the walk's case: equal deltas that differ in the last bits
    p_t, p_w = seed_tests((deltas["similarity"] - deltas["baseline"]).to_numpy()[None, :])
    assert np.isnan(p_t).all() and np.isnan(p_w).all()
    (row,) = significance_from_results(results).to_dict("records")
    assert row["verdict"] == NO_SPREAD and np.isnan(row["mde"])
    assert abs(row["delta"] + 1 / 102) < 1e-12


def test_a_real_spread_is_still_tested() -> None:
    results = _steps([8, 14, 53])
    results.loc[(results["variant"] == "similarity") & (results["seed"] == 1), "value"] -= 1 / 102
    (row,) = significance_from_results(results).to_dict("records")
    assert row["verdict"] != NO_SPREAD and 0 < row["p_ttest"] < 1
