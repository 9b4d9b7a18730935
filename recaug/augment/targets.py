"""Who may receive synthetic interactions: a target name (or a list of user ids) resolved on the training split.

Kept apart from :mod:`recaug.augment.base` because the ranking helpers need ``Target`` too, and the base needs the
ranking helpers (through denoising): one small module both can import keeps the imports one-way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import TrainingData

TARGETS = ("light-users", "all", "cold-items")


@dataclass(frozen=True)
class Target:
    """Which users may receive synthetic interactions and which items they may receive."""

    users: np.ndarray
    items: np.ndarray
    description: str


def check_target(target: str | list[str] | None, user_ids: pd.Index) -> None:
    """Refuse an unknown target name, or listed user ids the data does not have, before any compute (a list was
    only checked inside the first seed's augmentation)."""
    if target is None or (isinstance(target, str) and target in TARGETS):
        return
    if isinstance(target, str):
        raise RecaugInputError(f"unknown target '{target}'", fix=f"choose one of {', '.join(TARGETS)} or a list of ids")
    missing = [str(u) for u, at in zip(target, user_ids.get_indexer([str(u) for u in target]), strict=True) if at < 0]
    if missing:
        raise RecaugInputError(
            f"{len(missing)} of the {len(target)} target user ids are not in the data: {', '.join(missing[:5])}"
            + (" ..." if len(missing) > 5 else ""),
            fix="list users that appear in the interactions (ids as written in the file)",
        )


def resolve_target(
    train: TrainingData, target: str | list[str] | None, *, light_quantile: float = 0.25, cold_quantile: float = 0.25
) -> Target:
    """Turn a target name (or an explicit list of user ids) into user and item index arrays.

    ``light-users``: users whose training degree is at or below the ``light_quantile``;
    ``cold-items``: all users, items at or below the ``cold_quantile`` of training popularity;
    ``all``: everyone and everything.
    """
    all_users = np.arange(train.n_users)
    all_items = np.flatnonzero(train.item_visible())  # never items known only from validation/test
    if target is None or target == "light-users":
        degree = train.user_degree()
        cut = np.quantile(degree, light_quantile)
        return Target(all_users[degree <= cut], all_items, f"light users (≤ {cut:.0f} training interactions)")
    if target == "all":
        return Target(all_users, all_items, "all users")
    if target == "cold-items":
        pop = train.item_popularity()[all_items]
        cut = np.quantile(pop, cold_quantile)
        return Target(all_users, all_items[pop <= cut], f"cold items (≤ {cut:.0f} training interactions)")
    if isinstance(target, list | tuple | np.ndarray):
        idx = train.user_ids.get_indexer([str(u) for u in target])
        if (idx < 0).any():
            missing = [str(u) for u, i in zip(target, idx, strict=True) if i < 0][:5]
            raise RecaugInputError(
                f"unknown user id(s) in target: {', '.join(missing)}", fix="list users that appear in the training data"
            )
        return Target(np.unique(idx), all_items, f"{len(idx)} listed users")
    raise RecaugInputError(f"unknown target '{target}'", fix=f"choose one of {', '.join(TARGETS)} or a list of ids")
