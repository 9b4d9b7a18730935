"""The shared ``fit`` contract: ``valid_exclude`` decides what model selection hides, fixed ``negatives`` reach the
models that declare ``uses_negatives`` and change what they learn, and bad shapes fail with a clear message."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.splits import make_split
from recaug.models import MODELS, create_model
from recaug.models.bpr_sampling import BPRSampler

FAST_BPR = {"max_epochs": 30, "lr": 0.01, "patience": 30}


def _planted_matrices(planted: Dataset) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    split = make_split(planted.interactions, "random-811", 0)
    return planted.matrix(split.train), planted.matrix(split.valid)


def test_every_model_declares_whether_it_reads_fixed_negatives() -> None:
    flags = {name: MODELS.get(name).uses_negatives for name in MODELS.names()}
    assert all(isinstance(flag, bool) for flag in flags.values())
    assert flags["bpr"] and flags["lightgcn"] and flags["bpr-tuned"]
    assert not flags["pop"] and not flags["ease"] and not flags["itemknn"]


def test_selection_ranks_validation_excluding_valid_exclude_only(planted: Dataset) -> None:
    """An 'augmented' train that contains every validation item: excluding it hides all of validation."""
    train, valid = _planted_matrices(planted)
    augmented = ((train + valid) > 0).astype(np.float32).tocsr()
    hidden = create_model("ease").fit(augmented, valid)  # old rule: exclude the augmented train itself
    real = create_model("ease").fit(augmented, valid, valid_exclude=train)  # issue #9: real history only
    assert max(hidden.valid_ndcg_.values()) == 0.0
    assert min(real.valid_ndcg_.values()) > 0.5
    bpr = create_model("bpr", max_epochs=4, eval_every=2).fit(augmented, valid, valid_exclude=train)
    assert bpr.best_valid_ndcg_ > 0.0


def test_default_valid_exclude_is_train(planted: Dataset) -> None:
    train, valid = _planted_matrices(planted)
    a = create_model("ease").fit(train, valid)
    b = create_model("ease").fit(train, valid, valid_exclude=train)
    assert a.valid_ndcg_ == b.valid_ndcg_


@pytest.mark.parametrize("argument", ["valid_exclude", "negatives"])
def test_misshaped_matrices_are_refused(planted: Dataset, argument: str) -> None:
    train, valid = _planted_matrices(planted)
    with pytest.raises(RecaugInputError, match=argument):
        create_model("bpr").fit(train, valid, **{argument: train[:-1]})


def test_sampler_draws_the_documented_share_from_fixed_negatives() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items = 200, 300
    train = sp.csr_matrix((rng.random((n_users, n_items)) < 0.05).astype(np.float32))
    fixed = sp.lil_matrix((n_users, n_items), dtype=np.float32)
    for user in range(0, n_users, 2):  # even users have fixed negatives: items 290..299 minus their positives
        fixed[user, 290:300] = 1
    fixed = fixed.tocsr()
    sampler = BPRSampler(train, fixed, fixed_share=0.5)
    users, positives, negatives = (np.concatenate(parts) for parts in zip(*sampler.epoch(rng, 128), strict=True))
    assert train[users, positives].min() > 0
    assert train[users, negatives].max() == 0  # fixed or uniform, never a positive (up to rejection rounds)
    from_fixed = np.asarray(fixed[users, negatives]).ravel() > 0
    even = users % 2 == 0
    # Uniform draws land on 290..299 about 10/300 of the time; the fixed share adds 0.5.
    assert 0.45 < from_fixed[even].mean() < 0.6
    assert from_fixed[~even].mean() == 0.0 or not (fixed[users[~even]].nnz)


def test_same_seed_and_uniform_sampling_are_unchanged_without_negatives(planted: Dataset) -> None:
    train, valid = _planted_matrices(planted)
    empty = sp.csr_matrix(train.shape, dtype=np.float32)
    a = create_model("bpr", seed=3, **FAST_BPR).fit(train, valid)
    b = create_model("bpr", seed=3, **FAST_BPR).fit(train, valid, negatives=empty)
    users = np.arange(train.shape[0])
    np.testing.assert_array_equal(a.score(users), b.score(users))


@pytest.mark.parametrize(
    ("name", "extra", "min_shift"),
    # LightGCN smooths each item towards its neighbours (the same group's users), so the push is smaller.
    [("bpr", {"max_epochs": 30}, 5.0), ("lightgcn", {"max_epochs": 60, "layers": 1}, 1.5)],
)
def test_fixed_negatives_push_those_items_down(
    planted: Dataset, name: str, extra: dict[str, int], min_shift: float
) -> None:
    train, _ = _planted_matrices(planted)
    n_users, n_items = train.shape
    # Each user's fixed negatives: the unseen items of their own group (40 items, groups of 13).
    groups = np.arange(n_users) % 3
    fixed = np.zeros((n_users, n_items), dtype=np.float32)
    for user, group in enumerate(groups):
        fixed[user, group * 13 : (group + 1) * 13] = 1
    fixed = sp.csr_matrix(fixed - fixed * (train.toarray() > 0))
    users = np.arange(n_users)
    params = {"seed": 0, "lr": 0.01, "batch_size": 64, "fixed_negative_share": 0.9, **extra}
    plain = create_model(name, **params).fit(train, None)
    pushed = create_model(name, **params).fit(train, None, negatives=fixed)
    again = create_model(name, **params).fit(train, None, negatives=fixed)
    np.testing.assert_array_equal(pushed.score(users), again.score(users))  # seeded

    def mean_rank_of_fixed(model: object) -> float:
        scores = model.score(users)  # type: ignore[attr-defined]
        ranks = (-scores).argsort(axis=1).argsort(axis=1)
        return float(ranks[fixed.toarray() > 0].mean())

    assert mean_rank_of_fixed(pushed) > mean_rank_of_fixed(plain) + min_shift


def test_models_that_ignore_negatives_are_unaffected(planted: Dataset) -> None:
    train, valid = _planted_matrices(planted)
    fixed = sp.csr_matrix(np.ones(train.shape, dtype=np.float32))
    users = np.arange(train.shape[0])
    for name in ("pop", "itemknn", "ease"):
        a = create_model(name).fit(train, valid)
        b = create_model(name).fit(train, valid, negatives=fixed)
        np.testing.assert_array_equal(a.score(users), b.score(users))
