"""The declared question of a run: the default narrows to what the run computes; an explicit one is strict."""

from __future__ import annotations

import pytest

from recaug.core.errors import RecaugInputError
from recaug.evaluate.design import DEFAULT_PRIMARY, resolve_primary


def test_the_default_question_keeps_only_the_rows_the_run_computes() -> None:
    assert resolve_primary(list(DEFAULT_PRIMARY), ["ndcg", "recall"], [10, 20]) == ["ndcg@10", "recall@20"]
    assert resolve_primary(list(DEFAULT_PRIMARY), ["ndcg", "recall"], [10]) == ["ndcg@10"]
    assert resolve_primary(list(DEFAULT_PRIMARY), ["recall"], [20, 50]) == ["recall@20"]


def test_the_default_question_with_nothing_computed_is_refused() -> None:
    with pytest.raises(RecaugInputError, match="does not compute"):
        resolve_primary(list(DEFAULT_PRIMARY), ["precision"], [5])


def test_an_explicit_question_is_never_narrowed() -> None:
    assert resolve_primary("recall@10", ["recall"], [10]) == ["recall@10"]
    with pytest.raises(RecaugInputError, match="ndcg@20"):
        resolve_primary("ndcg@20,recall@10", ["recall", "ndcg"], [10])
