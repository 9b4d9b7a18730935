"""``cfgan``: CFGAN (Chae et al., CIKM'18), a vector-wise conditional GAN over users' purchase vectors.

The generator maps a user's (corrupted) purchase vector plus noise to a full item-score vector in [0, 1]; the
discriminator tells real purchase vectors from generated ones, both conditioned on the user's vector.

* Partial masking (PM): the discriminator sees the generated vector only on the purchased items plus a random
  ``pm_ratio`` sample of unpurchased ones, so the generator is not rewarded for pushing everything to 1.
* Zero reconstruction (ZR): a random ``zr_ratio`` sample of unpurchased items is pushed towards 0.
* Guard against copying the input: CFGAN can collapse into returning the condition vector. The generator gets
  noise, and its condition drops ``condition_dropout`` of the purchases, so it is trained to fill in real but
  hidden purchases. ``info["copy_rate"]`` reports the share of each user's top-|history| generated items that
  are already in the history (1.0 = pure copying).

New interactions for existing users are the generator's highest unseen scores, which also are the confidence.
"""

from __future__ import annotations

from typing import Any, ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, AugmentOptions, Target, register
from recaug.augment.gan.torch_nets import GAN_TRAINING, dense_rows, gan_loss, minibatches, mlp
from recaug.augment.ranking import score_confidence, top_unseen_rows
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn
from recaug.core.torch_utils import pick_device, torch_generator
from recaug.data.dataset import TrainingData


@register
class CFGANAugmenter(Augmenter):
    """Adds each target user's top unseen items under a CFGAN generator trained on the training split."""

    name = "cfgan"
    description = "CFGAN: vector-wise GAN over purchase vectors (zero-reconstruction + partial masking)"
    family = "gan"

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        **GAN_TRAINING,
        "zr_ratio": [Interval(float, 0.0, 1.0)],
        "pm_ratio": [Interval(float, 0.0, 1.0)],
        "zr_weight": [Interval(float, 0.0, None)],
        "condition_dropout": [Interval(float, 0.0, 1.0, closed="left")],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        epochs: int = 60,
        hidden: int = 256,
        noise_dim: int = 32,
        lr: float = 1e-3,
        batch_size: int = 64,
        zr_ratio: float = 0.5,
        pm_ratio: float = 0.5,
        zr_weight: float = 0.1,
        condition_dropout: float = 0.2,
        device: str = "auto",
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.epochs = epochs
        self.hidden = hidden
        self.noise_dim = noise_dim
        self.lr = lr
        self.batch_size = batch_size
        self.zr_ratio = zr_ratio
        self.pm_ratio = pm_ratio
        self.zr_weight = zr_weight
        self.condition_dropout = condition_dropout
        self.device = device

    def _fit(self, train: TrainingData) -> None:
        import torch

        device = pick_device(self.device)
        gen = torch_generator(self.seed, device)
        rng = np.random.default_rng(self.seed)
        n_items = train.n_items
        self.generator_ = mlp([n_items + self.noise_dim, self.hidden, self.hidden, n_items], out="sigmoid").to(device)
        self.discriminator_ = mlp([2 * n_items, self.hidden, 1], leaky=True).to(device)
        opt_g = torch.optim.Adam(self.generator_.parameters(), lr=self.lr)
        opt_d = torch.optim.Adam(self.discriminator_.parameters(), lr=self.lr)
        history = []
        for epoch in range(1, self.epochs + 1):
            g_total, d_total, batches = 0.0, 0.0, 0
            for users in minibatches(train.n_users, self.batch_size, rng):
                real = dense_rows(train.matrix, users, device)
                keep = torch.rand(real.shape, generator=gen, device=device) >= self.condition_dropout
                condition = real * keep
                unseen = real == 0
                pm_mask = real + (unseen & (torch.rand(real.shape, generator=gen, device=device) < self.pm_ratio))
                zr_mask = unseen & (torch.rand(real.shape, generator=gen, device=device) < self.zr_ratio)
                fake = self.generator_(torch.cat([condition, self._noise(len(users), gen, device)], dim=1))
                d_real = self.discriminator_(torch.cat([real, condition], dim=1))
                d_fake = self.discriminator_(torch.cat([fake.detach() * pm_mask, condition], dim=1))
                d_loss = gan_loss(d_real, True) + gan_loss(d_fake, False)
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
                g_adv = gan_loss(self.discriminator_(torch.cat([fake * pm_mask, condition], dim=1)), True)
                g_loss = g_adv + self.zr_weight * (fake.pow(2) * zr_mask).sum(dim=1).mean()
                opt_g.zero_grad()
                g_loss.backward()
                opt_g.step()
                g_total, d_total, batches = g_total + g_loss.item(), d_total + d_loss.item(), batches + 1
            history.append((epoch, d_total / batches, g_total / batches))
            self._progress(
                epoch / self.epochs,
                f"CFGAN epoch {epoch}/{self.epochs}: D {history[-1][1]:.3f}, G {history[-1][2]:.3f}",
            )
        self.history_ = history
        self.device_ = device
        sample = np.sort(rng.permutation(train.n_users)[:2000])  # copy rate on at most 2,000 users
        self.info_["copy_rate"] = round(copy_rate(self._generate(sample), sample, train), 4)
        self.info_["final_losses"] = {"discriminator": round(history[-1][1], 4), "generator": round(history[-1][2], 4)}
        self.artifacts_.update(self._embeddings())

    def _noise(self, n: int, gen: Any, device: Any) -> Any:
        import torch

        return torch.randn(n, self.noise_dim, generator=gen, device=device)

    def _generate(self, users: np.ndarray) -> np.ndarray:
        """Generator output for the full (uncorrupted) purchase vectors, with seeded noise."""
        import torch

        gen = torch_generator(self.seed + 1, self.device_)
        out = []
        with torch.no_grad():
            for start in range(0, len(users), 1024):
                batch = users[start : start + 1024]
                condition = dense_rows(self.train_.matrix, batch, self.device_)
                noise = self._noise(len(batch), gen, self.device_)
                out.append(self.generator_(torch.cat([condition, noise], dim=1)).float().cpu().numpy())
        return np.vstack(out)

    def _embeddings(self) -> dict[str, np.ndarray]:
        """Users: the generator's first hidden layer on their purchase vector; items: its output-layer weights."""
        import torch

        first, n_users = self.generator_[0], self.train_.n_users
        weight = first.weight[:, : self.train_.n_items].T  # the condition part of the first layer, noise left out
        with torch.no_grad():
            hidden = [
                torch.relu(
                    dense_rows(self.train_.matrix, np.arange(start, min(start + 1024, n_users)), self.device_) @ weight
                    + first.bias
                )
                for start in range(0, n_users, 1024)
            ]
            return {
                "user_embeddings": torch.cat(hidden).float().cpu().numpy(),
                "item_embeddings": self.generator_[-2].weight.detach().float().cpu().numpy(),
            }

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        return top_unseen_rows(
            self.train_,
            target,
            self._generate,
            budget,
            confidence_fn=score_confidence,
            progress=progress,
            message="CFGAN: top unseen items",
        )


def copy_rate(scores: np.ndarray, users: np.ndarray, train: TrainingData) -> float:
    """Mean share of each user's top-|history| generated items that are already in the history (scores: users' rows)."""
    degree = train.user_degree().astype(int)
    order = np.argsort(-scores, axis=1, kind="stable")
    rates = [np.isin(order[row, : degree[u]], train.history(u)).mean() for row, u in enumerate(users) if degree[u] > 0]
    return float(np.mean(rates)) if rates else 0.0
