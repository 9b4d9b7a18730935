"""Cold-start what-ifs, answered live from already-fitted state.

* **New item**: a title and description are embedded with the same sentence encoder as the catalog;
  the answer lists its nearest catalog items (the reasons), its position in the explorer's space, the
  users a content-only model would show it to in their top-K *before* augmentation, and the users the
  ``similarity`` augmenter's cold-item expansion would give it *after* (mirroring that augmenter's
  ranking and budget rules).
* **New user**: 1–5 liked items are folded into each fitted model without retraining
  (:func:`recommend_for_new_user`), so baseline and augmented models can be compared side by side.

Build a :class:`ContentIndex` once per training split (a second or two); each answer then takes
milliseconds plus one sentence encoding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recaug.analysis.explorer import EmbeddingMap
from recaug.augment.base import resolve_budget
from recaug.augment.targets import resolve_target
from recaug.augment.text.similarity import history_profiles
from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset, TrainingData
from recaug.data.readers import describe_item, descriptive_columns
from recaug.data.schema import ALIASES, CONFIDENCE, ITEM, USER, normalise_name
from recaug.evaluate.metrics import rank_top_k
from recaug.experiment.result import barely_trained
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import encoder_for

log = logging.getLogger(__name__)

ITEM_ITEM_ATTRIBUTES = ("similarity_", "weights_")  # ItemKNN, EASE: score = history @ W
NEIGHBOUR_USERS = 50


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class ContentIndex:
    """Text view of one training split, built once.

    Two views of the same embeddings: the *raw* vectors are what the ``similarity`` augmenter uses
    (so the "after" answer mirrors it exactly); the *content model* used for "before" centres them on
    the catalog mean first, which removes the boilerplate every catalog text shares and the hubness
    that otherwise puts the same few central items in everyone's top-K.
    """

    train: TrainingData
    item_vectors: np.ndarray  # (n_items, d), L2-normalised raw text embeddings
    profiles: np.ndarray  # (n_users, d), L2-normalised mean raw embedding of the user's training items
    center: np.ndarray  # (d,), mean catalog embedding
    content_items: np.ndarray  # centred, re-normalised item vectors of the content model
    content_profiles: np.ndarray  # user profiles in the content model's space
    top_scores: np.ndarray  # (n_users, max_k) best content-model scores over unseen catalog items, descending
    typical_nearest: float  # median similarity of a catalog item to its nearest other item
    encoder: str = DEFAULT_ENCODER

    @property
    def max_k(self) -> int:
        return self.top_scores.shape[1]

    @property
    def example_row(self) -> int:
        """The row of the catalog's most popular training item: the example of its style."""
        return int(np.argmax(self.train.item_popularity()))

    def example_text(self) -> str:
        """One catalog text, to show users the style their description should follow."""
        return str(self.train.items["text"].astype(str).iloc[self.example_row])


def build_content_index(
    train: TrainingData,
    *,
    item_vectors: np.ndarray | None = None,
    encoder: str = DEFAULT_ENCODER,
    max_k: int = 50,
    chunk: int = 2048,
) -> ContentIndex:
    """Embed the catalog (disk-cached) and precompute each user's top-``max_k`` content scores. ``encoder="tuned"``:
    the encoder tuned on this training split (:mod:`recaug.text.finetune`)."""
    encoder = encoder_for(encoder, train.matrix, train.items["text"].tolist())
    vectors = item_vectors if item_vectors is not None else encode_texts(train.items["text"].tolist(), model=encoder)
    vectors = _normalise(np.asarray(vectors, dtype=np.float32))
    center = vectors.mean(axis=0)
    content_items = _normalise(vectors - center)
    content_profiles = history_profiles(train.matrix, content_items)
    max_k = min(max_k, train.n_items)
    top = np.empty((train.n_users, max_k), dtype=np.float32)
    nearest = np.empty(train.n_items, dtype=np.float32)
    for start in range(0, train.n_users, chunk):
        scores = content_profiles[start : start + chunk] @ content_items.T
        scores[train.matrix[start : start + chunk].nonzero()] = -np.inf
        part = -np.partition(-scores, max_k - 1, axis=1)[:, :max_k]
        top[start : start + chunk] = -np.sort(-part, axis=1)
    for start in range(0, train.n_items, chunk):
        sims = vectors[start : start + chunk] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf
        nearest[start : start + chunk] = sims.max(axis=1)
    return ContentIndex(
        train=train,
        item_vectors=vectors,
        profiles=history_profiles(train.matrix, vectors),
        center=center,
        content_items=content_items,
        content_profiles=content_profiles,
        top_scores=top,
        typical_nearest=float(np.median(nearest)),
        encoder=encoder,
    )


