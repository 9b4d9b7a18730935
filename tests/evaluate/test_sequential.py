"""Seeds until decided (issue 17): the looks, the alpha each spends, early verdicts that stay, and when to stop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.evaluate.design import Question, seed_plan
from recaug.evaluate.sequential import AT_LIMIT, DECIDED, FIXED, FUTILE, next_seeds, spending, stop_reason
from recaug.evaluate.significance import (
    NO_DIFFERENCE,
    NO_VERDICT,
    significance_from_results,
    significance_table,
    verdict_words,
)
from recaug.experiment import ExperimentConfig, run_experiment

LOOKS = seed_plan(3, 10)


def test_looks_and_spending() -> None:
    assert LOOKS == (3, 5, 7, 9, 10) and seed_plan(3, 0) == (3,) and seed_plan(3, 4) == (3, 4)
    levels = spending(LOOKS, 0.05)
    assert levels.sum() == pytest.approx(0.05) and (levels > 0).all()
    assert levels[0] == pytest.approx(0.05 * np.log1p((np.e - 1) * 0.3))  # Pocock-type: spends early
    assert spending((3,), 0.05).tolist() == [0.05]
    assert next_seeds([0, 1, 2, 5], 3) == [3, 4, 6]


def null_results(deltas: np.ndarray) -> pd.DataFrame:
    """A results table whose arm differs from the baseline by ``deltas`` (families x rows x seeds) on the primary
    cells of the default question (ndcg@10, recall@20 on all) plus the arm's light-user slice."""
    cells = [("all", "ndcg", 10), ("all", "recall", 20), ("activity-q1", "ndcg", 10), ("activity-q1", "recall", 20)]
    n_families, n_rows, n_seeds = deltas.shape
    index = pd.MultiIndex.from_product([range(n_families), range(n_rows), range(n_seeds)], names=["f", "r", "seed"])
    frame = index.to_frame(index=False)
    frame["model"] = "m" + frame["f"].astype(str)
    frame["slice"] = [cells[r][0] for r in frame["r"]]
    frame["metric"] = [cells[r][1] for r in frame["r"]]
    frame["k"] = [cells[r][2] for r in frame["r"]]
    base = frame.assign(variant="baseline", value=0.3)
    arm = frame.assign(variant="aug", value=0.3 + deltas.reshape(-1))
    return pd.concat([base, arm], ignore_index=True).drop(columns=["f", "r"]).assign(n_users=500)


def test_every_look_together_keeps_false_verdicts_under_5_percent() -> None:
    """1,500 null families of 4 primary rows looked at 3, 5, 7, 9 and 10 seeds (no early stop: the worst case)."""
    deltas = np.random.default_rng(1).normal(scale=0.01, size=(1500, 4, 10))
    question = Question(target_slices=(("aug", ("activity-q1",)),), looks=LOOKS, seed_order=tuple(range(10)))
    table = significance_from_results(null_results(deltas), question=question)
    false_rows = table["verdict"].isin(["better", "worse"])
    families_with_one = false_rows.groupby(table["model"]).any().mean()
    assert len(table) == 6000 and table["primary"].all()
    assert 0 < families_with_one <= 0.05  # the chance a question gets any false verdict, over all looks


def test_a_row_decided_at_an_early_look_keeps_its_verdict() -> None:
    deltas = np.zeros((1, 4, 5))
    deltas[0, 0] = [0.05, 0.051, 0.049, -0.2, -0.2]  # decided "better" at 3 seeds; the later seeds disagree
    deltas[0, 1:] = np.random.default_rng(0).normal(scale=0.01, size=(3, 5))
    question = Question(target_slices=(("aug", ("activity-q1",)),), looks=(3, 5, 7), seed_order=tuple(range(5)))
    row = significance_from_results(null_results(deltas), question=question).iloc[0]
    assert row["n_seeds"] == 5 and row["delta"] < 0 and row["ci_low"] < 0 < row["ci_high"]
    assert row["verdict"] == "better"
    cut = significance_from_results(null_results(deltas[:, :, :3]), question=question).iloc[0]
    assert cut["verdict"] == "better"
    # The same five seeds read as one fixed 5-seed run: no early look, no verdict.
    fixed = significance_from_results(null_results(deltas), question=Question(target_slices=question.target_slices))
    assert fixed.iloc[0]["verdict"] == NO_DIFFERENCE


def test_stop_reason() -> None:
    def table(verdicts: list[str], needed: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {"variant": "aug", "primary": True, "verdict": verdicts, "seeds_to_decide": needed, "model": "m"}
        )

    assert stop_reason(table(["better", "worse"], [np.nan, np.nan]), 3, 10) == DECIDED
    assert stop_reason(table(["better", NO_DIFFERENCE], [np.nan, 8]), 3, 10) is None
    assert stop_reason(table(["better", NO_DIFFERENCE], [np.nan, 40]), 3, 10) == FUTILE
    assert stop_reason(table([NO_DIFFERENCE], [8]), 10, 10) == AT_LIMIT
    assert stop_reason(table([NO_VERDICT], [np.nan]), 3, 10) is None


