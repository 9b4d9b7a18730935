"""The Embeddings page's points table: items and users (real, augmented, virtual) in ONE 2-D space.

Items are vectors (text embeddings or a model's item factors). A user is the
mean of the vectors of the items in their history, so users and items share the
space; an *augmented* user is the same real user with the method's synthetic
items added to the history, and a *virtual* user has only synthetic items. The
projection is fitted once on the union, so real and synthetic points are
directly comparable, and cached on disk by content (see
:func:`recaug.analysis.projection.fit_projection`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.analysis.projection import ProjectionSpace, fit_projection
from recaug.data.dataset import Dataset
from recaug.data.schema import ITEM, ORIGIN, REAL, USER
from recaug.text.encoder import encode_texts

POINT_COLUMNS = [
    "point_id",
    "entity_id",
    "x",
    "y",
    "kind",
    "origin",
    "method",
    "cold_warm",
    "popularity",
    "n_synthetic",
    "label",
    "hover",
]
COLD_QUANTILE = 0.25  # items/users at or below this quantile of training counts are "cold"


@dataclass(frozen=True)
class EmbeddingMap:
    """Points to draw plus the fitted space (to place what-if items in it later)."""

    points: pd.DataFrame
    space: ProjectionSpace
    source: str


def item_vectors(dataset: Dataset, train: pd.DataFrame, dims: int = 64, seed: int = 0) -> tuple[np.ndarray, str]:
    """(vectors, source): text embeddings if items have text, else truncated-SVD factors of the training matrix."""
    if dataset.has_text:
        return encode_texts(dataset.items["text"].tolist()), "text"
    from sklearn.decomposition import TruncatedSVD

    matrix = dataset.matrix(train)
    k = max(2, min(dims, min(matrix.shape) - 1))
    factors = TruncatedSVD(n_components=k, random_state=seed).fit(matrix).components_.T
    return (factors / (np.linalg.norm(factors, axis=1, keepdims=True) + 1e-8)).astype(np.float32), "svd"


def history_vectors(history: sp.csr_matrix, item_vectors: np.ndarray) -> np.ndarray:
    """Mean item vector of each row's items (rows without items get zeros)."""
    sums = np.asarray(history @ item_vectors)
    counts = np.asarray(history.sum(axis=1)).ravel()
    return (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)


def _titles_hover(history: sp.csr_matrix, titles: np.ndarray, max_titles: int) -> list[str]:
    out = []
    for row in range(history.shape[0]):
        items = history.indices[history.indptr[row] : history.indptr[row + 1]][:max_titles]
        more = history.indptr[row + 1] - history.indptr[row] - len(items)
        text = "<br>".join(titles[items]) + (f"<br>… and {more} more" if more > 0 else "")
        out.append(text)
    return out


def embedding_points(
    dataset: Dataset,
    train: pd.DataFrame,
    synthetic: pd.DataFrame | None = None,
    *,
    item_vectors: np.ndarray,
    source: str = "text",
    method: str = "pca",
    seed: int = 0,
    include_users: bool = True,
    max_titles: int = 5,
    use_cache: bool = True,
) -> EmbeddingMap:
    """Build the explorer's points and fit the projection on all of them at once.

    ``train`` is the real training split (rows with user_idx/item_idx), ``synthetic`` one seed's rows
    with an ``origin`` column, ``item_vectors`` (n_items, d) aligned with the item index (e.g.
    ``encode_texts(dataset.items["text"])`` or ``BPR.item_embeddings()``). Columns: :data:`POINT_COLUMNS`;
    ``origin`` is real / synthetic (a real user with synthetic rows added) / virtual (generated user);
    ``method`` is "real" or the augmenter name.
    """
    training = dataset.training_data(train)
    titles = training.items["title"].astype(str).to_numpy()
    item_ids = training.item_ids.to_numpy().astype(str)
    pop = training.item_popularity()
    degree = training.user_degree()
    syn_pop: np.ndarray = np.zeros(training.n_items)
    frames = []
    vectors = [np.asarray(item_vectors, dtype=np.float32)]
    synthetic = synthetic if synthetic is not None else pd.DataFrame(columns=[USER, ITEM, ORIGIN])
    if len(synthetic):
        syn_pop = np.bincount(training.item_ids.get_indexer(synthetic[ITEM]).clip(0), minlength=training.n_items)
    frames.append(
        pd.DataFrame(
            {
                "point_id": "item:" + pd.Series(item_ids),
                "entity_id": item_ids,
                "kind": "item",
                "origin": REAL,
                "method": REAL,
                "cold_warm": np.where(pop <= np.quantile(pop, COLD_QUANTILE), "cold", "warm"),
                "popularity": pop,
                "n_synthetic": syn_pop,
                "label": titles,
                "hover": [f"<b>{t}</b><br>{int(p)} training interactions" for t, p in zip(titles, pop, strict=True)],
            }
        )
    )
    if include_users:
        user_ids = training.user_ids.to_numpy().astype(str)
        light = degree <= np.quantile(degree, COLD_QUANTILE)
        vectors.append(history_vectors(training.matrix, item_vectors))
        frames.append(
            pd.DataFrame(
                {
                    "point_id": "user:" + pd.Series(user_ids),
                    "entity_id": user_ids,
                    "kind": "user",
                    "origin": REAL,
                    "method": REAL,
                    "cold_warm": np.where(light, "cold", "warm"),
                    "popularity": degree,
                    "n_synthetic": 0,
                    "label": "user " + pd.Series(user_ids),
                    "hover": [
                        f"<b>user {u}</b><br>{h}"
                        for u, h in zip(user_ids, _titles_hover(training.matrix, titles, max_titles), strict=True)
                    ],
                }
            )
        )
        for name, part in synthetic.groupby(ORIGIN, sort=False) if len(synthetic) else []:
            vecs, frame = _augmented_users(
                dataset, training.matrix, part, str(name), item_vectors, titles, degree, max_titles
            )
            vectors.append(vecs)
            frames.append(frame)
    all_vectors = np.vstack(vectors)
    space = fit_projection(all_vectors, method, seed, use_cache=use_cache)
    points = pd.concat(frames, ignore_index=True)
    points["x"] = space.coords[:, 0]
    points["y"] = space.coords[:, 1]
    return EmbeddingMap(points=points[POINT_COLUMNS], space=space, source=source)


