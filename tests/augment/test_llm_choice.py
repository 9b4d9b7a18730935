"""The debiased choice rule on hand-made score matrices (no model): averaging over orders, flips, negatives."""

from __future__ import annotations

import numpy as np

from recaug.augment.llm.llm_choice import NO_SIGNAL, UNSTABLE, cyclic_orders, debiased_choice


def test_cyclic_orders_put_each_candidate_at_spread_positions() -> None:
    orders = cyclic_orders(10, 3)
    assert [o[0] for o in orders] == [0, 3, 6]
    for order in orders:
        assert sorted(order.tolist()) == list(range(10))
    assert len(cyclic_orders(2, 5)) == 2 and len(cyclic_orders(4, 1)) == 1


def test_a_candidate_preferred_under_every_order_is_picked_with_averaged_probability() -> None:
    orders = cyclic_orders(4, 2)
    scores = np.array([[-1.0, -2.0, -0.5, -4.0], [-1.5, -2.5, -0.2, -5.0]])
    choice = debiased_choice(scores, orders, k=1)
    assert choice.picks == [2] and choice.negatives == [3] and not choice.flipped and choice.reason == ""
    mean = scores.mean(axis=0)
    np.testing.assert_allclose(choice.probabilities, np.exp(mean) / np.exp(mean).sum())


def test_a_pick_that_moves_with_the_order_is_rejected_and_counted() -> None:
    orders = cyclic_orders(4, 2)  # [0 1 2 3] and [2 3 0 1]
    # Each order prefers its first-listed candidate: pure position bias.
    scores = np.full((2, 4), -3.0)
    scores[0, 0] = scores[1, 2] = -0.1
    choice = debiased_choice(scores, orders, k=1)
    assert choice.picks == [] and choice.flipped and choice.rejected_picks == 1 and choice.reason == UNSTABLE
    assert choice.first_position_picks == 2


def test_several_picks_need_the_top_k_of_every_order() -> None:
    orders = cyclic_orders(6, 2)
    scores = np.array([[-1, -2, -3, -4, -5, -6], [-2, -1, -4, -3, -6, -5]], dtype=float)
    choice = debiased_choice(scores, orders, k=2)
    assert sorted(choice.picks) == [0, 1] and sorted(choice.negatives) == [4, 5]


def test_equal_or_missing_scores_give_no_pick() -> None:
    orders = cyclic_orders(3, 3)
    assert debiased_choice(np.zeros((3, 3)), orders).reason == NO_SIGNAL
    assert debiased_choice(np.full((3, 3), np.nan), orders).reason == NO_SIGNAL
    # Constrained choice (one option 0, the rest -inf) that agrees across orders is a pick without negatives.
    one_hot = np.full((3, 3), -np.inf)
    one_hot[:, 1] = 0.0
    choice = debiased_choice(one_hot, orders)
    assert choice.picks == [1] and choice.negatives == []
