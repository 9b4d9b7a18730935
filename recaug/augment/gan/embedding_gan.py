"""``embedding-gan``: a GAN over user embeddings that samples synthetic users (the seeds' "GAN over embeddings").

User vectors are BPR factors from a train-only BPR (``source="bpr"``) or the mean text embedding of the user's
training items (``source="text"``). A small MLP GAN learns their (standardised) distribution. Synthetic vectors
are kept only when their nearest real user is a target user, so "synthetic light users" look like light users;
each kept vector's ``items_per_user`` best target items (dot product with the item vectors) become the
interactions of a NEW virtual user. Confidence is the plausibility of each item under that vector.

``info["nn_distance_ratio"]`` compares how far synthetic vectors lie from their nearest real user with how far
real users lie from each other: near 0 means the GAN memorised real users, far above 1 means it left the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import AugmentOptions, Target, register
from recaug.augment.gan.torch_nets import GAN_TRAINING, gan_loss, minibatches, mlp
from recaug.augment.graph.train_model import fit_train_model
from recaug.augment.interpolation.virtual import Draft, VirtualUserAugmenter
from recaug.augment.ranking import index_mask, plausibility
from recaug.core.errors import RecaugInputError
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, sub_progress
from recaug.core.torch_utils import pick_device, torch_generator
from recaug.data.dataset import TrainingData
from recaug.data.schema import USER

SOURCES = ("bpr", "text")


def nearest_rows(queries: np.ndarray, reference: np.ndarray, *, exclude_self: bool = False) -> tuple[np.ndarray, ...]:
    """Index of and Euclidean distance to each query's nearest reference row (optionally not itself)."""
    sq = (queries**2).sum(1)[:, None] + (reference**2).sum(1)[None, :] - 2 * queries @ reference.T
    if exclude_self:
        np.fill_diagonal(sq, np.inf)
    nearest = sq.argmin(axis=1)
    return nearest, np.sqrt(np.maximum(sq[np.arange(len(queries)), nearest], 0.0))


