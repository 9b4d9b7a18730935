"""Turn raw interactions into what the models train on: implicit feedback, optional k-core."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.data.schema import ITEM, RATING, TIMESTAMP, USER


@dataclass(frozen=True)
class PrepareReport:
    """Counts before/after preparation, shown next to the data summary.

    ``rows_in - rows_below_threshold - duplicate_pairs - rows_removed_by_kcore == rows_out``: ``rows_out`` is what
    the dataset holds, so a loaded sentence and the data's cards agree.
    """

    rows_in: int
    rows_below_threshold: int
    rows_removed_by_kcore: int
    rows_out: int
    duplicate_pairs: int = 0  # rows repeating a (user, item) pair, merged into its latest row before the k-core
    notes: tuple[str, ...] = ()  # what the reader and the checks want the user to know
    warnings: tuple[str, ...] = ()  # what makes results misleading unless fixed (an items file matching nothing)


# Below these sizes train, validation and test cannot all hold rows, and metrics are noise (a single-user
# file "ran" to meaningless numbers; a one-row file crashed inside the models).
MIN_USERS = 10
MIN_ITEMS = 10
MIN_INTERACTIONS = 100


AUTO_THRESHOLD = "auto"
# An implicit "liked" is a rating in the top fifth of the scale: 4 of 5, 8 of 10, 80 of 100.
_LIKED_SHARE = 0.8


def suggested_threshold(ratings: pd.Series) -> float | None:
    """The rating threshold that follows the data's scale: 80% of its highest rating, on the scale's steps
    (4 of 5 and of 0.5-5, 8 of 10, 6 of 7, 1 for 0/1 data); None without ratings."""
    values = pd.to_numeric(ratings, errors="coerce").dropna()
    values = values[values > 0]  # 0 is "not rated" in some data sets, and never a liked rating
    if values.empty:
        return None
    top = float(values.max())
    step = 1.0 if (values % 1 == 0).all() else 0.5
    return max(step, round(_LIKED_SHARE * top / step) * step)


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


def latest_per_pair(frame: pd.DataFrame) -> np.ndarray:
    """A mask keeping one row per (user, item) pair: the latest by timestamp (the later in the file on a tie), or
    the last in the file without timestamps. The same row :class:`~recaug.data.dataset.Dataset` keeps."""
    pairs, order = frame[[USER, ITEM]], np.arange(len(frame))
    if TIMESTAMP in frame.columns:
        order = np.argsort(frame[TIMESTAMP].to_numpy(), kind="stable")
        pairs = pairs.iloc[order]
    repeated = pairs.duplicated(keep="last").to_numpy()
    keep = np.ones(len(frame), dtype=bool)
    keep[order[repeated]] = False
    return keep


def duplicate_rule(frame: pd.DataFrame) -> str:
    """Which of a pair's rows :func:`latest_per_pair` keeps, in words for ``frame``."""
    if TIMESTAMP in frame.columns:
        return "its latest row by timestamp"
    return "its last row in the file, as the file has no timestamp column"


def prepare(
    interactions: pd.DataFrame, *, rating_threshold: float | None = None, kcore: int = 0, name: str = "data"
) -> tuple[pd.DataFrame, PrepareReport]:
    """Merge repeated (user, item) pairs into their latest row (:func:`latest_per_pair`), then keep rows with
    rating >= threshold (None keeps all), then apply the k-core filter, so it counts distinct items and users. The
    merge comes first: a pair rated 10 and later re-rated 2 is a 2, not a positive kept from its stale row.

    Raises RecaugInputError when nothing is left, saying which setting removed it.
    """
    rows_in = len(interactions)
    frame = interactions
    unique = latest_per_pair(frame)
    duplicates = int((~unique).sum())
    if duplicates:
        frame = frame[unique]
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
    report = PrepareReport(rows_in, below, before_kcore - len(frame), len(frame), duplicate_pairs=duplicates)
    return frame.reset_index(drop=True), report


def check_sizes(frame: pd.DataFrame, *, name: str) -> None:
    """Refuse data too small to split into train/validation/test, saying what is short and what to do."""
    sizes = {
        "users": (frame[USER].nunique(), MIN_USERS),
        "items": (frame[ITEM].nunique(), MIN_ITEMS),
        "interactions": (len(frame), MIN_INTERACTIONS),
    }
    short = [f"{have:,} {what} (at least {need:,} needed)" for what, (have, need) in sizes.items() if have < need]
    if short:
        raise RecaugInputError(
            "the data is too small to compare recommenders: " + ", ".join(short),
            file=name,
            fix="upload more interactions, or lower the rating threshold / k-core filter; train, validation and "
            "test each need rows from several users",
        )


def items_mismatch(
    interactions: pd.DataFrame, items: pd.DataFrame | None, *, name: str
) -> tuple[str | None, str | None]:
    """(warning, note) about the items file's ids against the interactions' item ids.

    The warning: no id matches, so every text method would read id spellings (the mapping is almost surely wrong).
    The note: some interacted items have no row (their id is their text).
    """
    if items is None:
        return None, None
    used = pd.Index(interactions[ITEM].astype(str).unique())
    known = used.isin(items[ITEM].astype(str))
    if not known.any():
        example = ", ".join(map(str, items[ITEM].head(3)))
        return (
            f"{name}: none of its {len(items):,} item ids (e.g. {example}) occurs in the interactions "
            f"(e.g. {', '.join(map(str, used[:3]))}); items have no text. Check the id column mapping.",
            None,
        )
    if not known.all():
        return (
            None,
            f"{name}: {int((~known).sum()):,} of {len(used):,} interacted items have no row; their id is their text",
        )
    return None, None


def prepare_checked(
    interactions: pd.DataFrame,
    items: pd.DataFrame | None = None,
    *,
    rating_threshold: float | None = None,
    kcore: int = 0,
    name: str = "data",
    items_name: str = "items",
) -> tuple[pd.DataFrame, PrepareReport]:
    """:func:`prepare`, then the checks every load runs before any compute.

    Sizes are checked on the merged rows (RecaugInputError when too small); merged duplicate (user, item) rows
    are noted with the rule that chose the row kept; reader notes are passed on; an items file that matches no
    interaction is a warning.
    """
    frame, report = prepare(interactions, rating_threshold=rating_threshold, kcore=kcore, name=name)
    check_sizes(frame, name=name)
    notes = [
        *interactions.attrs.get("recaug_notes", []),
        *((items.attrs.get("recaug_notes", [])) if items is not None else []),
    ]
    if report.duplicate_pairs:
        notes.append(
            f"{report.duplicate_pairs:,} {'row repeats' if report.duplicate_pairs == 1 else 'rows repeat'} a "
            "user–item pair; each pair is kept once "
            f"({duplicate_rule(interactions)})"
        )
    warning, note = items_mismatch(frame, items, name=items_name)
    if note:
        notes.append(note)
    return frame, replace(report, notes=tuple(notes), warnings=(warning,) if warning else ())