def _augmented_users(
    dataset: Dataset,
    real: sp.csr_matrix,
    part: pd.DataFrame,
    name: str,
    item_vectors: np.ndarray,
    titles: np.ndarray,
    degree: np.ndarray,
    max_titles: int,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Users touched by one method: real users with their synthetic items added, and virtual users."""
    indexed, n_rows = dataset.index_synthetic(part[[USER, ITEM]])
    synthetic = dataset.matrix(indexed, n_users=n_rows)
    padded = sp.vstack([real, sp.csr_matrix((n_rows - real.shape[0], real.shape[1]))]).tocsr()
    combined = padded + synthetic
    combined.data[:] = 1.0
    rows = np.unique(indexed["user_idx"].to_numpy())
    ids = pd.Series(indexed.drop_duplicates("user_idx").set_index("user_idx").loc[rows, USER].astype(str).to_numpy())
    virtual = rows >= real.shape[0]
    real_degree = np.zeros(n_rows)
    real_degree[: len(degree)] = degree
    n_syn = np.asarray(synthetic[rows].sum(axis=1)).ravel()
    history = combined[rows]
    syn_hover = _titles_hover(synthetic[rows], titles, max_titles)
    frame = pd.DataFrame(
        {
            "point_id": name + ":" + ids,
            "entity_id": ids,
            "kind": "user",
            "origin": np.where(virtual, "virtual", "synthetic"),
            "method": name,
            "cold_warm": np.where(virtual | (real_degree[rows] <= np.quantile(degree, COLD_QUANTILE)), "cold", "warm"),
            "popularity": np.asarray(history.sum(axis=1)).ravel(),
            "n_synthetic": n_syn,
            "label": np.where(virtual, "generated user ", "user ") + ids + f" + {name}",
            "hover": [
                f"<b>{u}</b> ({name}, +{int(n)} synthetic)<br>{h}"
                for u, n, h in zip(ids, n_syn, syn_hover, strict=True)
            ],
        }
    )
    return history_vectors(history, item_vectors), frame


def selection_table(
    points: pd.DataFrame, selected_point_ids: list[str], synthetic: pd.DataFrame | None, dataset: Dataset
) -> pd.DataFrame:
    """Synthetic interactions of the selected users/items (lasso), with titles, for the table under the chart.

    A selected real user shows their synthetic rows from every method; an augmented or virtual user
    shows that method's rows; a selected item shows every synthetic row that points at it.
    """
    from recaug.experiment import with_titles

    chosen = points[points["point_id"].isin(selected_point_ids)]
    if synthetic is None or len(synthetic) == 0 or chosen.empty:
        return pd.DataFrame(columns=[USER, ITEM, "title", ORIGIN, "confidence"])
    users = chosen[chosen["kind"] == "user"]
    real_users = set(users.loc[users["method"] == REAL, "entity_id"])
    method_users = set(zip(users["entity_id"], users["method"], strict=True))
    user_col = synthetic[USER].astype(str)
    pairs = zip(user_col, synthetic[ORIGIN].astype(str), strict=True)
    mask = (
        np.fromiter((pair in method_users for pair in pairs), dtype=bool, count=len(synthetic))
        | user_col.isin(real_users).to_numpy()
        | synthetic[ITEM].astype(str).isin(set(chosen.loc[chosen["kind"] == "item", "entity_id"])).to_numpy()
    )
    return with_titles(synthetic[mask], dataset).reset_index(drop=True)
