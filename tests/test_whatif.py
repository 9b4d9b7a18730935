"""Cold-start what-ifs on real ML-100k with the packaged sentence encoder and real fitted models."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recaug.analysis.explorer import embedding_points
from recaug.analysis.whatif import (
    ContentIndex,
    build_content_index,
    fold_in_scores,
    new_item_whatif,
    new_user_recommendations,
    recommend_for_new_user,
    side_by_side,
)
from recaug.augment.text.similarity import SimilarityAugmenter
from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.splits import Split
from recaug.models import MODELS, create_model

STAR_WARS_LIKE = {"50", "172", "181", "222", "227", "228", "229", "230", "380", "449", "450", "271", "1596"}
CATALOG_STYLE = ("Galaxy Rebels (1998)", "Genres: Action, Adventure, Sci-Fi.")


@pytest.fixture(scope="module")
def index(ml100k_train: TrainingData) -> ContentIndex:
    return build_content_index(ml100k_train)


def test_space_opera_lands_near_star_wars(ml100k: Dataset, ml100k_split: Split, index: ContentIndex) -> None:
    answer = new_item_whatif(
        index, "Galaxy Rebels", "A space opera: rebels fight an evil galactic empire with starships and laser swords."
    )
    top5 = set(answer.neighbours["item_id"].head(5))
    assert len(top5 & STAR_WARS_LIKE) >= 3, answer.neighbours
    assert answer.neighbours["similarity"].is_monotonic_decreasing
    # Placed in the explorer's (text, PCA) space next to Star Wars rather than anywhere.
    emap = embedding_points(
        ml100k, ml100k_split.train, item_vectors=index.item_vectors, include_users=False, use_cache=False
    )
    answer = new_item_whatif(
        index, "Galaxy Rebels", "A space opera about rebels and an evil galactic empire.", embedding_map=emap
    )
    items = emap.points.set_index("entity_id")
    distance = np.hypot(items["x"] - answer.position[0], items["y"] - answer.position[1])
    assert distance["50"] < distance.quantile(0.2)


def test_before_matches_a_brute_force_content_ranking(ml100k_train: TrainingData, index: ContentIndex) -> None:
    k = 10
    answer = new_item_whatif(index, *CATALOG_STYLE, k=k)
    assert 0 < len(answer.before) < ml100k_train.n_users
    assert (answer.before["score"] > answer.before["kth_score"]).all()
    assert answer.before["rank"].between(1, k).all()
    assert answer.before["reason"].str.startswith("liked ").all()
    # Brute force for a sample of users: rank the new item against every unseen catalog item.
    new = answer.vector - index.center
    new /= np.linalg.norm(new)
    reached = set(answer.before["user_id"])
    sample = [*range(0, ml100k_train.n_users, 37), *(ml100k_train.user_ids.get_loc(u) for u in sorted(reached)[:5])]
    for user in sample:
        scores = index.content_items @ index.content_profiles[user]
        scores[ml100k_train.history(user)] = -np.inf
        own = float(index.content_profiles[user] @ new)
        in_top_k = (scores > own).sum() < k
        assert in_top_k == (ml100k_train.user_ids[user] in reached), user


def test_after_matches_the_similarity_augmenter_on_cold_items(
    ml100k_train: TrainingData, index: ContentIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Add the item to the catalog for real, run the similarity augmenter, and compare who receives it.

    The augmenter gets the very vectors the what-if used (catalog + the new item's embedding) instead of
    re-encoding 1,683 texts, which would only add a minute of encoder time to the suite. It sees the catalog as
    the app's training data does: items found only in validation/test are hidden from it (walk 11: the what-if
    let those 32 items compete with the new item and set the cold cut, so it gave the item to fewer users).
    """
    answer = new_item_whatif(index, *CATALOG_STYLE, budget=0.5)
    seen_texts: list[str] = []

    def same_vectors(texts: list[str], **_: object) -> np.ndarray:
        seen_texts.extend(texts)
        return np.vstack([index.item_vectors, answer.vector[None, :]])

    monkeypatch.setattr("recaug.augment.text.similarity.encode_texts", same_vectors)
    new_id = "new-item"
    items = pd.concat(
        [ml100k_train.items, pd.DataFrame({"item_id": [new_id], "title": [CATALOG_STYLE[0]], "text": [answer.text]})],
        ignore_index=True,
    )
    extended = TrainingData(
        interactions=ml100k_train.interactions,
        items=items,
        user_ids=ml100k_train.user_ids,
        item_ids=pd.Index([*ml100k_train.item_ids, new_id], name="item_id"),
        matrix=sp.hstack([ml100k_train.matrix, sp.csr_matrix((ml100k_train.n_users, 1))]).tocsr(),
        visible_items=np.append(ml100k_train.item_visible(), True),  # the new item is in the catalog
    )
    assert not ml100k_train.item_visible().all()  # the case that matters: some items are hidden
    rows = SimilarityAugmenter(target="cold-items").fit(extended).augment(0.5).rows
    assert seen_texts[-1] == answer.text and len(seen_texts) == ml100k_train.n_items + 1
    receivers = set(rows.loc[rows["item_id"] == new_id, "user_id"])
    predicted = set(answer.after["user_id"])
    assert receivers, "the catalog-style item should reach someone"
    assert len(receivers) >= 5
    assert receivers == predicted


