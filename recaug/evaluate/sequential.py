"""Seeds until decided: when to look, what each look may spend, and when to stop adding seeds (issue 17).

A run that may add seeds looks at its primary rows after the starting seeds and after every batch
(:func:`recaug.evaluate.design.seed_plan`). Testing at every look with the full alpha would inflate false verdicts
(the chance that noise crosses once grows with the looks), so the looks share alpha by a Pocock-type spending
function (Lan and DeMets 1983): by information fraction ``t = n / n_max`` the rule has spent

    alpha(t) = alpha * ln(1 + (e - 1) * t)

and look ``j`` tests at the increment ``alpha(t_j) - alpha(t_{j-1})``. The increments add up to ``alpha``, so by the
union bound the chance of any false verdict over all looks is at most ``alpha`` for any correlation between the
looks and for the small-sample t-tests used here (exact group-sequential boundaries assume normal statistics and
would be less conservative). Pocock spends early, which suits a rule whose main saving is stopping large effects
at the first look; ``benchmarks/power.md`` measures the false-verdict rate and the seeds used on real runs.

A row decided at a look keeps its verdict (later seeds never undo it). Each (model, arm) question stops on its own:
when its primary rows are all decided, or none of its undecided rows could be decided by ``max_seeds`` at its
current estimate (a non-binding futility stop: it can only withhold verdicts, so it keeps the error bound). A
stopped question keeps the verdicts it had at that look, whatever seeds the run adds for other questions, so its
answer never depends on which other models, arms or metrics share the run. Seeds stop being added when every
question has stopped, or at ``max_seeds``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recaug.evaluate.verdicts import AA_CONTROL, NO_DIFFERENCE, NO_VERDICT

DECIDED = "every primary row is decided"
FUTILE = "the undecided primary rows could not be decided within the seed limit"
AT_LIMIT = "reached the seed limit"
FIXED = "fixed seeds (no --max-seeds)"


def spending(looks: tuple[int, ...], alpha: float) -> np.ndarray:
    """The alpha each look tests at (Pocock-type spending over ``looks``; one look: ``alpha``)."""
    if len(looks) <= 1:
        return np.array([alpha])
    fraction = np.asarray(looks, dtype=np.float64) / looks[-1]
    spent = alpha * np.log1p((math.e - 1) * fraction)
    return np.diff(np.concatenate([[0.0], spent]))


def look_levels(looks: tuple[int, ...], n_present: int, alpha: float) -> tuple[tuple[int, ...], np.ndarray]:
    """(the looks that ran, their levels) for a run that has ``n_present`` seeds.

    A plan whose looks do not match (a fixed run, or a table cut by hand) gets one look at ``n_present`` with the
    whole ``alpha``.
    """
    if len(looks) > 1 and n_present in looks:
        levels = spending(looks, alpha)
        done = looks.index(n_present) + 1
        return looks[:done], levels[:done]
    return (n_present,), np.array([alpha])


@dataclass(frozen=True)
class Stopping:
    """How many seeds ran and why no more were added (recorded in the result and config.json)."""

    seeds_run: tuple[int, ...]
    reason: str

    def sentence(self) -> str:
        n = len(self.seeds_run)
        return f"{n} seed{'s' if n != 1 else ''} ran ({', '.join(map(str, self.seeds_run))}); stopped: {self.reason}"


def next_seeds(used: list[int], count: int) -> list[int]:
    """The ``count`` smallest non-negative integers not in ``used`` (seeds added keep the run reproducible)."""
    taken, candidate = set(used), 0
    out: list[int] = []
    while len(out) < count:
        if candidate not in taken:
            out.append(candidate)
        candidate += 1
    return out


def open_rows(rows: pd.DataFrame, max_seeds: int) -> pd.Series:
    """Bool per primary row: undecided ("no clear difference" or too few seeds for a verdict) and still decidable
    by ``max_seeds`` (its ``seeds_to_decide`` within it). A question with no open row stops."""
    undecided = rows["verdict"].isin([NO_DIFFERENCE, NO_VERDICT])
    reachable = rows["verdict"].eq(NO_VERDICT) | (rows["seeds_to_decide"] <= max_seeds)
    return undecided & reachable


def stop_reason(table: pd.DataFrame, n_seeds: int, max_seeds: int) -> str | None:
    """Why to add no more seeds after a look, or None to add the next batch.

    ``table`` is the significance table at this look; the arms' primary rows decide (the A/A control is a check,
    not a question). Rows of a question that stopped at an earlier look (``decided_at`` before ``n_seeds``) are
    settled and never keep the run going.
    """
    rows = table[table["primary"].astype(bool) & (table["variant"] != AA_CONTROL)]
    if "decided_at" in rows:
        rows = rows[~(rows["decided_at"].notna() & (rows["decided_at"] < n_seeds))]
    if not rows["verdict"].isin([NO_DIFFERENCE, NO_VERDICT]).any():
        return DECIDED
    if n_seeds >= max_seeds:
        return AT_LIMIT
    return None if open_rows(rows, max_seeds).any() else FUTILE
