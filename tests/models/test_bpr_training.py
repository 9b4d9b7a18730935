"""BPR's training step: closed-form gradients, row-wise (lazy) Adam, the sampler's membership test, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recaug.core.torch_utils import RowAdam
from recaug.data.dataset import Dataset
from recaug.data.splits import make_split
from recaug.evaluate.protocol import mean_metric
from recaug.models import create_model
from recaug.models.bpr import bpr_gradients
from recaug.models.bpr_sampling import BPRSampler


def test_closed_form_gradients_match_autograd() -> None:
    gen = torch.Generator().manual_seed(0)
    eu, ei, ej = (torch.randn(7, 5, generator=gen, dtype=torch.float64, requires_grad=True) for _ in range(3))
    reg = 0.3
    diff = (eu * (ei - ej)).sum(dim=1)
    loss = (
        -torch.nn.functional.logsigmoid(diff).mean() + reg * (eu.pow(2).sum() + ei.pow(2).sum() + ej.pow(2).sum()) / 7
    )
    expected = torch.autograd.grad(loss, (eu, ei, ej))
    for got, want in zip(bpr_gradients(eu.detach(), ei.detach(), ej.detach(), reg), expected, strict=True):
        torch.testing.assert_close(got, want)


def test_row_adam_is_adam_when_every_row_is_touched() -> None:
    gen = torch.Generator().manual_seed(1)
    start = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    dense = torch.nn.Parameter(start.clone())
    reference = torch.optim.Adam([dense], lr=0.01)
    table = start.clone()
    lazy = RowAdam([table], lr=0.01)
    for _ in range(5):
        grad = torch.randn(4, 3, generator=gen, dtype=torch.float64)
        dense.grad = grad.clone()
        reference.step()
        # rows in a shuffled order, one row split into two parts: the parts are summed
        rows = torch.tensor([2, 0, 3, 1, 1])
        parts = torch.stack([grad[2], grad[0], grad[3], grad[1] * 0.25, grad[1] * 0.75])
        lazy.step([(lazy.touch(0, rows), parts)])
    torch.testing.assert_close(table, dense.detach())


def test_row_adam_leaves_never_touched_rows_alone_and_catches_up_idle_ones() -> None:
    table = torch.ones(5, 2)
    lazy = RowAdam([table], lr=0.1)
    lazy.step([(lazy.touch(0, torch.tensor([1, 3])), torch.ones(2, 2))])
    lazy.step([(lazy.touch(0, torch.tensor([3])), torch.ones(1, 2))])
    assert torch.equal(table[[0, 2, 4]], torch.ones(3, 2))
    assert (table[[1, 3]] < 1).all()
    first, second = lazy.moments[0]
    assert torch.equal(first[[0, 2, 4]], torch.zeros(3, 2)) and torch.equal(second[[0, 2, 4]], torch.zeros(3, 2))
    # Row 1 was touched once: its idle step 2 is applied when it is read (flush), as dense Adam would have.
    assert torch.allclose(first[1], torch.full((2,), 0.1))
    before = table[1].clone()
    lazy.flush()
    assert torch.allclose(first[1], torch.full((2,), 0.09)) and (table[1] < before).all()
    assert torch.equal(table[[0, 2, 4]], torch.ones(3, 2))


@pytest.mark.parametrize("bits", [True, False], ids=["bit-per-cell", "binary-search"])
def test_membership_matches_a_set(bits: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from recaug.models import bpr_sampling

    monkeypatch.setattr(bpr_sampling, "MEMBERSHIP_BITS", 2**29 if bits else 0)
    rng = np.random.default_rng(0)
    matrix = sp.random(50, 41, density=0.2, random_state=1, format="csr")  # 41: cells straddle byte boundaries
    matrix = sp.csr_matrix(matrix.multiply(np.arange(50)[:, None] != 3))  # row 3 empty
    users, items = rng.integers(0, 50, 2000), rng.integers(0, 41, 2000)
    stored = set(zip(*matrix.nonzero(), strict=True))
    expected = np.array([(u, i) in stored for u, i in zip(users, items, strict=True)])
    sampler = BPRSampler(matrix)
    assert (sampler.bits is not None) == bits
    np.testing.assert_array_equal(sampler.seen(users, items), expected)
    assert expected.any() and not expected.all()
    assert not BPRSampler(sp.csr_matrix((50, 41))).seen(users, items).any()


def test_an_epoch_covers_every_positive_once_with_unseen_negatives() -> None:
    train = sp.random(60, 30, density=0.3, random_state=2, format="csr")
    sampler = BPRSampler(train)
    batches = list(sampler.epoch(np.random.default_rng(0), 64))
    users, positives, negatives = (np.concatenate(part) for part in zip(*batches, strict=True))
    assert all(len(b[0]) <= 64 for b in batches)
    assert sorted(zip(users, positives, strict=True)) == sorted(zip(*train.nonzero(), strict=True))
    # After five rejection rounds a clash is possible but rare at this density.
    assert sampler.seen(users, negatives).mean() < 0.01


def test_same_seed_gives_identical_factors_and_history(planted: Dataset) -> None:
    split = make_split(planted.interactions, "random-811", 0)
    train, valid = planted.matrix(split.train), planted.matrix(split.valid)
    params = {"seed": 3, "max_epochs": 12, "lr": 0.01}
    first = create_model("bpr", **params).fit(train, valid)
    second = create_model("bpr", **params).fit(train, valid)
    assert torch.equal(first.user_factors_, second.user_factors_)
    assert torch.equal(first.item_factors_, second.item_factors_)
    assert first.history_ == second.history_
    other = create_model("bpr", **{**params, "seed": 4}).fit(train, valid)
    assert not torch.equal(first.item_factors_, other.item_factors_)


def test_the_kept_factors_are_the_best_validation_epochs(planted: Dataset) -> None:
    split = make_split(planted.interactions, "random-811", 0)
    train, valid = planted.matrix(split.train), planted.matrix(split.valid)
    model = create_model("bpr", max_epochs=16, lr=0.01).fit(train, valid)
    epochs, scores = zip(*model.history_, strict=True)
    assert model.best_epoch_ == epochs[int(np.argmax(scores))]
    assert np.isclose(model.best_valid_ndcg_, mean_metric(model, valid, train, "ndcg", 10))


def test_row_adam_follows_dense_adam_when_rows_sit_idle() -> None:
    """Idle rows coast on their moments as in dense Adam (caught up when touched again, and by flush)."""
    gen = torch.Generator().manual_seed(2)
    start = torch.randn(30, 4, generator=gen, dtype=torch.float64)
    dense = torch.nn.Parameter(start.clone())
    reference = torch.optim.Adam([dense], lr=0.01, eps=1e-12)
    table = start.clone()
    lazy = RowAdam([table], lr=0.01, eps=1e-12)
    for step in range(60):
        rows = torch.randint(0, 30, (5 if step % 7 else 0,), generator=gen)  # some steps touch nothing
        grads = torch.randn(len(rows), 4, generator=gen, dtype=torch.float64)
        dense.grad = torch.zeros_like(start).index_add_(0, rows, grads)
        reference.step()
        lazy.step([(lazy.touch(0, rows), grads)])
        if step in (20, 59):
            lazy.flush()
            torch.testing.assert_close(table, dense.detach(), rtol=1e-7, atol=1e-9)


def test_long_epochs_validate_every_epoch_by_the_real_history(
    planted: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recaug.models.torch_base as torch_base

    split = make_split(planted.interactions, "random-811", 0)
    train, valid = planted.matrix(split.train), planted.matrix(split.valid)
    params = {"max_epochs": 6, "eval_every": 2, "patience": 100}
    assert [e for e, _ in create_model("bpr", **params).fit(train, valid).history_] == [2, 4, 6]
    monkeypatch.setattr(torch_base, "LONG_EPOCH_INTERACTIONS", train.nnz - 1)
    assert [e for e, _ in create_model("bpr", **params).fit(train, valid).history_] == [1, 2, 3, 4, 5, 6]
    # An arm with extra (synthetic) rows keeps the schedule of its real history.
    extra = train.copy().tolil()
    extra[0, :] = 1
    monkeypatch.setattr(torch_base, "LONG_EPOCH_INTERACTIONS", train.nnz)
    model = create_model("bpr", **params).fit(extra.tocsr(), valid, valid_exclude=train)
    assert [e for e, _ in model.history_] == [2, 4, 6]


def test_bpr_steps_with_row_adam_follow_dense_adam_on_the_loss() -> None:
    """Gradients are taken at the rows' dense-Adam values (idle steps applied first), so whole BPR training matches
    autograd + torch's dense Adam over the full tables."""
    gen = torch.Generator().manual_seed(3)
    users0, items0 = (torch.randn(n, 6, generator=gen, dtype=torch.float64) * 0.1 for n in (40, 25))
    dense = [torch.nn.Parameter(users0.clone()), torch.nn.Parameter(items0.clone())]
    reference = torch.optim.Adam(dense, lr=0.05, eps=1e-12)
    tables = [users0.clone(), items0.clone()]
    lazy = RowAdam(tables, lr=0.05, eps=1e-12)
    for _ in range(40):
        u, i, j = torch.randint(0, 40, (8,), generator=gen), *torch.randint(0, 25, (2, 8), generator=gen)
        eu, ei, ej = dense[0][u], dense[1][i], dense[1][j]
        l2 = eu.pow(2).sum() + ei.pow(2).sum() + ej.pow(2).sum()
        loss = -torch.nn.functional.logsigmoid((eu * (ei - ej)).sum(dim=1)).mean() + 0.01 * l2 / 8
        reference.zero_grad()
        loss.backward()
        reference.step()
        users, items = lazy.touch(0, u), lazy.touch(1, torch.cat([i, j]))
        both = items.requested()
        gu, gi, gj = bpr_gradients(users.requested(), both[:8], both[8:], 0.01)
        lazy.step([(users, gu), (items, torch.cat([gi, gj]))])
    lazy.flush()
    torch.testing.assert_close(tables[0], dense[0].detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(tables[1], dense[1].detach(), rtol=1e-5, atol=1e-6)


def test_dense_and_row_bookkeeping_train_the_same_model(planted: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small tables use torch's fused dense Adam, large ones RowAdam: the choice is a cost, not a result."""
    import recaug.core.torch_utils as torch_utils

    split = make_split(planted.interactions, "random-811", 0)
    train, valid = planted.matrix(split.train), planted.matrix(split.valid)
    params = {"max_epochs": 8, "lr": 0.01, "patience": 100}
    assert sum(train.shape) <= torch_utils.DENSE_ADAM_MAX_ROWS
    dense = create_model("bpr", **params).fit(train, valid)
    monkeypatch.setattr(torch_utils, "DENSE_ADAM_MAX_ROWS", 0)
    rows = create_model("bpr", **params).fit(train, valid)
    again = create_model("bpr", **params).fit(train, valid)
    assert torch.equal(rows.item_factors_, again.item_factors_) and torch.equal(rows.user_factors_, again.user_factors_)
    torch.testing.assert_close(rows.item_factors_, dense.item_factors_, rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(rows.user_factors_, dense.user_factors_, rtol=1e-3, atol=1e-4)
    assert [e for e, _ in rows.history_] == [e for e, _ in dense.history_]
    np.testing.assert_allclose([s for _, s in rows.history_], [s for _, s in dense.history_], atol=1e-3)


def test_the_compiled_cpu_step_follows_the_torch_row_adam_path() -> None:
    """The numba epoch (prefetch, slot-indexed gradient buffer, vectorised Adam) takes the same steps as the torch
    path it replaces on CPU: RowAdam over the closed-form gradients, with rows idle for many steps in between."""
    from recaug.models.bpr_kernel import CompiledBPRTrainer

    rng = np.random.default_rng(5)
    users0 = (rng.standard_normal((30, 64)) * 0.1).astype(np.float32)
    items0 = (rng.standard_normal((45, 64)) * 0.1).astype(np.float32)
    compiled = CompiledBPRTrainer(users0.copy(), items0.copy(), lr=0.01, reg=0.05)
    tables = [torch.as_tensor(users0.copy()), torch.as_tensor(items0.copy())]
    reference = RowAdam(tables, lr=0.01)
    for _ in range(3):  # epochs of 10 batches of 8; a row waits up to ~40 steps between touches
        u, i, j = rng.integers(0, 30, 80), rng.integers(0, 45, 80), rng.integers(0, 45, 80)
        compiled.epoch(u, i, j, batch_size=8)
        for start in range(0, 80, 8):
            bu, bi, bj = (torch.as_tensor(part[start : start + 8]) for part in (u, i, j))
            users, items = reference.touch(0, bu), reference.touch(1, torch.cat([bi, bj]))
            both = items.requested()
            gu, gi, gj = bpr_gradients(users.requested(), both[:8], both[8:], 0.05)
            reference.step([(users, gu), (items, torch.cat([gi, gj]))])
    compiled.flush()
    reference.flush()
    assert not np.allclose(compiled.tables[1], items0, atol=1e-3)  # it trained
    np.testing.assert_allclose(compiled.tables[0], tables[0].numpy(), rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(compiled.tables[1], tables[1].numpy(), rtol=1e-4, atol=2e-6)


def test_rows_relabelled_by_frequency_train_to_the_same_bytes() -> None:
    """State rows ordered by training frequency (cache locality) are a relabelling only: the tables written back
    at flush equal the table-order trainer's bit for bit, mid-training and at the end."""
    from recaug.models.bpr_kernel import CompiledBPRTrainer

    rng = np.random.default_rng(7)
    users0 = (rng.standard_normal((30, 64)) * 0.1).astype(np.float32)
    items0 = (rng.standard_normal((45, 64)) * 0.1).astype(np.float32)
    counts = (rng.integers(0, 50, 30), rng.integers(0, 50, 45))
    plain = CompiledBPRTrainer(users0.copy(), items0.copy(), lr=0.01, reg=0.05)
    ranked = CompiledBPRTrainer(users0.copy(), items0.copy(), lr=0.01, reg=0.05, counts=counts)
    assert not np.array_equal(ranked.orders[1], np.arange(45))  # a real permutation
    for _ in range(3):
        u, i, j = rng.integers(0, 30, 80), rng.integers(0, 45, 80), rng.integers(0, 45, 80)
        for trainer in (plain, ranked):
            trainer.epoch(u, i, j, batch_size=8)
            trainer.flush()
        assert plain.tables[0].tobytes() == ranked.tables[0].tobytes()
        assert plain.tables[1].tobytes() == ranked.tables[1].tobytes()
    assert not np.allclose(plain.tables[1], items0, atol=1e-3)  # it trained