def test_an_expansion_that_reaches_nobody_says_why(index: ContentIndex) -> None:
    """An empty 'after' table said nothing (user walk); the answer now carries the reason, and only then."""
    reached = new_item_whatif(index, *CATALOG_STYLE, budget=0.5)
    assert len(reached.after) and reached.summary["after_reason"] == ""
    too_far = new_item_whatif(index, *CATALOG_STYLE, budget=0.5, min_similarity=0.99)
    assert too_far.after.empty
    assert too_far.summary["after_reason"].startswith("No user's history is similar enough to it")
    assert "below the 0.99 that expansion needs" in too_far.summary["after_reason"]
    assert reached.summary["before_reason"] == "" and len(reached.before)
    outranked = new_item_whatif(index, *CATALOG_STYLE, budget=3)  # three rows go to the cold items ranked first
    assert outranked.after.empty
    assert "budget (3 rows)" in outranked.summary["after_reason"]
    assert "only the first 3 users get one item each" in outranked.summary["after_reason"]
    # Walk 13: "ranks #1 at best ..., so it reaches no one" contradicted itself; #1 is for users the budget skips.
    reason = outranked.summary["after_reason"]
    assert ("#1 at best" not in reason) or "but not for any user the budget reaches" in reason
    assert "below what each user gets" in reason or "but not for any user the budget reaches" in reason
    assert ", so it reaches no one" in reason


def test_unlike_text_warns_and_empty_title_is_refused(index: ContentIndex) -> None:
    answer = new_item_whatif(index, "Quarterly tax filing checklist", "Forms, deadlines and receipts.")
    assert "catalog's style" in answer.summary["warning"]
    unreached = new_item_whatif(index, "Quarterly tax filing checklist", "Forms, deadlines and receipts.", k=1)
    assert unreached.before.empty  # at k=1 a tax form beats no user's favourite film
    assert unreached.summary["before_reason"].startswith("No user has it in their top 1: the content model")
    with pytest.raises(RecaugInputError):
        new_item_whatif(index, "  ")
    with pytest.raises(RecaugInputError):
        new_item_whatif(index, "x", k=index.max_k + 1)


def test_an_answer_takes_well_under_a_few_seconds(index: ContentIndex) -> None:
    new_item_whatif(index, "warm-up", "")  # the encoder is loaded once per process
    started = time.perf_counter()
    new_item_whatif(index, "Midnight Harbour", "Genres: Crime, Film-Noir, Thriller.")
    assert time.perf_counter() - started < 3.0