@dataclass
class NewItemWhatIf:
    """The answer to "what if this item were in the catalog?"."""

    text: str
    vector: np.ndarray
    neighbours: pd.DataFrame  # item_id, title, similarity (the reasons)
    before: pd.DataFrame  # users with the item in their content-only top-K: user_id, score, kth_score, rank, reason
    after: pd.DataFrame  # users the similarity cold-item expansion would give it: user_id, similarity, confidence, ...
    position: tuple[float, float] | None = None
    summary: dict[str, Any] = field(default_factory=dict)


DESCRIPTION = "description"  # where the catalog has no prose column, the new item's description is written last
MAX_FIELDS = 3  # the catalog's other worded columns the form asks for (genres, category…)


def column_label(column: str) -> str:
    """A column's name as the form labels it ("product_name" -> "Product name"), as the item texts label it."""
    return str(column).replace("_", " ").capitalize()


@dataclass(frozen=True)
class NewItemForm:
    """The New item inputs, one per meaning, each named as the catalog names it.

    ``title``: a kept column that names items (e.g. ``name`` beside the mapped title), else ``"title"``;
    ``description``: the catalog's prose column (``description``, ``overview``…: written unlabelled, see
    :func:`~recaug.data.readers.describe_item`), else :data:`DESCRIPTION`; ``fields``: its other worded columns.
    ``examples``: column -> the most popular item's value (the catalog's own style), ``""`` where it has none.
    """

    title: str
    description: str
    fields: list[str]
    examples: dict[str, str]
    catalog_columns: list[str]  # the columns above that the catalog has

    def in_catalog(self, column: str) -> bool:
        """Whether ``column`` is one of the catalog's (its value then goes into the item's text under that name)."""
        return column in self.catalog_columns


def _writes_unlabelled(column: str) -> bool:
    """Whether item texts carry ``column`` as prose with no "Label:" (describe_item's own rule, asked of it)."""
    return describe_item("", {column: "x"}) == "x"


def new_item_form(items: pd.DataFrame, *, example_row: int = 0) -> NewItemForm:
    """The New item form for a catalog (``items``: the items table; ``example_row``: the row whose values are the
    examples). One input per meaning: the title field is the catalog's title-like column, the description field its
    prose column, so the page never asks for the same thing twice."""
    worded = descriptive_columns(items, [ITEM, "title", "text"])
    titles = [c for c in worded if normalise_name(c) in ALIASES["title"]]
    prose = [c for c in worded if c not in titles and _writes_unlabelled(c)]
    title, description = (titles or ["title"])[0], (prose or [DESCRIPTION])[0]
    fields = [c for c in worded if c not in (title, description)][:MAX_FIELDS]
    catalog = [c for c in (title, description, *fields) if c in worded]
    examples = {}
    for column in catalog:
        values = items[column]
        value = values.iloc[example_row] if 0 <= example_row < len(values) else None
        if pd.isna(value) or not str(value).strip():  # the example item lacks it: the first item that has it
            value = next(iter(values.dropna().astype(str)), "")
        examples[column] = str(value)
    return NewItemForm(title, description, fields, examples, catalog)


