"""A budget is a share (float) or a row count (int) everywhere it is worded: Fidelity said "budget 15000%" for a
count budget of 150 rows (walk 13)."""

from __future__ import annotations

from recaug.core.variants import budget_words
from ui.fidelity_context import describe_context


def test_a_budget_is_worded_as_a_share_or_as_rows() -> None:
    assert budget_words(0.1) == "10% of training"
    assert budget_words(150) == "150 rows"
    assert budget_words(20000) == "20,000 rows"


def test_fidelity_names_a_count_budget_in_rows() -> None:
    settings = {"augmenters": ["similarity"], "budget": 150, "target": "cold-items", "seed": 0}
    caption = describe_context("orders.csv", settings, ["similarity"]).caption
    assert "budget 150 rows, target" in caption and "%" not in caption.split("budget")[1].split(",")[0]
    share = describe_context("orders.csv", {**settings, "budget": 0.05}, ["similarity"]).caption
    assert "budget 5% of training, target" in share