# --- new user ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models(ml100k_train: TrainingData) -> dict[tuple[str, str, int], object]:
    matrix = ml100k_train.matrix
    return {
        ("itemknn", "baseline", 0): create_model("itemknn").fit(matrix),
        ("pop", "baseline", 0): create_model("pop").fit(matrix),
        ("bpr", "baseline", 0): create_model("bpr", max_epochs=15, lr=0.01).fit(matrix),
    }


def test_new_user_gets_unliked_items_with_titles(ml100k: Dataset, models) -> None:
    liked = ["50", "172", "181"]  # the Star Wars trilogy
    answer = new_user_recommendations(models, ml100k, liked, k=10)
    assert answer.skipped.empty
    table = answer.recommendations
    assert set(table["model"]) == {"itemknn", "pop", "bpr"}
    assert (table.groupby("model").size() == 10).all()
    assert not table["item_id"].isin(liked).any()
    assert (table["title"].str.len() > 0).all()
    genres = ml100k.items.set_index("item_id")["genres"]
    action = table.assign(hit=table["item_id"].map(genres).str.contains("Action|Adventure|Sci-Fi"))
    share = action.groupby("model")["hit"].mean()
    assert share["itemknn"] >= 0.6 and share["itemknn"] > share["pop"], share
    wide = side_by_side(table)
    assert wide.shape == (10, 3) and "itemknn · baseline" in wide.columns


def test_item_knn_and_pop_fold_in_equal_the_models_own_scores(ml100k_train: TrainingData, models) -> None:
    for user in (0, 100, 500):
        history = ml100k_train.history(user)
        for key in (("itemknn", "baseline", 0), ("pop", "baseline", 0)):
            scores, _ = fold_in_scores(models[key], history, ml100k_train.n_items)
            np.testing.assert_allclose(scores, models[key].score(np.array([user]))[0], rtol=1e-5, atol=1e-6)


def test_factor_fold_in_tracks_the_trained_user_vector(ml100k_train: TrainingData, models) -> None:
    bpr = models[("bpr", "baseline", 0)]
    correlations = []
    for user in (0, 100, 500, 700):
        scores, how = fold_in_scores(bpr, ml100k_train.history(user), ml100k_train.n_items)
        correlations.append(np.corrcoef(scores, bpr.score(np.array([user]))[0])[0, 1])
    assert how == "least-squares user vector"
    assert np.mean(correlations) > 0.6, correlations


def test_any_model_folds_in_through_similar_users(ml100k_train: TrainingData, models) -> None:
    knn = models[("itemknn", "baseline", 0)]

    class ScoreOnly:
        """A model exposing only score() and its training matrix (like a future model without a fold-in)."""

        train_ = ml100k_train.matrix

        def score(self, users: np.ndarray) -> np.ndarray:
            return knn.score(users)

    user = 42
    history = ml100k_train.history(user)
    top, scores = recommend_for_new_user(ScoreOnly(), history, k=20)
    own = np.argsort(
        -np.where(np.isin(np.arange(ml100k_train.n_items), history), -np.inf, knn.score(np.array([user]))[0])
    )[:20]
    assert len(set(top) & set(own)) >= 8
    assert np.all(np.diff(scores) <= 0)


def test_recommend_for_new_user_respects_exclusions(models) -> None:
    knn = models[("itemknn", "baseline", 0)]
    top, _ = recommend_for_new_user(knn, [49, 171], k=15, exclude=[180, 173])
    assert len(top) == 15 and not set(top) & {49, 171, 180, 173}
    with pytest.raises(RecaugInputError):
        recommend_for_new_user(knn, [], k=5)
    with pytest.raises(RecaugInputError):
        recommend_for_new_user(knn, [10**6], k=5)


