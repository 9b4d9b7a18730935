"""Turn raw interactions into what the models train on: implicit feedback, optional k-core."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from recaug.data.schema import ITEM, RATING, USER
from recaug.errors import RecaugInputError


@dataclass(frozen=True)
class PrepareReport:
    """Counts before/after preparation, shown next to the data summary."""

    rows_in: int
    rows_below_threshold: int
    rows_removed_by_kcore: int
    rows_out: int


def filter_kcore(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Repeatedly drop users and items with fewer than ``k`` interactions until stable."""
    if k <= 1:
        return frame
    current = frame
    while True:
        user_counts = current.groupby(USER)[ITEM].transform("size")
        item_counts = current.groupby(ITEM)[USER].transform("size")
        keep = (user_counts >= k) & (item_counts >= k)
        if keep.all():
            return current
        current = current[keep]


def prepare(
    interactions: pd.DataFrame, *, rating_threshold: float | None = None, kcore: int = 0, name: str = "data"
) -> tuple[pd.DataFrame, PrepareReport]:
    """Keep rows with rating >= threshold (None keeps all), then apply the k-core filter.

    Raises RecaugInputError when nothing is left, saying which setting removed it.
    """
    rows_in = len(interactions)
    frame = interactions
    below = 0
    if rating_threshold is not None:
        if RATING not in frame.columns:
            raise RecaugInputError(
                "a rating threshold was set but the data has no rating column",
                file=name,
                column=RATING,
                fix="clear the threshold or map a rating column",
            )
        keep = frame[RATING] >= rating_threshold
        below = int((~keep).sum())
        frame = frame[keep]
    if frame.empty:
        raise RecaugInputError(
            f"no interaction has rating >= {rating_threshold}",
            file=name,
            column=RATING,
            fix="lower the rating threshold",
        )
    before_kcore = len(frame)
    frame = filter_kcore(frame, kcore)
    if frame.empty:
        raise RecaugInputError(
            f"the {kcore}-core filter removed every interaction",
            file=name,
            fix="use a smaller k (or 0 to switch it off)",
        )
    report = PrepareReport(rows_in, below, before_kcore - len(frame), len(frame))
    return frame.reset_index(drop=True), report
