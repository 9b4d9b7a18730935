"""What every fidelity metric reads: real and augmented degrees, popularity and features of one method's rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.analysis.fidelity.stats import _normalise
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.schema import ITEM, USER


@dataclass
class FidelityInputs:
    """One method's synthetic rows next to the real training data; derived views are computed once."""

    method: str
    train: TrainingData
    synthetic_matrix: sp.csr_matrix  # (user rows incl. virtual users, items), binary
    llm_log: pd.DataFrame | None = None
    item_vectors: np.ndarray | None = None  # L2-normalised text embeddings aligned with item index
    seed: int = 0
    max_detection_rows: int = 5000
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls, dataset: Dataset, train: TrainingData, method: str, rows: pd.DataFrame, **options: object
    ) -> FidelityInputs:
        """Index one method's synthetic rows (virtual users get rows after the real ones)."""
        indexed, n_rows = dataset.index_synthetic(rows[[USER, ITEM]])
        return cls(method=method, train=train, synthetic_matrix=dataset.matrix(indexed, n_users=n_rows), **options)  # type: ignore[arg-type]

    @property
    def n_rows(self) -> int:
        """User rows including virtual users."""
        return self.synthetic_matrix.shape[0]

    @cached_property
    def real_matrix(self) -> sp.csr_matrix:
        return self.train.matrix

    @cached_property
    def augmented_matrix(self) -> sp.csr_matrix:
        real = sp.vstack([self.real_matrix, sp.csr_matrix((self.n_rows - self.train.n_users, self.train.n_items))])
        mat = (real.tocsr() + self.synthetic_matrix).tocsr()
        mat.data[:] = 1.0
        return mat

    @cached_property
    def real_user_degree(self) -> np.ndarray:
        return self.train.user_degree()

    @cached_property
    def real_item_popularity(self) -> np.ndarray:
        return self.train.item_popularity()

    @cached_property
    def augmented_user_degree(self) -> np.ndarray:
        return np.asarray(self.augmented_matrix.sum(axis=1)).ravel()

    @cached_property
    def augmented_item_popularity(self) -> np.ndarray:
        return np.asarray(self.augmented_matrix.sum(axis=0)).ravel()

    @cached_property
    def virtual_rows(self) -> np.ndarray:
        """Row indices of generated users that have at least one synthetic interaction."""
        degree = np.asarray(self.synthetic_matrix.sum(axis=1)).ravel()
        rows = np.arange(self.train.n_users, self.n_rows)
        return rows[degree[rows] > 0]

    @cached_property
    def latent_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Seeded truncated-SVD user and item factors of the augmented graph (L2-normalised)."""
        from sklearn.decomposition import TruncatedSVD

        mat = self.augmented_matrix
        n_comp = max(1, min(32, min(mat.shape) - 1))
        svd = TruncatedSVD(n_components=n_comp, random_state=self.seed)
        users = svd.fit_transform(mat)
        items = svd.components_.T * svd.singular_values_
        return _normalise(users), _normalise(items)

    def edge_features(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Per-edge features a detector may use: log degree, log popularity, latent and text similarity."""
        user_f, item_f = self.latent_factors
        degree = self.augmented_user_degree[users]
        columns = [
            np.log1p(degree),
            np.log1p(self.augmented_item_popularity[items]),
            np.einsum("ij,ij->i", user_f[users], item_f[items]),
        ]
        if self.item_vectors is not None:
            # Leave-one-out profile: the user's other items, so real edges do not see themselves.
            sums = np.asarray(self.augmented_matrix @ self.item_vectors)
            own = self.item_vectors[items]
            profile = (sums[users] - own) / np.maximum(degree - 1, 1)[:, None]
            norms = np.linalg.norm(profile, axis=1)
            sim = np.einsum("ij,ij->i", profile, own) / np.maximum(norms, 1e-8)
            columns.append(np.where(degree > 1, sim, 0.0))
        return np.column_stack(columns)
