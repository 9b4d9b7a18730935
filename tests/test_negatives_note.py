"""Models that cannot use synthetic negatives say so (issue #11: 'ignore them and say so')."""

from __future__ import annotations

import pandas as pd

from recaug.experiment.result import negatives_note


def test_the_note_names_who_used_and_who_ignored_negatives() -> None:
    rows = pd.DataFrame(
        {
            "user_id": ["1", "1", "2"],
            "item_id": ["a", "b", "c"],
            "origin": ["llm-interactions"] * 3,
            "polarity": [1, -1, -1],
        }
    )
    note = negatives_note(rows, ["pop", "bpr", "itemknn", "lightgcn"])
    assert note is not None and "llm-interactions 2" in note
    assert "used as fixed hard negatives by bpr, lightgcn" in note and "pop, itemknn cannot use negatives" in note
    assert negatives_note(rows.assign(polarity=1), ["bpr"]) is None
    assert negatives_note(rows.drop(columns="polarity"), ["bpr"]) is None
