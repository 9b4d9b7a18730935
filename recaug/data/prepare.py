"""Turn raw interactions into what the models train on: implicit feedback, optional k-core."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.data.schema import ITEM, RATING, USER


@dataclass(frozen=True)
class PrepareReport:
    """Counts before/after preparation, shown next to the data summary."""

    rows_in: int
    rows_below_threshold: int
    rows_removed_by_kcore: int
    rows_out: int
    duplicate_pairs: int = 0  # rows repeating an earlier (user, item) pair; merged, the latest kept
    notes: tuple[str, ...] = ()  # what the reader and the checks want the user to know


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


def items_note(interactions: pd.DataFrame, items: pd.DataFrame | None, *, name: str) -> str | None:
    """A warning when the items file's ids do not match the interactions' item ids (all or some)."""
    if items is None:
        return None
    used = pd.Index(interactions[ITEM].astype(str).unique())
    known = used.isin(items[ITEM].astype(str))
    if not known.any():
        example = ", ".join(map(str, items[ITEM].head(3)))
        return (
            f"{name}: none of its {len(items):,} item ids (e.g. {example}) occurs in the interactions "
            f"(e.g. {', '.join(map(str, used[:3]))}); items have no text. Check the id column mapping."
        )
    if not known.all():
        return f"{name}: {int((~known).sum()):,} of {len(used):,} interacted items have no row; their id is their text"
    return None


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

    Sizes are checked (RecaugInputError when too small); duplicate (user, item) rows are counted (they are
    merged, the latest kept); reader notes and an items file that matches no interaction are reported.
    """
    frame, report = prepare(interactions, rating_threshold=rating_threshold, kcore=kcore, name=name)
    check_sizes(frame, name=name)
    duplicates = int(frame.duplicated([USER, ITEM]).sum())
    notes = [
        *interactions.attrs.get("recaug_notes", []),
        *((items.attrs.get("recaug_notes", [])) if items is not None else []),
    ]
    if duplicates:
        notes.append(
            f"{duplicates:,} rows repeat a user–item pair; each pair is kept once (its latest row by timestamp)"
        )
    note = items_note(frame, items, name=items_name)
    if note:
        notes.append(note)
    return frame, replace(report, duplicate_pairs=duplicates, notes=tuple(notes))
