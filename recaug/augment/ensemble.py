"""``ensemble``: combine the proposals of several augmenters.

Each member proposes ``pool_factor * budget`` edges (at least ``MIN_POOL_PER_USER`` per target user, so small
budgets still leave members room to agree) for the same target users; then, by ``mode``:

* ``union``: every proposed edge, members interleaved rank by rank; confidence = the highest member confidence.
* ``vote``: only edges proposed by at least ``min_votes`` members, most votes first; confidence = the mean
  confidence of the members that proposed it.
* ``weighted``: the seeds' weighted average. Each member's weight is its validation gain, measured on an INNER
  validation split carved from the training split (augmenters never see the real validation or test): members
  are also fitted on the inner training part, and a member's gain is the lift of its proposals' hit rate on the
  held-out training edges over the hit rate of random unseen edges, minus one (floored at 0; all zero ->
  equal weights). An edge's confidence is the weight-averaged member confidence (0 for members that did not
  propose it).
* ``stacking``: a logistic regression learns on the inner split which proposed edges are held-out training
  edges, from each member's confidence, the vote count, the item's popularity and the user's degree; it then
  scores the members' proposals on the full training split, and its probability is the confidence.

Votes, gains and stacking labels only exist for real users: a virtual user from one member never coincides with
another member's, and has no held-out edges, so such members get weight 0 in ``weighted`` mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, AugmentOptions, Target, create_augmenter, register
from recaug.augment.inner_split import inner_split
from recaug.core.errors import RecaugInputError
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, USER

MODES = ("union", "vote", "weighted", "stacking")
NOT_COMBINABLE = ("ensemble", "edge-dropout")  # recursion; an augmenter that removes edges proposes none


def combinable(name: str) -> bool:
    """Whether an ensemble can take augmenter ``name`` as a member: it must propose rows (not ``llm-init``, which
    gives item start vectors, nor ``edge-dropout``) and not be an ensemble itself."""
    from recaug.augment.base import AUGMENTERS

    return name not in NOT_COMBINABLE and (name not in AUGMENTERS or AUGMENTERS.get(name).adds_rows)


MIN_POOL_PER_USER = 10


def candidate_table(proposals: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per distinct proposed edge: keys + ``first_rank`` (best relative rank), and an (edges, members)
    confidence matrix that is 0 where a member did not propose the edge. Rows sorted by (first_rank, user, item).
    """
    parts = [
        rows[[USER, ITEM, CONFIDENCE]].assign(member=m, rank=np.arange(len(rows)) / max(len(rows), 1))
        for m, rows in enumerate(proposals)
    ]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[USER, ITEM, CONFIDENCE])
    if table.empty:
        return pd.DataFrame(columns=[USER, ITEM, "first_rank"]), np.zeros((0, len(proposals)))
    grouped = table.groupby([USER, ITEM], sort=True)
    keys = grouped["rank"].min().rename("first_rank").reset_index()
    conf = table.pivot_table(index=[USER, ITEM], columns="member", values=CONFIDENCE, aggfunc="max", fill_value=0.0)
    conf = conf.reindex(columns=range(len(proposals)), fill_value=0.0).to_numpy(dtype=float)
    order = np.lexsort((keys[ITEM].to_numpy(), keys[USER].to_numpy(), keys["first_rank"].to_numpy()))
    return keys.iloc[order].reset_index(drop=True), conf[order]


