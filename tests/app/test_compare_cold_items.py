"""Compare under the cold-items protocol, found by a user walk: models that learn from interactions alone score 0
on cold items in both arms, and the page opened on that slice, called them deterministic and said nothing of the
slice `all`, where their verdicts were decided."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.app.conftest import no_errors
from ui.compare_view import SAME_EVERY_SEED, decided_elsewhere, display_frame, never_ranked_note


def test_a_cold_items_comparison_opens_where_the_numbers_are_and_says_why_cold_items_are_zero(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    app.selectbox(key="aug_protocol").set_value("cold-items").run()
    app.multiselect(key="aug_methods").set_value(["popularity"]).run()
    app.switch_page("pages/3_Compare.py").run()
    app.multiselect(key="cmp_models").set_value(["pop", "itemknn"]).run()
    app.button(key="run_compare").click().run()
    no_errors(app)
    assert app.selectbox(key="cmp_slice").value == "all"  # every model is 0 on cold items: nothing to see there
    assert not [c for c in app.caption if "scored 0 in both arms" in c.value]
    app.selectbox(key="cmp_slice").set_value("cold-items").run()
    no_errors(app)
    note = next(c.value for c in app.caption if "scored 0 in both arms" in c.value)
    assert "itemknn, pop scored 0 in both arms in every seed" in note
    assert "no training interactions" in note and "similarity" in note


def _row(**values: object) -> dict[str, object]:
    base = {"model": "pop", "variant": "popularity", "metric": "ndcg", "k": 10, "baseline": 0.0, "augmented": 0.0}
    return {**base, **values}


def test_zero_slices_are_explained_only_where_both_arms_are_zero() -> None:
    table = pd.DataFrame([_row(), _row(metric="recall", k=20), _row(model="bpr", baseline=0.01, augmented=0.0)])
    note = never_ranked_note(table, "cold-items")
    assert note is not None and note.startswith("On slice `cold-items`, pop scored 0 in both arms")
    assert never_ranked_note(table[table["model"] == "bpr"], "cold-items") is None
    other = never_ranked_note(table, "activity-q1")
    assert other is not None and "no training interactions" not in other  # the cold-item reason only there
    gained = pd.DataFrame([_row(augmented=0.02), _row(metric="recall", k=20, augmented=0.05)])  # text methods
    note = never_ranked_note(gained, "cold-items")
    assert note is not None and "pop scored 0 without augmentation" in note and "in both arms" not in note


def test_decided_rows_of_other_slices_are_named() -> None:
    significance = pd.DataFrame(
        [
            {
                "model": "ease",
                "variant": "popularity",
                "slice": "all",
                "metric": "ndcg",
                "k": 10,
                "verdict": "worse",
                "primary": True,
            },
            {
                "model": "pop",
                "variant": "popularity",
                "slice": "all",
                "metric": "recall",
                "k": 20,
                "verdict": "no clear difference",
                "primary": True,
            },
            {
                "model": "pop",
                "variant": "popularity",
                "slice": "cold-items",
                "metric": "ndcg",
                "k": 10,
                "verdict": "no change in any seed",
                "primary": True,
            },
            {
                "model": "pop",
                "variant": "popularity",
                "slice": "activity-q2",
                "metric": "ndcg",
                "k": 10,
                "verdict": "exploratory",
                "primary": False,
            },
        ]
    )
    line = decided_elsewhere(significance, "cold-items")
    assert line is not None and "`all`: ease + popularity ndcg@10 worse" in line
    assert "pop +" not in line  # undecided and exploratory rows are not listed
    assert decided_elsewhere(significance, "all") is None


def test_a_zero_seed_noise_is_not_called_deterministic() -> None:
    nan = float("nan")
    row = {**_row(), "delta": 0.0, "delta_pct": nan, "ci_low": nan, "ci_high": nan, "noise_floor": 0.0}
    table = pd.DataFrame([{**row, "q_ttest": 0.0496}])
    shown = display_frame(table)
    assert shown.iloc[0]["seed noise ±"] == SAME_EVERY_SEED
    assert shown.iloc[0]["q (BH)"] == "0.0496"  # not '0.050', which reads as undecided


def test_an_undecided_rows_power_fits_on_its_arms_line() -> None:
    """The verdict had ~6 sentences per arm, each repeating 'with 3 seeds this comparison can tell apart …'."""
    from recaug.evaluate.power import MAX_SEEDS_SHOWN
    from ui.compare_view import short_power

    assert (
        short_power({"mde": 0.01234, "seeds_to_decide": 9}) == "detectable ±0.0123, about 9 seeds would decide this Δ"
    )
    far = short_power({"mde": 0.01, "seeds_to_decide": MAX_SEEDS_SHOWN + 1})
    assert far == f"detectable ±0.01, more than {MAX_SEEDS_SHOWN} seeds would decide this Δ"
    assert short_power({"mde": float("nan")}) == ""
