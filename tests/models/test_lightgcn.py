"""LightGCN: the propagation operator, its gradient, determinism, early stopping, and accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recaug.data.dataset import Dataset
from recaug.data.splits import Split, make_split
from recaug.evaluate.protocol import mean_metric
from recaug.models import create_model
from recaug.models.lightgcn import normalised_adjacency, symmetric_spmm

FAST = {"max_epochs": 20, "eval_every": 2, "batch_size": 256, "lr": 0.01}


def test_adjacency_is_the_symmetric_normalised_bipartite_graph() -> None:
    train = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0]], dtype=np.float32))
    adj = normalised_adjacency(train).toarray()
    assert adj.shape == (5, 5)
    np.testing.assert_allclose(adj, adj.T)
    # user 0 (degree 2) - item 1 (degree 2): 1 / sqrt(2 * 2); user 1 (degree 1) - item 1: 1 / sqrt(1 * 2)
    assert np.isclose(adj[0, 3], 0.5) and np.isclose(adj[1, 3], 1 / np.sqrt(2))
    assert adj[0, 1] == 0 and adj[2, 3] == 0  # no user-user or item-item edges


@pytest.mark.parametrize("engine", ["scipy", "torch"])  # "torch" is the CUDA path, run here on CPU
def test_sparse_product_has_the_dense_gradient(engine: str) -> None:
    adj = normalised_adjacency(sp.random(6, 5, density=0.5, random_state=0, format="csr").astype(bool).astype(float))
    spmm = symmetric_spmm(adj, torch.device("cpu"), engine=engine)
    x = torch.randn(11, 3, requires_grad=True)
    dense = torch.as_tensor(adj.toarray())
    (spmm(spmm(x)) ** 2).sum().backward()
    (expected,) = torch.autograd.grad(((dense @ (dense @ x)) ** 2).sum(), x)
    torch.testing.assert_close(x.grad, expected, rtol=1e-5, atol=1e-5)


def test_planted_structure_is_found_and_seeded(planted: Dataset) -> None:
    split = make_split(planted.interactions, "random-811", 0)
    train, valid, test = (planted.matrix(p) for p in (split.train, split.valid, split.test))
    model = create_model("lightgcn", **FAST).fit(train, valid)
    again = create_model("lightgcn", **FAST).fit(train, valid)
    np.testing.assert_array_equal(model.score(np.arange(5)), again.score(np.arange(5)))
    ndcg = mean_metric(model, test, train + valid, "ndcg", 10)
    pop = mean_metric(create_model("pop").fit(train), test, train + valid, "ndcg", 10)
    assert ndcg > pop + 0.1 and ndcg > 0.4
    # The chosen epoch is the validation maximum, and the kept embeddings are that epoch's.
    epochs, scores = zip(*model.history_, strict=True)
    assert model.best_epoch_ == epochs[int(np.argmax(scores))]
    assert np.isclose(model.best_valid_ndcg_, mean_metric(model, valid, train, "ndcg", 10))
    users, items = model.user_embeddings(), model.item_embeddings()
    assert users.shape == (planted.n_users, 64) and items.shape == (planted.n_items, 64)
    np.testing.assert_allclose(model.score(np.arange(3)), users[:3] @ items.T, rtol=1e-5)


def test_beats_pop_on_real_data_after_a_few_epochs(ml100k: Dataset, ml100k_split: Split) -> None:
    train, valid, test = (ml100k.matrix(p) for p in (ml100k_split.train, ml100k_split.valid, ml100k_split.test))
    model = create_model("lightgcn", max_epochs=6, eval_every=3, lr=0.01, batch_size=8192).fit(train, valid)
    ndcg = mean_metric(model, test, train + valid, "ndcg", 10)
    pop = mean_metric(create_model("pop").fit(train), test, train + valid, "ndcg", 10)
    assert ndcg > pop + 0.05, (ndcg, pop)
