"""A greyed "no clear difference" row whose own interval excludes 0 says, in its verdict cell, that the family's
correction (q) decided it: a user read [-0.0185, -0.0008] next to "no clear difference" as a contradiction."""

from __future__ import annotations

import pandas as pd

from ui.compare_view import display_frame


def row(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "model": "bpr", "variant": "ensemble", "metric": "ndcg", "k": 10, "baseline": 0.30, "augmented": 0.29,
        "delta": -0.0097, "delta_pct": -3.2, "ci_low": -0.0185, "ci_high": -0.0008, "noise_floor": 0.004,
        "mde": 0.012, "q_ttest": 0.064, "n_seeds": 3, "n_users": 943, "primary": True,
        "verdict": "no clear difference",
    }  # fmt: skip
    return {**base, **changes}


def test_the_verdict_cell_explains_an_interval_that_excludes_zero() -> None:
    table = pd.DataFrame(
        [
            row(),  # the walk's row: excludes 0 alone, q 0.064
            row(ci_low=-0.02, ci_high=0.001),  # includes 0: nothing to explain
            row(primary=False, verdict="exploratory", q_ttest=float("nan")),  # no family, no q
            row(delta=-0.02, ci_high=-0.01, q_ttest=0.01, verdict="worse"),
        ]
    )
    verdicts = display_frame(table)["verdict"].tolist()
    assert verdicts[0] == (
        "no clear difference (q 0.064 after correcting for the family; the interval is this row's alone)"
    )
    assert verdicts[1:] == ["no clear difference", "exploratory", "worse"]


def test_a_verdict_decided_at_an_earlier_look_says_so_and_a_looks_level_is_named() -> None:
    """Seeds added until decided: "worse" next to the last look's Δ -0.0002 and q 0.927 (decided at 3 of 7 seeds)
    read as a contradiction, and "after correcting for the family" named the wrong reason for a q of 0.0176."""
    table = pd.DataFrame(
        [
            row(
                delta=-0.0002,
                ci_low=-0.0041,
                ci_high=0.0038,
                q_ttest=0.927,
                verdict="worse",
                n_seeds=7,
                level=0.0099,
                decided_at=3,
            ),
            row(q_ttest=0.0176, n_seeds=7, level=0.0093, decided_at=float("nan")),
            row(q_ttest=0.064, n_seeds=3, level=0.05, decided_at=float("nan")),
            row(delta=-0.02, ci_high=-0.01, q_ttest=0.01, verdict="worse", level=0.05, decided_at=3),
        ]
    )
    verdicts = display_frame(table)["verdict"].tolist()
    assert verdicts[0] == "worse (decided at 3 seeds; Δ, interval and q shown at 7)"
    assert verdicts[1] == (
        "no clear difference (q 0.0176 is above this look's level 0.0093: the looks of a run that adds seeds share 5%)"
    )
    assert "after correcting for the family" in verdicts[2] and verdicts[3] == "worse"
