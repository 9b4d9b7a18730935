"""``rl-gan``: a reward-guided generator trained by policy gradient (IRGAN, Wang et al., SIGIR'17).

The generator is a matrix factorisation policy ``p(i | u) = softmax_i(g_u . g_i / temperature)`` over the items a
user has not seen. Each epoch it samples ``samples_per_user`` items per user and is updated with REINFORCE,
``-log p(i | u) * (reward - mean reward)``. The reward comes from

* ``reward="discriminator"`` (IRGAN's minimax game): an MF discriminator trained to tell real training edges
  from the generator's samples; reward ``2 * sigmoid(f(u, i)) - 1``;
* ``reward="recommender"``: a frozen train-only BPR; reward ``2 * sigmoid(s_ui - mean_j s_uj) - 1``.

Both nets start from that BPR's factors, as IRGAN starts from a pre-trained model. To augment, each target user
draws candidates from the final policy (Gumbel top-k, without replacement); samples whose reward probability
``sigmoid(.)`` is at least ``min_reward`` are kept, in sampling order, with that probability as the confidence.
"""

from __future__ import annotations

from typing import Any, ClassVar, Unpack

import numpy as np
import pandas as pd

from recaug.augment.base import Augmenter, AugmentOptions, Target, register
from recaug.augment.gan.torch_nets import dense_rows, minibatches
from recaug.augment.graph.train_model import fit_train_model
from recaug.augment.ranking import top_unseen_rows
from recaug.core.errors import RecaugInputError
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, sub_progress
from recaug.core.torch_utils import pick_device, torch_generator
from recaug.data.dataset import TrainingData

REWARDS = ("discriminator", "recommender")


