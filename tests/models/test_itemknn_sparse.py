"""Sparse ItemKNN: blockwise top-k neighbours equal the dense computation, and storage grows with items x k."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recaug.models import create_model
from recaug.models.itemknn import top_k_neighbours


def dense_reference(x: np.ndarray, k: int, shrink: float) -> np.ndarray:
    """Cosine similarities, each column's k largest kept (ties: lower item index), the rest zero."""
    co = x.T @ x
    norms = np.sqrt((x * x).sum(axis=0))
    sim = (co / (np.outer(norms, norms) + shrink + 1e-8)).astype(np.float32)
    np.fill_diagonal(sim, 0.0)
    kept = np.zeros_like(sim)
    for j in range(sim.shape[1]):
        order = np.lexsort((np.arange(sim.shape[0]), -sim[:, j]))[:k]
        kept[order, j] = sim[order, j]
    return kept


def test_blockwise_neighbours_equal_the_dense_computation() -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((80, 45)) < 0.15).astype(np.float32)
    for k, shrink, block in ((5, 0.0, 7), (10, 2.0, 45), (50, 0.0, 1)):
        sparse = top_k_neighbours(sp.csc_matrix(x), k, shrink, block=block).toarray()
        np.testing.assert_allclose(sparse, dense_reference(x, k, shrink), rtol=1e-5, atol=1e-7)


def test_storage_is_at_most_k_per_item_and_scores_match() -> None:
    rng = np.random.default_rng(1)
    train = sp.csr_matrix((rng.random((300, 500)) < 0.03).astype(np.float32))
    model = create_model("itemknn", k=20).fit(train)
    assert sp.issparse(model.similarity_) and model.similarity_.nnz <= 20 * 500
    users = np.arange(10)
    expected = train[users].toarray() @ model.similarity_.toarray()
    np.testing.assert_allclose(model.score(users), expected, rtol=1e-5)
    np.testing.assert_allclose(model.score_history(train[3]), expected[3], rtol=1e-5)


def test_the_compiled_block_is_scipys_sparse_product_to_the_bit() -> None:
    """The compiled co-occurrence and cosine give the bytes of the scipy / numpy computation they replaced (weighted
    rows, so a different summation order would show), block by block."""
    from recaug.models.itemknn_kernel import co_occurrence, cosine_in_place

    rng = np.random.default_rng(2)
    x = sp.random(200, 80, density=0.1, random_state=3, dtype=np.float32, format="csc")
    x.data = (rng.random(x.nnz) + 0.5).astype(np.float32)
    by_user = x.tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel())
    start, stop, shrink = 10, 40, 2.0
    block = np.full((stop - start, 80), np.nan, dtype=np.float32)
    co_occurrence(x.indptr, x.indices, x.data, by_user.indptr, by_user.indices, by_user.data, start, block)
    expected = (x.T.tocsr() @ x[:, start:stop]).toarray().T
    assert block.tobytes() == expected.tobytes()
    cosine_in_place(block, norms, start, shrink)
    expected = (expected / (np.outer(norms[start:stop], norms) + shrink + 1e-8)).astype(np.float32)
    expected[np.arange(stop - start), np.arange(start, stop)] = 0.0
    assert block.tobytes() == expected.tobytes()