def form_values(form: NewItemForm, item: Mapping[str, Any]) -> dict[str, str]:
    """``form``'s inputs filled from one catalog row (``item``, e.g. one of ``Dataset.unused_items``: an item the
    catalog lists but nobody interacted with, the cold-start question itself): ``title``, ``description`` and each
    field's column -> its text ("" where the row has none)."""

    def text(column: str) -> str:
        value = item.get(column)
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)

    return {
        "title": text(form.title if form.title in item else "title"),
        "description": text(form.description),
        **{column: text(column) for column in form.fields},
    }


def _catalog_order(items: pd.DataFrame, values: Mapping[str, str]) -> dict[str, str]:
    """``values`` in the catalog's column order (its texts are written in that order); others last, as given."""
    position = {str(column): i for i, column in enumerate(items.columns)}
    return dict(sorted(values.items(), key=lambda pair: position.get(pair[0], len(position))))


def _closest_in_history(index: ContentIndex, users: np.ndarray, item_sims: np.ndarray) -> list[str]:
    """For each user, the training item most similar to the new item: why it reaches them."""
    matrix, titles = index.train.matrix, index.train.items["title"].astype(str).to_numpy()
    reasons = []
    for user in users:
        items = matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]]
        if len(items) == 0:
            reasons.append("")
            continue
        best = items[np.argmax(item_sims[items])]
        reasons.append(f"liked {titles[best]} (similarity {item_sims[best]:.2f})")
    return reasons


def new_item_whatif(
    index: ContentIndex,
    title: str,
    description: str = "",
    *,
    k: int = 10,
    n_neighbours: int = 10,
    budget: int | float = 0.1,
    min_similarity: float = 0.0,
    cold_quantile: float = 0.25,
    embedding_map: EmbeddingMap | None = None,
    fields: Mapping[str, str] | None = None,
    description_column: str = DESCRIPTION,
) -> NewItemWhatIf:
    """Who would see a new item, before augmentation (content model) and after similarity cold-item expansion.

    ``budget`` / ``min_similarity`` / ``cold_quantile`` mirror the ``similarity`` augmenter run with
    ``target="cold-items"``: a user receives the item when, among that user's unseen cold items (the new
    item included) ranked by similarity, its rank-by-rank round-robin position falls within the budget.
    ``embedding_map`` places the item in the explorer's space (exactly for text PCA, else by neighbours).
    ``fields`` are the catalog's descriptive columns for the new item (e.g. ``{"genres": "Drama|War"}``);
    ``description`` is written as the catalog's ``description_column`` (:class:`NewItemForm`), in its place.
    Raises RecaugInputError for an empty title or k outside 1..index.max_k.
    """
    if not str(title).strip():
        raise RecaugInputError("the new item needs a title", fix="type a title (and ideally a description)")
    if not 1 <= k <= index.max_k:
        raise RecaugInputError(f"k must be between 1 and {index.max_k}, got {k}")
    train = index.train
    # Written like the catalog's own items: the title, then its columns in the catalog's order (the description in
    # its column's place, or last where the catalog has none).
    text = describe_item(title, _catalog_order(train.items, {**(fields or {}), description_column: description}))
    vector = _normalise(encode_texts([text], model=index.encoder))[0]
    item_sims = index.item_vectors @ vector
    titles = train.items["title"].astype(str).to_numpy()
    near = np.argsort(-item_sims, kind="stable")[:n_neighbours]
    neighbours = pd.DataFrame(
        {ITEM: train.item_ids.to_numpy()[near], "title": titles[near], "similarity": item_sims[near].astype(float)}
    )

    user_ids = train.user_ids.to_numpy()
    scores = index.content_profiles @ _normalise(vector - index.center)
    kth = index.top_scores[:, k - 1]
    reach = np.flatnonzero(scores > kth)
    rank = 1 + (index.top_scores[reach] >= scores[reach, None]).sum(axis=1)
    order = np.argsort(-scores[reach], kind="stable")
    reach, rank = reach[order], rank[order]
    before = pd.DataFrame(
        {
            USER: user_ids[reach],
            "score": scores[reach].astype(float),
            "kth_score": kth[reach].astype(float),
            "rank": rank,
            "reason": _closest_in_history(index, reach, item_sims),
        }
    )

    user_scores = index.profiles @ vector
    expansion = _similarity_expansion(index, user_scores, item_sims, budget, min_similarity, cold_quantile)
    after = expansion.receivers
    position = None
    if embedding_map is not None:
        position = _place(embedding_map, vector, neighbours, train)
    closest = float(item_sims.max()) if len(item_sims) else 0.0
    summary = {
        "users": train.n_users,
        "before": len(before),
        "after": len(after),
        "k": k,
        "share_before": len(before) / max(train.n_users, 1),
        "share_after": len(after) / max(train.n_users, 1),
        "closest_similarity": closest,
        "typical_nearest_similarity": index.typical_nearest,
        "warning": _style_warning(index, closest),
        "cold_items": expansion.n_cold,
        "best_rank_among_cold": expansion.best_rank,
        "after_reason": "" if len(after) else _why_no_expansion(index, user_scores, expansion, min_similarity),
        "before_reason": "" if len(before) else _why_in_no_top_k(scores, kth, k),
    }
    return NewItemWhatIf(
        text=text, vector=vector, neighbours=neighbours, before=before, after=after, position=position, summary=summary
    )


