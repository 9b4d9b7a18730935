"""Walk 13 (D) on Compare and Fidelity: an arm its LLM skill check stopped said "skipped ... (Δ +0.0000)" once per
model and metric; the cost table read "LLM calls 0, tokens in 0" for it while the check had cost 77 calls a seed (in
columns off the first screen); on slice cold-items BPR's baseline scored 0.0128 with no word on how a model can rank
items nobody trained on; and Fidelity listed a method that made no rows without saying why it had no column."""

from __future__ import annotations

import dataclasses

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.app.conftest import app, no_errors  # noqa: F401  (the fixture is used by name)
from ui.compare_view import never_ranked_note

SKIPPED_WORD = "skipped: the LLM failed the skill check, so it made 0 rows"


def _merged() -> pd.DataFrame:
    """A Compare table (merged_table's columns that the views read) for pop and bpr on slice cold-items: a
    similarity arm that ran and an llm-cold-items arm its skill check stopped."""
    rows = []
    for model, base in (("pop", 0.0), ("bpr", 0.0128)):
        for variant, after, word in (("similarity", base + 0.004, "no clear difference"), ("llm-cold-items", base, "")):
            for metric, k in (("ndcg", 10), ("recall", 20)):
                rows.append(
                    {
                        "model": model,
                        "variant": variant,
                        "metric": metric,
                        "k": k,
                        "baseline": base,
                        "augmented": after,
                        "delta": after - base,
                        "delta_pct": float("nan"),
                        "ci_low": -0.01 if word else float("nan"),
                        "ci_high": 0.02 if word else float("nan"),
                        "q_ttest": 0.5 if word else float("nan"),
                        "n_seeds": 3,
                        "n_users": 198,
                        "noise_floor": 0.01,
                        "mde": 0.03 if word else float("nan"),
                        "seeds_to_decide": float("nan"),
                        "verdict": word or SKIPPED_WORD,
                        "primary": True,
                        "replicate": "split and model seed",
                    }
                )
    return pd.DataFrame(rows)


def _views() -> None:
    import pandas as pd

    from tests.app.test_walk13_compare import _merged
    from ui.compare_view import comparison_table, cost_view, verdict

    table = _merged()
    verdict(table, "cold-items")
    comparison_table(table)
    cost = pd.DataFrame(
        [
            {"variant": "baseline", "fit_seconds": 0.4, "extra_fit_seconds": 0.0},
            {"variant": "similarity", "budget": 150.0, "synthetic_rows": 150.0, "augment_seconds": 0.1},
            {
                "variant": "llm-cold-items",
                "budget": 150.0,
                "synthetic_rows": 0.0,
                "augment_seconds": 44.97,
                "llm_calls": 0.0,
                "llm_tokens_in": 0.0,
                "skill_check_calls": 77.3333,
                "skill_check_tokens_in": 10612.67,
                "skill_check_seconds": 44.64,
            },
        ]
    )
    cost_view(cost)


def test_a_stopped_arm_is_one_line_and_no_table_row() -> None:
    at = AppTest.from_function(_views).run()
    no_errors(at)
    text = " ".join(m.value for m in at.markdown)
    assert text.count("llm-cold-items") == 1, text
    assert "**llm-cold-items**: no rows — the LLM failed its skill check; nothing to compare." in text
    assert "made 0 rows" not in text and "similarity" in text
    shown = at.dataframe[0].value
    assert "llm-cold-items" not in set(shown["variant"]) and set(shown["variant"]) == {"similarity"}


def test_the_cost_table_shows_the_skill_check_beside_the_llm_calls() -> None:
    at = AppTest.from_function(_views).run()
    cost = at.dataframe[1].value.set_index("variant")
    assert cost.loc["llm-cold-items", "LLM calls"] == "0 (+77 skill check)"
    assert cost.loc["llm-cold-items", "tokens in"] == "0 (+10,613 skill check)"
    assert cost.loc["llm-cold-items", "skill check seconds"] == "44.64"  # readable, not 44.64000000001
    assert cost.loc["similarity", "LLM calls"] == "–"


def test_the_cold_items_note_says_why_bpr_ranks_items_nobody_trained_on() -> None:
    note = never_ranked_note(_merged(), "cold-items")
    assert note is not None and "pop scored 0 without augmentation" in note
    assert "bpr scored above 0 here without augmentation" in note and "random factors" in note
    assert "pop scored above 0" not in note
    assert "random factors" not in (never_ranked_note(_merged(), "all") or "")  # cold items only


def test_fidelity_says_why_a_method_has_no_column(app: AppTest) -> None:  # noqa: F811
    from ui.state import AUGMENT_RESULTS

    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["random", "popularity"]).run()
    app.button(key="run_augment").click().run()
    # A copy: the page's results dict can be a cached object other tests' augmentations get back.
    results = dict(app.session_state[AUGMENT_RESULTS])
    stopped = results["popularity"]  # recorded as an LLM arm its skill check stopped: no rows
    results["popularity"] = dataclasses.replace(
        stopped, rows=stopped.rows.iloc[0:0], info={**stopped.info, "llm_skill_passed": False, "kept": 0}
    )
    app.session_state[AUGMENT_RESULTS] = results
    app.switch_page("pages/4_Fidelity.py").run()
    no_errors(app)
    notes = [i.value for i in app.info]
    assert "popularity made no rows (skill check failed): nothing to measure." in notes, notes
    assert not any("random made no rows" in n for n in notes)
