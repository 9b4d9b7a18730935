"""The dataset object: interactions, items, and one fixed id <-> index map.

Indices are assigned once, on the prepared data, so the "before" and "after"
models always agree on what row 17 and column 42 mean.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.data.readers import empty_items
from recaug.data.schema import CONFIDENCE, ITEM, ORIGIN, RATING, REAL, TIMESTAMP, TIMESTAMP_FORMS, UNIX_SECONDS, USER

VIRTUAL_PREFIX = "virtual:"


def sorted_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Categorical indexing: (each value's position among the sorted unique values, those values)."""
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), pd.Index(uniques)


def canonical_interactions(frame: pd.DataFrame) -> pd.DataFrame:
    """Deduplicate (user, item) pairs (the latest kept) and add origin/confidence for real rows.

    Rows are ordered by user, timestamp, item when there are timestamps. Sorting and deduplicating integer
    codes instead of strings keeps this linear-ish in the data (5M rows in a few seconds).
    """
    return _canonical(frame)[0]


def _as_text(values: pd.Series) -> pd.Series:
    return values if str(values.dtype) == "str" else values.astype(str)


def _canonical(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, pd.Index, pd.Index]:
    """(canonical rows, their user and item indices, the sorted user and item ids): one factorize per column."""
    users, user_ids = sorted_codes(_as_text(frame[USER]))
    items, item_ids = sorted_codes(_as_text(frame[ITEM]))
    n_items = max(len(item_ids), 1)
    order = np.arange(len(frame))
    if TIMESTAMP in frame.columns:
        order = _user_time_item_order(users, frame[TIMESTAMP].to_numpy(), items, n_items)
    pair = pd.Series(users[order] * n_items + items[order])
    keep = order[~pair.duplicated(keep="last").to_numpy()]  # every user and item keeps a row: ids stay contiguous
    out = frame.iloc[keep].reset_index(drop=True)
    out[USER], out[ITEM] = _as_text(out[USER]), _as_text(out[ITEM])
    if ORIGIN not in out.columns:
        out[ORIGIN] = REAL
    if CONFIDENCE not in out.columns:
        out[CONFIDENCE] = 1.0
    return out, users[keep], items[keep], user_ids, item_ids


def _user_time_item_order(users: np.ndarray, times: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Stable order by (user, time, item): one argsort of a combined integer key when it fits in 63 bits.

    Integer times enter the key as offsets from the earliest (no ranking pass); other times by their rank.
    """
    n_users = int(users.max(initial=0)) + 1
    if np.issubdtype(times.dtype, np.integer) and len(times):
        offsets, n_times = times - times.min(), int(times.max()) - int(times.min()) + 1
    else:
        offsets, values = pd.factorize(times, sort=True)
        n_times = max(len(values), 1)
    if n_users * n_times * n_items < 2**62 and (offsets >= 0).all():
        key = (users * n_times + offsets.astype(np.int64)) * n_items + items
        return np.argsort(key, kind="stable")
    return np.lexsort((items, times, users))


class IndexedIds:
    """Sizes from the fixed id maps, shared by the full dataset and the augmenters' training view."""

    user_ids: pd.Index
    item_ids: pd.Index

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)


@dataclass(frozen=True)
class TrainingData(IndexedIds):
    """What an augmenter may see: the training split and the catalog, nothing else.

    It has no reference to validation or test rows, which is what makes the
    augmenters leakage-safe by construction.
    """

    interactions: pd.DataFrame  # train rows with user_idx / item_idx
    items: pd.DataFrame  # catalog aligned with item index
    user_ids: pd.Index
    item_ids: pd.Index
    matrix: sp.csr_matrix = field(repr=False)
    # Items an augmenter may propose (bool per item index): items with a training interaction, plus the protocol's
    # declared cold items (``cold-items``: new items whose text is known). Other items are known only because they
    # occur in validation or test, so proposing them would leak the held-out parts. None: every item.
    visible_items: np.ndarray | None = field(default=None, repr=False)

    def item_visible(self) -> np.ndarray:
        """Bool per item index: may an augmenter propose this item?"""
        return np.ones(self.n_items, dtype=bool) if self.visible_items is None else self.visible_items

    def user_degree(self) -> np.ndarray:
        return np.asarray(self.matrix.sum(axis=1)).ravel()

    def item_popularity(self) -> np.ndarray:
        return np.asarray(self.matrix.sum(axis=0)).ravel()

    def history(self, user_index: int) -> np.ndarray:
        """Item indices in a user's training history."""
        row = self.matrix.indptr
        return self.matrix.indices[row[user_index] : row[user_index + 1]]