def _why_in_no_top_k(scores: np.ndarray, kth: np.ndarray, k: int) -> str:
    """Why no user has the new item in their top-K before augmentation: the content model scores it below every
    user's K-th catalog item; the user it came closest for says by how much."""
    if not len(scores):
        return "There are no users with a history to score it for."
    gap = kth - scores
    nearest = int(np.argmin(gap))
    return (
        f"No user has it in their top {k}: the content model scores it below every user's {k}th catalog item "
        f"(the closest call: {scores[nearest]:.2f} against {kth[nearest]:.2f}). A description written like the "
        "catalog's texts scores higher."
    )


def _why_no_expansion(index: ContentIndex, scores: np.ndarray, expansion: Expansion, min_similarity: float) -> str:
    """Why similarity expansion gives the new item to no user: nobody's history is close enough, or the budget,
    shared round-robin, gives each user only their few most similar cold items and this one ranks below them."""
    users = np.flatnonzero(index.train.user_degree() > 0)
    close = int((scores[users] >= min_similarity).sum()) if len(users) else 0
    if close == 0:
        best = float(scores[users].max()) if len(users) else float("nan")
        return (
            f"No user's history is similar enough to it: the closest user's history has a similarity of "
            f"{best:.2f} to it (cosine, -1 to 1), below the {min_similarity:.2f} that expansion needs."
        )
    rows, n_users = expansion.budget, expansion.n_users
    share = (
        f"each user gets only their {rows // n_users:,}–{-(-rows // n_users):,} most similar unseen cold items"
        if rows % n_users
        else f"each user gets only their {rows // n_users:,} most similar unseen cold items"
    )
    if rows < n_users:
        share = f"only the first {rows:,} users get one item each, their most similar unseen cold item"
    titles = index.train.items["title"].astype(str).to_numpy()
    takers = ", ".join(titles[expansion.takers])
    return (
        f"Expansion shares its budget ({rows:,} rows) round-robin over {n_users:,} users, so {share} (of the "
        f"{expansion.n_cold:,} cold catalog items). This item ranks #{expansion.best_rank:,} at best in a user's "
        f"list (median #{expansion.median_rank:,}), "
        + (
            "but not for any user the budget reaches"
            if rows < n_users and expansion.best_rank <= 1
            else "below what each user gets"
        )
        + f", so it reaches no one: the budget goes to cold items such as {takers}. It reaches users when its text "
        "is closer to their histories than those items are."
    )