@register
class RLGANAugmenter(Augmenter):
    """Adds items sampled from an IRGAN-style generator whose reward the discriminator (or a BPR) gives."""

    name = "rl-gan"
    description = "IRGAN-style policy-gradient generator; reward from a discriminator or a frozen BPR"
    family = "gan"
    param_choices: ClassVar[dict[str, tuple[str, ...]]] = {"reward": REWARDS}

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "epochs": [Interval(int, 1, None)],
        "lr": [Interval(float, 0.0, None, closed="neither")],
        "samples_per_user": [Interval(int, 1, None)],
        "temperature": [Interval(float, 0.0, None, closed="neither")],
        "batch_size": [Interval(int, 1, None)],
        "min_reward": [Interval(float, 0.0, 1.0)],
        "device": [str],
    }

    def __init__(
        self,
        *,
        seed: int = 0,
        target: str | list[str] = "light-users",
        reward: str = "discriminator",
        epochs: int = 30,
        lr: float = 1e-3,
        samples_per_user: int = 16,
        temperature: float = 1.0,
        batch_size: int = 256,
        min_reward: float = 0.5,
        device: str = "auto",
        **options: Unpack[AugmentOptions],
    ) -> None:
        super().__init__(seed=seed, target=target, **options)
        self.reward = reward
        self.epochs = epochs
        self.lr = lr
        self.samples_per_user = samples_per_user
        self.temperature = temperature
        self.batch_size = batch_size
        self.min_reward = min_reward
        self.device = device

    def _fit(self, train: TrainingData) -> None:
        import torch

        if self.reward not in REWARDS:
            raise RecaugInputError(f"rl-gan: unknown reward '{self.reward}'", fix=f"use one of {REWARDS}")
        base = fit_train_model(train, model="bpr", seed=self.seed, progress=sub_progress(self._progress, 0, 0.3))
        device = pick_device(self.device)
        gen = torch_generator(self.seed, device)
        rng = np.random.default_rng(self.seed)
        self.base_, self.device_ = base, device

        def factors(values: np.ndarray) -> Any:
            return torch.nn.Parameter(torch.as_tensor(values.copy(), device=device))

        self.g_users_, self.g_items_ = factors(base.user_embeddings()), factors(base.item_embeddings())
        self.d_users_, self.d_items_ = factors(base.user_embeddings()), factors(base.item_embeddings())
        self.d_bias_ = torch.nn.Parameter(torch.zeros(train.n_items, device=device))
        opt_g = torch.optim.Adam([self.g_users_, self.g_items_], lr=self.lr)
        opt_d = torch.optim.Adam([self.d_users_, self.d_items_, self.d_bias_], lr=self.lr)
        report = sub_progress(self._progress, 0.3, 1.0)
        history = []
        for epoch in range(1, self.epochs + 1):
            d_total, reward_total, batches = 0.0, 0.0, 0
            for users in minibatches(train.n_users, self.batch_size, rng):
                u = torch.as_tensor(users, device=device)
                seen = dense_rows(train.matrix, users, device) > 0
                with torch.no_grad():
                    probs = torch.softmax(self._policy_logits(u, seen), dim=1)
                    fake = torch.multinomial(probs, self.samples_per_user, replacement=True, generator=gen)
                if self.reward == "discriminator":
                    real = torch.multinomial(
                        seen.float() + 1e-12, self.samples_per_user, replacement=True, generator=gen
                    )
                    d_loss = (
                        torch.nn.functional.softplus(-self._critic(u, real)).mean()
                        + torch.nn.functional.softplus(self._critic(u, fake)).mean()
                    )
                    opt_d.zero_grad()
                    d_loss.backward()
                    opt_d.step()
                    d_total += d_loss.item()
                with torch.no_grad():
                    reward = 2 * torch.sigmoid(self._reward_logits(u, fake)) - 1
                    advantage = reward - reward.mean(dim=1, keepdim=True)
                log_probs = torch.log_softmax(self._policy_logits(u, seen), dim=1).gather(1, fake)
                g_loss = -(log_probs * advantage).mean()
                opt_g.zero_grad()
                g_loss.backward()
                opt_g.step()
                reward_total, batches = reward_total + reward.mean().item(), batches + 1
            history.append((epoch, d_total / batches, reward_total / batches))
            report(epoch / self.epochs, f"RL-GAN epoch {epoch}/{self.epochs}: mean reward {history[-1][2]:.3f}")
        self.history_ = history
        self.info_["mean_reward"] = {"first_epoch": round(history[0][2], 4), "last_epoch": round(history[-1][2], 4)}
        self.artifacts_.update(
            {
                "user_embeddings": self.g_users_.detach().float().cpu().numpy(),
                "item_embeddings": self.g_items_.detach().float().cpu().numpy(),
            }
        )

    def _policy_logits(self, users: Any, seen: Any) -> Any:
        logits = self.g_users_[users] @ self.g_items_.T / self.temperature
        return logits.masked_fill(seen, float("-inf"))

    def _critic(self, users: Any, items: Any) -> Any:
        """Discriminator logits f(u, i) for an (n, s) block of items."""
        return (self.d_users_[users][:, None, :] * self.d_items_[items]).sum(-1) + self.d_bias_[items]

    def _reward_logits(self, users: Any, items: Any) -> Any:
        import torch

        if self.reward == "discriminator":
            return self._critic(users, items)
        scores = torch.as_tensor(self.base_.score(users.cpu().numpy()), device=self.device_)
        return scores.gather(1, items) - scores.mean(dim=1, keepdim=True)

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        import torch

        def sampled(users: np.ndarray) -> np.ndarray:
            """Gumbel-perturbed policy logits: their top-k is a k-sample without replacement from the policy."""
            with torch.no_grad():
                u = torch.as_tensor(users, device=self.device_)
                logits = (self.g_users_[u] @ self.g_items_.T / self.temperature).float().cpu().numpy()
            return logits + rng.gumbel(size=logits.shape)

        def reward_probability(users: np.ndarray, scores: np.ndarray, chosen: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                u = torch.as_tensor(users, device=self.device_)
                items = torch.as_tensor(chosen, device=self.device_)
                return torch.sigmoid(self._reward_logits(u, items)).float().cpu().numpy()

        return top_unseen_rows(
            self.train_,
            target,
            sampled,
            budget,
            confidence_fn=reward_probability,
            min_confidence=self.min_reward,
            progress=progress,
            message="RL-GAN: sampling from the generator",
        )
