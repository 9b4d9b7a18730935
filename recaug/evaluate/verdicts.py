"""The words a verdict can be and the names of the arms every comparison has (one place; significance.py, the
sequential rule and the views read them here)."""

from __future__ import annotations

BASELINE = "baseline"
AA_CONTROL = "A/A control"  # the baseline retrained with fresh model seeds on the same training data
MIN_SEEDS = 3
MIN_USERS = 30
NO_VERDICT = "no verdict: needs ≥ 3 seeds"
TOO_FEW_USERS = "too few users"
NO_DIFFERENCE = "no clear difference"
EXPLORATORY = "exploratory"
NO_CHANGE = "no change in any seed"
NO_SPREAD = "no verdict: the same delta in every seed"
FIXED_SPLIT = "no verdict: nothing changes between seeds"
DIRECTIONS = ("better", "worse", "higher", "lower")
VERDICTS = (*DIRECTIONS, NO_DIFFERENCE, EXPLORATORY, NO_CHANGE, NO_SPREAD, FIXED_SPLIT, NO_VERDICT, TOO_FEW_USERS)