def _style_warning(index: ContentIndex, closest: float) -> str:
    """Sentence embeddings reward texts written like the catalog's; say so when the new text is unlike them."""
    if closest >= index.typical_nearest - 0.1:
        return ""
    return (
        f"The description is unlike the catalog's texts (closest similarity {closest:.2f}, while catalog items "
        f"typically have a neighbour at {index.typical_nearest:.2f}), so text-based methods will under-reach "
        f'it. Writing it in the catalog\'s style helps, e.g. "{index.example_text()}"'
    )


@dataclass(frozen=True)
class Expansion:
    """Who similarity expansion gives the new item, and what its ranking looked like (for the reason when nobody)."""

    receivers: pd.DataFrame  # user_id, similarity, confidence, rank_among_cold, reason
    budget: int  # rows the augmenter would add
    n_users: int  # users it shares them over (those with a history)
    n_cold: int  # the catalog's cold items the new item competes with
    best_rank: int  # the new item's best 1-based rank in a user's list of unseen cold items (0: no users)
    median_rank: int
    takers: np.ndarray  # item indices of the cold items that receive the most rows: where the budget goes


def _similarity_expansion(
    index: ContentIndex,
    scores: np.ndarray,
    item_sims: np.ndarray,
    budget: int | float,
    min_similarity: float,
    cold_quantile: float,
) -> Expansion:
    """Users the ``similarity`` augmenter (target cold-items) would give the new item, with its rank and reason.

    The cold items are the augmenter's own target (:func:`resolve_target`): only items it may propose, so items
    seen only in validation or test (hidden from augmenters) neither compete with the new item nor set the cut.
    """
    train = index.train
    cold = resolve_target(train, "cold-items", cold_quantile=cold_quantile).items
    users = np.flatnonzero(train.user_degree() > 0)
    n_budget = resolve_budget(budget, len(train.interactions))
    sims = index.profiles[users] @ index.item_vectors[cold].T
    sims[train.matrix[users][:, cold].nonzero()] = -np.inf
    # The new item is appended after the catalog's cold items, so stable ranking puts ties ahead of it.
    rank = (sims >= scores[users, None]).sum(axis=1)
    position = rank * len(users) + np.arange(len(users))
    chosen = (position < n_budget) & (scores[users] >= min_similarity)
    picked = users[chosen]
    order = np.argsort(position[chosen], kind="stable")
    picked = picked[order]
    receivers = pd.DataFrame(
        {
            USER: train.user_ids.to_numpy()[picked],
            "similarity": scores[picked].astype(float),
            CONFIDENCE: np.clip((scores[picked] + 1.0) / 2.0, 0.0, 1.0),
            "rank_among_cold": rank[chosen][order] + 1,
            "reason": _closest_in_history(index, picked, item_sims),
        }
    )
    # Where the budget goes instead: each user's first ceil(budget / users) cold items, counted over users.
    depth = min(max(-(-n_budget // max(len(users), 1)), 1), len(cold))
    takers = np.zeros(0, dtype=np.int64)
    if len(users) and depth:
        firsts = np.argpartition(-sims, depth - 1, axis=1)[:, :depth].ravel()
        takers = cold[np.argsort(-np.bincount(firsts, minlength=len(cold)), kind="stable")[:3]]
    return Expansion(
        receivers=receivers,
        budget=n_budget,
        n_users=len(users),
        n_cold=len(cold),
        best_rank=int(rank.min()) + 1 if len(rank) else 0,
        median_rank=int(np.median(rank)) + 1 if len(rank) else 0,
        takers=takers,
    )


def _place(
    embedding_map: EmbeddingMap, vector: np.ndarray, neighbours: pd.DataFrame, train: TrainingData
) -> tuple[float, float]:
    if embedding_map.source == "text" and embedding_map.space.vectors.shape[1] == len(vector):
        items = np.flatnonzero(embedding_map.points["kind"].to_numpy() == "item")
        xy = embedding_map.space.place(vector[None, :], among=items)[0]
        return float(xy[0]), float(xy[1])
    # Another space (e.g. model factors): sit at the similarity-weighted centre of the nearest items.
    items = embedding_map.points[embedding_map.points["kind"] == "item"].set_index("entity_id")
    near = items.loc[neighbours[ITEM].astype(str)]
    weights = np.maximum(neighbours["similarity"].to_numpy(), 0) + 1e-6
    return (float(np.average(near["x"], weights=weights)), float(np.average(near["y"], weights=weights)))


# --- new user -----------------------------------------------------------------------------------------------------


def fold_in_target(model: Any) -> Any:
    """The fitted model that actually scores: a wrapper's ``model_`` (a tuned model's chosen fit), else ``model``.

    A tuned wrapper only forwards ``score`` and fitted attributes, not the fold-in hooks (``score_history``,
    ``item_embeddings``) of the model it chose, so folding a new user into the wrapper itself found nothing to use.
    """
    seen = 0
    while seen < 8:  # a wrapper of a wrapper at most, in practice; never loop on a self-reference
        inner = getattr(model, "__dict__", {}).get("model_")
        if inner is None or inner is model or not callable(getattr(inner, "score", None)):
            return model
        model, seen = inner, seen + 1
    return model


def _model_name(model: Any) -> str:
    """The registry name users know (``bpr``), not the class name (``BprTuned``)."""
    return str(getattr(model, "name", None) or "this model")


def _history_row(liked: np.ndarray, n_items: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(liked), np.float32), (np.zeros(len(liked), int), liked)), shape=(1, n_items))


def fold_in_scores(
    model: Any,
    liked_item_indices: Sequence[int] | np.ndarray,
    n_items: int,
    *,
    train: sp.csr_matrix | None = None,
    ridge: float = 0.1,
) -> tuple[np.ndarray, str]:
    """Scores over all items for an unseen user who liked ``liked_item_indices``, and how they were made.

    In order of preference: a model's own ``score_history(history_row)`` hook; an item-item model
    (``similarity_`` / ``weights_``: sum of similarities); a factor model (``item_embeddings()``: ridge
    least-squares user vector from the liked items' factors); Pop (``popularity_``); otherwise the
    model's scores for the real users most similar to the new user (needs ``train`` or ``model.train_``).
    A wrapper (a tuned model) is folded in through the model it chose (:func:`fold_in_target`).
    """
    model = fold_in_target(model)
    liked = np.unique(np.asarray(liked_item_indices, dtype=np.int64))
    history = _history_row(liked, n_items)
    if callable(getattr(model, "score_history", None)):
        return np.asarray(model.score_history(history), dtype=np.float32).ravel(), "model fold-in"
    for attribute in ITEM_ITEM_ATTRIBUTES:
        weights = getattr(model, attribute, None)
        if isinstance(weights, np.ndarray) and weights.shape == (n_items, n_items):
            return np.asarray(history @ weights, dtype=np.float32).ravel(), "sum of item similarities"
    if callable(getattr(model, "item_embeddings", None)):
        factors = np.asarray(model.item_embeddings(), dtype=np.float64)
        chosen = factors[liked]
        lam = ridge * float(np.mean((factors**2).sum(axis=1)))
        user = np.linalg.solve(chosen.T @ chosen + lam * np.eye(factors.shape[1]), chosen.T @ np.ones(len(liked)))
        return (factors @ user).astype(np.float32), "least-squares user vector"
    popularity = getattr(model, "popularity_", None)
    if isinstance(popularity, np.ndarray):
        return popularity.astype(np.float32).copy(), "popularity"
    reference = train if train is not None else getattr(model, "train_", None)
    if reference is None:
        raise RecaugInputError(
            f"{_model_name(model)} cannot place a user it was not trained on: it keeps no item vectors, item "
            "similarities or popularity to score the liked items with, and no training data was given to find "
            "similar users",
            fix="pass the training matrix (train=...) so similar users can stand in",
        )
    reference = sp.csr_matrix(reference)[:, :n_items]
    overlap = np.asarray((reference @ history.T).todense()).ravel()
    sizes = np.asarray(reference.sum(axis=1)).ravel()
    cosine = overlap / np.sqrt(np.maximum(sizes, 1) * len(liked))
    near = np.argsort(-cosine, kind="stable")[:NEIGHBOUR_USERS]
    near = near[cosine[near] > 0] if (cosine[near] > 0).any() else near
    weights = cosine[near] + 1e-6
    return (weights @ np.asarray(model.score(near), dtype=np.float64) / weights.sum()).astype(
        np.float32
    ), "similar users' scores"


def recommend_for_new_user(
    model: Any,
    liked_item_indices: Sequence[int],
    k: int = 10,
    exclude: Sequence[int] | None = None,
    *,
    n_items: int | None = None,
    train: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item indices and scores for a new user; liked and ``exclude`` items are never returned.

    ``n_items`` defaults to the width of the model's item state (scores, factors or popularity).
    Raises RecaugInputError for no liked items or indices outside the catalog.
    """
    top, scores, _ = _recommend(model, liked_item_indices, k, exclude, n_items, train)
    return top, scores


def _recommend(
    model: Any,
    liked_item_indices: Sequence[int] | np.ndarray,
    k: int,
    exclude: Sequence[int] | None,
    n_items: int | None,
    train: sp.csr_matrix | None,
) -> tuple[np.ndarray, np.ndarray, str]:
    liked = np.asarray(liked_item_indices, dtype=np.int64)
    if len(liked) == 0:
        raise RecaugInputError("pick at least one liked item")
    n = n_items if n_items is not None else _model_items(fold_in_target(model))
    if liked.min() < 0 or liked.max() >= n:
        raise RecaugInputError(f"liked item indices must be in 0..{n - 1}")
    scores, how = fold_in_scores(model, liked, n, train=train)
    banned = np.unique(np.concatenate([liked, np.asarray(exclude if exclude is not None else [], dtype=np.int64)]))
    top = rank_top_k(scores[None, :], _history_row(banned, n), k)[0]
    top = top[np.isfinite(scores[top])]
    return top, scores[top], how


def _model_items(model: Any) -> int:
    for attribute in (*ITEM_ITEM_ATTRIBUTES, "popularity_"):
        value = getattr(model, attribute, None)
        if isinstance(value, np.ndarray):
            return int(value.shape[-1])
    if callable(getattr(model, "item_embeddings", None)):
        return int(np.asarray(model.item_embeddings()).shape[0])
    train = getattr(model, "train_", None)
    if train is not None:
        return int(train.shape[1])
    raise RecaugInputError(f"cannot tell how many items {_model_name(model)} has", fix="pass n_items=...")


def liked_indices(dataset: Dataset, liked_item_ids: Sequence[str]) -> np.ndarray:
    """Item ids -> indices, with a clear error naming unknown ids."""
    idx = dataset.item_ids.get_indexer([str(i) for i in liked_item_ids])
    if (idx < 0).any():
        missing = [str(i) for i, j in zip(liked_item_ids, idx, strict=True) if j < 0]
        raise RecaugInputError(f"unknown item id(s): {', '.join(missing[:5])}", fix="pick items from the catalog")
    return idx


@dataclass(frozen=True)
class NewUserAnswer:
    """Each capable model's top-K for a new user, and the models left out with a plain reason.

    Kept apart so one model that cannot place a new user is listed instead of blanking every other model's answer.
    """

    recommendations: pd.DataFrame  # model, variant, rank, item_id, title, score, how
    skipped: pd.DataFrame  # model, variant, reason


def new_user_recommendations(
    models: Mapping[tuple[Any, ...], Any],
    dataset: Dataset,
    liked_item_ids: Sequence[str],
    *,
    k: int = 10,
    train: sp.csr_matrix | None = None,
) -> NewUserAnswer:
    """Top-``k`` per fitted model for a user who liked ``liked_item_ids``; a model that cannot is skipped.

    ``models`` is keyed like ``ExperimentResult.models``: ``(model, variant, seed)`` (or ``(model, variant)``).
    ``train``: the real training matrix, so a model without a fold-in of its own is answered from similar users.
    Unknown liked ids raise :class:`RecaugInputError` (nothing can be answered); a failing model only skips itself.
    """
    liked = liked_indices(dataset, liked_item_ids)
    titles = dataset.items["title"].astype(str).to_numpy()
    item_ids = dataset.item_ids.to_numpy()
    frames, skipped = [], []
    for key, model in models.items():
        try:
            top, scores, how = _recommend(model, liked, k, None, dataset.n_items, train)
        except RecaugInputError as err:
            skipped.append((key[0], key[1], err.problem))
            continue
        except Exception:  # one model's bug must not blank the others; the log keeps the traceback
            log.exception("new-user fold-in failed for %s", key)
            skipped.append((key[0], key[1], "scoring the new user failed unexpectedly (details are in the log)"))
            continue
        frames.append(
            pd.DataFrame(
                {
                    "model": key[0],
                    "variant": key[1],
                    "rank": np.arange(1, len(top) + 1),
                    ITEM: item_ids[top],
                    "title": titles[top],
                    "score": scores.astype(float),
                    "how": how,
                }
            )
        )
    columns = ["model", "variant", "rank", ITEM, "title", "score", "how"]
    table = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    return NewUserAnswer(table, pd.DataFrame(skipped, columns=["model", "variant", "reason"]))


def undertrained_notes(chosen: pd.DataFrame, fits: Iterable[tuple[Any, Any, Any]]) -> list[str]:
    """One line per model among ``fits`` (the ``(model, variant, seed)`` keys of the fitted models that answer)
    naming each of its columns whose fit validation kept barely trained (:func:`~recaug.experiment.result.
    barely_trained`, the comparison note's rule, applied per column: each column here is one fit, so one such fit
    is one misleading column; walk 13 saw an epoch-2 column with no word because 1 of 2 is no majority).
    ``chosen``: the result's chosen table. Empty where they trained, or where nothing was chosen on validation."""
    wanted = {(str(model), str(variant), int(seed)) for model, variant, seed in fits}
    cells = zip(chosen["model"], chosen["variant"], chosen["seed"], strict=True)
    used = chosen[np.array([(str(model), str(variant), int(seed)) in wanted for model, variant, seed in cells], bool)]
    notes = []
    for model, rows in used.groupby("model", sort=False):
        columns = []
        for (variant, _seed), fit in rows.groupby(["variant", "seed"], sort=False):
            if barely_trained(fit):
                values = dict(zip(fit["setting"].astype(str), fit["value"], strict=True))
                ran = f" of {values['epochs_run']} run" if "epochs_run" in values else ""
                kept = f"epoch {values['epoch']}{ran}" if "epoch" in values else "its first validation look"
                columns.append(f"{model} · {variant} ({kept})")
        if columns:
            notes.append(
                f"{model}: validation kept a barely trained model for {', '.join(columns)}: "
                f"{'this list says' if len(columns) == 1 else 'these lists say'} little about a trained {model} "
                "(too few validation users to tell them apart; see the comparison's notes)."
            )
    return notes


def side_by_side(recommendations: pd.DataFrame) -> pd.DataFrame:
    """Rank x (model · variant) table of titles, baseline and augmented next to each other."""
    frame = recommendations.assign(column=recommendations["model"] + " · " + recommendations["variant"])
    return frame.pivot(index="rank", columns="column", values="title")
