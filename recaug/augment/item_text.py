"""Methods that read item text, run on a catalog that has none.

Without an items file (or one with titles or descriptions), every item's text is its id. The text methods still
run: ``similarity`` then expands users with items whose *ids are spelled alike* ("i18562" next to "i18526"), and
an LLM judges or describes codes. The numbers that follow look like any others, so the run says why they mean
nothing, wherever it is set up (CLI, Augment and Compare pages, notebook), unless the ids read as names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from recaug.core.variants import Variant
from recaug.data.dataset import Dataset
from recaug.data.schema import ITEM

TEXT_FAMILIES = ("text", "llm")  # augmenter families whose proposals come from item text
INTERACTION_METHODS = "itemknn-expansion, link-prediction, mixup, aggregation or cfgan"
TEXT_DEFAULT, INTERACTION_DEFAULT = "similarity", "itemknn-expansion"


def reads_item_text(name: str) -> bool:
    """Does the augmenter (or variant, ``similarity@5%``) choose its rows from item text?"""
    from recaug.augment import AUGMENTERS

    method = Variant.parse(name).method
    return method in AUGMENTERS.names() and AUGMENTERS.get(method).family in TEXT_FAMILIES


def ids_read_as_words(dataset: Dataset) -> bool:
    """Most item ids hold a space, as names do ("The Matrix (1999)"), unlike codes ("i18562", "B00005N5PF")."""
    ids = dataset.items[ITEM].astype(str)
    return bool(len(ids)) and float(ids.str.contains(r"\s", regex=True).mean()) >= 0.5


def _text_readers(name: str, params: Mapping[str, Mapping[str, Any]]) -> str | None:
    """``name`` when it reads item text; an ensemble as ``ensemble (similarity)`` when one of its members does."""
    if reads_item_text(name):
        return name
    if Variant.parse(name).method != "ensemble":
        return None
    from recaug.augment.ensemble import EnsembleAugmenter

    settings = {**params.get("ensemble", {}), **params.get(name, {})}
    members = settings.get("members") or EnsembleAugmenter().members  # its default members
    readers = [str(member) for member in members if reads_item_text(str(member))]
    return f"{name} ({', '.join(readers)})" if readers else None


def catalog_has_text(dataset: Dataset) -> bool:
    """Can item text tell items apart: an items file gave text, or the ids themselves read as names."""
    return dataset.has_text or ids_read_as_words(dataset)


def default_methods(dataset: Dataset) -> list[str]:
    """The method a comparison starts from when none is chosen: text similarity where items have text, else
    item-kNN expansion, which learns from the interactions alone (similarity would match ids by spelling)."""
    return [TEXT_DEFAULT if catalog_has_text(dataset) else INTERACTION_DEFAULT]


def id_text_warning(
    dataset: Dataset, augmenters: Sequence[str], params: Mapping[str, Mapping[str, Any]] | None = None
) -> str | None:
    """The warning for text methods (or ensembles with one; ``params``: the augmenters' parameters) on a catalog
    whose only text is its (code-like) ids; None where it has text."""
    found = (_text_readers(name, params or {}) for name in augmenters)
    readers = [reader for reader in found if reader is not None]
    if not readers or catalog_has_text(dataset):
        return None
    return (
        f"{', '.join(readers)} {'reads' if len(readers) == 1 else 'read'} item text, and '{dataset.name}' has none: "
        "its item ids stand in for it, so the synthetic rows follow how ids are spelled, not what the items are. "
        "Add an items file (item id + title, genres or description), or augment with a method that learns from "
        f"the interactions: {INTERACTION_METHODS}."
    )
