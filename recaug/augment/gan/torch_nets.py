"""Small torch building blocks shared by the GAN augmenters (imported lazily: torch is heavy)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from recaug.core.params import Constraint, Interval

# Constructor parameters the GAN augmenters share (CFGAN, the embedding GAN), for their ``_parameter_constraints``.
GAN_TRAINING: dict[str, list[Constraint]] = {
    "epochs": [Interval(int, 1, None)],
    "hidden": [Interval(int, 1, None)],
    "noise_dim": [Interval(int, 1, None)],
    "lr": [Interval(float, 0.0, None, closed="neither")],
    "batch_size": [Interval(int, 1, None)],
    "device": [str],
}


def mlp(sizes: Sequence[int], *, leaky: bool = False, out: str | None = None) -> Any:
    """Linear layers with ReLU (LeakyReLU for discriminators) in between; ``out``: None, 'sigmoid' or 'tanh'."""
    import torch

    layers: list[Any] = []
    for position, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(a, b))
        if position < len(sizes) - 2:
            layers.append(torch.nn.LeakyReLU(0.2) if leaky else torch.nn.ReLU())
    if out == "sigmoid":
        layers.append(torch.nn.Sigmoid())
    elif out == "tanh":
        layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def dense_rows(matrix: sp.csr_matrix, rows: np.ndarray, device: Any) -> Any:
    """Rows of a sparse matrix as a dense float32 tensor (one minibatch at a time, so big catalogs fit)."""
    import torch

    return torch.as_tensor(matrix[rows].toarray().astype(np.float32), device=device)


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """A seeded random permutation of ``range(n)`` cut into batches."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def gan_loss(logits: Any, real: bool) -> Any:
    """Non-saturating GAN loss on discriminator logits: -log D for ``real`` targets, -log(1 - D) otherwise."""
    import torch

    return torch.nn.functional.softplus(-logits if real else logits).mean()