def test_run_adds_seeds_only_at_looks_and_records_why_it_stopped(planted: Dataset) -> None:
    config = ExperimentConfig(
        augmenters=["edge-dropout@40%"],
        augmenter_params={"edge-dropout": {"target": "all"}},
        models=["itemknn"],
        metrics=["ndcg", "recall"],
        ks=[10, 20],
        seeds=[0, 1, 2],
        max_seeds=5,
        aa_control=False,
    )
    result = run_experiment(planted, config)
    stopping = result.stopping
    assert stopping is not None and list(stopping.seeds_run) in ([0, 1, 2], [0, 1, 2, 3, 4])
    assert stopping.reason in (DECIDED, FUTILE, AT_LIMIT) and stopping.reason != FIXED
    assert result.config.seeds == [0, 1, 2] and result.config.seeds_run == list(stopping.seeds_run)
    assert result.config.stopped == stopping.reason and sorted(result.splits) == list(stopping.seeds_run)
    table = significance_table(result)
    assert (table["n_seeds"] == len(stopping.seeds_run)).all()
    primary = table[table["primary"]]
    decided = primary["verdict"].isin(["better", "worse"])
    assert primary.loc[decided, "decided_at"].isin([3, 5]).all() and primary.loc[~decided, "decided_at"].isna().all()
    assert (primary["level"].dropna() < 0.05).all(), "every look spends a share of alpha"
    assert table.loc[~table["primary"], ["level", "decided_at"]].isna().all().all()
    if stopping.reason == DECIDED:
        assert primary["verdict"].isin(["better", "worse"]).all()
    with pytest.raises(RecaugInputError, match="at least 3 seeds"):
        run_experiment(planted, ExperimentConfig(models=["pop"], seeds=[0, 1], max_seeds=6))
    with pytest.raises(RecaugInputError, match="ndcg@5"):
        run_experiment(planted, ExperimentConfig(models=["pop"], primary=["ndcg@5"]))


def test_the_summary_line_says_when_a_verdict_was_reached_before_the_numbers_shown() -> None:
    from recaug.evaluate.significance import _summary_line

    row = {"model": "bpr", "variant": "x", "slice": "all", "metric": "ndcg", "k": 10, "delta": -0.003}
    row |= {"ci_low": -0.007, "ci_high": 0.0009, "n_users": 280, "verdict": "worse", "n_seeds": 7}
    early = _summary_line(pd.Series({**row, "decided_at": 3.0}))
    assert early.endswith("worse (decided at 3 seeds; Δ, interval and q shown at 7)")
    assert _summary_line(pd.Series({**row, "decided_at": 7.0})).endswith("n=280  worse")


def test_the_reports_verdict_sentence_says_it_too() -> None:
    from recaug.evaluate.significance import verdict_sentence

    row = {"model": "bpr", "variant": "x", "slice": "all", "metric": "ndcg", "k": 10, "delta": -0.0002}
    row |= {"ci_low": -0.0041, "ci_high": 0.0038, "n_users": 280, "verdict": "worse", "n_seeds": 7, "primary": True}
    assert "— worse (decided at 3 seeds; Δ, interval and q shown at 7)" in verdict_sentence({**row, "decided_at": 3})


def test_a_question_that_stopped_keeps_its_answer_while_other_questions_add_seeds() -> None:
    """Walk 12: with seeds added until decided, a question judged alone stopped at 3 seeds but was judged at 5
    when another model's undecided row kept the run going. Each question now stops on its own and keeps that look's
    answer, and a stopped question never keeps the run going."""
    deltas = np.zeros((2, 4, 7))
    deltas[0] = [0.03, -0.028, 0.001, 0.03, 0.0301, 0.0299, 0.03]  # m0: nothing decidable at 3 seeds, then it moves
    rng = np.random.default_rng(0)
    deltas[1] = 0.006 + rng.normal(scale=0.004, size=(4, 7))  # m1: close to a verdict, worth more seeds
    question = Question(target_slices=(("aug", ("activity-q1",)),), looks=(3, 5, 7), seed_order=tuple(range(7)))
    alone = significance_from_results(null_results(deltas[:1, :, :3]), question=question)
    assert stop_reason(alone, 3, 7) == FUTILE
    at_three = significance_from_results(null_results(deltas[:, :, :3]), question=question)
    assert stop_reason(at_three, 3, 7) is None  # m1 keeps the run going
    at_five = significance_from_results(null_results(deltas[:, :, :5]), question=question)
    table = significance_from_results(null_results(deltas), question=question)
    for later in (at_five, table):
        first = later[later["model"] == "m0"].reset_index(drop=True)
        assert first["decided_at"].eq(3).all() and first["level"].eq(alone["level"].iloc[0]).all()
        assert first["verdict"].tolist() == alone["verdict"].tolist()
    first = table[table["model"] == "m0"].reset_index(drop=True)
    assert first["n_seeds"].eq(7).all() and "its question stopped at 3 seeds" in verdict_words(first.iloc[0])
    # m0's rows, settled at 3 seeds, do not count when the run decides whether to add seeds after 5.
    open_m0 = at_five.assign(seeds_to_decide=np.where(at_five["model"] == "m0", 6.0, at_five["seeds_to_decide"]))
    open_m0 = open_m0.assign(verdict=np.where(open_m0["model"] == "m0", NO_DIFFERENCE, open_m0["verdict"]))
    m1_only = at_five[at_five["model"] == "m1"]
    assert stop_reason(open_m0, 5, 7) == stop_reason(m1_only, 5, 7)