@dataclass(frozen=True)
class Dataset(IndexedIds):
    """Prepared interactions + items + the id maps; build with :meth:`from_frames`."""

    name: str
    interactions: pd.DataFrame
    items: pd.DataFrame
    user_ids: pd.Index
    item_ids: pd.Index
    sources: tuple[str, ...] = ()  # the files it was read from (names only), for the run record
    # How the file wrote its timestamps (schema.UNIX_SECONDS, ISO_DATETIME, ISO_DATE); ``timestamp`` holds Unix
    # seconds whatever the form, and files written for the user write this form back.
    timestamp_form: str = UNIX_SECONDS
    # The items file's rows whose item has no interaction (after preparation): never in the catalogue, since
    # nothing can score them, but kept (same columns as ``items``) so the user can be told and What-if can place
    # one as a new item. None: no items file, or data from before they were kept.
    unused_items: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.timestamp_form not in TIMESTAMP_FORMS:
            raise ValueError(f"timestamp_form must be one of {TIMESTAMP_FORMS}, not {self.timestamp_form!r}")

    @classmethod
    def from_frames(
        cls,
        interactions: pd.DataFrame,
        items: pd.DataFrame | None = None,
        *,
        name: str,
        sources: tuple[str, ...] = (),
        timestamp_form: str = UNIX_SECONDS,
    ) -> Dataset:
        """Fix the index maps; items without an entry get their id as title and text; the items' rows without an
        interaction are kept apart (``unused_items``)."""
        inter, user_idx, item_idx, user_ids, item_ids = _canonical(interactions)
        user_ids, item_ids = user_ids.rename(USER), item_ids.rename(ITEM)
        catalog = empty_items(item_ids.to_numpy()) if items is None else items.copy()
        catalog[ITEM] = catalog[ITEM].astype(str)
        catalog = catalog.drop_duplicates(ITEM)
        unused = None if items is None else catalog[~catalog[ITEM].isin(item_ids)].reset_index(drop=True)
        catalog = catalog.set_index(ITEM).reindex(item_ids)
        fallback = pd.Series(item_ids.to_numpy(), index=item_ids)
        catalog["title"] = catalog["title"].where(catalog["title"].notna(), fallback).astype(str)
        catalog["text"] = catalog["text"].where(catalog["text"].notna(), catalog["title"]).astype(str)
        catalog = catalog.reset_index()
        inter = inter.assign(user_idx=user_idx, item_idx=item_idx)
        return cls(
            name=name,
            interactions=inter,
            items=catalog,
            user_ids=user_ids,
            item_ids=item_ids,
            sources=tuple(sources),
            timestamp_form=timestamp_form,
            unused_items=unused,
        )

    @property
    def has_text(self) -> bool:
        return bool((self.items["text"] != self.items[ITEM]).any())

    def matrix(self, rows: pd.DataFrame, n_users: int | None = None) -> sp.csr_matrix:
        """Binary user x item CSR matrix of ``rows`` (which carry user_idx/item_idx)."""
        shape = (n_users or self.n_users, self.n_items)
        data = np.ones(len(rows), dtype=np.float32)
        mat = sp.csr_matrix((data, (rows["user_idx"].to_numpy(), rows["item_idx"].to_numpy())), shape=shape)
        mat.sum_duplicates()
        mat.data[:] = 1.0
        return mat

    def training_data(self, train: pd.DataFrame, *, cold_items: np.ndarray | None = None) -> TrainingData:
        """The leakage-safe view handed to augmenters.

        ``cold_items``: item ids the protocol declares new (their text is known, their interactions are not); they
        stay visible although they have no training interaction. Every other item without one is hidden.
        """
        matrix = self.matrix(train)
        visible = np.asarray(matrix.getnnz(axis=0) > 0)
        if cold_items is not None and len(cold_items):
            visible |= self.item_ids.isin(np.asarray(cold_items).astype(str))
        return TrainingData(
            interactions=train.reset_index(drop=True),
            items=self.items,
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            matrix=matrix,
            visible_items=visible,
        )

    def index_synthetic(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """Give synthetic rows indices; unknown (virtual) users get new rows after the real ones.

        Returns the indexed rows and the total number of user rows needed.
        Rows whose item is unknown are dropped (augmenters only propose catalog items).
        """
        rows = rows[self.item_ids.get_indexer(rows[ITEM]) >= 0].copy()
        user_idx = self.user_ids.get_indexer(rows[USER])
        unknown = pd.Index(pd.unique(rows.loc[user_idx < 0, USER]))
        user_idx[user_idx < 0] = self.n_users + unknown.get_indexer(rows.loc[user_idx < 0, USER])
        rows["user_idx"] = user_idx.astype(np.int64)
        rows["item_idx"] = self.item_ids.get_indexer(rows[ITEM]).astype(np.int64)
        return rows, self.n_users + len(unknown)

    def fingerprint(self) -> str:
        """A short content hash: same data -> same fingerprint, for caches and the run store."""
        digest = hashlib.sha256()
        cols = [c for c in (USER, ITEM, RATING, TIMESTAMP) if c in self.interactions.columns]
        digest.update(pd.util.hash_pandas_object(self.interactions[cols], index=False).to_numpy().tobytes())
        digest.update(pd.util.hash_pandas_object(self.items[[ITEM, "title", "text"]], index=False).to_numpy().tobytes())
        return digest.hexdigest()[:16]

    def summary(self) -> dict[str, float]:
        """Counts the Home page and the CLI show."""
        n = len(self.interactions)
        return {
            "users": self.n_users,
            "items": self.n_items,
            "interactions": n,
            "density": n / max(self.n_users * self.n_items, 1),
            "median_user_degree": float(self.interactions.groupby(USER).size().median()) if n else 0.0,
        }
