"""What the What-if page does (the page only draws): the cached indexes it reads, the LLM judge, the item map."""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from recaug.analysis.explorer import EmbeddingMap, embedding_points, item_vectors
from recaug.analysis.whatif import (
    ContentIndex,
    NewUserAnswer,
    build_content_index,
    new_user_recommendations,
    undertrained_notes,
)
from recaug.augment import create_augmenter
from recaug.data.dataset import Dataset
from recaug.data.splits import Split
from recaug.experiment import ExperimentResult
from recaug.reporting.figures import mark_point, projection_scatter
from ui.cached import cached_value, result_store


def _split_key(dataset: Dataset, split: Split) -> str:
    """Cache key of one training split: data, protocol with its parameters, seed."""
    params = ",".join(f"{k}={v}" for k, v in sorted(split.params.items()))
    return f"{dataset.fingerprint()}:{split.protocol}({params}):{split.seed}"


def _index_key(dataset: Dataset, split: Split) -> str:
    return f"contentindex:{_split_key(dataset, split)}"


def content_index(dataset: Dataset, split: Split) -> ContentIndex:
    """The text view of the training split the new item is placed against (built once per split)."""
    training = dataset.training_data(split.train, cold_items=split.cold_items)
    return cached_value(_index_key(dataset, split), lambda: build_content_index(training))


def content_index_ready(dataset: Dataset, split: Split) -> bool:
    """Whether :func:`content_index` answers from the cache (no step to announce)."""
    return result_store().get(_index_key(dataset, split)) is not None


def item_map(dataset: Dataset, split: Split) -> EmbeddingMap:
    """Catalog items in 2-D (PCA), for the new item's star."""
    key = _split_key(dataset, split)
    vectors, source = cached_value(f"itemvec:{key}", lambda: item_vectors(dataset, split.train))
    return cached_value(
        f"whatifmap:{key}",
        lambda: embedding_points(
            dataset, split.train, None, item_vectors=vectors, source=source, method="pca", include_users=False
        ),
    )


def new_user_answer(
    result: ExperimentResult, dataset: Dataset, split: Split, liked: list[str], k: int
) -> NewUserAnswer:
    """Every first-seed model's top-``k`` for a user who liked ``liked``, with the split's training matrix.

    The matrix lets a model with no fold-in of its own answer from its scores for the most similar real users;
    without it such a model had nothing to go on. The split is the one those models were trained on when the
    comparison carries it (``split`` from the page otherwise: the same data, protocol and seed).
    """
    first_seed = _first_seed(result)
    models = {key: model for key, model in result.models.items() if key[2] == first_seed}
    trained_on = result.splits.get(first_seed, split)
    train = cached_value(f"whatiftrain:{_split_key(dataset, trained_on)}", lambda: dataset.matrix(trained_on.train))
    return new_user_recommendations(models, dataset, liked, k=k, train=train)


def _first_seed(result: ExperimentResult) -> int:
    """The seed whose fitted models answer the new user (the first one kept)."""
    return min(key[2] for key in result.models)


def new_user_caveats(result: ExperimentResult) -> list[str]:
    """The comparison's note for each model that answers the new user and that validation kept barely trained."""
    first_seed = _first_seed(result)
    return undertrained_notes(result.chosen, [key for key in result.models if key[2] == first_seed])


def llm_judge(dataset: Dataset, split: Split, params: dict[str, Any]) -> Any:
    """An ``llm-cold-items`` augmenter fitted on the training split, with the Augment page's LLM settings."""
    training = dataset.training_data(split.train, cold_items=split.cold_items)
    return cached_value(
        f"llmcold:{_split_key(dataset, split)}:{sorted(params.items())}",
        lambda: create_augmenter("llm-cold-items", **params).fit(training),
    )


def new_item_chart(space: EmbeddingMap, position: tuple[float, float], title: str) -> go.Figure:
    """The item map with the new item as a star, labelled above every trace (its own text sat under the points)."""
    fig = mark_point(projection_scatter(space.points, color_by="cold_warm", title="Items (PCA)"), position, title)
    fig.update_traces(selector={"name": title}, mode="markers")
    fig.add_annotation(
        x=position[0],
        y=position[1],
        text=f"<b>{html.escape(title)}</b>",
        showarrow=True,
        arrowhead=2,
        ax=0,
        ay=-36,
        bgcolor="rgba(255,255,255,0.9)",
        bordercolor="#111827",
    )
    return fig
