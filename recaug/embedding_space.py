"""Points for the Embeddings page: items and users, real and synthetic, in one shared vector space.

Item vectors are text embeddings when the data has item text, otherwise SVD
factors of the training matrix. A user's vector is the mean of their items'
vectors, computed twice for users touched by augmentation: once from the real
history and once from history + synthetic rows, so the plot shows how far
augmentation moves them. Virtual users (GAN/mixup) appear as their own origin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.data.dataset import Dataset
from recaug.data.schema import ITEM, ORIGIN, USER
from recaug.text.encoder import encode_texts


def item_vectors(dataset: Dataset, train: pd.DataFrame, dims: int = 64, seed: int = 0) -> np.ndarray:
    """Text embeddings if items have text, else truncated-SVD item factors of the training matrix."""
    if dataset.has_text:
        return encode_texts(dataset.items["text"].tolist())
    from sklearn.decomposition import TruncatedSVD

    matrix = dataset.matrix(train)
    k = max(2, min(dims, min(matrix.shape) - 1))
    factors = TruncatedSVD(n_components=k, random_state=seed).fit(matrix).components_.T
    return (factors / (np.linalg.norm(factors, axis=1, keepdims=True) + 1e-8)).astype(np.float32)


def _mean_rows(matrix: sp.csr_matrix, vectors: np.ndarray) -> np.ndarray:
    counts = np.maximum(np.asarray(matrix.sum(axis=1)).ravel(), 1)[:, None]
    return np.asarray(matrix @ vectors) / counts


def item_points(dataset: Dataset, train: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """(vectors, table) with one row per item: popularity and how many synthetic interactions it received."""
    vectors = item_vectors(dataset, train)
    popularity = np.bincount(train["item_idx"], minlength=dataset.n_items)
    received = synthetic[ITEM].value_counts().reindex(dataset.item_ids, fill_value=0).to_numpy()
    table = pd.DataFrame(
        {
            "id": dataset.item_ids.to_numpy(),
            "title": dataset.items["title"].to_numpy(),
            "popularity": popularity,
            "synthetic_received": received,
            "origin": np.where(received > 0, "received synthetic", "real only"),
        }
    )
    table["hover"] = (
        table["title"]
        + "<br>training interactions: "
        + table["popularity"].astype(str)
        + "<br>synthetic received: "
        + table["synthetic_received"].astype(str)
    )
    return vectors, table


def user_points(
    dataset: Dataset, train: pd.DataFrame, synthetic: pd.DataFrame, max_titles: int = 5
) -> tuple[np.ndarray, pd.DataFrame]:
    """(vectors, table): real users; touched users again with synthetic rows added; virtual users."""
    vectors = item_vectors(dataset, train)
    real_matrix = dataset.matrix(train)
    real = _mean_rows(real_matrix, vectors)
    titles = dataset.items["title"].to_numpy()
    history = [
        ", ".join(titles[real_matrix.indices[real_matrix.indptr[u] : real_matrix.indptr[u + 1]][:max_titles]])
        for u in range(dataset.n_users)
    ]
    degree = np.diff(real_matrix.indptr)
    table = pd.DataFrame(
        {"id": dataset.user_ids.to_numpy(), "origin": "real", "degree": degree, "history": history, "method": ""}
    )
    parts_v, parts_t = [real], [table]
    if len(synthetic):
        indexed, n_rows = dataset.index_synthetic(synthetic)
        methods = indexed.groupby("user_idx")[ORIGIN].agg(lambda s: ", ".join(sorted(set(s))))
        combined = pd.concat([train[["user_idx", "item_idx"]], indexed[["user_idx", "item_idx"]]])
        augmented = _mean_rows(dataset.matrix(combined, n_users=n_rows), vectors)
        touched = methods.index.to_numpy()
        is_virtual = touched >= dataset.n_users
        ids = np.concatenate(
            [dataset.user_ids.to_numpy(), pd.unique(indexed.loc[indexed["user_idx"] >= dataset.n_users, USER])]
        )
        added = np.bincount(indexed["user_idx"], minlength=n_rows)[touched]
        extra = pd.DataFrame(
            {
                "id": ids[touched],
                "origin": np.where(is_virtual, "virtual", "augmented"),
                "degree": np.where(is_virtual, 0, degree[np.minimum(touched, dataset.n_users - 1)]) + added,
                "history": [f"+{a} synthetic" for a in added],
                "method": methods.to_numpy(),
            }
        )
        parts_v.append(augmented[touched])
        parts_t.append(extra)
    table = pd.concat(parts_t, ignore_index=True)
    table["hover"] = (
        "user "
        + table["id"].astype(str)
        + " ("
        + table["origin"]
        + ")<br>"
        + table["history"]
        + "<br>interactions: "
        + table["degree"].astype(str)
    )
    return np.vstack(parts_v).astype(np.float32), table
