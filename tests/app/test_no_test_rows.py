"""Data where no user has a second interaction leaves nothing to test on: the comparison is refused before any fit,
with one message that says why and what to do (a user's upload "finished" with an empty verdict and a crash)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.splits import make_split


def one_each(users: int = 600, items: int = 80) -> Dataset:
    """Every user has exactly one interaction (valid data: enough users, items and rows to load)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"user_id": np.arange(users).astype(str), "item_id": rng.integers(0, items, users).astype(str)}
    )
    return Dataset.from_frames(frame, None, name="oneeach.csv")


def test_a_split_without_test_rows_is_refused_with_the_reason() -> None:
    data = one_each()
    with pytest.raises(RecaugInputError) as refused:
        make_split(data.interactions, "random-811", 0)
    message = str(refused.value)
    assert "'random-811' split of this data has no test interactions" in message
    assert "0 of 600 users have 2 or more interactions" in message and "cold-items" in message
    assert len(make_split(data.interactions, "cold-items", 0).test) > 0, "the protocol the message suggests works"


def run_on_one_each(app: AppTest, page: str, choice: tuple[str, list[str]], button: str) -> None:
    """Open ``page`` on one-interaction-per-user data, make ``choice`` (widget key, values), press ``button``."""
    app.session_state["dataset"] = one_each()
    app.switch_page(page).run()
    app.multiselect(key=choice[0]).set_value(choice[1]).run()
    app.button(key=button).click().run()
    assert not app.exception, [e.value for e in app.exception]


def test_compare_says_why_instead_of_an_empty_verdict(app: AppTest) -> None:
    run_on_one_each(app, "pages/3_Compare.py", ("cmp_models", ["pop"]), "run_compare")
    shown = " ".join(e.value for e in app.error)
    assert "**Could not run the comparison.** The 'random-811' split of this data has no test interactions" in shown
    assert "'Split protocol' on the Augment page" in shown, "the message names where the way out is"
    assert "Verdict" not in " ".join(m.value for m in app.markdown), "no verdict drawn from empty results"


def test_augment_says_why(app: AppTest) -> None:
    run_on_one_each(app, "pages/1_Augment.py", ("aug_methods", ["random"]), "run_augment")
    shown = " ".join(e.value for e in [*app.error, *app.warning])
    assert "has no test interactions" in shown, shown
    others = [e.value for e in app.error if "has no test interactions" not in e.value]
    assert not others, others


def test_a_comparison_without_results_says_so_instead_of_crashing(app: AppTest) -> None:
    """Empty results left the slice, metric and k pickers empty and ``int(None)`` raised on the page."""
    import dataclasses

    from recaug.data.builtin import load_ml100k
    from recaug.experiment import ExperimentConfig, run_experiment
    from recaug.experiment.executor import SerialExecutor
    from ui.state import EXPERIMENT

    data = Dataset.from_frames(*load_ml100k(), name="ml-100k")
    config = ExperimentConfig(augmenters=["random"], models=["pop"], seeds=[0], aa_control=False)
    result = run_experiment(data, config, executor=SerialExecutor())
    app.session_state[EXPERIMENT] = dataclasses.replace(result, results=result.results.iloc[:0])
    app.switch_page("pages/3_Compare.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("no results to show" in w.value for w in app.warning), [w.value for w in app.warning]