@register
class EmbeddingGANAugmenter(VirtualUserAugmenter):
    """Adds virtual users whose vectors are sampled from a GAN trained on real users' embeddings."""

    name = "embedding-gan"
    description = "GAN over user embeddings (BPR or text): synthetic users' nearest items become virtual users"
    family = "gan"
    param_choices: ClassVar[dict[str, tuple[str, ...]]] = {"source": SOURCES}

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        **GAN_TRAINING,
        "items_per_user": [Interval(int, 1, None), None],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        source: str = "bpr",
        epochs: int = 200,
        hidden: int = 128,
        noise_dim: int = 32,
        lr: float = 2e-4,
        batch_size: int = 64,
        items_per_user: int | None = None,
        device: str = "auto",
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.source = source
        self.epochs = epochs
        self.hidden = hidden
        self.noise_dim = noise_dim
        self.lr = lr
        self.batch_size = batch_size
        self.items_per_user = items_per_user
        self.device = device

    def _user_item_vectors(self, train: TrainingData) -> tuple[np.ndarray, np.ndarray]:
        if self.source == "bpr":
            model = fit_train_model(train, model="bpr", seed=self.seed, progress=sub_progress(self._progress, 0, 0.4))
            return model.user_embeddings(), model.item_embeddings()
        if self.source == "text":
            from recaug.text.encoder import encode_texts

            items = encode_texts(train.items["text"].tolist(), progress=sub_progress(self._progress, 0, 0.4))
            profile = np.asarray(train.matrix @ items) / np.maximum(train.user_degree()[:, None], 1)
            return profile / (np.linalg.norm(profile, axis=1, keepdims=True) + 1e-8), items
        raise RecaugInputError(f"embedding-gan: unknown source '{self.source}'", fix=f"use one of {SOURCES}")

    def _fit(self, train: TrainingData) -> None:
        import torch

        users, items = self._user_item_vectors(train)
        self.user_vectors_, self.item_vectors_ = users.astype(np.float32), items.astype(np.float32)
        self.mean_, self.std_ = self.user_vectors_.mean(axis=0), self.user_vectors_.std(axis=0) + 1e-6
        standard = (self.user_vectors_ - self.mean_) / self.std_
        device = pick_device(self.device)
        gen = torch_generator(self.seed, device)
        rng = np.random.default_rng(self.seed)
        dim = standard.shape[1]
        self.generator_ = mlp([self.noise_dim, self.hidden, self.hidden, dim]).to(device)
        discriminator = mlp([dim, self.hidden, self.hidden, 1], leaky=True).to(device)
        opt_g = torch.optim.Adam(self.generator_.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        real_all = torch.as_tensor(standard, device=device)
        report = sub_progress(self._progress, 0.4, 1.0)
        for epoch in range(1, self.epochs + 1):
            for batch in minibatches(len(standard), self.batch_size, rng):
                real = real_all[torch.as_tensor(batch, device=device)]
                fake = self.generator_(torch.randn(len(batch), self.noise_dim, generator=gen, device=device))
                d_loss = gan_loss(discriminator(real), True) + gan_loss(discriminator(fake.detach()), False)
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
                g_loss = gan_loss(discriminator(fake), True)
                opt_g.zero_grad()
                g_loss.backward()
                opt_g.step()
            if epoch % 10 == 0 or epoch == self.epochs:
                report(
                    epoch / self.epochs,
                    f"embedding GAN epoch {epoch}/{self.epochs}: D {d_loss.item():.3f}, G {g_loss.item():.3f}",
                )
        self.device_ = device
        sample = self._sample(np.random.default_rng(self.seed + 1), min(len(standard), 2000))
        _, synthetic_gap = nearest_rows(sample, self.user_vectors_)
        _, real_gap = nearest_rows(self.user_vectors_[:2000], self.user_vectors_[:2000], exclude_self=True)
        self.info_["nn_distance_ratio"] = round(float(synthetic_gap.mean() / max(real_gap.mean(), 1e-12)), 4)
        self.artifacts_.update({"user_embeddings": self.user_vectors_, "item_embeddings": self.item_vectors_})

    def _sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` synthetic user vectors in the original (unstandardised) space."""
        import torch

        noise = torch.as_tensor(rng.standard_normal((n, self.noise_dim)).astype(np.float32), device=self.device_)
        with torch.no_grad():
            standard = self.generator_(noise).float().cpu().numpy()
        return standard * self.std_ + self.mean_

    def _items_per_user(self, target: Target) -> int:
        if self.items_per_user is not None:
            return max(1, int(self.items_per_user))
        return max(1, int(np.median(self.train_.user_degree()[target.users])))

    def _drafts(self, target: Target, rng: np.random.Generator) -> Iterator[Draft]:
        k = min(self._items_per_user(target), len(target.items))
        is_target = index_mask(self.train_.n_users, target.users)
        allowed = index_mask(self.train_.n_items, target.items)
        self.sampled_: list[np.ndarray] = []
        for _ in range(50):  # rejection rounds: keep synthetic vectors whose nearest real user is a target user
            vectors = self._sample(rng, 512)
            nearest, _ = nearest_rows(vectors, self.user_vectors_)
            vectors = vectors[is_target[nearest]]
            self.sampled_.append(vectors)
            scores = np.where(allowed[None, :], vectors @ self.item_vectors_.T, -np.inf)
            top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            yield from zip(top, plausibility(scores, top), strict=True)

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        rows = super()._propose(budget, target, rng, progress)
        ids = pd.unique(rows[USER]) if len(rows) else np.array([], dtype=object)
        dim = self.user_vectors_.shape[1]
        vectors = np.vstack([np.zeros((0, dim)), *getattr(self, "sampled_", [])])[: len(ids)]
        self.artifacts_.update(
            {
                "synthetic_user_ids": np.asarray(ids, dtype=object),
                "synthetic_user_embeddings": vectors.astype(np.float32),
            }
        )
        return rows
