"""The recommender conformance suite: subclass it with ``model_name`` (and ``params``) to run every check.

On a checkerboard (:func:`recaug.testing.data.checkerboard`, implicit's idea) whose correct top-1 is known:
``fit`` returns self; scores have the right shape and are finite; a personalised model finds each user's top-1;
the same seed gives identical scores; top-k from :mod:`recaug.evaluate` never returns a training or validation
item; ``cls(**model.get_params())``, ``set_params`` and ``sklearn.base.clone`` round-trip; ``valid_exclude`` and
``negatives`` are accepted (and mis-shaped ones refused); and a model that offers fold-in (``score_history``) scores
a known user's history exactly as it scores that user.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from recaug.core.errors import RecaugInputError
from recaug.evaluate.protocol import evaluate_model
from recaug.models import MODELS, Recommender, create_model
from recaug.testing.data import Checkerboard, checkerboard


def item_texts(n_items: int) -> list[str]:
    """Texts that carry the checkerboard's structure, for models that read item text (``needs_item_texts``)."""
    return [f"{'an even' if item % 2 == 0 else 'an odd'} numbered item, number {item}" for item in range(n_items)]


class RecommenderConformance:
    """Every recommender's tests subclass this; set ``model_name`` and ``params`` (e.g. a small epoch cap).

    ``personalised = False`` (a popularity model) skips the known-top-1 check; ``min_top1_hit_rate`` is the share
    of users whose first recommendation must be their known top-1 (1.0: all of them).
    """

    model_name: ClassVar[str]
    params: ClassVar[dict[str, Any]] = {}
    personalised: ClassVar[bool] = True
    min_top1_hit_rate: ClassVar[float] = 1.0
    board_size: ClassVar[int] = 40

    def make(self, n_items: int, **overrides: Any) -> Recommender:
        """A fresh model with the suite's parameters, given item texts if it reads them."""
        model = create_model(self.model_name, **{**self.params, **overrides})
        if getattr(model, "needs_item_texts", False):
            model.set_item_texts(item_texts(n_items))  # type: ignore[attr-defined]
        return model

    @pytest.fixture(scope="class")
    def board(self) -> Checkerboard:
        return checkerboard(self.board_size)

    @pytest.fixture(scope="class")
    def fitted(self, board: Checkerboard) -> Recommender:
        model = self.make(board.train.shape[1])
        assert model.fit(board.train, board.valid) is model, "fit returns self"
        return model

    def users(self, board: Checkerboard) -> np.ndarray:
        return np.arange(board.train.shape[0])

    def test_scores_have_the_right_shape_and_are_finite(self, fitted: Recommender, board: Checkerboard) -> None:
        users = self.users(board)[::3]
        scores = np.asarray(fitted.score(users))
        assert scores.shape == (len(users), board.train.shape[1])
        assert np.issubdtype(scores.dtype, np.floating) and np.isfinite(scores).all()

    def test_finds_the_known_top1(self, fitted: Recommender, board: Checkerboard) -> None:
        """Personalised models find each user's known top-1; the others give every user the same scores."""
        if not self.personalised:
            scores = np.asarray(fitted.score(self.users(board)))
            np.testing.assert_array_equal(scores, np.broadcast_to(scores[0], scores.shape))
            return
        result = evaluate_model(fitted, board.test, board.train + board.valid, ks=(1,), metrics=("hit",))
        assert result.values[("hit", 1)].mean() >= self.min_top1_hit_rate
        assert (result.top[:, 0] == board.top1[result.users]).mean() >= self.min_top1_hit_rate

    def test_top_k_never_returns_a_seen_item(self, fitted: Recommender, board: Checkerboard) -> None:
        seen = (board.train + board.valid).tocsr()
        result = evaluate_model(fitted, board.test, seen, ks=(10,), metrics=("recall",))
        ranked = sp.csr_matrix(
            (np.ones(result.top.size), (np.repeat(result.users, result.top.shape[1]), result.top.ravel())),
            shape=seen.shape,
        )
        assert seen.multiply(ranked).nnz == 0

    def test_same_seed_gives_identical_scores(self, fitted: Recommender, board: Checkerboard) -> None:
        again = self.make(board.train.shape[1]).fit(board.train, board.valid)
        users = self.users(board)
        np.testing.assert_array_equal(np.asarray(fitted.score(users)), np.asarray(again.score(users)))

    def test_params_round_trip_through_the_constructor(self) -> None:
        cls = MODELS.get(self.model_name)
        params = create_model(self.model_name, **self.params).get_params(deep=False)
        assert params["seed"] == self.params.get("seed", 0)
        assert cls(**params).get_params(deep=False) == params
        assert cls().set_params(**params).get_params(deep=False) == params
        assert clone(create_model(self.model_name, **self.params)).get_params(deep=False) == params
        with pytest.raises(RecaugInputError, match="no parameter"):
            create_model(self.model_name, no_such_parameter=1)

    def test_valid_exclude_and_negatives_are_accepted(self, board: Checkerboard) -> None:
        n_users, n_items = board.train.shape
        negatives = sp.csr_matrix(
            (np.ones(n_users, np.float32), (np.arange(n_users), (np.arange(n_users) + 1) % n_items)),
            shape=board.train.shape,
        )
        model = self.make(n_items)
        fitted = model.fit(board.train, board.valid, valid_exclude=board.train, negatives=negatives)
        assert fitted is model
        assert np.isfinite(np.asarray(model.score(self.users(board)[:4]))).all()
        wrong = sp.csr_matrix((n_users, n_items + 1), dtype=np.float32)
        for option in ("valid_exclude", "negatives"):
            with pytest.raises(RecaugInputError, match=option):
                self.make(n_items).fit(board.train, board.valid, **{option: wrong})


class FoldInConformance(RecommenderConformance):
    """For models with fold-in (``score_history``): a known user's history scores like the user itself."""

    def test_fold_in_matches_a_known_users_scores(self, fitted: Recommender, board: Checkerboard) -> None:
        score_history = fitted.score_history  # type: ignore[attr-defined]
        for user in (0, 1):
            np.testing.assert_allclose(
                np.asarray(score_history(board.train[user])).ravel(), np.asarray(fitted.score(np.array([user])))[0]
            )
