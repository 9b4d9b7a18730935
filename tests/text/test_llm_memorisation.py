"""The title-completion check on ML-100k's real catalogue: a model that knows the titles is flagged, one that does
not (random, or only preferring short endings) is not; and the note appears where a server meets a benchmark."""

from __future__ import annotations

import zlib

import numpy as np

from recaug.data.dataset import TrainingData
from recaug.text.llm.base import LLMBackend, Scores
from recaug.text.llm.memorisation import NO_PREFIX, memorisation_note, split_title, title_completion_check


class CatalogueScorer(LLMBackend):
    """Scores endings by a rule: ``knows`` maps a title's prefix to its true ending (a memorising model)."""

    kind = "scripted"

    def __init__(self, knows: dict[str, str], *, prior: str = "none") -> None:
        super().__init__(model_id="scripted", cache=False)
        self.knows, self.prior = knows, prior

    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list:
        raise NotImplementedError

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        out = []
        for prompt, options in zip(prompts, options_list, strict=True):
            prefix = prompt.split("The title begins: ")[1].split("\n")[0]
            values = np.array([-0.5 * len(o) if self.prior == "short" else 0.0 for o in options])
            if self.prior == "random":
                values += [zlib.crc32(f"{prompt}|{o}".encode()) % 1000 / 100 for o in options]
            truth = self.knows.get(prefix)
            if truth in options and prefix != NO_PREFIX:
                values[options.index(truth)] += 50.0
            out.append(Scores(values))
        return out


def test_a_model_that_knows_the_catalogue_is_flagged_and_others_are_not(ml100k_train: TrainingData) -> None:
    titles = ml100k_train.items["title"].tolist()
    pairs = [p for p in map(split_title, titles) if p is not None]
    knows: dict[str, str] = {}
    for prefix, ending in pairs:
        knows.setdefault(prefix, ending)  # the check keeps the first title of a shared prefix too
    memoriser = title_completion_check(CatalogueScorer(knows), titles, n_titles=40, seed=0)
    assert memoriser.memorised and memoriser.hit_rate == 1.0 and memoriser.calls == 80
    assert "may be memorisation" in memoriser.line()
    for rule in ("random", "short"):  # no knowledge: chance, whatever the model prefers without the prefix
        blind = title_completion_check(CatalogueScorer({}, prior=rule), titles, n_titles=40, seed=0)
        assert not blind.memorised and blind.ci_low <= blind.chance <= blind.ci_high + 0.1, (rule, blind)
    # Knowing half the titles still shows (the interval is above chance 0.2).
    half = dict(list(knows.items())[::2])
    partial = title_completion_check(CatalogueScorer(half, prior="random"), titles, n_titles=40, seed=0)
    assert partial.memorised and 0.3 < partial.hit_rate < 0.9


def test_the_note_appears_only_where_a_server_model_meets_a_public_benchmark() -> None:
    assert "memorisation" in (memorisation_note("ml-100k", "openai") or "")
    assert memorisation_note("ml-100k", "local") is None
    assert memorisation_note("my-shop-2024", "openai") is None


class FailingScorer(CatalogueScorer):
    """Fails every call whose prompt contains ``fail_on`` (a server timing out), else knows the catalogue."""

    def __init__(self, knows: dict[str, str], fail_on: str) -> None:
        super().__init__(knows)
        self.fail_on = fail_on

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        good = super()._score(prompts, options_list)
        return [
            Scores(np.full(len(o), np.nan), error="timeout after 4 attempts") if self.fail_on in p else g
            for p, o, g in zip(prompts, options_list, good, strict=True)
        ]


def test_failed_calls_are_left_out_not_counted_as_misses(ml100k_train: TrainingData) -> None:
    import pytest

    from recaug.core.errors import RecaugInputError

    titles = ml100k_train.items["title"].tolist()
    knows: dict[str, str] = {}
    for parts in map(split_title, titles):
        if parts is not None:
            knows.setdefault(*parts)
    some = title_completion_check(FailingScorer(knows, fail_on="begins: The "), titles, n_titles=40, seed=0)
    assert 0 < some.failed < 40 and some.n_titles == 40 - some.failed and some.hit_rate == 1.0
    assert f"{some.failed} titles left out" in some.line()
    with pytest.raises(RecaugInputError, match="no usable scores"):
        title_completion_check(FailingScorer(knows, fail_on="catalogue"), titles, n_titles=40, seed=0)