@register
class EnsembleAugmenter(Augmenter):
    """Combines several augmenters by union, vote, validation-gain weighting or stacking."""

    name = "ensemble"
    description = "Ensemble of augmenters: union, vote (>= m members), gain-weighted average or stacking"
    family = "ensemble"
    param_choices: ClassVar[dict[str, tuple[str, ...]]] = {"mode": MODES}

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "members": [list, tuple],
        "min_votes": [Interval(int, 1, None)],
        "member_params": [dict, None],
        "pool_factor": [Interval(float, 1.0, None)],
        "inner_fraction": [Interval(float, 0.0, 1.0, closed="neither")],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        members: Sequence[str] = ("itemknn-expansion", "link-prediction", "popularity"),
        mode: str = "vote",
        min_votes: int = 2,
        member_params: dict[str, dict[str, Any]] | None = None,
        pool_factor: float = 2.0,
        inner_fraction: float = 0.1,
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.members = members
        self.mode = mode
        self.min_votes = min_votes
        self.member_params = member_params
        self.pool_factor = pool_factor
        self.inner_fraction = inner_fraction

    def _create_members(self) -> list[Augmenter]:
        params = self.member_params or {}
        return [
            create_augmenter(name, seed=self.seed, target=self.target, **params.get(name, {})) for name in self.members
        ]

    def _fit(self, train: TrainingData) -> None:
        if self.mode not in MODES:
            raise RecaugInputError(f"ensemble: unknown mode '{self.mode}'", fix=f"use one of {', '.join(MODES)}")
        bad = [m for m in self.members if not combinable(m)]
        if not self.members or bad:
            raise RecaugInputError(
                f"ensemble: cannot combine {bad or 'no members'}",
                fix="list two or more augmenters that add interactions",
            )
        unknown = sorted(set(self.member_params or {}) - set(self.members))
        if unknown:
            raise RecaugInputError(f"ensemble: member_params for non-members {unknown}", fix="name listed members")
        inner = self.mode in ("weighted", "stacking")
        steps = len(self.members) * (2 if inner else 1)
        self.members_ = self._create_members()
        for position, member in enumerate(self.members_):
            member.fit(train, progress=sub_progress(self._progress, position / steps, (position + 1) / steps))
        if inner:
            inner_train, self.inner_valid_ = inner_split(train, self.inner_fraction, self.seed)
            self.inner_members_ = self._create_members()
            for position, member in enumerate(self.inner_members_, start=len(self.members)):
                member.fit(inner_train, progress=sub_progress(self._progress, position / steps, (position + 1) / steps))

    def _proposals(self, members: list[Augmenter], budget: int, target: Target) -> list[pd.DataFrame]:
        pool = max(math.ceil(budget * self.pool_factor), MIN_POOL_PER_USER * len(target.users))
        ids = self.train_.user_ids.to_numpy()[target.users].tolist()
        allowed = set(self.train_.item_ids.to_numpy()[target.items])
        out = []
        for member in members:
            rows = member.augment(pool, target=ids).rows
            out.append(rows[rows[ITEM].isin(allowed)].reset_index(drop=True))
        return out

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        if len(target.users) == 0:
            return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE])
        proposals = self._proposals(self.members_, budget, target)
        progress(0.6, "ensemble: members proposed")
        keys, conf = candidate_table(proposals)
        votes = (conf > 0).sum(axis=1) if len(conf) else np.zeros(0, dtype=int)
        self.info_["member_proposals"] = {name: len(rows) for name, rows in zip(self.members, proposals, strict=True)}
        self.info_["mode"] = self.mode
        if self.mode == "union":
            return keys.assign(**{CONFIDENCE: conf.max(axis=1) if len(conf) else []})[[USER, ITEM, CONFIDENCE]]
        if self.mode == "vote":
            proposed_by = np.maximum(votes, 1)
            mean_conf = conf.sum(axis=1) / proposed_by
            keep = votes >= self.min_votes
            if keep.sum() < budget:  # the budget's usual shortfall in vote mode: members seldom agree
                self.info_["supply_note"] = (
                    f"only {int(keep.sum()):,} pairs were proposed by at least {self.min_votes} of its "
                    f"{len(self.members)} members (vote mode); lower min_votes or use mode 'union' for more"
                )
            order = np.lexsort((-mean_conf[keep], -votes[keep]))  # most votes first, then most confident
            return keys[keep].iloc[order].assign(**{CONFIDENCE: mean_conf[keep][order]})[[USER, ITEM, CONFIDENCE]]
        inner = self._inner_candidates(budget, target)
        if self.mode == "weighted" or inner is None:
            weights = self._member_weights(*inner) if inner is not None else np.ones(len(self.members))
            score = conf @ weights / weights.sum()
        else:
            score = self._stack(inner, keys, conf)
        order = np.argsort(-score, kind="stable")
        return keys.iloc[order].assign(**{CONFIDENCE: np.clip(score[order], 0.0, 1.0)})[[USER, ITEM, CONFIDENCE]]

    # --- the inner validation split (weighted, stacking) --------------------------------------------------------
    def _inner_candidates(self, budget: int, target: Target) -> tuple[pd.DataFrame, np.ndarray, np.ndarray] | None:
        """Inner members' proposals (real users only) with their labels: is the edge a held-out training edge?"""
        scale = self.inner_members_[0].train_.matrix.nnz / max(self.train_.matrix.nnz, 1)
        keys, conf = candidate_table(self._proposals(self.inner_members_, max(1, round(budget * scale)), target))
        users = self.train_.user_ids.get_indexer(keys[USER])
        real = users >= 0
        keys, conf, users = keys[real].reset_index(drop=True), conf[real], users[real]
        if len(keys) == 0:
            return None
        items = self.train_.item_ids.get_indexer(keys[ITEM])
        labels = np.asarray(self.inner_valid_[users, items]).ravel() > 0
        return keys, conf, labels

    def _member_weights(self, keys: pd.DataFrame, conf: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Gain = hit-rate lift over random unseen edges, minus one, floored at 0; all zero -> equal weights."""
        inner_train = self.inner_members_[0].train_.matrix
        users = np.unique(self.train_.user_ids.get_indexer(keys[USER]))
        unseen = len(users) * inner_train.shape[1] - inner_train[users].nnz
        base_rate = self.inner_valid_[users].nnz / max(unseen, 1)
        proposed = (conf > 0).sum(axis=0)
        hits = ((conf > 0) & labels[:, None]).sum(axis=0)
        lift = np.where(proposed > 0, hits / np.maximum(proposed, 1) / max(base_rate, 1e-12), 0.0)
        gains = np.maximum(lift - 1.0, 0.0)
        weights = gains if gains.sum() > 0 else np.ones(len(self.members))
        self.info_["member_hit_rate_lift"] = dict(zip(self.members, np.round(lift, 3).tolist(), strict=True))
        self.info_["member_weights"] = dict(
            zip(self.members, np.round(weights / weights.sum(), 4).tolist(), strict=True)
        )
        return weights

    def _features(self, keys: pd.DataFrame, conf: np.ndarray, matrix: Any) -> np.ndarray:
        users = self.train_.user_ids.get_indexer(keys[USER])
        items = self.train_.item_ids.get_indexer(keys[ITEM])
        popularity = np.asarray(matrix.sum(axis=0)).ravel()[items]
        degree = np.asarray(matrix.sum(axis=1)).ravel()
        # Virtual users have no training row: their degree is the number of edges proposed for them.
        proposed_degree = keys.groupby(USER)[ITEM].transform("size").to_numpy()
        user_degree = np.where(users >= 0, degree[np.maximum(users, 0)], proposed_degree)
        votes = (conf > 0).sum(axis=1)
        return np.column_stack([conf, votes, np.log1p(popularity), np.log1p(user_degree)])

    def _stack(
        self, inner: tuple[pd.DataFrame, np.ndarray, np.ndarray], keys: pd.DataFrame, conf: np.ndarray
    ) -> np.ndarray:
        """P(edge is a real held-out edge) from a logistic regression fitted on the inner split."""
        from sklearn.linear_model import LogisticRegression

        inner_keys, inner_conf, labels = inner
        if labels.all() or not labels.any():
            self.info_["stacking"] = "inner labels have one class; fell back to equal weights"
            return conf.mean(axis=1)
        inner_train = self.inner_members_[0].train_.matrix
        model = LogisticRegression(max_iter=1000)
        model.fit(self._features(inner_keys, inner_conf, inner_train), labels)
        self.info_["stacking_coefficients"] = dict(
            zip(
                [*self.members, "votes", "log_item_popularity", "log_user_degree"],
                np.round(model.coef_[0], 4).tolist(),
                strict=True,
            )
        )
        self.info_["stacking_inner_positive_rate"] = round(float(labels.mean()), 4)
        return model.predict_proba(self._features(keys, conf, self.train_.matrix))[:, 1]