# Each registered model, fitted quickly (few epochs, one-point grids): What-if must place a new user in every one.
QUICK = {
    "als": {"max_iterations": 3},
    "bpr": {"max_epochs": 3},
    "lightgcn": {"max_epochs": 2},
    "content": {"scale_grid": (2.0,)},
    "ease": {"reg_grid": (500.0,)},
    "bpr-tuned": {"grid": {"lr": (0.01,), "max_epochs": (3,)}},
    "lightgcn-tuned": {"grid": {"lr": (0.005,), "max_epochs": (2,)}},
    "itemknn-tuned": {"grid": {"k": (50,)}},
}


@pytest.fixture(scope="module")
def every_model(ml100k: Dataset, ml100k_split: Split) -> dict[tuple[str, str, int], object]:
    train, valid = ml100k.matrix(ml100k_split.train), ml100k.matrix(ml100k_split.valid)
    fitted = {}
    for name in MODELS.names():
        model = create_model(name, **QUICK.get(name, {}))
        if getattr(model, "needs_item_texts", False):
            model.set_item_texts(ml100k.items["text"].tolist())  # type: ignore[attr-defined]
        fitted[(name, "baseline", 0)] = model.fit(train, valid)
    return fitted


def test_every_registered_model_places_a_new_user(ml100k: Dataset, ml100k_split: Split, every_model) -> None:
    """The user-test bug: a comparison with bpr-tuned showed no model at all for a new user."""
    liked = ["50", "181", "100"]  # Star Wars, Return of the Jedi, Fargo
    train = ml100k.matrix(ml100k_split.train)
    for given in (None, train):  # with the page's training matrix and without it (the API default)
        answer = new_user_recommendations(every_model, ml100k, liked, k=10, train=given)
        assert answer.skipped.empty, answer.skipped.to_dict("records")
        table = answer.recommendations
        assert set(table["model"]) == set(MODELS.names())
        assert (table.groupby("model").size() == 10).all()
        assert not table["item_id"].isin(liked).any()
    # The tuned wrapper folds in through the model it chose: the same answer as that model on its own.
    tuned = table[table["model"] == "bpr-tuned"]
    chosen = every_model[("bpr-tuned", "baseline", 0)].model_
    alone = new_user_recommendations({("bpr", "chosen", 0): chosen}, ml100k, liked, k=10).recommendations
    assert list(tuned["item_id"]) == list(alone["item_id"])
    assert set(tuned["how"]) == {"least-squares user vector"}


def test_a_model_that_cannot_place_a_new_user_is_skipped_with_a_plain_reason(ml100k: Dataset, models) -> None:
    class ScoreOnly:
        """A model with nothing to fold a new user into: no hooks, item state or training matrix."""

        name = "mystery"

        def score(self, users: np.ndarray) -> np.ndarray:
            return np.zeros((len(users), ml100k.n_items), dtype=np.float32)

    class Broken(ScoreOnly):
        name = "broken"

        def score_history(self, history: sp.csr_matrix) -> np.ndarray:
            raise RuntimeError("internal failure")

    everything = {**models, ("mystery", "baseline", 0): ScoreOnly(), ("broken", "baseline", 0): Broken()}
    answer = new_user_recommendations(everything, ml100k, ["50", "181"], k=5)
    assert set(answer.recommendations["model"]) == {"itemknn", "pop", "bpr"}  # the others still answer
    reasons = answer.skipped.set_index("model")["reason"]
    assert set(reasons.index) == {"mystery", "broken"}
    assert reasons["mystery"].startswith("mystery cannot place a user it was not trained on")
    assert "failed unexpectedly" in reasons["broken"]
    for reason in reasons:
        assert "ScoreOnly" not in reason and "Broken" not in reason and "train=" not in reason
    with pytest.raises(RecaugInputError, match="unknown item id"):  # bad input still refuses the whole answer
        new_user_recommendations(everything, ml100k, ["no-such-item"], k=5)
