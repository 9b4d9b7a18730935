"""Virtual users: new rows of the interaction matrix built from real ones (mixup, aggregation, embedding GAN).

A virtual user's id starts with :data:`recaug.data.dataset.VIRTUAL_PREFIX`; the base class keeps its rows, the
experiment appends them as extra matrix rows, and evaluation never scores them (they have no test items).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.augment.base import Augmenter, Target
from recaug.core.progress import ProgressFn
from recaug.data.dataset import VIRTUAL_PREFIX
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.evaluate.metrics import top_k_indices

Draft = tuple[np.ndarray, np.ndarray]  # one virtual user: item indices and their confidences


def virtual_user_id(name: str, number: int) -> str:
    """``virtual:<augmenter>-<n>``: unique within one augmenter's output."""
    return f"{VIRTUAL_PREFIX}{name}-{number}"


def similar_users(matrix: sp.csr_matrix, users: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """The ``k`` most cosine-similar OTHER users of each user in ``users`` (rows of ``matrix``), best first."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    unit = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ matrix.astype(np.float32)
    unit = unit.tocsr()
    k = min(k, matrix.shape[0] - 1)
    out = np.empty((len(users), k), dtype=np.int64)
    for start in range(0, len(users), chunk):
        batch = users[start : start + chunk]
        sims = (unit[batch] @ unit.T).toarray()
        sims[np.arange(len(batch)), batch] = -np.inf
        out[start : start + chunk] = top_k_indices(sims, k)
    return out


def virtual_user_rows(
    name: str, drafts: Iterable[Draft], budget: int, item_ids: pd.Index, *, max_users: int = 100_000
) -> pd.DataFrame:
    """Collect (item indices, confidences) drafts, one per virtual user, until ``budget`` rows are reached.

    Empty drafts are skipped; each virtual user's rows come best-first, users in draft order.
    """
    users: list[np.ndarray] = []
    items: list[np.ndarray] = []
    confidences: list[np.ndarray] = []
    total = 0
    for draft_items, draft_conf in drafts:
        if total >= budget or len(users) >= max_users:
            break
        if len(draft_items) == 0:
            continue
        order = np.argsort(-np.asarray(draft_conf), kind="stable")
        users.append(np.full(len(order), virtual_user_id(name, len(users)), dtype=np.object_))
        items.append(np.asarray(draft_items)[order])
        confidences.append(np.asarray(draft_conf, dtype=float)[order])
        total += len(order)
    if not users:
        return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE])
    return pd.DataFrame(
        {
            USER: np.concatenate(users),
            ITEM: item_ids.to_numpy()[np.concatenate(items)],
            CONFIDENCE: np.concatenate(confidences),
        }
    )


class VirtualUserAugmenter(Augmenter):
    """Base for augmenters whose output is new virtual users: subclasses yield drafts, one per virtual user."""

    @abstractmethod
    def _drafts(self, target: Target, rng: np.random.Generator) -> Iterator[Draft]:
        """Yield (item indices, confidences) per virtual user, as many as wanted; stops when the budget is met."""

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        if len(target.users) == 0 or len(target.items) == 0:
            return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE])
        rows = virtual_user_rows(self.name, self._drafts(target, rng), budget, self.train_.item_ids)
        users = rows[USER].nunique() if len(rows) else 0
        progress(1.0, f"{self.name}: {users} virtual users")
        if len(rows) < budget:
            self.info_["supply_note"] = self._supply_note(users, len(rows), target)
        return rows

    def _supply_note(self, users: int, rows: int, target: Target) -> str:
        """Why the virtual users hold fewer rows than asked (shown next to an unfilled budget)."""
        return f"its {users:,} virtual users hold only {rows:,} rows"
