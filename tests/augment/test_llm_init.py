"""``llm-init`` with the REAL packaged SmolLM2 and sentence encoder on real ML-100k: no rows, start vectors for the
items the training split may see (the thinnest LLM-enriched), and inside an experiment only the models that can
start from them change."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pytest

from recaug.augment import create_augmenter
from recaug.augment.base import AugmentResult
from recaug.data.dataset import Dataset, TrainingData
from recaug.experiment import BASELINE, ExperimentConfig, run_experiment
from recaug.experiment.result import item_init_note, model_use_notes
from recaug.reporting.report import build_report
from recaug.text.encoder import encode_texts
from tests.servers.llm_fixtures import module_llm_home  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def result(module_llm_home: Path, ml100k_train: TrainingData) -> AugmentResult:  # noqa: F811
    augmenter = create_augmenter("llm-init", item_noun="movie", max_items=3, max_new_tokens=24)
    return augmenter.fit(ml100k_train).augment(0.1)


def test_adds_no_rows_and_reports_no_unfilled_budget(result: AugmentResult) -> None:
    assert len(result.rows) == 0
    assert result.info["budget"] == 0 and result.info["budget_reached"] is True
    assert "budget_note" not in result.info
    assert result.info["calls"] == 3 and result.info["items_enriched"] == 3
    # Its prompts are accepted for the text they gave, not for rows (it adds none).
    assert result.info["rejection_rate"] == 0.0 and result.log is not None and result.log["accepted"].all()


def test_start_vectors_cover_exactly_the_visible_items(result: AugmentResult, ml100k_train: TrainingData) -> None:
    vectors = result.item_init
    assert vectors is not None
    visible = ml100k_train.item_ids[ml100k_train.item_visible()]
    assert set(vectors.index) == set(visible.astype(str))
    assert len(visible) < ml100k_train.n_items, "the split hides some items (known only from valid/test)"
    assert vectors.shape[1] == 384 and np.isfinite(vectors.to_numpy()).all()
    # Encoder vectors are L2-normalised.
    np.testing.assert_allclose(np.linalg.norm(vectors.to_numpy(), axis=1), 1.0, atol=1e-4)


def test_enriched_items_carry_their_enriched_text(result: AugmentResult, ml100k_train: TrainingData) -> None:
    table = result.artifacts["item_text"]
    assert len(table) == 3 and table["keywords"].str.len().gt(0).all()
    enriched = encode_texts(table["enriched_text"].tolist())
    plain = encode_texts(table["original_text"].tolist())
    got = result.item_init.loc[table["item_id"].astype(str)].to_numpy()  # type: ignore[union-attr]
    np.testing.assert_allclose(got, enriched, atol=1e-5)
    assert not np.allclose(got, plain, atol=1e-3)
    # The thinnest items: no visible item has fewer training interactions than the least popular enriched one.
    popularity = ml100k_train.item_popularity()
    enriched_pop = popularity[ml100k_train.item_ids.get_indexer(table["item_id"].astype(str))]
    assert enriched_pop.max() <= np.sort(popularity[ml100k_train.item_visible()])[2]


def test_in_an_experiment_only_models_that_start_from_vectors_change(ml100k: Dataset, module_llm_home: Path) -> None:  # noqa: F811
    config = ExperimentConfig(
        augmenters=["llm-init"],
        augmenter_params={"llm-init": {"enrich": False}},
        models=["itemknn", "bpr"],
        model_params={"bpr": {"max_epochs": 6, "eval_every": 2}},
        seeds=[0],
        ks=[20],
        metrics=["ndcg"],
        primary=["ndcg@20"],
        aa_control=False,
    )
    outcome = run_experiment(ml100k, config, keep_models=True)
    table = outcome.results.set_index(["model", "variant", "slice"])["value"]
    assert table.loc[("itemknn", "llm-init", "all")] == table.loc[("itemknn", BASELINE, "all")]
    before = outcome.models[("bpr", BASELINE, 0)].item_embeddings()
    after = outcome.models[("bpr", "llm-init", 0)].item_embeddings()
    assert not np.allclose(before, after)
    assert table.loc[("bpr", "llm-init", "all")] != table.loc[("bpr", BASELINE, "all")]
    note = item_init_note(config.augmenters, config.models)
    assert note is not None and "used by bpr" in note and "itemknn cannot" in note
    assert item_init_note(["similarity"], config.models) is None
    # Every view says it: the CLI and Compare print model_use_notes, the HTML report carries it too.
    notes = model_use_notes(outcome)
    assert note in notes and [n for n in notes if n != note] == [n for n in notes if n.startswith("bpr: epoch chosen")]
    assert html.escape(note) in build_report(outcome)
