"""The What-if page writes a new item's text the way the items file's rows are written (issue #12)."""

from __future__ import annotations

from recaug.analysis.whatif import build_content_index, new_item_whatif
from recaug.data.dataset import TrainingData
from recaug.data.readers import describe_item


def test_new_item_text_is_built_like_the_catalog(ml100k_train: TrainingData) -> None:
    index = build_content_index(ml100k_train)
    typed = new_item_whatif(index, "Galaxy Rebels (1998)", "", fields={"genres": "Action|Adventure|Sci-Fi"})
    assert typed.text == "Galaxy Rebels (1998). Genres: Action, Adventure, Sci-Fi."
    assert typed.text == describe_item("Galaxy Rebels (1998)", {"genres": "Action, Adventure, Sci-Fi"})
    # Same words as a catalog row of ML-100k ("Title (year). Genres: a, b."), so the same neighbours.
    written = new_item_whatif(index, "Galaxy Rebels (1998)", "Genres: Action, Adventure, Sci-Fi.")
    assert written.text == typed.text
    assert typed.neighbours["item_id"].tolist() == written.neighbours["item_id"].tolist()
    described = new_item_whatif(index, "Galaxy Rebels", "A space opera.", fields={"genres": "Sci-Fi"})
    assert described.text == "Galaxy Rebels. Genres: Sci-Fi. A space opera."
